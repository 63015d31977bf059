"""What each slash command does in the Textual app (the parsing lives in ``codeassist.chat``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from textual.containers import VerticalScroll
from textual.widgets import Markdown

from codeassist.chat.code import preview_write, write_code
from codeassist.chat.commands import Command
from codeassist.errors import UsageError
from codeassist.tui.screens import ConfirmScreen, HelpScreen

if TYPE_CHECKING:
    from codeassist.tui.app import ChatApp

__all__ = ["Command", "run"]

Handler = Callable[["ChatApp", str], Awaitable[None]]


async def run(app: ChatApp, command: Command) -> None:
    await _HANDLERS[command.name](app, command.arg)


async def _show_markdown(app: ChatApp, text: str) -> None:
    await app.query_one("#conversation", VerticalScroll).mount(Markdown(text, classes="system"))


async def _help(app: ChatApp, arg: str) -> None:
    app.push_screen(HelpScreen())


async def _route(app: ChatApp, name: str, arg: str) -> None:
    if arg:
        app.ask(arg, force="local" if name == "local" else "claude")
        return
    app.session.mode = name
    app.status.route = name
    await app.say(f"Route: {name} from now on (/auto goes back to automatic routing).", "system")


async def _local(app: ChatApp, arg: str) -> None:
    await _route(app, "local", arg)


async def _claude(app: ChatApp, arg: str) -> None:
    await _route(app, "claude", arg)


async def _auto(app: ChatApp, arg: str) -> None:
    await _route(app, "auto", "")


async def _add(app: ChatApp, arg: str) -> None:
    rel = app.session.context.add(arg)
    await app.say(f"Added {rel} to the context ({len(app.session.context.files)} file(s)).", "system")


async def _drop(app: ChatApp, arg: str) -> None:
    dropped = app.session.context.drop(arg)
    await app.say(f"Dropped {', '.join(dropped) or 'nothing'} from the context.", "system")


async def _map(app: ChatApp, arg: str) -> None:
    text = app.session.context.repo_map(app.session.settings.index.map_tokens)
    if not text.strip():
        await app.say("The repository map is empty (no index yet, or no supported source files).", "system")
        return
    await _show_markdown(app, f"Repository map ({app.session.settings.index.map_tokens} tokens):\n\n```\n"
                              f"{text.rstrip()}\n```")


async def _symbols(app: ChatApp, arg: str) -> None:
    found = app.session.context.symbols(arg)
    if not found:
        await app.say(f"No symbol matches {arg!r}.", "system")
        return
    rows = ["| symbol | kind | where |", "|---|---|---|"]
    rows += [f"| `{s.name}` | {s.kind} | {s.path}:{s.line + 1} |" for s in found]
    await _show_markdown(app, "\n".join(rows))


async def _snippet(app: ChatApp, arg: str) -> None:
    app.snippet(arg)


async def _apply(app: ChatApp, arg: str) -> None:
    code = app.session.last_snippet or app.session.last_code_block()
    if code is None:
        raise UsageError("There is no snippet or code block to apply yet.",
                         hint="Ask for one first, e.g. /snippet a function that parses ISO dates.")
    rel, full = app.session.context.resolve(arg)
    diff = preview_write(full, code)
    verb = "Overwrite" if full.exists() else "Create"

    def done(yes: bool | None) -> None:
        if yes:
            try:
                write_code(full, code)
            except UsageError as exc:
                app.notify(str(exc), severity="error")
                return
            app.notify(f"Wrote {rel}.")
            app.call_later(app.say, f"Wrote {len(code.splitlines())} lines to {rel}.", "system")
        else:
            app.call_later(app.say, f"Not written: {rel} is unchanged.", "system")

    app.push_screen(ConfirmScreen(f"{verb} {rel} with this change?", diff or "(no change)", "diff"), done)


async def _copy(app: ChatApp, arg: str) -> None:
    code = app.session.last_snippet or app.session.last_code_block()
    if code is None:
        raise UsageError("There is no code block to copy yet.")
    app.copy_to_clipboard(code)
    app.notify(f"Copied {len(code.splitlines())} lines to the clipboard.")


async def _refactor(app: ChatApp, arg: str) -> None:
    app.refactor(arg)


async def _think(app: ChatApp, arg: str) -> None:
    app.session.think = arg.lower() == "on"
    state = "on: deeper reasoning, slower" if app.session.think else "off: fast replies"
    await app.say(f"Thinking for local answers is {state}.", "system")


async def _cost(app: ChatApp, arg: str) -> None:
    t = app.session.totals
    await app.say(
        f"This session: {t.claude_calls} Claude answer(s), {t.local_calls} local answer(s), "
        f"{t.prompt_tokens:,} prompt + {t.completion_tokens:,} answer tokens, ${t.cost_usd:.4f} on Claude "
        "(local answers are free). `codeassist cost` summarises every day.", "system")


async def _model(app: ChatApp, arg: str) -> None:
    s = app.session
    claude = s.claude_model if s.claude_ready else "not set up (no ANTHROPIC_API_KEY)"
    if not s.cloud_allowed:
        claude = "off (offline mode)"
    await app.say(
        f"Local: {s.local_model} (server {app.status.server}, thinking {'on' if s.think else 'off'}). "
        f"Claude: {claude}. Route: {s.mode}.", "system")


async def _clear(app: ChatApp, arg: str) -> None:
    app.session.clear()
    await app.query_one("#conversation", VerticalScroll).remove_children()
    await app.say("New conversation (the previous one stays in the history: `codeassist chat --resume`).")


async def _quit(app: ChatApp, arg: str) -> None:
    app.exit()


_HANDLERS: dict[str, Handler] = {
    "help": _help, "local": _local, "claude": _claude, "auto": _auto, "add": _add, "drop": _drop,
    "map": _map, "symbols": _symbols, "snippet": _snippet, "apply": _apply, "copy": _copy,
    "refactor": _refactor, "think": _think, "cost": _cost, "model": _model, "clear": _clear, "quit": _quit,
}
