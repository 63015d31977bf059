"""What may be read for the cloud at all: files and piped input, checked before any text is taken.

A file is never read for a cloud request when

- its name or path matches a secret pattern (``privacy.secret_globs``: ``.env*``, ``*.pem``...);
- its real path leaves the repository (a symbolic link to ``/etc/shadow`` or ``~/.aws``);
- git ignores it and the user did not name it (build output, local settings, caches);
- it is binary.

Huge files are cut to ``max_chars`` with a note saying so; invalid UTF-8 is replaced (U+FFFD),
with a note, never sent as raw bytes. :func:`clean_input` does the same for text piped on stdin.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from codeassist.errors import UsageError

if TYPE_CHECKING:
    from codeassist.privacy.guard import PrivacyGuard

log = logging.getLogger(__name__)

__all__ = ["MAX_CLOUD_FILE_CHARS", "MAX_INPUT_BYTES", "CloudFile", "clean_input", "read_for_cloud",
           "refusal"]

MAX_CLOUD_FILE_CHARS = 200_000
MAX_INPUT_BYTES = 1_000_000  # piped stdin beyond this is cut (with a note)
_SNIFF = 8192


@dataclass(frozen=True)
class CloudFile:
    path: str  # repo-relative, posix
    text: str = ""
    refused: str | None = None  # why it is not sent (then text is empty)
    notes: tuple[str, ...] = field(default=())


def refusal(guard: PrivacyGuard, root: Path, rel: str, *, named: bool) -> str | None:
    """Why ``rel`` (repo-relative) must not be read for the cloud, or None when it may be."""
    if not guard.allowed(rel):
        return "it matches a secret-file pattern (privacy.secret_globs)"
    real_root = root.resolve()
    try:
        (root / rel).resolve().relative_to(real_root)
    except ValueError:
        return "its real path is outside the repository (a symbolic link)"
    if not named and rel in _ignored(root, [rel]):
        return "git ignores it (name it explicitly to send it)"
    return None


def read_for_cloud(guard: PrivacyGuard, root: Path, rel: str, *, named: bool,
                   max_chars: int = MAX_CLOUD_FILE_CHARS) -> CloudFile:
    """The text of ``rel`` as it may go to the cloud (cut, decoded), or the reason it may not."""
    why = refusal(guard, root, rel, named=named)
    if why is not None:
        return CloudFile(rel, refused=why)
    path = root / rel
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            data = fh.read(max_chars * 4 + 1)
    except OSError as exc:
        return CloudFile(rel, refused=f"it cannot be read ({exc.strerror or exc})")
    if b"\x00" in data[:_SNIFF]:
        return CloudFile(rel, refused="it is a binary file")
    text, notes = _decode(data, rel, cut=size > len(data))
    if len(text) > max_chars or size > len(data):
        text = text[:max_chars]
        notes.append(f"{rel} is {_size(size)}: only its first {max_chars:,} characters were sent")
    return CloudFile(rel, text, notes=tuple(notes))


def clean_input(data: bytes, what: str = "stdin", limit: int = MAX_INPUT_BYTES) -> tuple[str, list[str]]:
    """Piped bytes as text that may be sent: refused when binary, cut past ``limit`` (with a note)."""
    if b"\x00" in data[:_SNIFF]:
        raise UsageError(f"The text on {what} looks binary (it holds NUL bytes), so it was not sent.",
                         hint="Pipe text (source code, a diff, a log), or name the file in the question.")
    notes: list[str] = []
    cut = len(data) > limit
    if cut:
        notes.append(f"{what} is longer than {_size(limit)}: only its first {_size(limit)} were used")
        data = data[:limit]
    text, more = _decode(data, what, cut=cut)
    return text, notes + more


def _decode(data: bytes, what: str, *, cut: bool = False) -> tuple[str, list[str]]:
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        if cut and exc.start >= len(data) - 3:  # a character cut where the read stopped
            return data[: exc.start].decode("utf-8", errors="replace"), []
        return data.decode("utf-8", errors="replace"), [
            f"{what} is not valid UTF-8: undecodable bytes were replaced by U+FFFD"]


def _ignored(root: Path, rels: Sequence[str]) -> set[str]:
    from codeassist.errors import GitError
    from codeassist.refactor.gitops import GitRepo

    if not (root / ".git").exists():
        return set()
    try:
        return GitRepo.open(root).ignored(rels)
    except GitError as exc:
        log.info("cannot ask git which files it ignores: %s", exc)
        return set()


def _size(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f} MB"
    return f"{n / 1000:.0f} KB" if n >= 1000 else f"{n} bytes"


