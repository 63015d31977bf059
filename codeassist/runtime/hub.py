"""Pulling catalogue models from the Hugging Face Hub (the one module using huggingface_hub).

The repository listing gives each GGUF's sha256 (its LFS object id); after the download the file
is hashed and compared, and only then recorded in the manifest that :mod:`models` resolves. The
Hub address is huggingface_hub's own (``HF_ENDPOINT``) unless ``endpoint`` is given.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx2
from huggingface_hub import HfApi, hf_hub_download
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from codeassist.errors import ModelError
from codeassist.runtime import _files, catalogue

__all__ = ["PulledModel", "pull"]

log = logging.getLogger(__name__)
Reporter = Callable[[str], None]
_SPLIT = re.compile(r"-(\d{5})-of-(\d{5})\.gguf$", re.IGNORECASE)


@dataclass(frozen=True)
class PulledModel:
    spec: str
    path: Path
    sha256: str
    size: int
    already_there: bool


@dataclass(frozen=True)
class _RemoteFile:
    name: str
    size: int
    sha256: str | None


def _unreachable(endpoint: str | None, exc: Exception) -> ModelError:
    where = endpoint or "the Hugging Face Hub"
    return ModelError(f"Cannot reach {where} ({type(exc).__name__}: {exc}).",
                      hint="Check the network (or HF_ENDPOINT). Without it, keep using the tiny model or set "
                           "`model.path` to a GGUF file you already have.")


def _list_files(repo: str, endpoint: str | None) -> tuple[str, list[_RemoteFile]]:
    """The repository's commit and its GGUF files with sizes and sha256."""
    try:
        info = HfApi(endpoint=endpoint).model_info(repo, files_metadata=True)
    except RepositoryNotFoundError as exc:
        raise ModelError(f"The repository {repo} was not found on the Hub (or needs a login).",
                         hint="Run `hf auth login` if it is gated; otherwise report the catalogue "
                              "entry.") from exc
    except HfHubHTTPError as exc:
        raise ModelError(f"The Hub refused to list {repo}: {exc}.") from exc
    except httpx2.TransportError as exc:
        raise _unreachable(endpoint, exc) from exc
    files = [_RemoteFile(s.rfilename, int(s.lfs.size if s.lfs else (s.size or 0)),
                         s.lfs.sha256 if s.lfs else None)
             for s in info.siblings or [] if s.rfilename.lower().endswith(".gguf")]
    return str(info.sha), files


def _pick(files: list[_RemoteFile], quant: str, repo: str) -> list[_RemoteFile]:
    """The file(s) of ``quant`` (several for a split GGUF, in order); never the vision projector."""
    pattern = re.compile(rf"(^|[-_.]){re.escape(quant)}([-_.]|$)", re.IGNORECASE)
    chosen = [f for f in files
              if "mmproj" not in f.name.lower() and pattern.search(f.name.rsplit("/", 1)[-1])]
    if not chosen:
        names = ", ".join(sorted(f.name for f in files)) or "none"
        raise ModelError(f"{repo} has no {quant} GGUF file (it has: {names}).",
                         hint="Choose another quantisation with `codeassist model pull NAME:QUANT`.")
    return sorted(chosen, key=lambda f: f.name)


def _download(repo: str, file: _RemoteFile, revision: str, dest: Path, endpoint: str | None) -> Path:
    try:
        local = Path(hf_hub_download(repo, file.name, revision=revision, local_dir=dest, endpoint=endpoint))
    except (RepositoryNotFoundError, RevisionNotFoundError, EntryNotFoundError) as exc:
        raise ModelError(f"Downloading {file.name} from {repo} failed: {exc}.") from exc
    except HfHubHTTPError as exc:
        raise ModelError(f"The Hub refused the download of {file.name}: {exc}.") from exc
    except (httpx2.TransportError, OSError) as exc:
        raise _unreachable(endpoint, exc) from exc
    _verify(local, file)
    return local


def _verify(local: Path, file: _RemoteFile) -> None:
    actual = _files.sha256_of(local)
    if file.sha256 is not None and actual != file.sha256:
        local.unlink(missing_ok=True)
        raise ModelError(f"The download of {file.name} is corrupt (sha256 {actual[:12]}…, expected "
                         f"{file.sha256[:12]}…); it was deleted.",
                         hint="Run `codeassist model pull` again.")
    if file.sha256 is None:
        log.warning("the Hub published no sha256 for %s; recorded %s", file.name, actual)


def pull(spec: str, *, root: Path | None = None, endpoint: str | None = None, force: bool = False,
         report: Reporter | None = None) -> PulledModel:
    """Download ``spec`` (``name`` or ``name:QUANT``), verify its sha256, record it for resolution."""
    say = report or (lambda msg: log.info("%s", msg))
    choice = catalogue.parse_spec(spec)
    root = root or catalogue.models_dir()
    if choice.entry.embedded:
        path = catalogue.embedded_model_path(choice.entry.name)
        return PulledModel(choice.spec, path, _files.sha256_of(path), path.stat().st_size, True)
    existing = catalogue.installed_path(choice, root)
    manifest_file = catalogue.manifest_path(choice, root)
    if existing is not None and not force:
        manifest = _files.read_json(manifest_file) or {}
        say(f"{choice.spec} is already downloaded: {existing}")
        return PulledModel(choice.spec, existing, str(manifest.get("sha256", "")),
                           existing.stat().st_size, True)
    revision, files = _list_files(choice.entry.repo, endpoint)
    parts = _pick(files, choice.quant, choice.entry.repo)
    total = sum(p.size for p in parts)
    say(f"downloading {choice.entry.repo} {', '.join(p.name for p in parts)} ({total / 1e9:.2f} GB)")
    dest = root / choice.entry.name
    paths = [_download(choice.entry.repo, part, revision, dest, endpoint) for part in parts]
    first = paths[0]
    sha = parts[0].sha256 or _files.sha256_of(first)
    _files.write_json(manifest_file, {
        "spec": choice.spec, "repo": choice.entry.repo, "revision": revision,
        "files": [p.name for p in parts],
        "path": str(first), "size": first.stat().st_size, "sha256": sha,
        "pulled_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    })
    say(f"verified sha256 and saved {first}")
    return PulledModel(choice.spec, first, sha, first.stat().st_size, False)
