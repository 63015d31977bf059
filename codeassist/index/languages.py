"""Which language a file is in, decided by its name alone (cheap: no file is read)."""

from __future__ import annotations

from pathlib import PurePath

__all__ = ["LANGUAGES", "language_for_path"]

_BY_SUFFIX: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".pyw": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".c++": "cpp",
    ".hh": "cpp",
    ".hpp": "cpp",
    ".hxx": "cpp",
    ".h++": "cpp",
    ".ipp": "cpp",
    ".rb": "ruby",
    ".rake": "ruby",
    ".gemspec": "ruby",
    ".cs": "csharp",
    ".php": "php",
    ".sh": "bash",
    ".bash": "bash",
}
_BY_NAME: dict[str, str] = {
    "Rakefile": "ruby",
    "Gemfile": "ruby",
    ".bashrc": "bash",
    ".bash_profile": "bash",
}

LANGUAGES: tuple[str, ...] = tuple(sorted(set(_BY_SUFFIX.values())))


def language_for_path(path: str | PurePath) -> str | None:
    """The index language of ``path`` ("python", "tsx", ...), or None when it is not indexed."""
    name = path.rpartition("/")[2] if isinstance(path, str) else path.name
    by_name = _BY_NAME.get(name)
    if by_name is not None:
        return by_name
    dot = name.rfind(".")
    if dot < 0:
        return None
    return _BY_SUFFIX.get(name[dot:].lower())
