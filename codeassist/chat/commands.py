"""Slash commands: the table the surfaces show in help and complete from, and the parser."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from codeassist.errors import UsageError

__all__ = ["COMMANDS", "Command", "CommandSpec", "command_names", "parse_command"]


@dataclass(frozen=True)
class CommandSpec:
    name: str
    usage: str
    help: str
    arg: str = "none"  # "none", "optional", "required", "path"


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("help", "/help", "Show keys and commands."),
    CommandSpec("local", "/local [QUESTION]", "Answer with the local model (alone: from now on).",
                "optional"),
    CommandSpec("claude", "/claude [QUESTION]", "Answer with Claude (alone: from now on).", "optional"),
    CommandSpec("auto", "/auto", "Route automatically again (local for quick work, Claude for big work)."),
    CommandSpec("add", "/add PATH", "Put a file into the context of the next answers.", "path"),
    CommandSpec("drop", "/drop [PATH]", "Take a file out of the context (alone: all files).", "path"),
    CommandSpec("map", "/map", "Show the repository map attached to the answers."),
    CommandSpec("symbols", "/symbols QUERY", "Find symbols of the repository by name or prefix.", "required"),
    CommandSpec("snippet", "/snippet INSTRUCTION", "Write a snippet with the local model.", "required"),
    CommandSpec("apply", "/apply PATH", "Write the last snippet or code block to PATH (asks first).", "path"),
    CommandSpec("copy", "/copy", "Copy the last code block to the clipboard."),
    CommandSpec("refactor", "/refactor INSTRUCTION", "Plan a multi-file refactor with Claude and review it.",
                "required"),
    CommandSpec("think", "/think on|off", "Switch the local model's thinking mode (Gemma 4).", "required"),
    CommandSpec("cost", "/cost", "Show the tokens and dollars spent on Claude."),
    CommandSpec("model", "/model", "Show the models, the route mode and the model server."),
    CommandSpec("clear", "/clear", "Start a new conversation (the old one stays in the history)."),
    CommandSpec("quit", "/quit", "Leave the chat."),
)

_BY_NAME = {spec.name: spec for spec in COMMANDS}
_ALIASES = {"exit": "quit", "q": "quit", "?": "help", "h": "help"}


@dataclass(frozen=True)
class Command:
    name: str
    arg: str = ""


def command_names() -> list[str]:
    return [f"/{spec.name}" for spec in COMMANDS]


def parse_command(text: str) -> Command | None:
    """``/name args`` -> :class:`Command`; plain text -> ``None``; a bad command -> UsageError."""
    stripped = text.strip()
    if not stripped.startswith("/") or stripped.startswith("//"):
        return None
    head, _, rest = stripped[1:].partition(" ")
    name = _ALIASES.get(head.lower(), head.lower())
    arg = rest.strip()
    spec = _BY_NAME.get(name)
    if spec is None:
        close = difflib.get_close_matches(name, list(_BY_NAME), n=1)
        hint = f"Did you mean /{close[0]}? " if close else ""
        raise UsageError(f"Unknown command /{head}.", hint=f"{hint}Type /help for the list of commands.")
    if spec.arg == "none" and arg:
        raise UsageError(f"/{name} takes no argument.", hint=f"Usage: {spec.usage}")
    if spec.arg == "required" and not arg:
        raise UsageError(f"/{name} needs an argument.", hint=f"Usage: {spec.usage}")
    if name in {"add", "apply"} and not arg:
        raise UsageError(f"/{name} needs a file path.", hint=f"Usage: {spec.usage}")
    if name == "think" and arg.lower() not in {"on", "off"}:
        raise UsageError("/think takes `on` or `off`.", hint="Usage: /think on|off")
    return Command(name, arg)
