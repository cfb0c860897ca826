# `exliar snapshot` round trip on every fixture machine (tests/snapshot_roundtrip.py):
# snapshot --root MACHINE, unpack, and detect --json / check --json must be identical.
foreach(_name ${EXLIAR_MACHINES})
  add_test(NAME snapshot_roundtrip.${_name}
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/snapshot_roundtrip.py
                   $<TARGET_FILE:exliar> ${PROJECT_BINARY_DIR}/machines/${_name})
  set_tests_properties(snapshot_roundtrip.${_name} PROPERTIES LABELS "machines")
endforeach()

# The static binary (scripts/build-static.sh, a second build tree): not dynamic, runs in a
# chroot holding nothing but itself and a fixture machine, passes every fixture golden.
add_test(NAME static_build
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/static_test.sh ${PROJECT_SOURCE_DIR}
                 ${PROJECT_BINARY_DIR} ${EXLIAR_MACHINES})
set_tests_properties(static_build PROPERTIES LABELS "static;e2e" TIMEOUT 3600 RUN_SERIAL ON)
