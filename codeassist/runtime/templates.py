"""Chat templates and their turn markers: which template a model gets, and no marker in any output.

A model's answer may carry the control text of a chat template (``<|im_end|>``, ``<end_of_turn>``,
``<|turn>``, ``<|eot_id|>``...): a base model imitating a conversation, a template that does not fit,
a model going on with the next turn. :class:`MarkerFilter` takes the streamed pieces and passes on
only the answer: a role header at the very start is dropped, an end-of-turn (or the start of a new
turn) ends the answer, any other marker is removed, and thinking sections (Gemma 4's
``<|channel>thought … <channel|>``, ``<think> … </think>``) are shown only when thinking is on.
Markers split across stream pieces are held back until they are whole or clearly not markers.

:func:`family_template` gives a GGUF that carries no chat template of its own its family's turns:
a Jinja template shipped with codeassist (``chat_templates/``) where there is one, so llama-server
keeps ``--jinja`` (tools on ``/v1/messages`` and exact ``count_tokens`` need it), else the name of
llama.cpp's built-in (non-Jinja) template.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["END_MARKERS", "TURN_MARKERS", "MarkerFilter", "builtin_template", "family_template",
           "strip_markers"]

# Text that starts a turn: at the very start of an answer it is a role header to drop; later it
# means the model began a turn of its own, so the answer ends there.
START_MARKERS = (
    "<|im_start|>",  # ChatML (Qwen, many fine-tunes; llama-server's generic fallback)
    "<start_of_turn>",  # Gemma 1-3
    "<|turn>",  # Gemma 4
    "<|start_header_id|>",  # Llama 3
    "<|start|>",  # gpt-oss (harmony)
    "<|user|>", "<|assistant|>", "<|system|>",  # Phi-3, Zephyr, ChatGLM
    "[INST]",  # Llama 2, Mistral
)
END_MARKERS = (
    "<|im_end|>", "<|endoftext|>",  # ChatML / Qwen
    "<end_of_turn>", "<eos>",  # Gemma 1-3
    "<turn|>",  # Gemma 4
    "<|eot_id|>", "<|eom_id|>", "<|end_of_text|>",  # Llama 3
    "<|end|>", "<|return|>", "<|call|>",  # Phi-3, gpt-oss
    "[/INST]",
    "<|file_sep|>", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|fim_pad|>",  # code FIM
    "<|repo_name|>",
)
# Removed wherever they appear; the text around them stays.
OTHER_MARKERS = ("<bos>", "<|begin_of_text|>", "<|end_header_id|>", "<|think|>", "<|channel|>",
                 "<|message|>", "<|constrain|>")
THOUGHT_OPEN = ("<|channel>", "<think>")
THOUGHT_CLOSE = ("<channel|>", "</think>")
TURN_MARKERS = START_MARKERS + END_MARKERS + OTHER_MARKERS + THOUGHT_OPEN + THOUGHT_CLOSE

_ALL_OUTSIDE = START_MARKERS + END_MARKERS + OTHER_MARKERS + THOUGHT_OPEN + THOUGHT_CLOSE
_ROLE = re.compile(r"[A-Za-z_]*")
_MAX_ROLE = 24  # a role word ("assistant", "model") is short; longer text is answer text

# llama.cpp's built-in (non-Jinja) templates, by GGUF architecture, for models without their own.
_BUILTIN_BY_ARCH = {
    "gemma": "gemma", "gemma2": "gemma", "gemma3": "gemma", "gemma3n": "gemma",
    "qwen2": "chatml", "qwen3": "chatml", "qwen2moe": "chatml", "qwen3moe": "chatml",
    "phi3": "phi3", "command-r": "command-r", "cohere2": "command-r", "deepseek2": "deepseek2",
    "chatglm": "chatglm4", "exaone": "exaone3", "granite": "granite", "minicpm": "minicpm",
}


_TEMPLATE_DIR = Path(__file__).with_name("chat_templates")


def builtin_template(architecture: str) -> str | None:
    """The name of llama.cpp's built-in chat template for ``architecture``, or None if it has none."""
    return _BUILTIN_BY_ARCH.get(architecture)


def family_template(architecture: str) -> Path | str | None:
    """The chat template for a GGUF of ``architecture`` without its own: a Jinja file shipped here
    (``--jinja --chat-template-file``), else llama.cpp's built-in name (``--chat-template``), else None."""
    name = builtin_template(architecture)
    if name is None:
        return None
    shipped = _TEMPLATE_DIR / f"{name}.jinja"
    return shipped if shipped.is_file() else name


def _earliest(text: str, markers: tuple[str, ...]) -> tuple[int, str]:
    best, found = -1, ""
    for marker in markers:
        at = text.find(marker)
        if at >= 0 and (best < 0 or at < best):
            best, found = at, marker
    return best, found


def _partial_tail(text: str, markers: tuple[str, ...]) -> int:
    """Length of the longest end of ``text`` that is the beginning of one of ``markers``."""
    longest = 0
    for marker in markers:
        for size in range(min(len(marker) - 1, len(text)), longest, -1):
            if marker.startswith(text[-size:]):
                longest = size
                break
    return longest


class MarkerFilter:
    """Streamed model text in, answer text out: see the module docstring.

    ``feed`` returns what can be shown now; :attr:`done` turns true when an end-of-turn marker
    (or the start of another turn) was seen, and the caller should stop the generation;
    ``flush`` returns what was held back once the stream ended. ``chat``: the text is a chat answer
    (a role header at its start is dropped, so are its leading newlines); otherwise it is a
    completion, kept exactly as generated up to the first marker.
    """

    def __init__(self, *, chat: bool = True, think: bool = False) -> None:
        self.chat = chat
        self.think = think
        self.done = False
        self.stopped_by = ""
        self._buf = ""
        self._started = False  # some answer text was shown already
        self._in_thought = False
        self._thought_label = False  # drop the "thought" word after <|channel>
        self._role = False  # drop the role word after a start marker at the beginning

    def feed(self, piece: str) -> str:
        if self.done:
            return ""
        self._buf += piece
        out: list[str] = []
        while self._buf and not self.done:
            if self._role or self._thought_label:
                if not self._drop_label():
                    break
                continue
            if self._in_thought:
                if not self._thought(out):
                    break
                continue
            at, marker = _earliest(self._buf, _ALL_OUTSIDE)
            if at < 0:
                keep = _partial_tail(self._buf, _ALL_OUTSIDE)
                self._emit(out, self._buf[:len(self._buf) - keep])
                self._buf = self._buf[len(self._buf) - keep:]
                break
            self._emit(out, self._buf[:at])
            self._buf = self._buf[at + len(marker):]
            if marker in THOUGHT_OPEN:
                self._in_thought = True
                self._thought_label = marker == "<|channel>"
            elif marker in START_MARKERS and self.chat and not self._started:
                self._role = True
            elif marker in START_MARKERS or marker in END_MARKERS:
                self._stop(marker)
        return "".join(out)

    def flush(self) -> str:
        """The held-back rest at the end of the stream (a cut-off marker is dropped)."""
        rest, self._buf = self._buf, ""
        if self.done or (self._in_thought and not self.think) or self._role:
            return ""
        if _partial_tail(rest, _ALL_OUTSIDE) == len(rest) and len(rest) >= 2:
            return ""  # the stream ended inside a marker
        return rest

    def _emit(self, out: list[str], text: str) -> None:
        if not self._started:
            text = text.lstrip("\n") if self.chat else text
            if not text:
                return
            self._started = True
        out.append(text)

    def _stop(self, marker: str) -> None:
        self.done = True
        self.stopped_by = marker
        self._buf = ""

    def _drop_label(self) -> bool:
        """Drop a role word (and its newline) after a start marker; False: wait for more text."""
        match = _ROLE.match(self._buf)
        end = match.end() if match else 0
        if end == len(self._buf) and end < _MAX_ROLE:
            return False  # the word may go on in the next piece
        rest = self._buf[end:]
        if rest.startswith("\n"):
            rest = rest[1:]
        self._buf = rest
        self._role = self._thought_label = False
        return True

    def _thought(self, out: list[str]) -> bool:
        at, marker = _earliest(self._buf, THOUGHT_CLOSE + END_MARKERS)
        if at < 0:
            keep = _partial_tail(self._buf, THOUGHT_CLOSE + END_MARKERS)
            if self.think:
                self._emit(out, strip_markers(self._buf[:len(self._buf) - keep]))
            self._buf = self._buf[len(self._buf) - keep:]
            return False
        if self.think:
            self._emit(out, strip_markers(self._buf[:at]) + "\n\n")
        self._buf = self._buf[at + len(marker):]
        self._in_thought = False
        if marker in END_MARKERS:
            self._stop(marker)
        return True


def strip_markers(text: str) -> str:
    """``text`` without any turn marker (for whole texts that are not streamed)."""
    for marker in TURN_MARKERS:
        text = text.replace(marker, "")
    return text
