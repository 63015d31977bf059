from __future__ import annotations

import pytest

from codeassist.chat.commands import COMMANDS, Command, command_names, parse_command
from codeassist.errors import UsageError


def test_plain_text_is_not_a_command() -> None:
    assert parse_command("how does the index work?") is None
    assert parse_command("//etc/hosts is a path, not a command") is None


@pytest.mark.parametrize(("text", "expected"), [
    ("/help", Command("help")),
    ("  /ADD src/app.py ", Command("add", "src/app.py")),
    ("/claude why is this slow?", Command("claude", "why is this slow?")),
    ("/local", Command("local")),
    ("/think on", Command("think", "on")),
    ("/q", Command("quit")),
    ("/drop", Command("drop")),
])
def test_commands_parse(text: str, expected: Command) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("/hepl", "Did you mean /help?"),
    ("/symbols", "needs an argument"),
    ("/think maybe", "on` or `off"),
    ("/add", "needs a file path"),
    ("/clear everything", "takes no argument"),
])
def test_bad_commands_say_what_to_do(text: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_command(text)
    assert message in str(info.value)


def test_every_command_is_listed_once() -> None:
    names = command_names()
    assert len(names) == len(set(names)) == len(COMMANDS)
    assert {"/snippet", "/apply", "/refactor", "/cost", "/model", "/clear", "/help", "/quit",
            "/think", "/add", "/drop", "/map", "/symbols", "/local", "/claude"} <= set(names)
