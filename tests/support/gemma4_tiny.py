"""A tiny random-weight GGUF of the real Gemma 4 architecture (``gemma4``), built offline.

The vocabulary, tokenizer and chat template are Gemma 4's own: copied from
``vendor/llama.cpp/models/ggml-vocab-gemma-4.gguf`` of the llama-cpp-python sdist (vocabulary
only, no weights). The transformer is shrunk to 2 layers — one sliding-window layer and one
full-attention layer, as Gemma 4 alternates them — of width 64 with random weights, written with
the ``gguf`` package. Tensors and hyper-parameters follow llama.cpp's ``src/models/gemma4.cpp``
(``load_arch_hparams`` / ``load_arch_tensors``). Its output is noise; what it proves is that
llama-server loads a ``gemma4`` model with codeassist's flags and that the protocol around it works.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from codeassist import paths

VOCAB_NAME = "ggml-vocab-gemma-4.gguf"
BUILDER_VERSION = "1"  # bump when the layout below changes: the cached file is rebuilt

N_EMBD = 64
N_FF = 128
N_HEAD = 2
N_HEAD_KV = 1
HEAD_DIM_FULL = 32
HEAD_DIM_SWA = 16
SWA_PATTERN = [True, False]  # layer 0 sliding-window, layer 1 full attention
SLIDING_WINDOW = 64

_TOKENIZER_KEYS = (
    "tokenizer.ggml.model", "tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type",
    "tokenizer.ggml.merges", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
    "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.padding_token_id", "tokenizer.ggml.mask_token_id",
    "tokenizer.chat_template", "tokenizer.ggml.add_space_prefix", "tokenizer.ggml.add_bos_token",
)


def vocab_path() -> Path:
    """The vendored Gemma 4 vocabulary of the llama-cpp-python sdist that the set-up unpacked."""
    candidates = [paths.cache_dir() / "src" / "llama_cpp_python-0.3.36" / "vendor" / "llama.cpp" / "models"
                  / VOCAB_NAME,
                  Path.home() / ".cache" / "codeassist" / "src" / "llama_cpp_python-0.3.36" / "vendor"
                  / "llama.cpp" / "models" / VOCAB_NAME]
    for path in candidates:
        if path.is_file():
            return path
    raise FileNotFoundError(f"{VOCAB_NAME} not found (run scripts/setup.sh, which unpacks the sdist)")


def _copy_field(writer: Any, reader: Any, key: str) -> None:
    import gguf

    field = reader.fields[key]
    kind = field.types[0]
    value = field.contents()
    if kind == gguf.GGUFValueType.ARRAY:
        writer.add_key_value(key, value, kind, sub_type=field.types[-1])
    else:
        writer.add_key_value(key, value, kind)


def build(path: Path, vocab: Path | None = None, seed: int = 0) -> Path:
    """Write the tiny Gemma 4 GGUF to ``path``."""
    import gguf

    reader = gguf.GGUFReader(str(vocab or vocab_path()))
    n_vocab = len(reader.fields["tokenizer.ggml.tokens"].data)
    arch = "gemma4"
    writer = gguf.GGUFWriter(str(path), arch)
    writer.add_name("gemma4-tiny-random")
    writer.add_uint32(f"{arch}.context_length", 32768)
    writer.add_uint32(f"{arch}.embedding_length", N_EMBD)
    writer.add_uint32(f"{arch}.block_count", len(SWA_PATTERN))
    writer.add_uint32(f"{arch}.feed_forward_length", N_FF)
    writer.add_uint32(f"{arch}.attention.head_count", N_HEAD)
    writer.add_uint32(f"{arch}.attention.head_count_kv", N_HEAD_KV)
    writer.add_float32(f"{arch}.rope.freq_base", 1_000_000.0)
    writer.add_float32(f"{arch}.rope.freq_base_swa", 10_000.0)
    writer.add_float32(f"{arch}.attention.layer_norm_rms_epsilon", 1e-6)
    writer.add_uint32(f"{arch}.attention.key_length", HEAD_DIM_FULL)
    writer.add_uint32(f"{arch}.attention.value_length", HEAD_DIM_FULL)
    writer.add_uint32(f"{arch}.attention.key_length_swa", HEAD_DIM_SWA)
    writer.add_uint32(f"{arch}.attention.value_length_swa", HEAD_DIM_SWA)
    writer.add_uint32(f"{arch}.rope.dimension_count", HEAD_DIM_FULL)
    writer.add_uint32(f"{arch}.rope.dimension_count_swa", HEAD_DIM_SWA)
    writer.add_float32(f"{arch}.final_logit_softcapping", 30.0)
    writer.add_uint32(f"{arch}.attention.sliding_window", SLIDING_WINDOW)
    writer.add_uint32(f"{arch}.attention.shared_kv_layers", 0)
    writer.add_uint32(f"{arch}.embedding_length_per_layer_input", 0)
    writer.add_array(f"{arch}.attention.sliding_window_pattern", SWA_PATTERN)
    for key in _TOKENIZER_KEYS:
        _copy_field(writer, reader, key)

    rng = np.random.default_rng(seed)

    def weight(*shape: int) -> np.ndarray[Any, Any]:
        return (rng.standard_normal(shape) * 0.02).astype(np.float32)

    def ones(n: int) -> np.ndarray[Any, Any]:
        return np.ones(n, dtype=np.float32)

    # numpy shapes are ggml's ne reversed: {n_embd, n_vocab} is (n_vocab, n_embd)
    writer.add_tensor("token_embd.weight", weight(n_vocab, N_EMBD).astype(np.float16))
    writer.add_tensor("output_norm.weight", ones(N_EMBD))
    writer.add_tensor("rope_freqs.weight", ones(HEAD_DIM_FULL // 2))
    for i, swa in enumerate(SWA_PATTERN):
        hd = HEAD_DIM_SWA if swa else HEAD_DIM_FULL
        blk = f"blk.{i}"
        writer.add_tensor(f"{blk}.attn_norm.weight", ones(N_EMBD))
        writer.add_tensor(f"{blk}.attn_q.weight", weight(N_HEAD * hd, N_EMBD))
        writer.add_tensor(f"{blk}.attn_k.weight", weight(N_HEAD_KV * hd, N_EMBD))
        writer.add_tensor(f"{blk}.attn_v.weight", weight(N_HEAD_KV * hd, N_EMBD))
        writer.add_tensor(f"{blk}.attn_output.weight", weight(N_EMBD, N_HEAD * hd))
        writer.add_tensor(f"{blk}.attn_q_norm.weight", ones(hd))
        writer.add_tensor(f"{blk}.attn_k_norm.weight", ones(hd))
        writer.add_tensor(f"{blk}.post_attention_norm.weight", ones(N_EMBD))
        writer.add_tensor(f"{blk}.ffn_norm.weight", ones(N_EMBD))
        writer.add_tensor(f"{blk}.ffn_gate.weight", weight(N_FF, N_EMBD))
        writer.add_tensor(f"{blk}.ffn_up.weight", weight(N_FF, N_EMBD))
        writer.add_tensor(f"{blk}.ffn_down.weight", weight(N_EMBD, N_FF))
        writer.add_tensor(f"{blk}.post_ffw_norm.weight", ones(N_EMBD))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def cached_model() -> Path:
    """The tiny Gemma 4 GGUF, built once per machine (keyed by the vocabulary and this builder)."""
    vocab = vocab_path()
    key = hashlib.sha256(f"{BUILDER_VERSION}:{vocab.stat().st_size}:{vocab.stat().st_mtime_ns}".encode())
    path = paths.cache_dir() / "test-models" / f"gemma4-tiny-{key.hexdigest()[:12]}.gguf"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        build(partial, vocab)
        partial.replace(path)
    return path
