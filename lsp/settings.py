"""Editor settings → typed codeassist settings, with a friendly fallback.

Editors send settings in ``initializationOptions`` and ``workspace/didChangeConfiguration``.
Both take the shape of ``config.toml``, optionally wrapped in a ``codeassist`` object::

    {"codeassist": {"server": {"url": "http://127.0.0.1:8012"},
                    "completion": {"enabled": true, "debounce_ms": 120}}}

Dotted keys (``{"server.url": "..."}``) and camelCase keys (``debounceMs``) work too. The values
become overrides of :func:`codeassist.config.load_settings` (so they beat config files and
environment variables). Wrong values never stop the server: :func:`parse_options` returns the
defaults plus one sentence saying what was wrong.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codeassist import config as cfg
from codeassist import paths
from codeassist.config import Settings
from codeassist.errors import ConfigError

__all__ = ["LspOptions", "flatten", "parse_options"]

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
# keys that only the editor integrations use; accepted and ignored by the server
_EDITOR_ONLY = {"server.command", "server.args", "trace.server"}


@dataclass(frozen=True)
class LspOptions:
    """What the language server runs with: the core settings and its own knobs."""

    core: Settings
    overrides: Mapping[str, Any] = field(default_factory=dict)
    problem: str | None = None  # set when the editor's settings were wrong and defaults are used

    @property
    def completions_enabled(self) -> bool:
        return self.core.completion.enabled

    @property
    def debounce_s(self) -> float:
        return max(0, self.core.completion.debounce_ms) / 1000.0


def _snake(key: str) -> str:
    return _CAMEL.sub("_", key).lower()


def flatten(raw: Any) -> dict[str, Any]:
    """``{"a": {"bKey": 1}}`` → ``{"a.b_key": 1}``; unwraps a top-level ``codeassist`` object."""
    if not isinstance(raw, Mapping):
        return {}
    wrapped = raw.get("codeassist")
    if isinstance(wrapped, Mapping) or wrapped == []:  # Lua encodes an empty table as []
        raw = wrapped or {}
    out: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping) and (prefix.count(".") < 1 or not prefix):
            for key, sub in value.items():
                walk(f"{prefix}.{_snake(str(key))}" if prefix else _snake(str(key)), sub)
        else:
            out[prefix] = value

    walk("", raw)
    return out


def parse_options(raw: Any, repo: Path | None, base: Mapping[str, Any] | None = None) -> LspOptions:
    """Settings for ``repo`` with the editor's ``raw`` settings layered over ``base`` overrides.

    Never raises for bad editor settings: unknown keys and wrong values give defaults (for the
    editor's part) and a ``problem`` sentence for the user. A broken config *file* is reported the
    same way and the built-in defaults are used.
    """
    overrides = dict(base or {})
    problems: list[str] = []
    if raw is not None and raw != [] and not isinstance(raw, Mapping):
        problems.append(f"the settings must be an object, not {type(raw).__name__}")
    known = set(cfg.all_keys())
    for dotted, value in flatten(raw).items():
        if dotted in _EDITOR_ONLY or value is None:
            continue
        if dotted not in known:
            problems.append(f"unknown setting `{dotted}`")
            continue
        overrides[dotted] = value
    core = _load(repo, overrides, problems)
    problem = None
    if problems:
        problem = ("codeassist: ignoring bad settings (" + "; ".join(problems)
                   + "). Using the defaults; `codeassist config show` lists every key.")
    return LspOptions(core=core, overrides=overrides, problem=problem)


def _load(repo: Path | None, overrides: dict[str, Any], problems: list[str]) -> Settings:
    """Load settings, dropping each editor override that is wrong (and saying so)."""
    while True:
        try:
            return cfg.load_settings(repo, overrides=overrides)
        except ConfigError as exc:
            problems.append(exc.message.rstrip("."))
            if exc.key in overrides:
                del overrides[exc.key]
                continue
            break
    # a broken config file: the built-in defaults
    return Settings(repo_root=paths.find_repo_root(repo) if repo is not None else None)
