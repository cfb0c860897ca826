# `exliar snapshot` round trip on every fixture machine (tests/snapshot_roundtrip.py):
# snapshot --root MACHINE, unpack, and detect --json / check --json must be identical.
foreach(_name ${EXLIAR_MACHINES})
  add_test(NAME snapshot_roundtrip.${_name}
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/snapshot_roundtrip.py
                   $<TARGET_FILE:exliar> ${PROJECT_BINARY_DIR}/machines/${_name})
  set_tests_properties(snapshot_roundtrip.${_name} PROPERTIES LABELS "machines")
endforeach()

# The static binary (issue 19): scripts/build-static.sh into build/static, `ldd` says it is
# not dynamic, it runs in a chroot holding only itself and a fixture machine (detect --json
# identical to this build's), and it passes every machine's goldens. Here, not in
# install.cmake: it needs EXLIAR_MACHINES, which machines.cmake (read before this) sets. A Release build of its
# own (about 5 min on 2 cores cold): labelled e2e, so the quick suite leaves it to CI.
add_test(NAME static_binary
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/static_test.sh ${PROJECT_SOURCE_DIR}
                 ${PROJECT_BINARY_DIR} ${EXLIAR_MACHINES})
set_tests_properties(static_binary PROPERTIES LABELS "package;e2e" TIMEOUT 1800 RUN_SERIAL ON)
