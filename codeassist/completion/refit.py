"""A suggestion that does not fit the code around it, asked for again.

:func:`refit` finds the first line that does not fit (:func:`codeassist.completion.fit.misfit`),
that breaks the document's syntax (:class:`codeassist.completion.syntax.SyntaxCheck`), or an
answer that is nothing but a Markdown fence; the model then goes on from the line written again
at the indentation the code needs (when that is what is wrong with it) and from its next most
likely tokens in place of the line's first one (:func:`codeassist.completion.second_choice.heads`).
The first answer that fits is the suggestion; when none does, the suggestion ends before the line
that did not fit.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from codeassist.completion.fit import cut_before, indentation_for, misfit
from codeassist.completion.postprocess import Surroundings, leading_fence, postprocess
from codeassist.completion.request import PreparedRequest, ask
from codeassist.completion.second_choice import TRIES, heads
from codeassist.completion.syntax import SyntaxCheck
from codeassist.runtime.backend import ModelBackend
from codeassist.runtime.llama_client import Completion

log = logging.getLogger(__name__)


async def refit(client: ModelBackend, prepared: PreparedRequest, answer: Completion, text: str,
                around: Surroundings, syntax: SyntaxCheck, *, min_chars: int, retry: bool = True
                ) -> tuple[str, list[Completion]]:
    """``text`` (``answer`` post-processed), or the model's next choice where it does not fit, or
    ``text`` cut before that line; also the answers this asked for. ``retry`` False (the user is
    typing: the next keystroke would wait) and chat prompts (the answer is not the prompt's
    continuation) only cut. ``prepared`` must already hold ``answer``'s prompt."""
    raw = answer.text
    offset = misfit(text, around)
    if offset is None:
        offset = syntax.new_error(text)
    if offset is None and not text.strip() and not prepared.chat:  # a fence and what came after
        offset = leading_fence(raw, around)
        text = raw[:offset] if offset is not None else text
    if offset is None:
        return text, []
    tried: list[Completion] = []
    if retry and not prepared.chat and raw[:offset] == text[:offset]:
        for head in _starts(raw, text, offset, answer, around):
            again = await ask(client, prepared.continued(head))
            tried.append(again)
            seen = replace(around, stop=again.stop_type)
            fitted = postprocess(head + again.text, seen, min_chars=min_chars)
            log.debug("second choice from %r: %r", head[-40:], fitted)
            if fitted.strip() and misfit(fitted, seen) is None and syntax.new_error(fitted) is None:
                return fitted, tried
    return postprocess(cut_before(text, offset), around, min_chars=min_chars), tried


def _starts(raw: str, text: str, offset: int, answer: Completion, around: Surroundings) -> list[str]:
    """Where the model goes on from for a second choice at ``offset``: the line written again at
    the indentation the code around needs (when that is what is wrong with it), then the model's
    next most likely tokens in place of the line's first one."""
    alternatives = heads(raw, offset, answer.choices)
    indent = indentation_for(text, offset, around)
    line_start = raw.rfind("\n", 0, offset) + 1
    typed = around.line_prefix if line_start == 0 else ""  # indentation typed on the cursor line
    if indent is None or not indent.startswith(typed):
        return alternatives
    return [raw[:line_start] + indent[len(typed):], *alternatives][:TRIES]
