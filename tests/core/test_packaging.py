"""Every package and data directory ships, and `lsp/` ships as `codeassist_lsp` (never a top-level `lsp`)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_is_listed_in_pyproject() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    assert config["package-dir"]["codeassist_lsp"] == "lsp"
    # code packages and data directories (queries, chat templates) alike: setuptools ships only
    # what is listed
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "codeassist").rglob("*")
             if p.is_file() and "__pycache__" not in p.parts}
    found |= {"codeassist_lsp" + "".join("." + part for part in p.parent.relative_to(ROOT / "lsp").parts)
              for p in (ROOT / "lsp").rglob("__init__.py")}
    assert found == listed
    assert "lsp" not in listed


def test_core_imports_no_ui() -> None:
    forbidden = ("pygls", "lsprotocol", "textual", "prompt_toolkit", "codeassist_lsp", "codeassist.tui")
    offenders = []
    for path in (ROOT / "codeassist").rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith(("codeassist/tui/", "codeassist/cli/")):
            continue
        for line in path.read_text().splitlines():
            stripped = line.strip()
            if stripped.startswith(("import ", "from ")) and any(
                stripped.split()[1] == mod or stripped.split()[1].startswith(mod + ".") for mod in forbidden
            ):
                offenders.append(f"{rel}: {stripped}")
    assert offenders == []
