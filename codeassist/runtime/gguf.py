"""The one module using llama-cpp-python in-process: GGUF metadata and exact token counts.

Only the vocabulary of a model is loaded (``vocab_only``): milliseconds, no weights, no server.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import io
import logging
import os
import sys
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from codeassist.errors import ModelError
from codeassist.runtime import provision

__all__ = ["FimTokens", "GGUFInfo", "Tokenizer", "check_gguf_file", "fim_tokens", "import_llama_cpp",
           "read_info"]

log = logging.getLogger(__name__)

GGUF_MAGIC = b"GGUF"
# Architectures using sliding-window attention: llama-server needs --swa-full for prompt-cache reuse.
SWA_ARCHITECTURES = frozenset({"gemma2", "gemma3", "gemma3n", "gemma4", "gemma-embedding", "cohere2"})
_FIM_KEYS = ("tokenizer.ggml.fim_pre_token_id", "tokenizer.ggml.fim_suf_token_id",
             "tokenizer.ggml.fim_mid_token_id")
_LOAD_LOCK = threading.Lock()


@dataclass(frozen=True)
class GGUFInfo:
    """What codeassist needs to know about a model file."""

    path: Path
    architecture: str
    name: str
    context_length: int  # the context the model was trained with (n_ctx_train)
    chat_template: str | None
    has_fim: bool  # prefix/suffix/middle tokens: /infill works
    n_vocab: int
    size_bytes: int

    @property
    def sliding_window(self) -> bool:
        return self.architecture in SWA_ARCHITECTURES

    @property
    def n_ctx_train(self) -> int:
        return self.context_length


def check_gguf_file(path: Path) -> None:
    """Raise :class:`ModelError` unless ``path`` is a readable file starting with the GGUF magic."""
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except FileNotFoundError:
        raise ModelError(f"The model file {path} does not exist.",
                         hint="Check `model.path`, or run `codeassist model list` and "
                              "`codeassist model pull NAME`.") from None
    except IsADirectoryError:
        raise ModelError(f"The model path {path} is a directory, not a GGUF file.",
                         hint="Point `model.path` at the .gguf file itself.") from None
    except OSError as exc:
        raise ModelError(f"Cannot read the model file {path}: {exc.strerror}.") from exc
    if magic != GGUF_MAGIC:
        raise ModelError(f"{path} is not a GGUF model file (it does not start with 'GGUF').",
                         hint="llama-server needs a .gguf file; pull one with `codeassist model pull NAME`.")


def import_llama_cpp() -> Any:
    """llama-cpp-python, on the ``libllama`` built with llama-server when it has none of its own.

    codeassist installs llama-cpp-python without compiling llama.cpp a second time
    (``CMAKE_ARGS=-DLLAMA_BUILD=OFF``); the package then loads its library from
    ``LLAMA_CPP_LIB_PATH``, which is read once, at import. A library shipped inside the package
    (a plain ``pip install llama-cpp-python``) or a path the user set is left alone.
    """
    if "llama_cpp" not in sys.modules and not os.environ.get("LLAMA_CPP_LIB_PATH"):
        spec = importlib.util.find_spec("llama_cpp")
        own = [Path(p) / "lib" / provision.LIBRARY_NAME for p in (spec.submodule_search_locations or [])] \
            if spec is not None else []
        built = provision.library_dir()
        if built is not None and not any(lib.is_file() for lib in own):
            os.environ["LLAMA_CPP_LIB_PATH"] = str(built)
    try:
        import llama_cpp  # heavy: imported only when a tokenizer or metadata is needed
    except ImportError as exc:
        raise ModelError("llama-cpp-python is not installed (needed for token counts and GGUF metadata).",
                         hint="Run ./scripts/setup.sh, or `pip install -e .` in the project.") from exc
    except (OSError, RuntimeError) as exc:  # its loader raises RuntimeError when libllama is missing
        raise ModelError(f"llama-cpp-python cannot load libllama: {exc}",
                         hint="Build it once with `codeassist server build` (it builds llama-server and "
                              "libllama together), or set LLAMA_CPP_LIB_PATH to a folder holding "
                              f"{provision.LIBRARY_NAME}.") from exc
    return llama_cpp


def _load_vocab(path: Path) -> Any:
    """A llama_cpp.Llama holding only the vocabulary of ``path``."""
    check_gguf_file(path)
    llama_cpp = import_llama_cpp()

    # verbose=False would make llama-cpp-python point file descriptors 1 and 2 at /dev/null
    # while it loads: process-wide, so whatever another thread writes meanwhile (the language
    # server's protocol messages on stdout) is lost. verbose=True leaves them alone; its
    # Python-level chatter goes to sys.stderr, captured here, and native logs go to `logging`.
    chatter = io.StringIO()
    with _LOAD_LOCK, contextlib.redirect_stderr(chatter):
        _route_native_logs(llama_cpp)
        try:
            return llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=True)
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"llama.cpp cannot load {path}: {exc}.",
                             hint="The file may be truncated or of an unsupported architecture; "
                                  "pull it again.") from exc
        finally:
            if chatter.getvalue().strip():
                log.debug("llama-cpp-python: %s", chatter.getvalue().strip())


_NATIVE_LOG_LEVELS = {1: logging.INFO, 2: logging.WARNING, 3: logging.ERROR}
_native_log_callback: Any = None


def _route_native_logs(llama_cpp: Any) -> None:
    """Send llama.cpp's own log lines to `logging` (debug level) instead of raw stderr.

    llama-cpp-python prints some of them straight to stderr even with ``verbose=False``; the
    language server must never write outside its protocol, and the CLI should not print noise.
    """
    global _native_log_callback
    if _native_log_callback is not None:
        return
    native_log = logging.getLogger("codeassist.runtime.llama_cpp")

    def _on_log(level: int, text: bytes, _user_data: Any) -> None:
        message = text.decode("utf-8", "replace").rstrip()
        if message:
            native_log.debug("[%s] %s", logging.getLevelName(_NATIVE_LOG_LEVELS.get(level, 10)), message)

    _native_log_callback = llama_cpp.llama_log_callback(_on_log)
    llama_cpp.llama_log_set(_native_log_callback, None)


@lru_cache(maxsize=8)
def _vocab(path: Path) -> Any:
    llm = _load_vocab(path)
    _LOADED.append(llm)
    return llm


_LOADED: list[Any] = []


@atexit.register
def _close_all() -> None:
    """Free the vocabularies before interpreter shutdown tears down llama_cpp's module globals."""
    _vocab.cache_clear()
    while _LOADED:
        _LOADED.pop().close()


def _has_fim(llm: Any, metadata: dict[str, str]) -> bool:
    if all(key in metadata for key in _FIM_KEYS):
        return True
    llama_cpp = import_llama_cpp()
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    pre = llama_cpp.llama_vocab_fim_pre(vocab)
    suf = llama_cpp.llama_vocab_fim_suf(vocab)
    mid = llama_cpp.llama_vocab_fim_mid(vocab)
    return bool(pre >= 0 and suf >= 0 and mid >= 0)


def read_info(path: str | Path) -> GGUFInfo:
    """Architecture, trained context, chat template and FIM capability of a GGUF file."""
    path = Path(path).expanduser().resolve()
    llm = _vocab(path)
    metadata: dict[str, str] = dict(llm.metadata)
    arch = metadata.get("general.architecture", "unknown")
    try:
        ctx = int(metadata.get(f"{arch}.context_length", "0"))
    except ValueError:
        ctx = 0
    return GGUFInfo(
        path=path,
        architecture=arch,
        name=metadata.get("general.name", path.stem),
        context_length=ctx,
        chat_template=metadata.get("tokenizer.chat_template") or None,
        has_fim=_has_fim(llm, metadata),
        n_vocab=int(llm.n_vocab()),
        size_bytes=path.stat().st_size,
    )


@dataclass(frozen=True)
class FimTokens:
    """The text of a model's fill-in-the-middle tokens (``rep``/``sep``: repo-level context, or "")."""

    pre: str
    suf: str
    mid: str
    rep: str = ""
    sep: str = ""


def fim_tokens(path: str | Path) -> FimTokens | None:
    """The FIM tokens of the model at ``path`` as text, or None when it has none."""
    llama_cpp = import_llama_cpp()

    llm = _vocab(Path(path).expanduser().resolve())
    vocab = llama_cpp.llama_model_get_vocab(llm.model)

    def text(token: int) -> str:
        if token < 0:
            return ""
        raw: bytes | None = llama_cpp.llama_vocab_get_text(vocab, token)
        return raw.decode("utf-8", "replace") if raw else ""

    pre, suf, mid = (text(f(vocab)) for f in (llama_cpp.llama_vocab_fim_pre, llama_cpp.llama_vocab_fim_suf,
                                               llama_cpp.llama_vocab_fim_mid))
    if not (pre and suf and mid):
        return None
    return FimTokens(pre, suf, mid, rep=text(llama_cpp.llama_vocab_fim_rep(vocab)),
                     sep=text(llama_cpp.llama_vocab_fim_sep(vocab)))


class Tokenizer:
    """Exact token counts with the model's own tokenizer (vocabulary only, loaded once per file)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser().resolve()
        self._llm = _vocab(self.path)

    def tokenize(self, text: str) -> list[int]:
        if not text:
            return []
        tokens = self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)
        return [int(t) for t in tokens]

    def count(self, text: str) -> int:
        return len(self.tokenize(text))

    def detokenize(self, tokens: list[int]) -> str:
        data: bytes = self._llm.detokenize(tokens)
        return data.decode("utf-8", errors="replace")
