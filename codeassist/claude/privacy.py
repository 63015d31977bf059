"""The privacy guard: what may leave the machine, and in which form.

- :meth:`PrivacyGuard.allowed` — files matching a secret pattern (``privacy.secret_globs``:
  ``.env*``, ``*.pem``, ``id_rsa*``, credential and keystore files...) are never sent.
- :meth:`PrivacyGuard.redact` — secret-looking strings (API keys and tokens, private-key blocks,
  passwords in URLs, ``password = "..."``-style assignments) are replaced by placeholders such as
  ``__REDACTED_AWS_KEY_1__``; :meth:`PrivacyGuard.restore` maps them back locally, so an edit that
  touches one writes the real value. The same secret always gets the same placeholder.
- :meth:`PrivacyGuard.check_cloud` — ``privacy.cloud = false`` (``--offline``) refuses every
  cloud call with :class:`~codeassist.errors.PrivacyError` before anything is sent.

The Claude client applies all of this itself on every call; callers only use :meth:`allowed`
to decide which files to read.
"""

from __future__ import annotations

import fnmatch
import math
import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePath, PurePosixPath

from codeassist.config import PrivacySettings
from codeassist.errors import PrivacyError

__all__ = ["PrivacyGuard", "Redaction", "Redactions", "StreamRestorer"]

_PLACEHOLDER = re.compile(r"__REDACTED_[A-Z_]+?_\d+__")
_PLACEHOLDER_START = "__REDACTED_"

# (kind, literals of which one must occur, pattern); the secret is the group named "s" when
# present, else the whole match. The literal check skips the regex on text that cannot match.
_TOKEN_PATTERNS: list[tuple[str, tuple[str, ...], re.Pattern[str]]] = [
    ("PRIVATE_KEY", ("PRIVATE KEY",), re.compile(
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----",
        re.DOTALL)),
    ("AWS_KEY", ("AKIA", "ASIA", "ABIA", "ACCA"), re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b")),
    ("GITHUB_TOKEN", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
     re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b")),
    ("ANTHROPIC_KEY", ("sk-ant-",), re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{20,}")),
    ("OPENAI_KEY", ("sk-",), re.compile(r"\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_\-]{20,}")),
    ("SLACK_TOKEN", ("xox",), re.compile(r"\bxox[abposre]-[A-Za-z0-9\-]{10,}")),
    ("SLACK_WEBHOOK", ("hooks.slack.com",),
     re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/_\-]{20,}")),
    ("STRIPE_KEY", ("_live_", "_test_"), re.compile(r"\b[rsp]k_(?:live|test)_[A-Za-z0-9]{16,}")),
    ("GOOGLE_API_KEY", ("AIza",), re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b")),
    ("JWT", ("eyJ",), re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}")),
    ("URL_PASSWORD", ("://",), re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:@/]+:(?P<s>[^\s@/]+)@")),
]
# Lines holding one of these (lower-cased) are checked for secret assignments.
_ASSIGN_WORDS = ("pass", "pwd", "secret", "token", "key", "credential", "auth")

_NAME = r"[A-Za-z0-9_.\-]*"
_SECRET_WORDS = (r"(?:password|passwd|passphrase|pwd|secret|token|api[_\-]?key|apikey|access[_\-]?key"
                 r"|private[_\-]?key|credentials?|auth)")
# name = "value" / name: 'value' / "name": "value"  (quoted literal)
_QUOTED_ASSIGN = re.compile(
    rf"""(?ix)(?<![A-Za-z0-9_.\-])(?P<name>{_NAME}{_SECRET_WORDS}{_NAME})["']?\s*(?::=|=|:)\s*
        (?P<q>["'`])(?P<s>[^"'`\s]{{4,}})(?P=q)"""
)
# NAME=value in .env / shell style (unquoted, at line start, no spaces around `=`)
_BARE_ASSIGN = re.compile(
    rf"""(?imx)^[ \t]*(?:export[ \t]+)?(?P<name>{_NAME}{_SECRET_WORDS}{_NAME})=
        (?P<s>[^\s"'`#()\[\]{{}}]{{8,}})(?=[ \t]|\#|$)"""
)
_PASSWORD_NAME = re.compile(r"(?i)pass|pwd")
_NOT_A_VALUE = re.compile(r"^(?:\$\{?.*|\{.*\}|<.*>|%\(?.*|\*+|x+|\.\.\.+|changeme|none|null|true|false|"
                          r"password|secret|example|your[_\-].*|test|dummy|redacted.*)$", re.IGNORECASE)


@dataclass(frozen=True)
class Redaction:
    kind: str
    placeholder: str

    def __repr__(self) -> str:  # never the secret
        return f"Redaction({self.kind}, {self.placeholder})"


@dataclass
class Redactions:
    """What one :meth:`PrivacyGuard.redact` call replaced (kinds and placeholders, never values)."""

    items: list[Redaction] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    def kinds(self) -> dict[str, int]:
        return dict(Counter(r.kind for r in self.items))

    def extend(self, other: Redactions) -> None:
        self.items.extend(other.items)


def _entropy(value: str) -> float:
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def _looks_secret(name: str, value: str) -> bool:
    if _NOT_A_VALUE.match(value) or _PLACEHOLDER.fullmatch(value):
        return False
    if _PASSWORD_NAME.search(name):
        return True
    if len(value) < 16:
        return False
    mixed = (any(c.isdigit() for c in value) and any(c.isupper() for c in value)
             and any(c.islower() for c in value))
    hex_digest = len(value) >= 32 and all(c in "0123456789abcdefABCDEF" for c in value)
    return mixed or hex_digest or (len(value) >= 24 and _entropy(value) >= 4.0)


def _token_spans(text: str) -> list[tuple[int, int, str]]:
    spans: list[tuple[int, int, str]] = []
    for kind, literals, pattern in _TOKEN_PATTERNS:
        if not any(lit in text for lit in literals):
            continue
        group = "s" if "s" in pattern.groupindex else 0
        spans.extend((m.start(group), m.end(group), kind) for m in pattern.finditer(text))
    return spans


def _candidate_lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of the lines mentioning a secret-like word."""
    low = text.lower()
    starts: set[int] = set()
    for word in _ASSIGN_WORDS:
        at = low.find(word)
        while at != -1:
            starts.add(low.rfind("\n", 0, at) + 1)
            at = low.find(word, at + len(word))
    lines = []
    for start in sorted(starts):
        end = low.find("\n", start)
        lines.append((start, len(text) if end == -1 else end))
    return lines


def _assignment_spans(text: str) -> list[tuple[int, int, str]]:
    spans: list[tuple[int, int, str]] = []
    for start, end in _candidate_lines(text):
        for pattern in (_QUOTED_ASSIGN, _BARE_ASSIGN):
            for m in pattern.finditer(text, start, end):
                if _looks_secret(m.group("name"), m.group("s")):
                    kind = "PASSWORD" if _PASSWORD_NAME.search(m.group("name")) else "SECRET"
                    spans.append((m.start("s"), m.end("s"), kind))
    return spans


class PrivacyGuard:
    """Decides what may leave the machine; redacts and restores secrets (thread-safe)."""

    def __init__(self, settings: PrivacySettings) -> None:
        self.settings = settings
        self._globs = [g.lower() for g in settings.secret_globs]
        self._by_secret: dict[str, str] = {}
        self._by_placeholder: dict[str, str] = {}
        self._lock = threading.Lock()

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

    def redact(self, text: str) -> tuple[str, Redactions]:
        """``text`` with every secret-looking string replaced by a placeholder."""
        found = Redactions()
        if not self.settings.redact or not text:
            return text, found
        spans = _token_spans(text) + _assignment_spans(text)
        out: list[str] = []
        pos = 0
        for start, end, kind in sorted(spans, key=lambda s: (s[0], -s[1])):
            if start < pos:  # overlaps an earlier (longer or first) match
                continue
            placeholder = self._placeholder(text[start:end], kind)
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

    def _placeholder(self, secret: str, kind: str) -> str:
        with self._lock:
            existing = self._by_secret.get(secret)
            if existing is not None:
                return existing
            placeholder = f"__REDACTED_{kind}_{len(self._by_secret) + 1}__"
            self._by_secret[secret] = placeholder
            self._by_placeholder[placeholder] = secret
            return placeholder


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
