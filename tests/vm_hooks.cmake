# Dynamic passthrough on fixture copies (issue 20): tests/vm_hooks/check_vm_hooks.py.
set(_vmh ${CMAKE_CURRENT_SOURCE_DIR}/vm_hooks/check_vm_hooks.py)
execute_process(COMMAND /usr/bin/python3 ${_vmh} --list OUTPUT_VARIABLE _vmh_cases
                OUTPUT_STRIP_TRAILING_WHITESPACE)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_vmh})
foreach(_case ${_vmh_cases})
  add_test(NAME vm_hooks.${_case}
           COMMAND /usr/bin/python3 ${_vmh} $<TARGET_FILE:exliar> ${PROJECT_BINARY_DIR}/machines ${_case})
  set_tests_properties(vm_hooks.${_case} PROPERTIES LABELS "machines")
endforeach()
