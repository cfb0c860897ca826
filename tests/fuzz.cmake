# libFuzzer harnesses, run for a bounded time by fuzz/run.sh in its own clang build
# (build dir: <build>/fuzz-build). Add a harness to fuzz/CMakeLists.txt (exliar_fuzzer)
# and its name to EXLIAR_FUZZERS here. Skipped (exit 77) where clang is missing.
set(EXLIAR_FUZZERS fuzz_vbios fuzz_boot_cmdline fuzz_boot_grub fuzz_boot_loader_entry
    fuzz_boot_kernel_cmdline fuzz_boot_kernelstub)
set(EXLIAR_FUZZ_SECONDS 30 CACHE STRING "Seconds each libFuzzer harness runs under ctest")
if(NOT EXLIAR_FUZZ)
  list(JOIN EXLIAR_FUZZERS " " _fuzzers)
  add_test(NAME fuzz COMMAND ${PROJECT_SOURCE_DIR}/fuzz/run.sh ${PROJECT_BINARY_DIR}/fuzz-build)
  list(LENGTH EXLIAR_FUZZERS _n)
  math(EXPR _timeout "${_n} * (${EXLIAR_FUZZ_SECONDS} + 30) + 900")
  set_tests_properties(fuzz PROPERTIES LABELS fuzz SKIP_RETURN_CODE 77 TIMEOUT ${_timeout}
    ENVIRONMENT "FUZZ_SECONDS=${EXLIAR_FUZZ_SECONDS};FUZZERS=${_fuzzers}" RUN_SERIAL TRUE)
endif()
