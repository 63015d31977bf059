"""The model's next most likely token where its answer went wrong.

When a suggestion does not fit the code after it (:func:`codeassist.completion.fit.misfit`: a
``return`` above code that would never run), the answer's tokens tell what else the model
considered at that point (``n_probs``). :func:`heads` gives the answer up to that token with an
alternative in its place; the engine asks the model to go on from there (the prompt plus the
head: everything before is in the server's prompt cache, so the second request costs only its
own generation). Pure functions, with golden tests (tests/completion/test_second_choice.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from codeassist.runtime.params import TokenChoice

N_PROBS = 5  # alternatives asked for at every generated token
TRIES = 2  # alternatives tried, most likely first


def _token_at(choices: Sequence[TokenChoice], raw: str, offset: int) -> tuple[int, TokenChoice] | None:
    """The start in ``raw`` and the token that holds the first visible character at ``offset``
    (None when the tokens do not spell ``raw`` up to there)."""
    pos = 0
    for choice in choices:
        if choice.text is None or raw[pos:pos + len(choice.text)] != choice.text[: len(raw) - pos]:
            return None
        end = pos + len(choice.text)
        if end > offset and choice.text[max(0, offset - pos):].strip():
            return pos, choice
        pos = end
        if pos >= len(raw):
            return None
    return None


def heads(raw: str, offset: int, choices: Sequence[TokenChoice], *, tries: int = TRIES) -> list[str]:
    """Up to ``tries`` beginnings to go on from: ``raw`` up to the token that starts the rejected
    line's code at ``offset``, then one of the model's alternatives to that token. Left out: an
    alternative that holds a line break (a blank line, then the same line again), and one that
    starts the rejected line's first word again (``ret`` for ``return``)."""
    found = _token_at(choices, raw, offset)
    if found is None:
        return []
    start, token = found
    line_start = raw.rfind("\n", 0, offset) + 1
    rejected = raw[offset:].split(None, 1)[0] if raw[offset:].strip() else ""
    out: list[str] = []
    for alternative in token.alternatives:
        head = raw[:start] + alternative
        if "\n" in alternative:
            continue
        code = head[line_start:].strip()
        if rejected and code and (rejected.startswith(code) or code.startswith(rejected)):
            continue
        out.append(head)
        if len(out) == tries:
            break
    return out
