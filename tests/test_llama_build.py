"""How scripts/llama_build.sh has pip build llama-cpp-python: this CPU's features, never AMX.

A native build dies with SIGILL in ggml's AMX kernels on the first message on some virtual
machines whose Xeon reports AMX (tileloadd, "invalid opcode" in libggml-cpu.so).
"""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

import llama_cpp
import pytest

ROOT = Path(__file__).resolve().parent.parent
SAPPHIRE_RAPIDS = (
    "fpu sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c bmi1 avx2 bmi2 avx512f avx512dq avx512cd "
    "avx512bw avx512vl avx512vbmi avx512_vnni avx512_bf16 avx_vnni amx_bf16 amx_tile amx_int8"
)
OLD_XEON = "fpu sse sse2 ssse3 sse4_1 sse4_2 avx"  # Sandy Bridge: AVX, no AVX2, no FMA


def cmake_args(tmp_path: Path, flags: str, **env: str) -> set[str]:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n\nprocessor\t: 1\nflags\t\t: x\n")
    environ = {k: v for k, v in os.environ.items() if k != "CMAKE_ARGS"}
    out = subprocess.run(
        ["bash", "-c", '. scripts/llama_build.sh; printf %s "${CMAKE_ARGS:-}"'],
        cwd=ROOT,
        env={**environ, "LLAMA_BUILD_CPUINFO": str(cpuinfo), **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return set(out.stdout.split())


pytestmark = pytest.mark.skipif(platform.machine() != "x86_64", reason="x86-64 build flags")


def test_a_cpu_with_amx_gets_its_avx512_but_not_amx(tmp_path: Path) -> None:
    args = cmake_args(tmp_path, SAPPHIRE_RAPIDS)
    assert "-DGGML_NATIVE=OFF" in args
    assert {"-DGGML_AVX2=ON", "-DGGML_AVX512=ON", "-DGGML_AVX512_VNNI=ON"} <= args
    assert {"-DGGML_AMX_TILE=OFF", "-DGGML_AMX_INT8=OFF", "-DGGML_AMX_BF16=OFF"} <= args
    assert not any("AMX" in a and a.endswith("=ON") for a in args)


def test_an_older_cpu_gets_no_instruction_it_lacks(tmp_path: Path) -> None:
    args = cmake_args(tmp_path, OLD_XEON)
    assert {"-DGGML_AVX=ON", "-DGGML_SSE42=ON"} <= args
    assert {"-DGGML_AVX2=OFF", "-DGGML_FMA=OFF", "-DGGML_F16C=OFF", "-DGGML_AVX512=OFF"} <= args


def test_cmake_args_the_operator_set_are_kept(tmp_path: Path) -> None:
    assert cmake_args(tmp_path, SAPPHIRE_RAPIDS, CMAKE_ARGS="-DGGML_NATIVE=ON") == {
        "-DGGML_NATIVE=ON"
    }


def test_the_installed_llama_cpp_has_no_amx() -> None:
    # What the test command just built (or pip reused from its cache: see llama_build.sh).
    info = llama_cpp.llama_print_system_info().decode()
    assert "CPU :" in info
    assert "AMX" not in info, info
