# The `sanitize` label (issue 14): the unit tests and the fixture-machine checks again,
# against a second build tree compiled with -fsanitize=address,undefined. A setup test
# (fixture "sanitize") configures and builds that tree, so the normal build stays as
# fast as before; the tests below require it. Recoverable UBSan reports are made fatal; leak checking is
# off (forked plugin processes end with _exit, and LeakSanitizer needs ptrace, which
# containers often forbid).
if(EXLIAR_SANITIZED_TREE)
  return()  # the sanitized tree itself: no tests of tests
endif()
option(EXLIAR_SANITIZE_TESTS "Add the ASan/UBSan tests (label sanitize)" ON)
if(NOT EXLIAR_SANITIZE_TESTS)
  return()
endif()

set(_sdir ${PROJECT_BINARY_DIR}/sanitize)
# Unit binaries of the parsers, editors, plugin host and planner, which read untrusted
# text and plugin memory (ASan found the plugin loader reading past an error buffer).
# state is the transaction engine (journal parsing, rollback, crash recovery at every kill
# point): ~32 s unsanitized. Left out to fit CI's time: gpu, vm (pugixml/VBIOS parsing,
# fuzzed separately). CPU cost measured: ~6.5 s per sanitized object (-O1) against ~5.5 s
# at -O2; see the issue 14 notes for the totals.
set(_san_units host probe boot modules analyze plugin plan state)
set(_san_targets exliar machines)
foreach(m ${_san_units})
  if(TARGET test_${m})
    list(APPEND _san_targets test_${m})
  endif()
endforeach()
foreach(p annotate_veto bad_abi no_symbol crash_on_bind misbehave crash_on_load)
  if(TARGET plugin_${p})
    list(APPEND _san_targets plugin_${p})
  endif()
endforeach()

add_test(NAME sanitize_build
         COMMAND ${PROJECT_SOURCE_DIR}/scripts/sanitize-build.sh ${PROJECT_SOURCE_DIR} ${_sdir}
                 ${_san_targets})
set_tests_properties(sanitize_build PROPERTIES FIXTURES_SETUP sanitize LABELS sanitize
                     TIMEOUT 3600 RUN_SERIAL TRUE)

# handle_segv=0: the plugin tests crash a plugin on purpose and assert that its child dies
# by SIGSEGV; ASan's own SEGV handler would turn that into "exit status 1". Memory errors
# are still caught by the instrumentation, and a real SEGV still fails the test.
set(_san_env
    "ASAN_OPTIONS=detect_leaks=0:abort_on_error=0:halt_on_error=1:detect_stack_use_after_return=0:handle_segv=0"
    "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
foreach(t ${_san_targets})
  if(NOT t MATCHES "^test_")
    continue()
  endif()
  add_test(NAME sanitize.${t} COMMAND ${_sdir}/tests/${t} --gtest_brief=1)
  set_tests_properties(sanitize.${t} PROPERTIES FIXTURES_REQUIRED sanitize LABELS sanitize
                       ENVIRONMENT "${_san_env}" TIMEOUT 900)
endforeach()

# Fixture machines through the sanitized binary: every check of every machine (the roots
# are the ones the normal build made; they do not depend on compiler flags).
foreach(_name ${EXLIAR_MACHINES})
  foreach(_kind oracle schema golden expect)
    add_test(NAME sanitize.machine_${_kind}.${_name}
             COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/machines/check_machine.py
                     ${_kind} ${_sdir}/exliar ${PROJECT_SOURCE_DIR}
                     ${PROJECT_BINARY_DIR}/machines/${_name} ${_name})
    set_tests_properties(sanitize.machine_${_kind}.${_name} PROPERTIES
                         FIXTURES_REQUIRED sanitize LABELS sanitize ENVIRONMENT "${_san_env}")
  endforeach()
endforeach()
foreach(_case ${_bad_cases})
  add_test(NAME sanitize.bad_input.${_case}
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/machines/bad_input.py
                   ${_sdir}/exliar ${PROJECT_BINARY_DIR}/machines/z370-ubuntu ${_case})
  set_tests_properties(sanitize.bad_input.${_case} PROPERTIES
                       FIXTURES_REQUIRED sanitize LABELS sanitize ENVIRONMENT "${_san_env}")
endforeach()
