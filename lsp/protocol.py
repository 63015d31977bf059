"""pygls's LSP protocol, answering requests whose params do not parse.

pygls logs a request with malformed params and drops it, so the client would wait forever. Here
such a request gets an ``InvalidParams`` error answer naming what was wrong, and the server goes on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cattrs
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.protocol import LanguageServerProtocol

__all__ = ["CodeassistProtocol"]


@dataclass(frozen=True)
class _Unparsable:
    id: int | str
    method: str
    detail: str


class CodeassistProtocol(LanguageServerProtocol):
    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcInvalidParams as exc:
            if "id" in data and "method" in data and isinstance(data["id"], int | str):
                return _Unparsable(data["id"], str(data["method"]), _describe(exc.__cause__))
            raise

    def handle_message(self, message: Any) -> None:
        if isinstance(message, _Unparsable):
            error = types.ResponseError(
                code=JsonRpcInvalidParams.CODE,
                message=f"Invalid params for {message.method}: {message.detail}.")
            self._send_response(message.id, error=error)
            return
        super().handle_message(message)


def _describe(cause: BaseException | None) -> str:
    if isinstance(cause, cattrs.ClassValidationError):
        return "; ".join(cattrs.transform_error(cause, path="params"))
    return str(cause) if cause else "they do not match the method's parameters"
