"""Which x86 instruction sets the llama.cpp build compiles for.

The build is native (``-march=native``: everything the CPU reports) except on CPUs that report
AMX (Sapphire Rapids and newer Xeons). There ggml's AMX kernels run tile instructions on worker
threads that the Linux kernel has not given the AMX state (XFD), and llama-server dies with an
illegal instruction as soon as it evaluates a prompt (llama.cpp pull request 26954, open). On
those CPUs the build names each instruction set the CPU reports, as ggml's own options
(``GGML_AVX512`` ...), and leaves AMX out: the same kernels as a native build, without the ones
that crash.
"""

from __future__ import annotations

import functools
import platform
import sys
from pathlib import Path

__all__ = ["instruction_set_flags"]

CPUINFO = Path("/proc/cpuinfo")
_AMX = frozenset({"amx_tile", "amx_int8", "amx_bf16"})
# ggml option -> the /proc/cpuinfo flags it needs (all of them)
_OPTIONS: tuple[tuple[str, frozenset[str]], ...] = (
    ("GGML_SSE42", frozenset({"sse4_2"})),
    ("GGML_AVX", frozenset({"avx"})),
    ("GGML_AVX2", frozenset({"avx2"})),
    ("GGML_FMA", frozenset({"fma"})),
    ("GGML_F16C", frozenset({"f16c"})),
    ("GGML_BMI2", frozenset({"bmi2"})),
    ("GGML_AVX_VNNI", frozenset({"avx_vnni"})),
    ("GGML_AVX512", frozenset({"avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw"})),
    ("GGML_AVX512_VBMI", frozenset({"avx512vbmi"})),
    ("GGML_AVX512_VNNI", frozenset({"avx512_vnni"})),
    ("GGML_AVX512_BF16", frozenset({"avx512_bf16"})),
)


def cpu_flags(cpuinfo: str) -> frozenset[str]:
    """The feature flags of the first processor in a ``/proc/cpuinfo`` text."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return frozenset(value.split())
    return frozenset()


def flags_for(flags: frozenset[str]) -> tuple[str, ...]:
    """The cmake options for a CPU with these flags: none (native) unless it reports AMX."""
    if not flags & _AMX:
        return ()
    options = ["-DGGML_NATIVE=OFF"]
    options += [f"-D{name}={'ON' if needs <= flags else 'OFF'}" for name, needs in _OPTIONS]
    options += ["-DGGML_AMX_TILE=OFF", "-DGGML_AMX_INT8=OFF", "-DGGML_AMX_BF16=OFF"]
    return tuple(options)


@functools.cache
def instruction_set_flags() -> tuple[str, ...]:
    """This machine's instruction-set options (Linux on x86-64 reads ``/proc/cpuinfo``, once:
    every stamp check of the cached build asks)."""
    if not sys.platform.startswith("linux") or platform.machine().lower() not in {"x86_64", "amd64"}:
        return ()
    try:
        text = CPUINFO.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ()
    return flags_for(cpu_flags(text))
