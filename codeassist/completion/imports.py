"""What a file imports, for the completion context: imported names (their definitions become
context) and imported modules as path fragments (to prefer their definitions when a name is
defined in several files).

Python and JavaScript/TypeScript imports are read from the text before the cursor; the other
languages use the import specs the index keeps per file (``RepoIndex.imports``: ``fmt``,
``crate::shapes::Circle``, ``java.util.List``, ``shapes.h``...).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = [
    "KEYWORDS", "TEXT_IMPORT_LANGUAGES", "from_import_specs", "imported_modules", "imported_names",
    "in_modules",
]

TEXT_IMPORT_LANGUAGES = frozenset({"python", "javascript", "typescript", "tsx", "jsx"})
_PY_FROM = re.compile(r"^\s*from\s+[\w.]+\s+import\s+\(?([^)#\n]+)", re.MULTILINE)
_PY_IMPORT = re.compile(r"^\s*import\s+([\w., ]+)", re.MULTILINE)
_JS_IMPORT = re.compile(r"^\s*import\s+(?:type\s+)?(?:(\w+)\s*,?\s*)?(?:\{([^}]*)\})?", re.MULTILINE)
_PY_MODULE = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import|import\s+([\w.]+))", re.MULTILINE)
_JS_MODULE = re.compile(r"""(?:from|require\()\s*['"]([^'"]+)['"]""")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEYWORD_TEXT = """
False None True and as assert async await break class continue def del elif else except finally
for from global if import in is lambda nonlocal not or pass raise return try while with yield
self cls int str float bool bytes list dict set tuple object type len print range isinstance
function const let var new this null undefined true false void typeof instanceof export default
extends implements interface enum public private protected static final package func struct
impl pub fn mut use mod crate match loop where trait string nil error switch case go defer
chan select map make append include define ifdef endif
"""
KEYWORDS = frozenset(_KEYWORD_TEXT.split())
_ROOTS = frozenset({"crate", "self", "super", "std", "core", "alloc"})  # not directories
_SOURCE_SUFFIX = re.compile(r"\.(?:h|hh|hpp|hxx|c|cc|cpp|rb|php|js|ts|go|rs|java|cs)$")


def imported_names(text: str, language: str) -> list[str]:
    """Names a file imports (Python and JavaScript/TypeScript syntax; others: none)."""
    names: list[str] = []
    if language == "python":
        for group in _PY_FROM.findall(text):
            names += [p.split(" as ")[0].strip() for p in group.split(",")]
        for group in _PY_IMPORT.findall(text):
            names += [p.split(" as ")[0].strip().rsplit(".", 1)[-1] for p in group.split(",")]
    elif language in {"javascript", "typescript", "tsx", "jsx"}:
        for default, group in _JS_IMPORT.findall(text):
            names += [default] if default else []
            names += [p.split(" as ")[0].strip() for p in group.split(",")] if group else []
    return [n for n in dict.fromkeys(names) if n and n.isidentifier() and n not in KEYWORDS]


def imported_modules(text: str, language: str) -> tuple[str, ...]:
    """Imported modules as path fragments ("pkg/mod"), for preferring their definitions."""
    if language == "python":
        found = [a or b for a, b in _PY_MODULE.findall(text)]
        keys = [m.lstrip(".").replace(".", "/") for m in found]
    elif language in {"javascript", "typescript", "tsx", "jsx"}:
        keys = [m.lstrip("./").rsplit(".", 1)[0] if m.endswith((".js", ".ts")) else m.lstrip("./")
                for m in _JS_MODULE.findall(text)]
    else:
        return ()
    return tuple(k for k in dict.fromkeys(keys) if k)


def in_modules(path: str, modules: tuple[str, ...]) -> int:
    """How well ``path`` matches the imported modules: the length of the longest module fragment
    it is (or lies under); 0 when it is none of them."""
    stem = path.rsplit(".", 1)[0]
    return max((len(m) for m in modules
                if stem.endswith(m) or stem.endswith(m + "/__init__") or f"{m}/" in stem), default=0)


def from_import_specs(specs: Iterable[str]) -> tuple[tuple[str, ...], list[str]]:
    """(modules as path fragments, imported names) from the index's import specs of a file."""
    modules: list[str] = []
    names: list[str] = []
    for spec in specs:
        head, _, group = spec.partition("{")  # Rust: use a::b::{C, D}
        path = _SOURCE_SUFFIX.sub("", head.replace("\\", "/").replace("::", "/").strip("/<>\"' "))
        if "/" not in path:  # Java, C#, Kotlin: dotted packages
            path = path.replace(".", "/")
        parts = [p for p in path.split("/") if p and p not in (".", "..") and p not in _ROOTS]
        if not parts and not group:
            continue
        names += _IDENT.findall(group) if group else [parts[-1]]
        # the module itself, and, when the last part names an item (`Circle`, `{A, B}`), its module
        item = bool(group) or (bool(parts) and parts[-1][:1].isupper())
        for end in (len(parts), len(parts) - 1) if item else (len(parts),):
            if end > 0:
                modules += ["/".join(parts[max(0, end - 2):end]), parts[end - 1]]
    keep = [n for n in dict.fromkeys(names) if n.isidentifier()]
    return tuple(dict.fromkeys(m for m in modules if m)), keep
