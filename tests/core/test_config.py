"""Config precedence, sources and errors, through the real loader and real files."""

from __future__ import annotations

from pathlib import Path

import pytest

from codeassist import config as cfg
from codeassist.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    return root


def test_defaults_when_nothing_is_configured(repo: Path, tmp_path: Path) -> None:
    s = cfg.load_settings(repo, env={}, user_config=tmp_path / "none.toml")
    assert s.server.port == 8012
    assert s.index.max_file_size == 1_000_000
    assert s.repo_root == repo.resolve()
    assert set(s.sources.values()) == {"default"}


def test_precedence_defaults_user_repo_env_flags(repo: Path, tmp_path: Path) -> None:
    user = write(tmp_path / "user.toml", "[server]\nport = 9001\nctx_size = 2048\nparallel = 3\n"
                                         "[completion]\ndebounce_ms = 90\n")
    write(repo / ".codeassist.toml", "[server]\nport = 9002\nctx_size = 4096\n")
    env = {"CODEASSIST_SERVER_PORT": "9003"}
    s = cfg.load_settings(repo, env=env, user_config=user, overrides={"server.port": 9004})
    assert s.server.port == 9004
    assert s.sources["server.port"] == "command line"
    assert s.server.ctx_size == 4096
    assert s.sources["server.ctx_size"] == str(repo / ".codeassist.toml")
    assert s.server.parallel == 3
    assert s.sources["server.parallel"] == str(user)
    assert s.completion.debounce_ms == 90
    s2 = cfg.load_settings(repo, env=env, user_config=user)
    assert s2.server.port == 9003
    assert s2.sources["server.port"] == "env CODEASSIST_SERVER_PORT"


def test_settings_found_from_a_subdirectory(repo: Path, tmp_path: Path) -> None:
    write(repo / ".codeassist.toml", "[index]\nmax_file_size = 10\n")
    sub = repo / "a" / "b"
    sub.mkdir(parents=True)
    s = cfg.load_settings(sub, env={}, user_config=tmp_path / "none.toml")
    assert s.index.max_file_size == 10
    assert s.repo_root == repo.resolve()


def test_env_values_are_parsed_by_type(repo: Path, tmp_path: Path) -> None:
    env = {"CODEASSIST_PRIVACY_CLOUD": "off", "CODEASSIST_CLAUDE_MAX_COST": "0.5",
           "CODEASSIST_INDEX_EXTRA_IGNORE": "build/, *.min.js", "CODEASSIST_GPU": "cuda",
           "CODEASSIST_UNRELATED": "x"}
    s = cfg.load_settings(repo, env=env, user_config=tmp_path / "none.toml")
    assert s.privacy.cloud is False
    assert s.claude.max_cost == 0.5
    assert s.index.extra_ignore == ["build/", "*.min.js"]
    assert s.server.backend == "cuda"
    assert s.sources["server.backend"] == "env CODEASSIST_GPU"


def test_offline_alias_turns_cloud_off(repo: Path, tmp_path: Path) -> None:
    s = cfg.load_settings(repo, env={"CODEASSIST_OFFLINE": "1"}, user_config=tmp_path / "none.toml")
    assert s.privacy.cloud is False


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ("[server]\nport = 'eighty'\n", "server.port", "an integer"),
        ("[server]\nbackend = 'opencl'\n", "server.backend", "auto, cpu, cuda, vulkan, metal"),
        ("[server]\nprot = 1\n", "server.prot", "Keys of [server]"),
        ("[srever]\nport = 1\n", "srever", "Known sections"),
        ("[privacy]\ncloud = 'maybe'\n", "privacy.cloud", "true or false"),
        ("[index]\nextra_ignore = 'x'\n", "index.extra_ignore", "a list of strings"),
    ],
)
def test_bad_file_values_name_file_key_and_allowed(
    repo: Path, tmp_path: Path, text: str, key: str, words: str
) -> None:
    path = write(repo / ".codeassist.toml", text)
    with pytest.raises(ConfigError) as info:
        cfg.load_settings(repo, env={}, user_config=tmp_path / "none.toml")
    message = str(info.value)
    assert str(path) in message
    assert key in message
    assert words in message
    assert info.value.key == key


def test_invalid_toml_is_a_config_error(repo: Path, tmp_path: Path) -> None:
    path = write(tmp_path / "user.toml", "[server\nport=1")
    with pytest.raises(ConfigError, match="not valid TOML") as info:
        cfg.load_settings(repo, env={}, user_config=path)
    assert info.value.source == str(path)


def test_bad_env_value_names_the_variable(repo: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="env CODEASSIST_SERVER_PORT") as info:
        cfg.load_settings(repo, env={"CODEASSIST_SERVER_PORT": "x"}, user_config=tmp_path / "n.toml")
    assert "an integer" in str(info.value)


def test_write_user_setting_round_trips(repo: Path, tmp_path: Path) -> None:
    user = tmp_path / "cfg" / "config.toml"
    cfg.write_user_setting("model.name", "gemma-4-e2b", path=user)
    cfg.write_user_setting("server.extra_args", ["--mlock"], path=user)
    s = cfg.load_settings(repo, env={}, user_config=user)
    assert s.model.name == "gemma-4-e2b"
    assert s.server.extra_args == ["--mlock"]
    with pytest.raises(ConfigError):
        cfg.write_user_setting("server.port", "not-a-number", path=user)


def test_api_key_only_from_environment() -> None:
    assert cfg.anthropic_api_key({"ANTHROPIC_API_KEY": "sk-ant-x"}) == "sk-ant-x"
    assert cfg.anthropic_api_key({}) is None
    assert not [k for k in cfg.all_keys() if k.startswith("claude.") and "key" in k]  # never a setting
