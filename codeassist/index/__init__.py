"""The repository index: tree-sitter definitions/references in SQLite, and a ranked repo map.

See ``docs/index.md``. Public API::

    idx = RepoIndex.open(root, settings.index)
    summary = idx.update(progress)          # ScanSummary
    idx.update_file(path, text)
    idx.symbols(query) / definitions(name) / references(name) / outline(path) / imports(path)
    idx.repo_map(tokens, focus_files, focus_idents)   # RepoMap(.text, .files, .tokens)
    idx.close()
"""

from __future__ import annotations

from codeassist.index.index import RepoIndex
from codeassist.index.languages import LANGUAGES, language_for_path
from codeassist.index.models import Reference, RepoMap, ScanSummary, Skipped, Symbol
from codeassist.index.repomap import estimate_tokens
from codeassist.index.scan import SKIP_REASONS

__all__ = [
    "LANGUAGES",
    "SKIP_REASONS",
    "Reference",
    "RepoIndex",
    "RepoMap",
    "ScanSummary",
    "Skipped",
    "Symbol",
    "estimate_tokens",
    "language_for_path",
]
