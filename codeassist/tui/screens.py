"""Modal screens: help, yes/no confirmation, the refactor plan and the per-file diff review."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.syntax import Syntax
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Markdown, OptionList, Static

from codeassist.chat import COMMANDS
from codeassist.refactor import CostEstimate, FileDiff, Plan

__all__ = ["ConfirmScreen", "DiffReviewScreen", "HelpScreen", "PlanScreen", "help_markdown"]

KEYS = [
    ("Enter", "send the message or command"),
    ("Esc", "stop the answer being generated"),
    ("↑ / ↓", "previous / next input"),
    ("Tab or →", "accept the suggested command or path"),
    ("F1", "this help"),
    ("Ctrl+Y", "copy the last code block (or click a code block)"),
    ("Ctrl+L", "start a new conversation"),
    ("Ctrl+Q", "quit"),
]

_MODAL_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{ width: 90%; height: 90%; border: thick $accent; background: $surface; padding: 1 2; }}
{name} .title {{ text-style: bold; margin-bottom: 1; }}
{name} .buttons {{ height: auto; align: right middle; margin-top: 1; }}
{name} Button {{ margin-left: 2; }}
"""


def help_markdown() -> str:
    rows = ["# codeassist chat", "", "## Keys", "", "| key | does |", "|---|---|"]
    rows += [f"| {key} | {what} |" for key, what in KEYS]
    rows += ["", "## Commands", "", "| command | does |", "|---|---|"]
    rows += [f"| `{spec.usage}` | {spec.help} |" for spec in COMMANDS]
    rows += ["", "## Routing", "",
             "`auto`: the local model answers quick questions, explanations and snippets; Claude takes "
             "work that spans many files, needs long context, or when you ask for it. Each answer says "
             "which model answered and why. Offline mode (`privacy.cloud = false`) never calls Claude, "
             "and secret files never leave the machine."]
    return "\n".join(rows)


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = _MODAL_CSS.format(name="HelpScreen")
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,f1", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with Vertical():
            with VerticalScroll():
                yield Markdown(help_markdown())
            yield Footer()


class ConfirmScreen(ModalScreen[bool]):
    """A question with a preview; y/Enter answers yes, n/Esc no."""

    DEFAULT_CSS = _MODAL_CSS.format(name="ConfirmScreen")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"), Binding("n,escape", "answer(False)", "No")]

    def __init__(self, question: str, preview: str = "", language: str = "text") -> None:
        super().__init__()
        self.question = question
        self.preview = preview
        self.language = language

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question, classes="title", markup=False)
            with VerticalScroll():
                yield Static(Syntax(self.preview, self.language, word_wrap=True) if self.preview else "")
            with Horizontal(classes="buttons"):
                yield Button("Yes", id="yes", variant="primary")
                yield Button("No", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class PlanScreen(ModalScreen[bool]):
    """Claude's refactor plan and its cost estimate; a (or Enter on Apply) goes on, Esc stops."""

    DEFAULT_CSS = _MODAL_CSS.format(name="PlanScreen")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "answer(True)", "Apply the plan"), Binding("escape,c", "answer(False)", "Cancel")]

    def __init__(self, plan: Plan, estimate: CostEstimate) -> None:
        super().__init__()
        self.plan = plan
        self.estimate = estimate

    def compose(self) -> ComposeResult:
        est = self.estimate
        cost = ("free (local model)" if est.local else
                f"plan at most ${est.usd_plan:.4f}, whole refactor about ${est.usd_total:.4f}")
        with Vertical():
            yield Static(f"Refactor plan — {est.model}: {est.input_tokens:,} prompt tokens, {cost}",
                         classes="title", markup=False)
            with VerticalScroll():
                yield Static(self.plan.render(), markup=False, id="plan")
            with Horizontal(classes="buttons"):
                yield Button("Apply", id="apply", variant="primary")
                yield Button("Cancel", id="cancel")
            yield Footer()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "apply")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class DiffReviewScreen(ModalScreen[bool]):
    """Per-file diffs of a finished refactor: a accepts (the branch is created), r rejects."""

    DEFAULT_CSS = _MODAL_CSS.format(name="DiffReviewScreen") + """
    DiffReviewScreen OptionList { width: 36; height: 1fr; }
    DiffReviewScreen #diff-pane { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "answer(True)", "Accept: create the branch"),
        Binding("r,escape", "answer(False)", "Reject: discard"),
        Binding("n", "step(1)", "Next file"),
        Binding("p", "step(-1)", "Previous file"),
    ]

    def __init__(self, diffs: Sequence[FileDiff]) -> None:
        super().__init__()
        self.diffs = list(diffs)
        self.shown: FileDiff | None = None

    def compose(self) -> ComposeResult:
        added = sum(d.added for d in self.diffs)
        removed = sum(d.removed for d in self.diffs)
        with Vertical():
            yield Static(f"Review {len(self.diffs)} changed file(s): +{added} −{removed}", classes="title")
            with Horizontal():
                yield OptionList(*[f"{d.status[0].upper()} {d.path}  +{d.added} −{d.removed}"
                                   for d in self.diffs], id="files")
                with VerticalScroll(id="diff-pane"):
                    yield Static(id="diff")
            with Horizontal(classes="buttons"):
                yield Button("Accept", id="accept", variant="success")
                yield Button("Reject", id="reject", variant="error")
            yield Footer()

    def on_mount(self) -> None:
        self.show(0)

    def show(self, number: int) -> None:
        if not self.diffs:
            return
        number = max(0, min(len(self.diffs) - 1, number))
        self.query_one("#files", OptionList).highlighted = number
        self._display(number)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_index is not None:
            self._display(event.option_index)

    def _display(self, number: int) -> None:
        self.shown = self.diffs[number]
        self.query_one("#diff", Static).update(_diff(self.shown))

    def action_step(self, step: int) -> None:
        current = self.query_one("#files", OptionList).highlighted or 0
        self.show(current + step)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "accept")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


def _diff(diff: FileDiff) -> Syntax:
    return Syntax(diff.diff or "(no textual change)", "diff")
