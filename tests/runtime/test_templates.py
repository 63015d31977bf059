"""Turn markers never reach the user: the streaming filter, for every template family, at every split.

Whatever a model emits, what the filter passes on is the answer alone, however the server cuts
the stream into pieces (a marker split across two pieces included).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from codeassist.runtime import gguf
from codeassist.runtime.provision import BinaryInfo
from codeassist.runtime.server import server_command
from codeassist.runtime.templates import TURN_MARKERS, MarkerFilter, builtin_template, strip_markers
from tests.support.llama import LlamaServerInfo, runtime_settings


def shown(pieces: list[str], *, chat: bool = True, think: bool = False) -> tuple[str, bool]:
    """What reaches the screen, and whether the filter asked to stop generating."""
    markers = MarkerFilter(chat=chat, think=think)
    out = ""
    for piece in pieces:
        out += markers.feed(piece)
        if markers.done:
            break
    return out + markers.flush(), markers.done


def every_split(text: str) -> list[list[str]]:
    """``text`` as one piece, as single characters, and cut in two at every position."""
    return [[text], list(text)] + [[text[:i], text[i:]] for i in range(1, len(text))]


# (family, what the model emitted, what the user must see)
FAMILIES = [
    ("chatml", "<|im_start|>assistant\nUse `items[::-1]`.<|im_end|>\n<|im_start|>user\nthanks<|im_end|>",
     "Use `items[::-1]`."),
    ("chatml-loop", "Use `items.reverse()`.\n<|im_start|>user\nHow do I reverse a list?<|im_end|>",
     "Use `items.reverse()`.\n"),
    ("qwen-eos", "Run `git switch -c new`.<|endoftext|>Human: more", "Run `git switch -c new`."),
    ("gemma", "<start_of_turn>model\nUse `wc -l file`.<end_of_turn>\n<start_of_turn>user\nok",
     "Use `wc -l file`."),
    ("gemma-eos", "<bos>Use `JSON.parse(s)`.<eos>more", "Use `JSON.parse(s)`."),
    ("gemma4", "<|turn>model\nUse `chmod +x run.sh`.<turn|><|turn>user\nthanks<turn|>",
     "Use `chmod +x run.sh`."),
    ("gemma4-thinking", "<|channel>thought\nThe user wants a list reversed.<channel|>Use `a[::-1]`.<turn|>",
     "Use `a[::-1]`."),
    ("llama3", "<|start_header_id|>assistant<|end_header_id|>\n\nUse `git log -- f`.<|eot_id|>"
     "<|start_header_id|>user<|end_header_id|>\n\nmore", "Use `git log -- f`."),
    ("phi3", "<|assistant|>\nUse `set(items)`.<|end|>\n<|user|>\nmore", "Use `set(items)`."),
    ("mistral", "Use `fetch(url)`.[/INST][INST] again", "Use `fetch(url)`."),
    ("think-tags", "<think>\nreverse it\n</think>\n\nUse `reversed(xs)`.<|im_end|>", "Use `reversed(xs)`."),
]


@pytest.mark.parametrize(("family", "emitted", "expected"), FAMILIES, ids=[f[0] for f in FAMILIES])
def test_no_marker_reaches_the_screen_at_any_split(family: str, emitted: str, expected: str) -> None:
    for pieces in every_split(emitted):
        text, stopped = shown(pieces)
        assert text == expected, (family, pieces)
        assert not any(marker in text for marker in TURN_MARKERS)
        assert stopped  # an end of turn ends the generation


def test_thinking_is_shown_only_when_asked() -> None:
    emitted = "<|channel>thought\nReverse with a slice.<channel|>Use `a[::-1]`.<turn|>"
    for pieces in every_split(emitted):
        assert shown(pieces, think=True)[0] == "Reverse with a slice.\n\nUse `a[::-1]`."
    cut_inside = "<|channel>thought\nstill thinking when the limit came"
    assert shown([cut_inside])[0] == ""


def test_text_that_only_looks_like_a_marker_is_kept() -> None:
    code = "if a <b and c< d: x = [1] <| 2; html = '<start>' + \"<|\""
    for pieces in every_split(code):
        assert shown(pieces, chat=False) == (code, False)
    assert shown(["x = a <", "|im"], chat=False)[0] == "x = a "  # the stream ended inside a marker


def test_completions_keep_their_leading_newline_and_stop_at_fim_markers() -> None:
    assert shown(["\n    return x\n<|file_sep|>other.py\n"], chat=False) == ("\n    return x\n", True)
    assert shown(["<|im_start|>", "assistant\nhi"], chat=False) == ("", True)


def test_strip_markers_of_a_whole_text() -> None:
    assert strip_markers("<|im_start|>assistant\nhi<|im_end|><end_of_turn>") == "assistant\nhi"


def test_builtin_templates_for_models_without_their_own() -> None:
    assert builtin_template("gemma3") == "gemma"
    assert builtin_template("qwen2") == "chatml"
    assert builtin_template("gpt2") is None


def _info(arch: str, template: str | None) -> gguf.GGUFInfo:
    return gguf.GGUFInfo(path=Path("/m.gguf"), architecture=arch, name="m", context_length=8192,
                         chat_template=template, has_fim=False, n_vocab=10, size_bytes=1)


def test_a_gguf_without_a_template_gets_its_familys_builtin(tmp_path: Path) -> None:
    binary = BinaryInfo(path=Path("/opt/llama-server"), version="1", backend="cpu", gpu_capable=False,
                        source="config")
    settings = runtime_settings(tmp_path)
    own = server_command(settings, binary, Path("/m.gguf"), _info("qwen2", "{{ messages }}"))
    assert "--jinja" in own and "--chat-template" not in own
    # Jinja stays on (tools and count_tokens on /v1/messages need it) with the family's template file
    gemma = server_command(settings, binary, Path("/m.gguf"), _info("gemma3", None))
    template = Path(gemma[gemma.index("--chat-template-file") + 1])
    assert "--jinja" in gemma and template.name == "gemma.jinja"
    assert "<start_of_turn>" in template.read_text()
    # a family without a shipped Jinja file gets llama.cpp's built-in template by name
    phi = server_command(settings, binary, Path("/m.gguf"), _info("phi3", None))
    assert phi[phi.index("--chat-template") + 1] == "phi3" and "--jinja" not in phi
    unknown = server_command(settings, binary, Path("/m.gguf"), _info("gpt2", None))
    assert "--chat-template" not in unknown


FEW_SHOT = ("<|im_start|>user\nSay A<|im_end|>\n<|im_start|>assistant\nA<|im_end|>\n"
            "<|im_start|>user\nSay B<|im_end|>\n<|im_start|>assistant\nB<|im_end|>\n"
            "<|im_start|>user\nSay C<|im_end|>\n<|im_start|>assistant\n")


async def test_a_real_model_writing_markers_shows_none(llama_server: LlamaServerInfo) -> None:
    # The tiny Gemma has no ChatML tokens: shown a ChatML transcript it writes the markers out as
    # text. Raw from the server they are there; through codeassist's client they are not.
    import httpx

    from codeassist.runtime import CompletionParams, LlamaClient, Sampling

    greedy = Sampling(temperature=0.0, top_k=1, seed=0)
    async with httpx.AsyncClient(timeout=120) as http:
        raw = (await http.post(f"{llama_server.url}/completion", json={
            "prompt": FEW_SHOT, "n_predict": 16, **greedy.to_json()})).json()["content"]
    assert "<|im_end|>" in raw or "<|im_start|>" in raw, raw  # the model really writes markers
    async with LlamaClient(llama_server.url) as client:
        done = await client.complete(FEW_SHOT, CompletionParams(n_predict=16, sampling=greedy))
    assert not any(marker in done.text for marker in TURN_MARKERS), done.text
    assert raw.startswith(done.text) and done.stop_type == "word"  # cut at the first marker
