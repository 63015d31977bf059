"""Typed settings, read once.

Precedence (lowest first): built-in defaults < ``~/.config/codeassist/config.toml`` (XDG) <
``<repo>/.codeassist.toml`` < ``CODEASSIST_<SECTION>_<KEY>`` environment variables < CLI flags.

This is the one module that reads environment variables for settings. Every effective value
remembers where it came from (:attr:`Settings.sources`), which ``codeassist config show`` prints.
A bad file, key or value raises one :class:`~codeassist.errors.ConfigError` naming the file, the
key and what is allowed.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from codeassist import paths
from codeassist.errors import ConfigError

DEFAULT_SECRET_GLOBS = [
    ".env", ".env.*", "*.env", "*.pem", "*.key", "*.p12", "*.pfx", "*.jks", "*.keystore",
    "id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*", ".netrc", ".pgpass", "*.kdbx",
    "credentials", "credentials.*", "*credentials*.json", "secrets.*", ".npmrc", ".pypirc",
    "service-account*.json",
]


def _choices(*values: str) -> dict[str, Any]:
    return {"choices": values}


@dataclass(frozen=True)
class IndexSettings:
    max_file_size: int = 1_000_000
    workers: int = 0  # 0: one per core
    map_tokens: int = 1024
    extra_ignore: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ServerSettings:
    # running servers elsewhere (one or a pool); empty: codeassist manages its own llama-server
    url: list[str] = field(default_factory=list, metadata={"urls": True})
    api: str = "auto"  # auto | llama | openai (or a plugin's backend): the API the servers speak
    model: str = ""  # model id to request from an OpenAI-compatible server; empty: the first listed
    api_key: str = field(default="", metadata={"secret": True})  # sent as a Bearer token; never shown
    ca_bundle: str = ""  # a PEM file of the private CA that signed the servers' certificates
    binary: str = ""  # explicit llama-server path; empty: PATH, then the cached build
    backend: str = field(default="auto", metadata=_choices("auto", "cpu", "cuda", "vulkan", "metal"))
    host: str = "127.0.0.1"  # the managed server's address; not loopback needs a key (api_key_file)
    api_key_file: str = ""  # the managed server's keys, one per line (llama-server --api-key-file)
    metrics: bool = False  # the managed server's Prometheus /metrics (llama-server --metrics)
    port: int = 8012
    gpu_layers: int = -1  # -1: all layers when a GPU backend is compiled in, else 0
    ctx_size: int = 8192
    parallel: int = 2  # slots: completions and chat never evict each other's cache
    flash_attn: str = field(default="auto", metadata=_choices("auto", "on", "off"))
    cache_reuse: int = 256
    threads: int = 0  # 0: llama-server's default
    startup_timeout: float = 120.0
    extra_args: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ModelSettings:
    name: str = "qwen2.5-coder-0.5b"  # a catalogue name (`codeassist model list`)
    path: str = ""  # explicit GGUF path; overrides name


@dataclass(frozen=True)
class CompletionSettings:
    enabled: bool = True
    debounce_ms: int = 150
    n_predict: int = 128
    prefix_tokens: int = 768
    suffix_tokens: int = 256
    context_tokens: int = 512
    cache_size: int = 250
    timeout: float = 10.0
    latency_ms: int = 1500  # the wait from keystroke to suggestion the request is sized to (0: off)
    speculative: bool = True  # after a suggestion, prepare the next one as if it were accepted
    # auto: /infill when the model has FIM tokens, else a prompt-built /completion
    mode: str = field(default="auto", metadata=_choices("auto", "infill", "completion"))
    # the prompt layout of the /completion path (docs/completion.md); auto: the measured default
    prompt: str = field(default="auto", metadata=_choices("auto", "headers", "bare", "headers_suffix",
                                                                 "chat_hole", "hybrid"))


@dataclass(frozen=True)
class ClaudeSettings:
    model: str = ""  # empty: resolved from the API's model list (newest Sonnet)
    base_url: str = ""  # empty: the SDK default (or ANTHROPIC_BASE_URL)
    max_tokens: int = 16000
    max_cost: float = 2.0  # USD per refactor
    max_retries: int = 4
    retry_backoff: float = 1.0  # seconds before the first retry; doubles each time (retry-after wins)
    timeout: float = 600.0


@dataclass(frozen=True)
class PrivacySettings:
    cloud: bool = True  # false: nothing ever goes to Claude
    secret_globs: list[str] = field(default_factory=lambda: list(DEFAULT_SECRET_GLOBS))
    redact: bool = True


@dataclass(frozen=True)
class ChatSettings:
    route: str = field(default="auto", metadata=_choices("auto", "local", "claude"))
    think: bool = False
    history: bool = True
    max_tokens: int = 1024  # longest local answer, in tokens
    temperature: float = 0.7  # sampling temperature of local answers (0: greedy, reproducible)


@dataclass(frozen=True)
class Settings:
    index: IndexSettings = field(default_factory=IndexSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    model: ModelSettings = field(default_factory=ModelSettings)
    completion: CompletionSettings = field(default_factory=CompletionSettings)
    claude: ClaudeSettings = field(default_factory=ClaudeSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    chat: ChatSettings = field(default_factory=ChatSettings)
    repo_root: Path | None = None
    # "section.key" -> where the effective value came from ("default", a file path, "env NAME", "flag")
    sources: dict[str, str] = field(default_factory=dict, compare=False)

    def get(self, dotted: str) -> Any:
        section, key = dotted.split(".", 1)
        return getattr(getattr(self, section), key)


_SECTION_TYPES: dict[str, type] = {
    "index": IndexSettings, "server": ServerSettings, "model": ModelSettings,
    "completion": CompletionSettings, "claude": ClaudeSettings, "privacy": PrivacySettings,
    "chat": ChatSettings,
}
# Short environment names kept for convenience: name -> "section.key"
ENV_ALIASES = {"CODEASSIST_GPU": "server.backend", "CODEASSIST_OFFLINE": "privacy.cloud!",
               "ANTHROPIC_BASE_URL": "claude.base_url", "CODEASSIST_MODEL": "model.name"}


def is_secret(dotted: str) -> bool:
    """Settings whose value is never printed or logged (``config show`` says only set/unset)."""
    return bool(_field(dotted).metadata.get("secret"))


def all_keys() -> list[str]:
    return [f"{s}.{f.name}" for s, cls in _SECTION_TYPES.items() for f in dataclasses.fields(cls)]


def _field(dotted: str) -> dataclasses.Field[Any]:
    section, key = dotted.split(".", 1)
    for f in dataclasses.fields(_SECTION_TYPES[section]):
        if f.name == key:
            return f
    raise KeyError(dotted)


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is list:
        return "a list of strings"
    return {int: "an integer", float: "a number", bool: "true or false", str: "a string"}.get(tp, str(tp))


def _coerce(dotted: str, value: Any, source: str, *, from_text: bool) -> Any:
    """Check ``value`` against the field's type; ``from_text`` values come from env/flags."""
    f = _field(dotted)
    tp = typing.get_type_hints(_SECTION_TYPES[dotted.split(".")[0]])[f.name]
    if isinstance(tp, types.UnionType):  # pragma: no cover - no optional settings yet
        tp = typing.get_args(tp)[0]
    allowed = f.metadata.get("choices")
    if f.metadata.get("urls"):
        return _url_list(dotted, value, source)
    try:
        result = _convert(tp, value, from_text=from_text)
    except (TypeError, ValueError):
        what = f"one of {', '.join(allowed)}" if allowed else _type_name(tp)
        raise ConfigError(
            f"{source}: `{dotted}` is {value!r}, but it must be {what}.",
            hint="Fix or remove that value; `codeassist config show` lists every key with its default.",
            source=source, key=dotted,
        ) from None
    if allowed and result not in allowed:
        raise ConfigError(
            f"{source}: `{dotted}` is {value!r}, but it must be one of: {', '.join(allowed)}.",
            hint="Fix or remove that value.", source=source, key=dotted,
        )
    return result


def _url_list(dotted: str, value: Any, source: str) -> list[str]:
    """One URL, a TOML list of URLs or a comma-separated string; each must be http(s)://host[:port]."""
    if isinstance(value, str):
        entries = [v.strip() for v in value.split(",")]
        entries = [] if entries == [""] else entries
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        entries = [v.strip() for v in value]
    else:
        raise ConfigError(f"{source}: `{dotted}` is {value!r}, but it must be a URL or a list of URLs.",
                          hint='Example: url = ["http://gpu-a:8012", "http://gpu-b:8012"].',
                          source=source, key=dotted)
    for entry in entries:
        problem = _url_problem(entry)
        if problem:
            raise ConfigError(
                f"{source}: `{dotted}` entry {entry!r} is not a server URL: {problem}.",
                hint="Each entry must look like http://host:port or https://host[:port]; separate "
                     "several with commas in the environment, or use a TOML list.",
                source=source, key=dotted)
    urls = [e.rstrip("/") for e in entries]
    if len(set(urls)) != len(urls):
        raise ConfigError(f"{source}: `{dotted}` names the same server twice ({', '.join(urls)}).",
                          hint="List each server once.", source=source, key=dotted)
    return urls


def _url_problem(entry: str) -> str:
    if not entry:
        return "it is empty (a stray comma?)"
    try:
        parts = urlsplit(entry)
        parts.port  # noqa: B018 - raises ValueError for a port that is no number or out of range
    except ValueError as exc:
        return str(exc)
    if parts.scheme not in ("http", "https"):
        return "it must start with http:// or https://"
    if not parts.hostname:
        return "it has no host name"
    if parts.query or parts.fragment:
        return "it must not carry a query or a fragment"
    return ""


def _convert(tp: Any, value: Any, *, from_text: bool) -> Any:
    if typing.get_origin(tp) is list:
        if from_text and isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise TypeError
        return list(value)
    if tp is bool:
        if isinstance(value, bool):
            return value
        if from_text and isinstance(value, str):
            low = value.strip().lower()
            if low in {"1", "true", "yes", "on"}:
                return True
            if low in {"0", "false", "no", "off"}:
                return False
        raise ValueError
    if tp is int:
        if isinstance(value, bool):
            raise TypeError
        if isinstance(value, int):
            return value
        if from_text and isinstance(value, str):
            return int(value.strip())
        raise TypeError
    if tp is float:
        if isinstance(value, bool):
            raise TypeError
        if isinstance(value, int | float):
            return float(value)
        if from_text and isinstance(value, str):
            return float(value.strip())
        raise TypeError
    if not isinstance(value, str):
        raise TypeError
    return value


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}.", hint="Fix the syntax or remove the file.",
                          source=str(path)) from exc
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror}.", source=str(path)) from exc


def _layer_from_file(path: Path) -> dict[str, Any]:
    data = _read_toml(path)
    out: dict[str, Any] = {}
    for section, table in data.items():
        if section not in _SECTION_TYPES:
            raise ConfigError(
                f"{path}: unknown section [{section}].",
                hint=f"Known sections: {', '.join(_SECTION_TYPES)}.", source=str(path), key=section,
            )
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: `{section}` must be a table ([{section}]).", source=str(path),
                              key=section)
        for key, value in table.items():
            dotted = f"{section}.{key}"
            if dotted not in all_keys():
                known = ", ".join(f.name for f in dataclasses.fields(_SECTION_TYPES[section]))
                raise ConfigError(f"{path}: unknown key `{dotted}`.", hint=f"Keys of [{section}]: {known}.",
                                  source=str(path), key=dotted)
            out[dotted] = _coerce(dotted, value, str(path), from_text=False)
    return out


def _layer_from_env(env: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    keys = set(all_keys())
    for name, raw in env.items():
        if name in ENV_ALIASES:
            dotted = ENV_ALIASES[name]
            if dotted.endswith("!"):  # CODEASSIST_OFFLINE=1 means privacy.cloud = false
                dotted = dotted[:-1]
                values[dotted] = not _coerce(dotted, raw, f"env {name}", from_text=True)
            else:
                values[dotted] = _coerce(dotted, raw, f"env {name}", from_text=True)
            sources[dotted] = f"env {name}"
            continue
        if not name.startswith("CODEASSIST_"):
            continue
        rest = name[len("CODEASSIST_"):].lower()
        section, _, key = rest.partition("_")
        dotted = f"{section}.{key}"
        if dotted in keys:
            values[dotted] = _coerce(dotted, raw, f"env {name}", from_text=True)
            sources[dotted] = f"env {name}"
    return values, sources


def load_settings(
    repo: Path | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    user_config: Path | None = None,
) -> Settings:
    """Build the effective settings. ``overrides`` are CLI flags as ``{"section.key": value}``."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    sources: dict[str, str] = dict.fromkeys(all_keys(), "default")
    user_file = user_config if user_config is not None else paths.user_config_file()
    repo_root = paths.find_repo_root(repo) if repo is not None else None
    files = [user_file]
    if repo_root is not None:
        files.append(repo_root / paths.REPO_CONFIG_NAME)
    for path in files:
        if path.is_file():
            layer = _layer_from_file(path)
            values.update(layer)
            sources.update(dict.fromkeys(layer, str(path)))
    env_values, env_sources = _layer_from_env(env)
    values.update(env_values)
    sources.update(env_sources)
    for dotted, value in (overrides or {}).items():
        if value is None:
            continue
        if dotted not in sources:
            raise ConfigError(f"Unknown setting `{dotted}`.", key=dotted)
        values[dotted] = _coerce(dotted, value, "command line", from_text=isinstance(value, str))
        sources[dotted] = "command line"
    return _build(values, sources, repo_root)


def _build(values: dict[str, Any], sources: dict[str, str], repo_root: Path | None) -> Settings:
    sections: dict[str, Any] = {}
    for name, cls in _SECTION_TYPES.items():
        kwargs = {k.split(".", 1)[1]: v for k, v in values.items() if k.split(".", 1)[0] == name}
        sections[name] = cls(**kwargs)
    return Settings(**sections, repo_root=repo_root, sources=sources)


def anthropic_api_key(env: Mapping[str, str] | None = None) -> str | None:
    """The Claude API key from the environment. It is never written to config or logs."""
    env = os.environ if env is None else env
    return env.get("ANTHROPIC_API_KEY") or None


def write_user_setting(dotted: str, value: Any, path: Path | None = None) -> Path:
    """Set one key in the user config file (used by `codeassist model use`). Returns the file."""
    path = path or paths.user_config_file()
    _coerce(dotted, value, "value", from_text=False)
    data = _read_toml(path) if path.is_file() else {}
    section, key = dotted.split(".", 1)
    data.setdefault(section, {})[key] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_dump_toml(data), encoding="utf-8")
    return path


def _dump_toml(data: Mapping[str, Mapping[str, Any]]) -> str:
    lines: list[str] = []
    for section, table in data.items():
        lines.append(f"[{section}]")
        lines.extend(f"{key} = {_toml_value(value)}" for key, value in table.items())
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
