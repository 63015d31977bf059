"""Reading GGUF metadata and tokenizing in-process with llama-cpp-python (vocabulary only)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from codeassist.runtime import gguf
from tests.support.llama import LlamaServerInfo

# Loads the vocabulary in a worker thread while the main thread writes numbered lines to
# stdout, as the language server writes protocol messages while the completion engine loads
# the tokenizer. Every line must arrive: stdout is the protocol.
WRITER = textwrap.dedent("""
    import sys, threading
    from codeassist.runtime import gguf

    loaded = threading.Event()
    def load():
        gguf.Tokenizer(sys.argv[1])
        loaded.set()
    threading.Thread(target=load).start()
    n = 0
    while not loaded.is_set() or n < 50:
        sys.stdout.buffer.write(b"line %d\\n" % n)
        sys.stdout.buffer.flush()
        n += 1
    print("wrote", n)
""")


def test_loading_a_vocabulary_leaves_stdout_and_stderr_alone(llama_server: LlamaServerInfo) -> None:
    run = subprocess.run([sys.executable, "-c", WRITER, str(llama_server.model)],
                         capture_output=True, timeout=120, check=True)
    lines = run.stdout.decode().splitlines()
    wrote = int(lines[-1].split()[1])
    assert lines[:-1] == [f"line {i}" for i in range(wrote)]  # none lost, none garbled
    assert run.stderr == b""  # llama.cpp's own chatter goes to logging, not the terminal


def test_metadata_and_exact_token_counts(llama_server: LlamaServerInfo) -> None:
    info = gguf.read_info(llama_server.model)
    assert info.architecture == "gemma3"
    assert info.context_length > 0
    assert info.has_fim is False  # Gemma has no fill-in-the-middle tokens
    tokenizer = gguf.Tokenizer(llama_server.model)
    tokens = tokenizer.tokenize("def area(radius):")
    assert 0 < len(tokens) < len("def area(radius):")
    assert tokenizer.detokenize(tokens) == "def area(radius):"


LIBRARY_PROBE = textwrap.dedent("""
    import sys
    from codeassist.runtime import gguf
    gguf.Tokenizer(sys.argv[1]).count("def main():")
    print([ln.split()[-1] for ln in open("/proc/self/maps") if "libllama" in ln][0])
""")


def test_the_tokenizer_runs_on_the_libllama_built_with_the_server(llama_server: LlamaServerInfo) -> None:
    """llama.cpp is compiled once: llama-cpp-python loads the library of the server's build."""
    run = subprocess.run([sys.executable, "-c", LIBRARY_PROBE, str(llama_server.model)],
                         capture_output=True, text=True, timeout=120, check=True)
    loaded = run.stdout.strip().splitlines()[-1]
    assert loaded.startswith(str(llama_server.binary.parent)), loaded
