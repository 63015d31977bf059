"""The privacy guard: the one egress point for every byte that leaves for a cloud model.

- :meth:`PrivacyGuard.seal` — THE guard function: takes a Messages-API body (``system``,
  ``messages``, ``tools``), replaces every secret in every string of it by a placeholder, and
  returns a :class:`GuardedRequest`. Only the guard can make one, and the Claude client sends
  nothing else: :meth:`PrivacyGuard.release` hands the body to the SDK only after checking the
  guard's own seal (an HMAC over the redacted JSON), so a body built or changed elsewhere is refused.
- :meth:`PrivacyGuard.redact` / :meth:`restore` — placeholders such as ``__REDACTED_AWS_KEY_1__``;
  the same secret always gets the same placeholder, and a secret seen once is replaced wherever it
  appears later (also where no rule would spot it). Replies are restored locally, so an edit that
  touches a placeholder writes the real value.
- :meth:`PrivacyGuard.allowed` — files matching a secret pattern (``privacy.secret_globs``) are
  never sent; :mod:`codeassist.privacy.sources` adds links leaving the repository, untracked files,
  binary and huge files.
- :meth:`PrivacyGuard.check_cloud` — ``privacy.cloud = false`` (``--offline``) refuses every
  cloud call with :class:`~codeassist.errors.PrivacyError` before anything is sent.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import json
import re
import secrets
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath, PurePosixPath
from typing import Any

from codeassist.config import PrivacySettings, Settings
from codeassist.errors import PrivacyError
from codeassist.privacy.scanner import Scanner

__all__ = ["GuardedRequest", "Manifest", "PrivacyGuard", "Redaction", "Redactions", "StreamRestorer"]

_PLACEHOLDER = re.compile(r"__REDACTED_[A-Z_]+?_\d+__")
_PLACEHOLDER_START = "__REDACTED_"
# Keys of the Messages-API body whose values are protocol, not content (never rewritten).
_STRUCTURAL_KEYS = frozenset({"type", "role", "id", "tool_use_id", "cache_control", "name"})
_MIN_KNOWN_SECRET = 6  # shorter known secrets are not swept everywhere (too many accidental hits)


@dataclass(frozen=True)
class Redaction:
    kind: str
    placeholder: str

    def __repr__(self) -> str:  # never the secret
        return f"Redaction({self.kind}, {self.placeholder})"


@dataclass
class Redactions:
    """What redaction replaced (kinds and placeholders, never values)."""

    items: list[Redaction] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    def kinds(self) -> dict[str, int]:
        return dict(Counter(r.kind for r in self.items))

    def extend(self, other: Redactions) -> None:
        self.items.extend(other.items)


@dataclass(frozen=True)
class Manifest:
    """What one request carries, for the audit: sizes and counts, never content."""

    chars: int
    redactions: dict[str, int]
    files: tuple[tuple[str, int], ...]
    sha256: str  # of the redacted body

    @property
    def redaction_count(self) -> int:
        return sum(self.redactions.values())


class GuardedRequest:
    """A redacted, sealed Messages-API body. Made only by :meth:`PrivacyGuard.seal`."""

    __slots__ = ("_body", "_guard", "_mac", "manifest")

    def __init__(self, token: object, guard: PrivacyGuard, body: str, mac: bytes, manifest: Manifest) -> None:
        if token is not _SEAL_TOKEN:
            raise TypeError("A GuardedRequest is made only by PrivacyGuard.seal().")
        self._body = body
        self._guard = guard
        self._mac = mac
        self.manifest = manifest

    def payload(self, **extra: Any) -> dict[str, Any]:
        """The redacted body (a copy), plus ``extra`` top-level fields such as ``model``."""
        return {**extra, **json.loads(self._body)}

    def payload_json(self, **extra: Any) -> str:
        """The exact redacted body as indented JSON (``--show-request``)."""
        return json.dumps(self.payload(**extra), indent=2, ensure_ascii=False)

    def __repr__(self) -> str:
        return f"GuardedRequest({self.manifest.chars} chars, {self.manifest.redaction_count} redactions)"


_SEAL_TOKEN = object()


class PrivacyGuard:
    """Decides what may leave the machine; redacts, seals and restores (thread-safe).

    ``root`` is the repository the files come from (used by :mod:`.sources` for links and git).
    """

    def __init__(self, settings: PrivacySettings, root: Path | None = None, *,
                 scanner: Scanner | None = None) -> None:
        self.settings = settings
        self.root = root.resolve() if root is not None else None
        self.scanner = scanner or Scanner()
        self._globs = [g.lower() for g in settings.secret_globs]
        self._by_secret: dict[str, str] = {}
        self._by_placeholder: dict[str, str] = {}
        self._kinds: dict[str, str] = {}  # placeholder -> kind
        self._known: re.Pattern[str] | None = None
        self._lock = threading.Lock()
        self._key = secrets.token_bytes(32)

    @classmethod
    def from_settings(cls, settings: Settings) -> PrivacyGuard:
        return cls(settings.privacy, settings.repo_root)

    # -- cloud switch and files ------------------------------------------------------------
    @property
    def cloud_allowed(self) -> bool:
        return self.settings.cloud

    def check_cloud(self) -> None:
        """Raise :class:`PrivacyError` when cloud calls are switched off."""
        if not self.settings.cloud:
            raise PrivacyError(
                "Cloud calls are switched off (offline mode: privacy.cloud = false or --offline), "
                "so nothing was sent to Claude.",
                hint="Use --local to run against the local llama-server, or turn cloud calls back on "
                     "(privacy.cloud = true; unset CODEASSIST_OFFLINE).",
            )

    def allowed(self, path: str | PurePath) -> bool:
        """False for files that must never be sent (secret patterns match the name or the path)."""
        posix = PurePosixPath(PurePath(path).as_posix())
        name = posix.name.lower()
        full = str(posix).lower()
        return not any(fnmatch.fnmatchcase(name, g) or fnmatch.fnmatchcase(full, g) for g in self._globs)

    # -- the egress point ------------------------------------------------------------------
    def seal(self, body: Mapping[str, Any], files: Sequence[tuple[str, int]] = ()) -> GuardedRequest:
        """``body`` with every secret in every string replaced, sealed for the client to send.

        ``files`` names the files whose text the body carries (repo-relative path, characters),
        for the audit."""
        found = Redactions()

        def scrub(text: str) -> str:
            redacted, items = self.redact(text)
            found.extend(items)
            return redacted

        clean = _map_content(body, scrub)
        text = json.dumps(clean, ensure_ascii=False, sort_keys=True)
        mac = hmac.new(self._key, text.encode(), hashlib.sha256).digest()
        manifest = Manifest(chars=len(text), redactions=found.kinds(), files=tuple(files),
                            sha256=hashlib.sha256(text.encode()).hexdigest())
        return GuardedRequest(_SEAL_TOKEN, self, text, mac, manifest)

    def release(self, request: object, **extra: Any) -> dict[str, Any]:
        """The body to send, only for a request this guard sealed and nobody changed."""
        if not isinstance(request, GuardedRequest) or request._guard is not self:
            raise PrivacyError("A request that did not pass the privacy guard was about to be sent; "
                               "nothing was sent.",
                               hint="This is a bug in codeassist; please report it.")
        mac = hmac.new(self._key, request._body.encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(mac, request._mac):
            raise PrivacyError("A request was changed after the privacy guard checked it; nothing was sent.",
                               hint="This is a bug in codeassist; please report it.")
        return request.payload(**extra)

    # -- redaction -------------------------------------------------------------------------
    def redact(self, text: str) -> tuple[str, Redactions]:
        """``text`` with every secret-looking string (and every secret seen before) replaced."""
        found = Redactions()
        if not self.settings.redact or not text:
            return text, found
        spans = self.scanner.spans(text)
        known = self._known
        if known is not None:
            spans += [(m.start(), m.end(), "") for m in known.finditer(text)]
        out: list[str] = []
        pos = 0
        for start, end, kind in sorted(spans, key=lambda s: (s[0], -s[1])):
            if start < pos or start == end:  # overlaps an earlier (longer or first) match
                continue
            secret = text[start:end]
            if _PLACEHOLDER.fullmatch(secret):
                continue
            placeholder, kind = self._placeholder(secret, kind)
            out.append(text[pos:start])
            out.append(placeholder)
            found.items.append(Redaction(kind, placeholder))
            pos = end
        out.append(text[pos:])
        return "".join(out), found

    def restore(self, text: str) -> str:
        """Placeholders made by this guard back to the original values (unknown ones stay)."""
        if _PLACEHOLDER_START not in text:
            return text
        with self._lock:
            table = dict(self._by_placeholder)
        return _PLACEHOLDER.sub(lambda m: table.get(m.group(0), m.group(0)), text)

    def pending_tail(self, text: str) -> int:
        """Index where a placeholder may begin at the end of ``text`` (for streamed text), else len."""
        for i in range(max(0, len(text) - 64), len(text)):
            tail = text[i:]
            if tail.startswith(_PLACEHOLDER_START[: len(tail)]) or (
                tail.startswith(_PLACEHOLDER_START) and re.fullmatch(r"__REDACTED_[A-Z_0-9]*_?", tail)
            ):
                return i
        return len(text)

    def _placeholder(self, secret: str, kind: str) -> tuple[str, str]:
        """(placeholder, kind) of ``secret``: the one it got before, else a new one."""
        with self._lock:
            existing = self._by_secret.get(secret)
            if existing is not None:
                return existing, self._kinds[existing]
            kind = kind or "SECRET"
            placeholder = f"__REDACTED_{kind}_{len(self._by_secret) + 1}__"
            self._by_secret[secret] = placeholder
            self._by_placeholder[placeholder] = secret
            self._kinds[placeholder] = kind
            sweep = sorted((s for s in self._by_secret if len(s) >= _MIN_KNOWN_SECRET), key=len, reverse=True)
            self._known = re.compile("|".join(map(re.escape, sweep))) if sweep else None
            return placeholder, kind


def _map_content(value: Any, fn: Callable[[str], str], key: str = "") -> Any:
    if isinstance(value, str):
        return value if key in _STRUCTURAL_KEYS else fn(value)
    if isinstance(value, Mapping):
        return {k: _map_content(v, fn, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_map_content(v, fn, key) for v in value]
    return value


class StreamRestorer:
    """Restores placeholders in streamed text, holding back a placeholder split across deltas."""

    def __init__(self, guard: PrivacyGuard, out: Callable[[str], None]) -> None:
        self._guard = guard
        self._out = out
        self._buffer = ""

    def feed(self, text: str) -> None:
        self._buffer = self._guard.restore(self._buffer + text)
        cut = self._guard.pending_tail(self._buffer)
        if cut:
            self._out(self._buffer[:cut])
            self._buffer = self._buffer[cut:]

    def flush(self) -> None:
        if self._buffer:
            self._out(self._buffer)
            self._buffer = ""
