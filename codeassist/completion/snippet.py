"""Snippets: code for an instruction, from the local model.

A model with a chat template gets a short chat (thinking off) and its fenced block is taken; a
base model without one (the tiny Gemma) gets the instruction as a comment after the context and
continues the code.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping

from codeassist.completion.postprocess import cut_at_repeated_line
from codeassist.completion.prompt import comment_prefix
from codeassist.errors import UsageError
from codeassist.runtime.llama_client import CompletionParams, Sampling

SNIPPET_PREDICT = 256
CONTEXT_CHARS = 6000
_FENCE = re.compile(r"```[\w+-]*[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL)
SYSTEM = ("You write code for the user's editor. Answer with the code only, in one fenced code "
          "block, without explanations. Match the style and language of the given context.")

Send = Callable[[str, CompletionParams, list[Mapping[str, str]] | None], Awaitable[str]]


def extract_code(answer: str) -> str:
    """The first fenced block of ``answer`` (or all of it), without trailing whitespace noise."""
    match = _FENCE.search(answer)
    code = match.group(1) if match else answer
    lines = [line.rstrip() for line in code.split("\n")]
    return "\n".join(lines).strip("\n")


def guess_language(context: str) -> str:
    if re.search(r"^\s*(def|class|import|from)\s", context, re.MULTILINE):
        return "python"
    return ""


def base_prompt(instruction: str, context: str, language: str) -> str:
    mark = comment_prefix(language or guess_language(context) or "python")
    tail = context[-CONTEXT_CHARS:].rstrip("\n")
    comment = "\n".join(f"{mark} {line}".rstrip() for line in instruction.strip().split("\n"))
    return f"{tail}\n\n{comment}\n" if tail else f"{comment}\n"


def chat_messages(instruction: str, context: str, language: str) -> list[Mapping[str, str]]:
    user = instruction.strip()
    if context.strip():
        fence = language or guess_language(context)
        user += f"\n\nContext:\n```{fence}\n{context[-CONTEXT_CHARS:].rstrip()}\n```"
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def clean_base_answer(answer: str, instruction: str) -> str:
    """A base model's continuation as a snippet: until it repeats itself, without the instruction
    comment it tends to write again at the end."""
    lines = cut_at_repeated_line(extract_code(answer)).split("\n")
    wanted = " ".join(instruction.split()).lower()
    while lines and (not lines[-1].strip() or wanted in lines[-1].lower()):
        lines.pop()
    return "\n".join(lines)


class SnippetWriter:
    def __init__(self, send: Send, n_predict: int = SNIPPET_PREDICT, timeout: float | None = None) -> None:
        self._send = send
        self.n_predict = n_predict
        self.timeout = timeout

    async def write(self, instruction: str, context: str, *, chat: bool, language: str = "") -> str:
        if not instruction.strip():
            raise UsageError("The snippet instruction is empty.",
                             hint='Say what the code should do, e.g. "parse a CSV file into dicts".')
        sampling = Sampling(temperature=0.2, top_k=40, top_p=0.95, min_p=0.05, seed=0)
        if chat:
            params = CompletionParams(n_predict=self.n_predict * 2, sampling=sampling, timeout=self.timeout)
            answer = await self._send("", params, chat_messages(instruction, context, language))
        else:
            params = CompletionParams(n_predict=self.n_predict, sampling=sampling, stop=("\n\n\n",),
                                      timeout=self.timeout)
            answer = await self._send(base_prompt(instruction, context, language), params, None)
            return clean_base_answer(answer, instruction)
        return extract_code(answer)
