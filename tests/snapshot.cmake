# `exliar snapshot` round trip on every fixture machine (tests/snapshot_roundtrip.py):
# snapshot --root MACHINE, unpack, and detect --json / check --json must be identical.
foreach(_name ${EXLIAR_MACHINES})
  add_test(NAME snapshot_roundtrip.${_name}
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/snapshot_roundtrip.py
                   $<TARGET_FILE:exliar> ${PROJECT_BINARY_DIR}/machines/${_name})
  set_tests_properties(snapshot_roundtrip.${_name} PROPERTIES LABELS "machines")
endforeach()

# The static binary (scripts/build-static.sh, tests/static_test.sh) does not build yet: it
# fails compiling against Debian 12's libraries (issue 19, left out). Not registered, so
# that it is not mistaken for a delivered feature; run tests/static_test.sh by hand.
