"""codeassist's language server (pygls): inline completions, symbols and code actions.

Imported as ``codeassist_lsp``; run it with ``codeassist lsp``.
"""

from __future__ import annotations

from codeassist_lsp.server import STATUS_METHOD, CodeassistServer, create_server

__all__ = ["STATUS_METHOD", "CodeassistServer", "create_server"]
