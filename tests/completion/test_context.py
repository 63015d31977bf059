"""Context assembly against a real repository index in a temporary repository (no model needed)."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from codeassist.completion import CompletionEngine, CompletionRequest
from codeassist.config import IndexSettings
from codeassist.index import RepoIndex
from codeassist.runtime import LocalRuntime
from tests.completion.conftest import settings_for, small

GEOMETRY = '''"""Shapes."""

import math


def area_of_circle(radius: float) -> float:
    """The area of a circle."""
    return math.pi * radius ** 2


class Rectangle:
    def __init__(self, width: float, height: float) -> None:
        self.width = width
        self.height = height

    def area(self) -> float:
        return self.width * self.height
'''

MAIN_LINES = [
    "from lib.geometry import Rectangle, area_of_circle",
    "",
    "",
    "def local_helper(x):",
    "    return x + 1",
    "",
    "",
    "def report(r):",
    "    box = Rectangle(2, 3)",
    "    circle = area_of_circle(r)",
    "    total = ",
    "    return total",
    "",
]
MAIN = "\n".join(MAIN_LINES)
NOTES = "\n".join(["def unrelated():", "    pass", ""] * 10
                  + ["def summary(box, circle):", "    total = box.area() + circle", "    return total"])


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "lib").mkdir()
    (root / "lib" / "geometry.py").write_text(GEOMETRY)  # not next to main.py: found through the index
    (root / "main.py").write_text(MAIN)
    (root / "util.py").write_text("\n".join(f"SETTING_{i} = {i}" for i in range(30)) + "\n")
    yield root


@pytest.fixture
async def engine(repo: Path, tmp_path: Path) -> AsyncIterator[CompletionEngine]:
    index = RepoIndex.open(repo, IndexSettings())
    index.update()
    runtime = LocalRuntime(settings_for("http://127.0.0.1:9", tmp_path))  # never contacted here
    try:
        yield CompletionEngine(runtime, index, small(context_tokens=400), root=repo)
    finally:
        index.close()
        await runtime.aclose()


def request(repo: Path, line: int = 10, col: int = 12, **open_docs: str) -> CompletionRequest:
    return CompletionRequest(MAIN, line, col, str(repo / "main.py"), "python",
                             {str(repo / name): text for name, text in open_docs.items()})


def test_definitions_of_nearby_and_imported_names(engine: CompletionEngine, repo: Path) -> None:
    chunks = engine.context_for(request(repo))
    texts = "\n".join(c.text for c in chunks)
    assert all(c.kind == "definition" for c in chunks)
    assert "def area_of_circle(radius: float) -> float:" in texts
    assert "class Rectangle:" in texts
    assert {c.path for c in chunks} == {"lib/geometry.py"}


def test_window_content_is_not_repeated(engine: CompletionEngine, repo: Path) -> None:
    # local_helper is defined inside the cursor window: it must not come back as context
    text = MAIN.replace("    total = ", "    total = local_helper(1) + ")
    req = CompletionRequest(text, 10, 30, str(repo / "main.py"), "python", {})
    chunks = engine.context_for(req)
    assert not any("def local_helper" in c.text for c in chunks)


def test_open_document_chunks_ranked_by_similarity(engine: CompletionEngine, repo: Path) -> None:
    chunks = engine.context_for(request(repo, **{"notes.py": NOTES}))
    opened = [c for c in chunks if c.kind == "open"]
    assert opened, chunks
    assert "def summary(box, circle):" in opened[0].text
    # stable order: definitions first, then similar code and open files, then edits
    kinds = [c.kind for c in chunks]
    assert kinds == sorted(kinds, key={"definition": 0, "similar": 1, "open": 1, "edit": 2}.__getitem__)


def test_similar_code_from_this_file_and_the_files_next_to_it(engine: CompletionEngine, repo: Path) -> None:
    earlier = ["def summary_of(box, circle):", "    total = box.area() + circle", "    return total", ""]
    filler = [f"CONSTANT_{i} = {i}" for i in range(200)]  # pushes summary_of out of the cursor window
    text = "\n".join(earlier + filler + MAIN_LINES)
    line = len(earlier) + len(filler) + 10
    (repo / "reports.py").write_text("def weekly(box, circle):\n    total = box.area() * 7 + circle\n")
    chunks = engine.context_for(CompletionRequest(text, line, 12, str(repo / "main.py"), "python", {}))
    similar = {c.path: c for c in chunks if c.kind == "similar"}
    assert "def summary_of(box, circle):" in similar["main.py"].text  # this file, outside the window
    assert similar["main.py"].end_line <= len(earlier) + len(filler)
    assert "def weekly(box, circle):" in similar["reports.py"].text  # a sibling file
    assert all("box" in c.text for c in similar.values())  # the filler is never picked for itself


def test_recent_edits_become_context(engine: CompletionEngine, repo: Path) -> None:
    engine.note_edit(str(repo / "util.py"), 12)
    engine.note_edit(str(repo / "lib" / "geometry.py"), 16)
    chunks = engine.context_for(request(repo))
    edits = [c for c in chunks if c.kind == "edit"]
    assert [(c.path, c.start_line, c.end_line) for c in edits] == [("util.py", 7, 18)]
    assert "SETTING_12 = 12" in edits[0].text
    # the geometry edit overlaps the Rectangle definition already picked: its lines come once
    joined = "\n".join(c.text for c in chunks)
    assert joined.count("return self.width * self.height") == 1


def test_budget_is_respected(repo: Path, tmp_path: Path) -> None:
    index = RepoIndex.open(repo, IndexSettings())
    index.update()
    runtime = LocalRuntime(settings_for("http://127.0.0.1:9", tmp_path))
    try:
        tiny = CompletionEngine(runtime, index, small(context_tokens=40), root=repo)
        none = CompletionEngine(runtime, index, small(context_tokens=0), root=repo)
        picked = tiny.context_for(request(repo))
        assert sum(len(c.text) for c in picked) < 40 * 4
        assert none.context_for(request(repo)) == []
    finally:
        index.close()


def test_imported_names_of_other_languages_come_from_the_index(repo: Path, tmp_path: Path) -> None:
    for folder, body in (("geo", "pub struct Circle {\n    pub radius: f64,\n}\n"),
                         ("old", "pub struct Circle {\n    pub r: f32,\n}\n")):  # the same name twice
        (repo / "src" / folder).mkdir(parents=True)
        (repo / "src" / folder / "shapes.rs").write_text(body)
    filler = "\n".join(f"const C{i}: i32 = {i};" for i in range(200))
    main = f"use crate::geo::shapes::Circle;\n\n{filler}\n\nfn area() -> f64 {{\n    let r = \n}}\n"
    (repo / "src" / "main.rs").write_text(main)
    index = RepoIndex.open(repo, IndexSettings())
    index.update()
    runtime = LocalRuntime(settings_for("http://127.0.0.1:9", tmp_path))
    try:
        engine = CompletionEngine(runtime, index, small(context_tokens=400), root=repo)
        line = main.split("\n").index("    let r = ")
        req = CompletionRequest(main, line, 12, str(repo / "src" / "main.rs"), "rust", {})
        defs = [c for c in engine.context_for(req) if c.kind == "definition"]
        # `use crate::geo::shapes::Circle` is far above the cursor window: the index's imports bring
        # it, and of the two `Circle`s the one of the imported module; nothing from Python files
        assert [(c.path, c.start_line) for c in defs] == [("src/geo/shapes.rs", 0)]
    finally:
        index.close()


def test_members_and_comments_bring_only_definitions_that_fit(repo: Path, tmp_path: Path) -> None:
    files = {
        "store/cache.py": "CACHE = {}\n\n\ndef lookup(key):\n    return CACHE[key]\n",
        "other/registry.py": "class Registry:\n    def lookup(self, key):\n        return self.items[key]\n",
        "pages.py": "def render_page(view):\n    return f'<p>{view}</p>'\n",
        "forms.py": "def clean_form(data):\n    return {k: v.strip() for k, v in data.items()}\n",
        "web/forms.py": "def clean_form(data):\n    return data\n",  # elsewhere, not imported
    }
    for rel, body in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(body)
    main = "\n".join([
        "from store import cache",
        "",
        "",
        "def handler(reg, key, data):",
        "    # the page is drawn by render_page",
        "    found = reg.lookup(key)",
        "    hit = cache.lookup(key)",
        "    fields = clean_form(data)",
        "    value = ",
        "",
    ])
    (repo / "main.py").write_text(main)
    index = RepoIndex.open(repo, IndexSettings())
    index.update()
    runtime = LocalRuntime(settings_for("http://127.0.0.1:9", tmp_path))
    try:
        engine = CompletionEngine(runtime, index, small(context_tokens=400), root=repo)
        req = CompletionRequest(main, 8, 12, str(repo / "main.py"), "python", {})
        chunks = engine.context_for(req)
        paths = {c.path for c in chunks}
        # `cache.lookup`: the module its receiver names; `clean_form`: a name in the code, defined
        # next to this file (its chunk may come as similar code: the file is a sibling); not
        # `reg.lookup` in some other class, not the `clean_form` of a folder this file does not
        # import, nor `render_page` named only in a comment
        cache = [c.text for c in chunks if c.path == "store/cache.py"]
        assert cache == ["def lookup(key):\n    return CACHE[key]"]
        assert "forms.py" in paths, chunks
        assert not paths & {"other/registry.py", "web/forms.py", "pages.py"}, chunks
    finally:
        index.close()
