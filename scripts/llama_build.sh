# Sourced by serve.sh and test.sh: how pip builds llama-cpp-python from source.
#
# llama.cpp's default build (GGML_NATIVE) compiles for every feature the CPU reports, Intel AMX
# included, and ggml's AMX kernels die with SIGILL ("invalid opcode" at tileloadd, in
# libggml-cpu.so) on the first message on some virtual machines whose Xeon reports amx_tile:
# seen on a Firecracker VM (kernel 6.18) where a plain AMX program runs fine. The service then
# loses a worker on every request. So on x86-64 we build for this CPU's features one by one,
# AMX left out; elsewhere llama.cpp's default stands. A CMAKE_ARGS already set is left alone.
#
# pip keeps a wheel it built in its cache and reuses it whatever CMAKE_ARGS says: after a build
# with other flags, `python -m pip cache remove llama_cpp_python` makes the next install build.
# (tests/test_llama_build.py reads another CPU's flags through LLAMA_BUILD_CPUINFO.)
cpuinfo=${LLAMA_BUILD_CPUINFO:-/proc/cpuinfo}
if [ -z "${CMAKE_ARGS:-}" ] && [ "$(uname -m)" = x86_64 ] && [ -r "$cpuinfo" ]; then
  cpu_flags=" $(grep -m1 '^flags' "$cpuinfo" | cut -d: -f2 || true) "
  ggml_option() { # ggml_option OPTION cpuinfo-flag...: ON when the CPU has every flag
    local flag
    for flag in "${@:2}"; do
      [[ "$cpu_flags" == *" $flag "* ]] || { printf ' -D%s=OFF' "$1"; return; }
    done
    printf ' -D%s=ON' "$1"
  }
  CMAKE_ARGS="-DGGML_NATIVE=OFF$(ggml_option GGML_SSE42 sse4_2)$(ggml_option GGML_AVX avx)"
  CMAKE_ARGS+="$(ggml_option GGML_AVX2 avx2)$(ggml_option GGML_FMA fma)$(ggml_option GGML_F16C f16c)"
  CMAKE_ARGS+="$(ggml_option GGML_BMI2 bmi2)$(ggml_option GGML_AVX_VNNI avx_vnni)"
  CMAKE_ARGS+="$(ggml_option GGML_AVX512 avx512f avx512cd avx512vl avx512dq avx512bw)"
  CMAKE_ARGS+="$(ggml_option GGML_AVX512_VBMI avx512vbmi)$(ggml_option GGML_AVX512_VNNI avx512_vnni)"
  CMAKE_ARGS+="$(ggml_option GGML_AVX512_BF16 avx512_bf16)"
  CMAKE_ARGS+=" -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
  export CMAKE_ARGS
  unset cpu_flags
  unset -f ggml_option
fi
unset cpuinfo
