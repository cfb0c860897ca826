# test_vm reads the fixture machines (tests/machines/*) built by the `machines` target.
if(TARGET machines AND TARGET test_vm)
  add_dependencies(test_vm machines)
endif()
