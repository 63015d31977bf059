"""codeassist: a hybrid coding assistant.

Local completions from Gemma on llama.cpp's ``llama-server``; multi-file refactors planned by
Claude and landed on a new git branch. This package is the UI-free core plus the CLI; the TUI
lives in :mod:`codeassist.tui` and the LSP server in :mod:`codeassist_lsp`, and no core module
imports either.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("codeassist")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+src"

__all__ = ["__version__"]
