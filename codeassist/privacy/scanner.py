"""Finding secrets in text: ``detect-secrets`` (Yelp) plugins plus codeassist's own rules.

:class:`Scanner` runs, over one text:

- every regex plugin of ``detect-secrets`` (AWS, Azure storage, basic auth, GitHub, GitLab, JWT,
  npm, PyPI, SendGrid, Slack, Stripe, Twilio, Mailchimp, private keys, Discord, Telegram,
  Artifactory, IBM, Square, SoftLayer, OpenAI...), each pattern once over the whole text;
- its ``KeywordDetector`` on the lines that mention a secret-like word, filtered with
  detect-secrets' own heuristic filters (templated values, ``$VAR``, indirect references such as
  ``secret = get_secret()``, sequential strings, UUIDs, ``*_id`` values);
- its high-entropy plugins (base64 and hex) on quoted strings: a hit counts on a line that mentions
  a secret-like word, or, anywhere, when the string is long and very random (a bare token) — so
  hashes, test vectors and base64 data in ordinary code stay readable;
- :mod:`codeassist.privacy.rules` for the shapes detect-secrets lacks and for unquoted
  assignments in config formats.

The result is a list of spans ``(start, end, kind)``; overlaps are resolved by the guard.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from detect_secrets.filters import heuristic
from detect_secrets.plugins.artifactory import ArtifactoryDetector
from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
from detect_secrets.plugins.base import RegexBasedDetector
from detect_secrets.plugins.basic_auth import BasicAuthDetector
from detect_secrets.plugins.discord import DiscordBotTokenDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.high_entropy_strings import (
    Base64HighEntropyString,
    HexHighEntropyString,
    HighEntropyStringsPlugin,
)
from detect_secrets.plugins.ibm_cloud_iam import IbmCloudIamDetector
from detect_secrets.plugins.ibm_cos_hmac import IbmCosHmacDetector
from detect_secrets.plugins.jwt import JwtTokenDetector
from detect_secrets.plugins.keyword import KeywordDetector
from detect_secrets.plugins.mailchimp import MailchimpDetector
from detect_secrets.plugins.npm import NpmDetector
from detect_secrets.plugins.openai import OpenAIDetector
from detect_secrets.plugins.private_key import PrivateKeyDetector
from detect_secrets.plugins.pypi_token import PypiTokenDetector
from detect_secrets.plugins.sendgrid import SendGridDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.softlayer import SoftlayerDetector
from detect_secrets.plugins.square_oauth import SquareOAuthDetector
from detect_secrets.plugins.stripe import StripeDetector
from detect_secrets.plugins.telegram_token import TelegramBotTokenDetector
from detect_secrets.plugins.twilio import TwilioKeyDetector

from codeassist.privacy import rules
from codeassist.privacy.rules import Span

__all__ = ["Scanner"]

_REGEX_PLUGINS: tuple[type[RegexBasedDetector], ...] = (
    ArtifactoryDetector, AWSKeyDetector, AzureStorageKeyDetector, BasicAuthDetector, DiscordBotTokenDetector,
    GitHubTokenDetector, GitLabTokenDetector, IbmCloudIamDetector, IbmCosHmacDetector, JwtTokenDetector,
    MailchimpDetector, NpmDetector, OpenAIDetector, PrivateKeyDetector, PypiTokenDetector, SendGridDetector,
    SlackDetector, SoftlayerDetector, SquareOAuthDetector, StripeDetector, TelegramBotTokenDetector,
    TwilioKeyDetector,
)
# Literals (lower-cased) of which a line must hold one before a plugin's patterns run on it; the
# patterns are detect-secrets' own, this only spares them the lines they cannot match.
_GATES: dict[type[RegexBasedDetector], tuple[str, ...]] = {
    ArtifactoryDetector: ("AKC", "AP"),  # upper case: looked up in the text itself
    AWSKeyDetector: ("akia", "asia", "abia", "acca", "a3t", "aws"),
    AzureStorageKeyDetector: ("accountkey",),
    BasicAuthDetector: ("://",),
    DiscordBotTokenDetector: (),  # no literal: the pattern runs over the whole text
    GitHubTokenDetector: ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    GitLabTokenDetector: ("glpat-", "gldt-", "glft-", "glsoat-", "glrt-", "gr1348941", "glcbt-", "glimt-",
                          "glptt-", "glagent-", "gloas-"),
    IbmCloudIamDetector: ("key", "pwd", "pass", "token"),
    IbmCosHmacDetector: ("secret",),
    JwtTokenDetector: ("eyj",),
    MailchimpDetector: ("-us",),
    NpmDetector: ("_authtoken",),
    OpenAIDetector: ("t3blbkfj",),
    PrivateKeyDetector: ("private", "putty", "ssh2"),
    PypiTokenDetector: ("pypi-",),
    SendGridDetector: ("sg.",),
    SlackDetector: ("xox", "hooks.slack"),
    SoftlayerDetector: ("softlayer", "sl_", "sl-", "slapi", "slkey", "slpass", "slpwd", "sltoken"),
    SquareOAuthDetector: ("sq0csp-",),
    StripeDetector: ("k_live_",),
    TelegramBotTokenDetector: (),
    TwilioKeyDetector: ("AC", "SK"),
}
# detect-secrets' KeywordDetector words (and ours), lower-cased: lines holding one are candidates.
_KEYWORD_HINTS = ("pass", "pwd", "secret", "key", "token", "auth", "credential", "contrase")
_KEYWORD_WORDS = ("key", "pass", "pwd", "secret", "contrase")  # what KeywordDetector's denylist needs
_QUOTED = re.compile(r"""(["'`])([^"'`\s]{20,})\1""")
# A bare high-entropy string counts without a secret-like word only when it is long and very random.
_BARE_MIN_LEN = 32
_BARE_MIN_B64_ENTROPY = 5.0
_NOT_TOKEN = re.compile(r"[/\\.]{1}.*[/\\.]|^[A-Za-z]+$|^[a-z0-9_]+$|^[A-Z0-9_]+$")


def _kind(plugin: object) -> str:
    name = type(plugin).__name__.removesuffix("Detector").removesuffix("String")
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).upper()


class Scanner:
    """Secret spans in text (stateless after construction; thread-safe)."""

    def __init__(self) -> None:
        self._regex: list[tuple[str, tuple[str, ...], re.Pattern[str]]] = [
            (_kind(plugin), _GATES[type(plugin)], pattern) for plugin in (cls() for cls in _REGEX_PLUGINS)
            for pattern in plugin.denylist]
        self._keyword = KeywordDetector()
        self._entropy: list[HighEntropyStringsPlugin] = [Base64HighEntropyString(), HexHighEntropyString()]

    def spans(self, text: str) -> list[Span]:
        lines = rules.Lines(text)
        spans = rules.token_spans(lines) + rules.assignment_spans(lines)
        spans += self._regex_spans(lines)
        for start in lines.starts(_KEYWORD_WORDS):
            spans += self._keyword_spans(text, start, lines.end(start))
        spans += self._entropy_spans(text)
        return spans

    def _regex_spans(self, lines: rules.Lines) -> list[Span]:
        out: list[Span] = []
        for kind, gate, pattern in self._regex:
            found: Iterable[re.Match[str]] = (
                lines.matches(gate, pattern) if gate else pattern.finditer(lines.text))
            for m in found:
                group = 1 if pattern.groups == 1 and m.group(1) else 0
                out.append((m.start(group), m.end(group), kind))
        return out

    def _keyword_spans(self, text: str, start: int, end: int) -> list[Span]:
        line = text[start:end]
        if not any(q in line for q in "\"'`") or heuristic.is_indirect_reference(line):
            return []
        out: list[Span] = []
        for value in self._keyword.analyze_string(line):
            if not value or not _acceptable(value, line):
                continue
            at = line.find(value)
            if at != -1:
                out.append((start + at, start + at + len(value), "KEYWORD"))
        return out

    def _entropy_spans(self, text: str) -> list[Span]:
        out: list[Span] = []
        for m in _QUOTED.finditer(text):
            value = m.group(2)
            if not _acceptable(value, _line_at(text, m.start())):
                continue
            for plugin in self._entropy:
                if not plugin.regex.fullmatch(m.group(0)):
                    continue
                score = plugin.calculate_shannon_entropy(value)
                if score <= plugin.entropy_limit:
                    continue
                if _has_hint(_line_at(text, m.start())) or _bare_token(value, score, plugin):
                    out.append((m.start(2), m.end(2), "HIGH_ENTROPY"))
                break
        return out


def _acceptable(value: str, line: str) -> bool:
    """detect-secrets' heuristic filters, plus our stub values (``changeme``, ``<your key>``...)."""
    return not (heuristic.is_templated_secret(value) or heuristic.is_prefixed_with_dollar_sign(value)
                or heuristic.is_sequential_string(value) or heuristic.is_potential_uuid(value)
                or heuristic.is_likely_id_string(value, line) or not rules.looks_secret(
                    "password", value, quoted=True))


def _bare_token(value: str, score: float, plugin: HighEntropyStringsPlugin) -> bool:
    if len(value) < _BARE_MIN_LEN or _NOT_TOKEN.search(value):
        return False
    if isinstance(plugin, HexHighEntropyString):
        return False  # hashes and digests in code: secret only next to a secret-like word
    return score >= _BARE_MIN_B64_ENTROPY


def _has_hint(line: str) -> bool:
    low = line.lower()
    return any(word in low for word in _KEYWORD_HINTS)


def _line_at(text: str, pos: int) -> str:
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return text[start:len(text) if end == -1 else end]
