"""The application layer: the one place that builds the core's object graph from settings.

The CLI, the Textual chat, the plain REPL and the language server get the runtime, the completion
engine, the index, the Claude client, the ledger, the privacy guard and the refactor runner from an
:class:`Application` and contain no wiring of their own. See docs/architecture.md.
"""

from codeassist.app.application import (
    Application,
    IndexProgress,
    Problem,
    index_problem,
    index_update_problem,
    tiny_model_notice,
)

__all__ = ["Application", "IndexProgress", "Problem", "index_problem", "index_update_problem",
           "tiny_model_notice"]
