"""The build's instruction sets: native, except AMX CPUs, where AMX stays out."""

from __future__ import annotations

from codeassist.runtime import cpu_flags

SAPPHIRE_RAPIDS = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Processor
flags\t\t: fpu sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c bmi2 avx2 avx512f avx512dq avx512cd \
avx512bw avx512vl avx_vnni avx512_bf16 avx512vbmi avx512_vnni amx_bf16 avx512_fp16 amx_tile amx_int8
"""
ZEN3 = "processor\t: 0\nflags\t\t: fpu sse4_2 avx f16c fma bmi2 avx2\n"


def test_a_cpu_without_amx_builds_native() -> None:
    assert cpu_flags.flags_for(cpu_flags.cpu_flags(ZEN3)) == ()
    assert cpu_flags.flags_for(frozenset()) == ()


def test_an_amx_cpu_gets_its_instruction_sets_without_amx() -> None:
    flags = cpu_flags.flags_for(cpu_flags.cpu_flags(SAPPHIRE_RAPIDS))
    assert flags[0] == "-DGGML_NATIVE=OFF"
    on = {f[2:-3] for f in flags if f.endswith("=ON")}
    assert on == {"GGML_SSE42", "GGML_AVX", "GGML_AVX2", "GGML_FMA", "GGML_F16C", "GGML_BMI2",
                  "GGML_AVX_VNNI", "GGML_AVX512", "GGML_AVX512_VBMI", "GGML_AVX512_VNNI",
                  "GGML_AVX512_BF16"}
    assert {"-DGGML_AMX_TILE=OFF", "-DGGML_AMX_INT8=OFF", "-DGGML_AMX_BF16=OFF"} <= set(flags)


def test_avx512_needs_all_five_foundation_sets() -> None:
    partial = frozenset({"avx2", "avx512f", "avx512cd", "amx_tile"})  # no vl/dq/bw
    assert "-DGGML_AVX512=OFF" in cpu_flags.flags_for(partial)


def test_this_machine_has_a_consistent_answer() -> None:
    flags = cpu_flags.instruction_set_flags()
    try:
        text = cpu_flags.CPUINFO.read_text()
    except OSError:
        text = ""
    has_amx = "amx_tile" in cpu_flags.cpu_flags(text)
    assert ("-DGGML_NATIVE=OFF" in flags) == has_amx
