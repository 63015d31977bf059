"""Completion prompts for instruct models without FIM tokens (Gemma 4): a turn in the model's own
chat template, rendered here from the template the model ships (``tokenizer.chat_template``).

Two layouts use the text after the cursor, which a prefix continuation cannot see:

- ``chat_hole``: the user turn shows the code around the cursor with the cursor marked and asks
  for the code that belongs there, and only that; the model's turn starts empty, thinking off.
- ``hybrid``: the same user turn; the model's turn is pre-filled with a code fence and the code
  just above the cursor, up to the cursor, so the model continues the code at the cursor having
  seen what follows it.

Which one a model kind gets by default was measured (docs/completion.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from jinja2 import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from codeassist.completion.types import ContextChunk
from codeassist.completion.windows import CursorWindow
from codeassist.errors import ModelError

CURSOR = "<CURSOR>"
FENCE = "```"
HYBRID_LINES = 8  # lines above the cursor repeated in the model's turn
_ASK = ("Here is a {language}file. Write the code that belongs at {cursor}. Answer with that code "
        "only, no explanation: it is inserted at {cursor} exactly as you write it, so it must fit "
        "between the code before and after it.")


def _raise(message: str) -> None:
    raise TemplateError(message)


def render(template: str, messages: Sequence[Mapping[str, str]], *, think: bool = False) -> str:
    """``messages`` in ``template`` with the generation prompt, as transformers and llama.cpp
    render it. The BOS token is left out (llama-server adds it when it tokenizes the prompt)."""
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals.update(raise_exception=_raise, strftime_now=lambda fmt: datetime.now().strftime(fmt))
    try:
        return env.from_string(template).render(
            messages=list(messages), add_generation_prompt=True, bos_token="", eos_token="",
            enable_thinking=think, tools=None)
    except TemplateError as exc:
        raise ModelError(f"The model's chat template does not render a completion turn: {exc}",
                         hint='Set completion.prompt = "headers" to complete without the template.') from exc


def hole_messages(window: CursorWindow, chunks: Sequence[ContextChunk], path: str, language: str
                  ) -> list[dict[str, str]]:
    """The user turn: context, then the window with the cursor marked."""
    parts: list[str] = []
    for chunk in chunks:
        parts.append(f"{chunk.path}:\n{FENCE}\n{chunk.text.rstrip(chr(10))}\n{FENCE}\n\n")
    ask = _ASK.format(language=f"{language} " if language else "", cursor=CURSOR)
    parts.append(f"{ask}\n\n{path}:\n{FENCE}{language}\n{window.prefix}{CURSOR}{window.suffix}\n{FENCE}")
    return [{"role": "user", "content": "".join(parts)}]


def hybrid_prefill(window: CursorWindow, language: str) -> str:
    """The start of the model's turn: a fence, then the last lines up to the cursor."""
    above = window.before.split("\n")[:-1][-HYBRID_LINES:]
    lead = "".join(line + "\n" for line in above)
    return f"{FENCE}{language}\n{lead}{window.line_prefix}"


def chat_prompt(template: str, window: CursorWindow, chunks: Sequence[ContextChunk], path: str,
                language: str, layout: str) -> str:
    prompt = render(template, hole_messages(window, chunks, path, language))
    return prompt + hybrid_prefill(window, language) if layout == "hybrid" else prompt


def answer_code(raw: str, window: CursorWindow, layout: str) -> str:
    """The code in a chat answer: fences taken off, cut where the model copied the ``<CURSOR>``
    marker (it is no code; what a model writes after it is the code after the hole); a
    ``chat_hole`` answer that rewrote the code
    around the hole (small models often write the whole function) is cut to what follows the
    cursor, and the part of the cursor line already typed is not typed twice."""
    text = raw
    if layout == "chat_hole":
        stripped = text.lstrip("\n")
        if stripped.startswith(FENCE):
            first_break = stripped.find("\n")
            text = stripped[first_break + 1:] if first_break >= 0 else ""
    end = text.find(FENCE)
    if end >= 0:
        text = text[:end]
    marker = text.find(CURSOR)
    if marker >= 0:  # the model copied the hole's marker: what it writes after it is the suffix
        text = text[:marker]
    if layout != "chat_hole":
        return text
    text = _after_rewritten_lines(text, window)
    typed = window.line_prefix.lstrip()
    lead = text.lstrip(" \t")
    if typed and lead.startswith(typed):
        return lead[len(typed):]
    if typed.strip() and lead.startswith(typed.strip()):
        return lead[len(typed.strip()):].lstrip(" ")
    if not window.line_prefix.strip() and window.line_prefix and lead != text:
        return lead  # the cursor is already indented: the answer's own indent would double it
    return text


def _after_rewritten_lines(text: str, window: CursorWindow) -> str:
    """``text`` from the cursor on, when it starts by repeating the code above the cursor."""
    lines = text.split("\n")
    typed = window.line_prefix.strip()
    above = [ln.strip() for ln in window.before.split("\n") if ln.strip()]
    if typed:  # the cursor line retyped, after the lines above it or not
        for i, line in enumerate(lines):
            if line.strip().startswith(typed) and (i == 0 or not above or lines[i - 1].strip() == above[-1]):
                return "\n".join(lines[i:])
        return text
    if above and len(lines) > 1:
        for i, line in enumerate(lines[:-1]):
            if line.strip() == above[-1]:
                return "\n".join(lines[i + 1:])
    return text
