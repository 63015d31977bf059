"""The chat core (UI-free): routing between the local model and Claude, context, streaming, history.

::

    session = ChatSession(settings, runtime, index, claude)
    decision = session.route(text)            # .route in {"local", "claude"}, .reason
    async for event in session.answer(text):  # Routed, Notice*, Token*, Done(stats)
        ...
"""

from codeassist.chat.commands import COMMANDS, Command, parse_command
from codeassist.chat.events import AnswerStats, ChatEvent, Done, Notice, Routed, RouteDecision, Token
from codeassist.chat.session import ChatSession, SessionTotals

__all__ = [
    "COMMANDS",
    "AnswerStats",
    "ChatEvent",
    "ChatSession",
    "Command",
    "Done",
    "Notice",
    "RouteDecision",
    "Routed",
    "SessionTotals",
    "Token",
    "parse_command",
]
