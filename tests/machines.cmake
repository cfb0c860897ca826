# Fixture machines (tests/machines/README.md): built at build time into
# ${PROJECT_BINARY_DIR}/machines/<name>/, then checked against lspci (the oracle), the JSON
# contract, golden files and the manifests' own expectations. Plus the live host check.
find_package(Python3 REQUIRED COMPONENTS Interpreter)

set(_mdir ${CMAKE_CURRENT_SOURCE_DIR}/machines)
file(GLOB _manifests CONFIGURE_DEPENDS ${_mdir}/*/manifest)
set(EXLIAR_MACHINES "")
set(_outputs "")
foreach(_m ${_manifests})
  get_filename_component(_dir ${_m} DIRECTORY)
  get_filename_component(_name ${_dir} NAME)
  list(APPEND EXLIAR_MACHINES ${_name})
  file(GLOB_RECURSE _files CONFIGURE_DEPENDS ${_dir}/files/*)
  set(_stamp ${PROJECT_BINARY_DIR}/machines/${_name}.stamp)
  add_custom_command(
    OUTPUT ${_stamp}
    COMMAND ${Python3_EXECUTABLE} ${_mdir}/build.py ${_dir} ${PROJECT_BINARY_DIR}/machines/${_name}
    COMMAND ${CMAKE_COMMAND} -E touch ${_stamp}
    DEPENDS ${_m} ${_files} ${_mdir}/build.py ${_mdir}/pci.ids
    COMMENT "Building fixture machine ${_name}"
    VERBATIM)
  list(APPEND _outputs ${_stamp})
endforeach()
add_custom_target(machines ALL DEPENDS ${_outputs})

# python3-jsonschema is Debian's package, so the checks run under the system interpreter.
set(_py /usr/bin/python3)
set(_check ${_mdir}/check_machine.py)
foreach(_name ${EXLIAR_MACHINES})
  set(_root ${PROJECT_BINARY_DIR}/machines/${_name})
  foreach(_kind oracle schema golden expect)
    add_test(NAME machine_${_kind}.${_name}
             COMMAND ${_py} ${_check} ${_kind} $<TARGET_FILE:exliar> ${PROJECT_SOURCE_DIR} ${_root} ${_name})
    set_tests_properties(machine_${_kind}.${_name} PROPERTIES LABELS "machines")
  endforeach()
endforeach()
add_test(NAME machine_live COMMAND ${_py} ${_check} live $<TARGET_FILE:exliar> ${PROJECT_SOURCE_DIR})
set_tests_properties(machine_live PROPERTIES LABELS "machines")

# Bad input (issue 3): each case mutates a copy of z370-ubuntu in a temp dir.
execute_process(COMMAND ${Python3_EXECUTABLE} ${_mdir}/bad_input.py --list
                OUTPUT_VARIABLE _bad_cases OUTPUT_STRIP_TRAILING_WHITESPACE)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_mdir}/bad_input.py)
foreach(_case ${_bad_cases})
  add_test(NAME bad_input.${_case}
           COMMAND ${_py} ${_mdir}/bad_input.py $<TARGET_FILE:exliar>
                   ${PROJECT_BINARY_DIR}/machines/z370-ubuntu ${_case})
  set_tests_properties(bad_input.${_case} PROPERTIES LABELS "machines")
endforeach()

add_test(NAME machine_builder_selftest COMMAND ${Python3_EXECUTABLE} ${_mdir}/build.py --selftest)
set_tests_properties(machine_builder_selftest PROPERTIES LABELS "machines")
