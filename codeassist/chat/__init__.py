"""The chat core (UI-free): routing between the local model and Claude, context, streaming, history,
and the slash commands (parsed and run here; the surfaces render their effects).

::

    session = app.chat_session()              # codeassist.app.Application
    decision = session.route(text)            # .route in {"local", "claude"}, .reason
    async for event in session.answer(text):  # Routed, Notice*, Token*, Done(stats)
        ...
    for effect in run_command(session, parse_command("/map")):   # ShowText, ShowCode, Confirm...
        ...
"""

from codeassist.chat.code import last_code_block
from codeassist.chat.commands import COMMANDS, Command, CommandSpec, command_names, parse_command
from codeassist.chat.effects import (
    Answer,
    ClearConversation,
    Confirm,
    CopyCode,
    Effect,
    OpenRefactor,
    Quit,
    RouteChanged,
    ShowCode,
    ShowHelp,
    ShowTable,
    ShowText,
    WriteSnippet,
    run_command,
)
from codeassist.chat.events import AnswerStats, ChatEvent, Done, Notice, Route, Routed, RouteDecision, Token
from codeassist.chat.history import History, StoredMessage
from codeassist.chat.line_completion import complete_line, complete_path
from codeassist.chat.session import ChatSession, SessionTotals

__all__ = [
    "COMMANDS",
    "Answer",
    "AnswerStats",
    "ChatEvent",
    "ChatSession",
    "ClearConversation",
    "Command",
    "CommandSpec",
    "Confirm",
    "CopyCode",
    "Done",
    "Effect",
    "History",
    "Notice",
    "OpenRefactor",
    "Quit",
    "Route",
    "RouteChanged",
    "RouteDecision",
    "Routed",
    "SessionTotals",
    "ShowCode",
    "ShowHelp",
    "ShowTable",
    "ShowText",
    "StoredMessage",
    "Token",
    "WriteSnippet",
    "command_names",
    "complete_line",
    "complete_path",
    "last_code_block",
    "parse_command",
    "run_command",
]
