"""Where codeassist keeps its files (XDG base directories; ``XDG_*`` variables are honoured).

- config: ``~/.config/codeassist/config.toml``
- state:  ``~/.local/state/codeassist/`` (managed llama-server pid/port/log)
- data:   ``~/.local/share/codeassist/`` (cost ledger, chat history)
- cache:  ``~/.cache/codeassist/`` (built llama-server binaries, pulled models)
- per repository: ``<repo>/.codeassist/`` (index.db), ignored by git through ``.git/info/exclude``
"""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP = "codeassist"
REPO_DIR_NAME = ".codeassist"
REPO_CONFIG_NAME = ".codeassist.toml"


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP, appauthor=False))


def user_config_file() -> Path:
    return config_dir() / "config.toml"


def state_dir() -> Path:
    return Path(platformdirs.user_state_dir(APP, appauthor=False))


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP, appauthor=False))


def cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir(APP, appauthor=False))


def find_repo_root(start: Path) -> Path:
    """The nearest directory at or above ``start`` holding ``.git`` or ``.codeassist.toml``.

    Falls back to ``start`` itself (a plain directory works too).
    """
    start = start.resolve()
    here = start if start.is_dir() else start.parent
    for candidate in (here, *here.parents):
        if (candidate / ".git").exists() or (candidate / REPO_CONFIG_NAME).is_file():
            return candidate
    return here
