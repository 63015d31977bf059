"""Definitions, references and imports per language, through the index on a real git repo."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from codeassist.index import RepoIndex, Symbol, language_for_path

# path -> (definitions expected as (name, kind, scope), references expected, imports expected)
EXPECTED: dict[str, tuple[set[tuple[str, str, str]], set[str], list[str]]] = {
    "app/models.py": (
        {
            ("Base", "class", ""),
            ("save", "method", "Base"),
            ("User", "class", ""),
            ("__init__", "method", "User"),
            ("greet", "method", "User"),
            ("format_greeting", "function", ""),
        },
        {"slugify", "format_greeting", "Base", "Clock"},
        ["app.util"],
    ),
    "web/client.js": (
        {("Client", "class", ""), ("fetchUser", "method", "Client"), ("start", "function", "")},
        {"fetchUser", "Client", "render", "get"},
        ["./view.js", "./api"],
    ),
    "web/view.ts": ({("View", "interface", ""), ("render", "function", "")}, {"Client"}, ["./client"]),
    "web/widget.tsx": ({("Widget", "function", "")}, set(), []),
    "svc/main.go": (
        {("Server", "type", ""), ("Start", "method", ""), ("main", "function", "")},
        {"Println", "Start", "Server"},
        ["fmt"],
    ),
    "core/lib.rs": (
        {("Cache", "class", ""), ("lookup", "method", "Cache"), ("build", "function", "")},
        {"get", "Cache"},
        ["std::collections::HashMap"],
    ),
    "java/App.java": (
        {("App", "class", ""), ("run", "method", "App"), ("helper", "method", "App")},
        {"helper"},
        ["java.util.List"],
    ),
    "native/math.c": ({("add", "function", ""), ("main", "function", "")}, {"add", "printf"}, ["stdio.h"]),
    "native/shape.cpp": (
        {("Shape", "class", ""), ("area", "method", "Shape"), ("total", "function", "")},
        {"area", "Shape"},
        ["shape.hpp"],
    ),
    "ruby/greeter.rb": (
        {("Greeter", "class", ""), ("hello", "method", "Greeter")},
        {"format_name"},
        ["json"],
    ),
    "cs/Program.cs": (
        {
            ("Demo", "module", ""),
            ("Program", "class", "Demo"),
            ("Main", "method", "Demo.Program"),
            ("Compute", "method", "Demo.Program"),
        },
        {"WriteLine", "Compute"},
        ["System"],
    ),
    "php/Repo.php": (
        {
            ("App", "module", ""),
            ("Repo", "class", ""),
            ("find", "method", "Repo"),
            ("helper", "function", ""),
        },
        {"helper"},
        ["Foo\\Bar"],
    ),
    "scripts/deploy.sh": ({("deploy", "function", "")}, {"build_all", "deploy"}, ["./env.sh"]),
}


@pytest.fixture
def indexed(poly_repo: Path, open_index: Callable[..., RepoIndex]) -> RepoIndex:
    index = open_index(poly_repo)
    index.update()
    return index


@pytest.mark.parametrize("path", sorted(EXPECTED))
def test_definitions_references_imports(indexed: RepoIndex, path: str) -> None:
    defs, refs, imports = EXPECTED[path]
    outline = indexed.outline(path)
    assert {(s.name, s.kind, s.scope) for s in outline} >= defs
    assert all(isinstance(s, Symbol) and s.path == path for s in outline)
    referenced = {r.name for name in refs for r in indexed.references(name) if r.path == path}
    assert referenced == refs
    assert indexed.imports(path) == imports


def test_every_language_of_the_issue_is_covered() -> None:
    languages = {language_for_path(path) for path in EXPECTED}
    assert languages >= {
        "python",
        "javascript",
        "typescript",
        "tsx",
        "go",
        "rust",
        "java",
        "c",
        "cpp",
        "ruby",
        "csharp",
        "php",
        "bash",
    }


def test_positions_are_zero_based_str_columns(tmp_path: Path, open_index: Callable[..., RepoIndex]) -> None:
    (tmp_path / "u.py").write_text(
        's = "héllo wörld"; t = 1\ndef größe(x):\n    return größe(x)\n', encoding="utf-8"
    )
    index = open_index(tmp_path)
    index.update()
    [sym] = index.definitions("größe")
    assert (sym.line, sym.col, sym.end_line) == (1, 4, 2)
    assert sym.signature == "def größe(x):"
    [ref] = index.references("größe")
    assert (ref.line, ref.col) == (2, 11)  # "    return " is 11 characters
    line = (tmp_path / "u.py").read_text(encoding="utf-8").splitlines()[ref.line]
    assert line[ref.col :].startswith("größe")


def test_signatures_are_headers_only(indexed: RepoIndex) -> None:
    [greet] = indexed.definitions("greet")
    assert greet.signature == 'def greet(self, other: "User") -> str:'
    assert (greet.line, greet.end_line) == (15, 16)
    [lookup] = indexed.definitions("lookup")
    assert lookup.signature == "pub fn lookup(&self, key: &str) -> Option<i32>"
    [add] = indexed.definitions("add")
    assert add.signature == "int add(int a, int b)"


def test_language_for_path() -> None:
    assert language_for_path("a/b/c.py") == "python"
    assert language_for_path(Path("x.TSX")) == "tsx"
    assert language_for_path("include/x.hpp") == "cpp"
    assert language_for_path("Rakefile") == "ruby"
    assert language_for_path("README.md") is None
    assert language_for_path("Makefile") is None
