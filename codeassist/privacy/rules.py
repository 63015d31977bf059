"""codeassist's own secret rules: the shapes ``detect-secrets`` lacks, and assignments in config files.

A rule finds spans ``(start, end, kind)`` in a whole text. Token rules are cheap literal-gated
regexes (the regex only runs when one of its literals occurs). Assignment rules look at the lines
that mention a secret-like word and accept a value only when it looks like one (not a variable, an
environment reference or a template).
"""

from __future__ import annotations

import math
import re
from collections import Counter

__all__ = ["Lines", "Span", "assignment_spans", "entropy", "looks_secret", "name_kind", "token_spans"]

Span = tuple[int, int, str]  # start, end, kind

# (kind, literals of which one must occur, pattern); the secret is the group named "s" when present,
# else the whole match.
_TOKEN_RULES: list[tuple[str, tuple[str, ...], re.Pattern[str]]] = [
    # a whole block (its body: base64, headers, escaped newlines; never quotes or code), or the body
    # lines after a BEGIN whose END is not in the text (a key cut off by a view or a map)
    ("PRIVATE_KEY", ("PRIVATE KEY",), re.compile(
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[^\"'`{}()<>\[\]#;*]{0,16384}?"
        r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
        r"|(?<=PRIVATE KEY-----)(?:[ \t]*(?:\r?\n|\\n)[ \t]*[A-Za-z0-9+/=]{16,})+")),
    ("AWS_KEY", ("AKIA", "ASIA", "ABIA", "ACCA"), re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b")),
    ("GITHUB_TOKEN", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
     re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b")),
    ("GITLAB_TOKEN", ("glpat-", "gldt-", "glrt-", "glptt-"),
     re.compile(r"\bgl(?:pat|dt|rt|ptt)-[A-Za-z0-9_\-]{20,}")),
    ("ANTHROPIC_KEY", ("sk-ant-",), re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{20,}")),
    ("OPENAI_KEY", ("sk-",), re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}")),
    ("HUGGINGFACE_TOKEN", ("hf_",), re.compile(r"\bhf_[A-Za-z0-9]{30,}\b")),
    ("VAULT_TOKEN", ("hvs.", "hvb.", "hvr."), re.compile(r"\bhv[sbr]\.[A-Za-z0-9_\-]{24,}")),
    ("SHOPIFY_TOKEN", ("shpat_", "shpca_", "shppa_", "shpss_"),
     re.compile(r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b")),
    ("DIGITALOCEAN_TOKEN", ("do_v1_", "dop_v1_", "doo_v1_", "dor_v1_"),
     re.compile(r"\bdo[opr]?_v1_[a-f0-9]{64}\b")),
    ("MAILGUN_KEY", ("key-",), re.compile(r"\bkey-[0-9a-zA-Z]{32}\b")),
    ("NPM_TOKEN", ("npm_",), re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),
    ("PYPI_TOKEN", ("pypi-",), re.compile(r"\bpypi-[A-Za-z0-9_\-]{50,}")),
    ("SENDGRID_KEY", ("SG.",), re.compile(r"\bSG\.[A-Za-z0-9_\-]{16,32}\.[A-Za-z0-9_\-]{16,64}")),
    ("SLACK_TOKEN", ("xox",), re.compile(r"\bxox[abposre]-[A-Za-z0-9\-]{10,}")),
    ("SLACK_WEBHOOK", ("hooks.slack.com",),
     re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/_\-]{20,}")),
    ("STRIPE_KEY", ("_live_", "_test_"), re.compile(r"\b[rsp]k_(?:live|test)_[A-Za-z0-9]{16,}")),
    ("GOOGLE_API_KEY", ("AIza",), re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b")),
    ("GOOGLE_OAUTH_SECRET", ("GOCSPX-",), re.compile(r"\bGOCSPX-[A-Za-z0-9_\-]{24,}")),
    ("TWILIO_KEY", ("SK", "AC"), re.compile(r"\b(?:SK|AC)[0-9a-f]{32}\b")),
    ("JWT", ("eyJ",), re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}")),
    ("CONNECTION_STRING_KEY", ("Key=", "key=", "Password=", "password=", "Pwd=", "pwd=", "Signature="),
     re.compile(r"(?i)(?:AccountKey|SharedAccessKey|SharedAccessSignature|Password|Pwd|sig)"
                r"=(?P<s>[^;\s\"'&]{6,})")),
    # scheme://user:password@host and scheme://:password@host (redis, amqp... without a user)
    ("URL_PASSWORD", ("://",), re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:@/\"']*:(?P<s>[^\s@/\"']+)@")),
    # curl -u user:password / --user=user:password / --user 'user:password'
    ("CURL_PASSWORD", ("-u", "--user"),
     re.compile(r"""(?:\s-u\s*|\s--user[\s=]+)["']?[^\s:"']+:(?P<s>[^\s"']+)""")),
    # Authorization: Bearer xyz / "Authorization": "Basic xyz" / -H 'X-Api-Key: xyz'
    ("AUTH_HEADER", ("uthorization", "AUTHORIZATION", "-Key", "-Token", "-key", "-token"),
     re.compile(r"""(?i)\b(?:authorization|proxy-authorization|x-[a-z\-]*(?:api-key|token|secret))["']?"""
                r"""\s*[:=]\s*["']?(?:(?:bearer|basic|token|bot|digest|apikey|sso-key)\s+)?"""
                r"""(?P<s>[A-Za-z0-9._~+/=\-:]{12,})""")),
]

_NAME = r"[A-Za-z0-9_.\-]*"
_SECRET_WORDS = (r"(?:password|passwd|passphrase|pass|pwd|secret|token|api[_\-]?key|apikey"
                 r"|(?:access|private|signing|encryption|master|account|app|client|license|auth|secret)"
                 r"[_\-]?key|credentials?|auth)")
# name = "value" / name: 'value' / "name": "value" / name := `value`   (quoted literal)
_QUOTED_ASSIGN = re.compile(
    rf"""(?ix)(?<![A-Za-z0-9_.\-])(?P<name>{_NAME}{_SECRET_WORDS}{_NAME})["']?\s*(?::=|=>|=|:)\s*
        [rbuf]?(?P<q>["'`])(?P<s>[^"'`\s]{{4,}})(?P=q)"""
)
# NAME=value (.env, shell, .properties), name = value (INI, properties), name: value (YAML); also
# as the lines of a `view` result (`    12\t...`) or a diff (`+...`) show them
_LINE_PREFIX = r"(?:[ \t]*\d+\t|[+\- ](?=[^+\-]))?"
_BARE_ASSIGN = re.compile(
    rf"""(?imx)^{_LINE_PREFIX}[ \t]*(?:export[ \t]+|-[ \t]+|ENV[ \t]+|ARG[ \t]+|set[ \t]+)?
        (?P<name>{_NAME}{_SECRET_WORDS}{_NAME})[ \t]*(?:=|:)[ \t]*
        (?P<s>[^\s"'`,()\[\]{{}}<>]{{6,}})(?=[ \t]|$)"""
)
# Lines holding one of these (lower-cased) are checked for assignments.
_ASSIGN_WORDS = ("pass", "pwd", "secret", "token", "key", "credential", "auth")
_SEGMENTS = re.compile(r"[_.\-]+|(?<=[a-z0-9])(?=[A-Z])")
_PASSWORD_SEGMENTS = {"password", "passwd", "pass", "pwd", "passphrase", "pw", "pword"}
_SECRET_SEGMENTS = {"secret", "secrets", "token", "credential", "credentials", "apikey", "auth", "authtoken",
                    "accesstoken", "refreshtoken", "privatekey", "secretkey", "accesskey", "sas"}
_KEY_OWNERS = {"api", "access", "private", "signing", "encryption", "master", "account", "app", "client",
               "license", "auth", "secret", "service", "subscription", "storage", "webhook", "shared"}
_NOT_A_VALUE = re.compile(
    r"^(?:\$.*|%\(?.*|\{.*\}|<.*>|\*+|x+|X+|\.\.\.+|changeme|change[_\-]?me|none|null|nil|true|false|"
    r"password|secret|example|sample|placeholder|your[_\-].*|test|testing|dummy|redacted.*|"
    r"env\[.*|os\.environ.*|process\.env.*|getenv.*|ENC\[.*|vault:.*|secretref:.*|.*\$\{.*)$",
    re.IGNORECASE)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$")
_WORDY = re.compile(r"^[a-z]+(?:[_\-.][a-z]+)*$|^[A-Z]+(?:_[A-Z]+)*$")  # snake/kebab/CONSTANT words
_PLACEHOLDER = re.compile(r"__REDACTED_[A-Z_]+?_\d+__")


def entropy(value: str) -> float:
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def name_kind(name: str) -> str | None:
    """``PASSWORD`` or ``SECRET`` when ``name`` names a secret (by its words), else None."""
    segments = [seg.lower() for seg in _SEGMENTS.split(name) if seg]
    if any(seg in _PASSWORD_SEGMENTS or seg.endswith(("password", "passwd")) for seg in segments):
        return "PASSWORD"
    for i, seg in enumerate(segments):
        if seg in _SECRET_SEGMENTS or seg.endswith(("secret", "token", "apikey")):
            return "SECRET"
        if seg == "key" and i > 0 and segments[i - 1] in _KEY_OWNERS:
            return "SECRET"
    return None


def looks_secret(name: str, value: str, *, quoted: bool) -> bool:
    """Whether ``value``, assigned to the secret-like ``name``, is a real value (not code or a stub)."""
    if _NOT_A_VALUE.match(value) or _PLACEHOLDER.search(value) or value.isdigit():
        return False
    if "/" in value and not quoted and (value[0] in "/.~" or entropy(value) < 4.2):  # a path
        return False
    password = name_kind(name) == "PASSWORD"
    has_digit = any(c.isdigit() for c in value)
    # unquoted in code is a variable or an attribute; in config files values rarely look like one
    if not quoted and _IDENTIFIER.match(value) and not (has_digit and (password or len(value) >= 12)):
        return False
    if _WORDY.match(value) and not password:
        return False
    if password:
        return True
    if len(value) < 12:
        return False
    mixed = has_digit and any(c.isupper() for c in value) and any(c.islower() for c in value)
    hex_digest = len(value) >= 24 and all(c in "0123456789abcdefABCDEF" for c in value)
    return mixed or hex_digest or (len(value) >= 16 and entropy(value) >= 3.5)


class Lines:
    """One text, lower-cased once, with the lines holding each literal found once (memoised).

    A literal with an upper-case letter is looked up as written, others in the lower-cased text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.low = text.lower()
        self._memo: dict[str, list[int]] = {}

    def starts(self, literals: tuple[str, ...]) -> list[int]:
        """Sorted starts of the lines holding one of ``literals``."""
        out: set[int] = set()
        for lit in literals:
            got = self._memo.get(lit)
            if got is None:
                got = self._memo[lit] = self._find(lit)
            out.update(got)
        return sorted(out)

    def _find(self, lit: str) -> list[int]:
        hay = self.text if any(c.isupper() for c in lit) else self.low
        found: list[int] = []
        at = hay.find(lit)
        while at != -1:
            found.append(self.text.rfind("\n", 0, at) + 1)
            eol = self.text.find("\n", at)
            if eol == -1:
                break
            at = hay.find(lit, eol)
        return found

    def end(self, start: int) -> int:
        eol = self.text.find("\n", start)
        return len(self.text) if eol == -1 else eol

    def matches(self, literals: tuple[str, ...], pattern: re.Pattern[str], *,
                multiline: bool = False) -> list[re.Match[str]]:
        """Matches of ``pattern`` on the lines holding one of ``literals`` only: the regex never
        scans lines that cannot match. ``multiline`` patterns run from such a line to the end."""
        out: list[re.Match[str]] = []
        covered = -1
        for start in self.starts(literals):
            if start < covered:
                continue
            end = len(self.text) if multiline else self.end(start)
            found = list(pattern.finditer(self.text, start, end))
            out += found
            covered = max([start + 1 if multiline else end, *(m.end() for m in found)])
        return out


def token_spans(lines: Lines) -> list[Span]:
    spans: list[Span] = []
    for kind, literals, pattern in _TOKEN_RULES:
        group = "s" if "s" in pattern.groupindex else 0
        for m in lines.matches(literals, pattern, multiline=kind == "PRIVATE_KEY"):
            if kind in ("CONNECTION_STRING_KEY", "AUTH_HEADER", "CURL_PASSWORD") and not looks_secret(
                    "password", m.group("s"), quoted=False):
                continue
            spans.append((m.start(group), m.end(group), kind))
    return spans


def assignment_spans(lines: Lines) -> list[Span]:
    spans: list[Span] = []
    for start in lines.starts(_ASSIGN_WORDS):
        end = lines.end(start)
        for pattern, quoted in ((_QUOTED_ASSIGN, True), (_BARE_ASSIGN, False)):
            for m in pattern.finditer(lines.text, start, end):
                kind = name_kind(m.group("name"))
                if kind is not None and looks_secret(m.group("name"), m.group("s"), quoted=quoted):
                    spans.append((m.start("s"), m.end("s"), kind))
    return spans
