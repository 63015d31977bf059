"""The one exception tree of codeassist.

Every error the core raises on purpose is a :class:`CodeassistError`. Lower libraries' errors
(httpx, anthropic, GitPython, sqlite3, tree-sitter, OSError) are mapped into this tree at the
module that owns that boundary, with ``raise ... from exc``. The surfaces (CLI, TUI, LSP) turn
them into messages; nothing below them prints.

Messages are full sentences that say what went wrong *and what to do next*::

    CodeassistError                      exit 1   anything codeassist raises on purpose
    ├── ConfigError                      exit 2   bad config file, key or value
    ├── UsageError                       exit 2   bad command-line input (path, position, option)
    ├── IndexError_                      exit 3   repository index
    │   └── IndexCorruptError                     index.db unreadable (rebuilt automatically)
    ├── ModelServerError                 exit 4   local llama-server
    │   ├── ServerBinaryError                     no llama-server binary / it does not run
    │   ├── ServerStartError                      port in use, bad model file, died at start
    │   ├── ServerUnavailableError                not reachable / not healthy
    │   ├── ServerRequestError                    HTTP error answer (status, body)
    │   │   ├── InfillUnsupportedError            501 from /infill: model has no FIM tokens
    │   │   └── ServerAuthError                   401/403: missing or wrong server.api_key
    │   └── ServerTimeoutError                    request took too long
    ├── ModelError                       exit 5   model files: missing, bad GGUF, pull failed
    ├── CloudError                       exit 6   Claude / Anthropic API
    │   ├── CloudAuthError                        no or bad API key
    │   ├── CloudUnavailableError                 429/529/5xx/timeouts after all retries
    │   ├── CloudResponseError                    malformed / truncated answer
    │   ├── CostLimitError                        estimate above --max-cost
    │   └── PrivacyError                          cloud refused by privacy settings (offline)
    ├── GitError                         exit 7   git repository state / operations
    ├── RefactorError                    exit 8   refactor could not be applied / validated
    │   └── EditError                             one text-editor-tool edit refused (sent back)
    ├── RequestShown                     exit 0   --show-request printed the request; nothing sent
    └── Cancelled                        exit 130 user cancelled (Ctrl-C, declined confirmation)

Exit codes are documented in README.md and ``codeassist --help``.
"""

from __future__ import annotations

__all__ = [
    "Cancelled",
    "CloudAuthError",
    "CloudError",
    "CloudResponseError",
    "CloudUnavailableError",
    "CodeassistError",
    "ConfigError",
    "CostLimitError",
    "EditError",
    "GitError",
    "IndexCorruptError",
    "IndexError_",
    "InfillUnsupportedError",
    "ModelError",
    "ModelServerError",
    "PrivacyError",
    "RefactorError",
    "RequestShown",
    "ServerAuthError",
    "ServerBinaryError",
    "ServerRequestError",
    "ServerStartError",
    "ServerTimeoutError",
    "ServerUnavailableError",
    "UsageError",
]


class CodeassistError(Exception):
    """Base of every error codeassist raises on purpose.

    ``message`` says what happened; ``hint`` (optional) says what to do next.
    """

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n{self.hint}"
        return self.message


class ConfigError(CodeassistError):
    """A config file, key or value is wrong. Names the file, the key and what is allowed."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        source: str | None = None,
        key: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.source = source
        self.key = key


class UsageError(CodeassistError):
    """The user asked for something impossible (missing path, bad position, bad option)."""

    exit_code = 2


class IndexError_(CodeassistError):
    """The repository index could not be built or read."""

    exit_code = 3


class IndexCorruptError(IndexError_):
    """The index database is unreadable or of another schema; it is rebuilt."""


class ModelServerError(CodeassistError):
    """The local model server (llama-server) failed."""

    exit_code = 4


class ServerBinaryError(ModelServerError):
    """No usable llama-server binary."""


class ServerStartError(ModelServerError):
    """llama-server did not start (port in use, bad model, crashed during start-up)."""


class ServerUnavailableError(ModelServerError):
    """llama-server is not reachable or not healthy."""


class ServerRequestError(ModelServerError):
    """llama-server answered a request with an HTTP error."""

    def __init__(self, message: str, *, status: int, body: str = "", hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.body = body


class InfillUnsupportedError(ServerRequestError):
    """``/infill`` answered 501: the model has no FIM tokens (e.g. Gemma)."""


class ServerAuthError(ServerRequestError):
    """The model server refused the request (401/403): ``server.api_key`` is missing or wrong."""


class ServerTimeoutError(ModelServerError):
    """A request to llama-server took longer than its timeout."""


class ModelError(CodeassistError):
    """A model file is missing or invalid, or pulling it failed."""

    exit_code = 5


class CloudError(CodeassistError):
    """Calling Claude (the Anthropic Messages API) failed."""

    exit_code = 6


class CloudAuthError(CloudError):
    """No API key, or the key was refused."""


class CloudUnavailableError(CloudError):
    """The API stayed overloaded / rate limited / unreachable after all retries."""


class CloudResponseError(CloudError):
    """The API answered with something unusable (malformed, truncated)."""


class CostLimitError(CloudError):
    """The estimated cost is above the allowed maximum."""


class PrivacyError(CloudError):
    """A cloud call was refused by the privacy settings."""


class GitError(CodeassistError):
    """A git operation failed or the repository is in an unusable state."""

    exit_code = 7


class RefactorError(CodeassistError):
    """A refactor could not be planned, applied or validated. Nothing was committed."""

    exit_code = 8


class EditError(RefactorError):
    """One edit of the text editor tool was refused; the message goes back to the model."""


class RequestShown(CodeassistError):
    """``--show-request``: the exact redacted request was printed instead of being sent."""

    exit_code = 0


class Cancelled(CodeassistError):
    """The user cancelled."""

    exit_code = 130
