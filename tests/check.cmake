# Golden `exliar check` (text + JSON, schema-validated) on every fixture machine, plus the
# live build host. EXLIAR_UPDATE_GOLDEN=1 ctest -R check_golden rewrites the goldens.
# check.cmake is included before machines.cmake (sorted glob), so list the machines here.
file(GLOB _check_manifests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/machines/*/manifest)
foreach(_m ${_check_manifests})
  get_filename_component(_dir ${_m} DIRECTORY)
  get_filename_component(_name ${_dir} NAME)
  add_test(NAME check_golden.${_name}
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/check_golden.py $<TARGET_FILE:exliar>
                   ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/machines/${_name} ${_name})
  set_tests_properties(check_golden.${_name} PROPERTIES LABELS "machines")
endforeach()
add_test(NAME check_golden_live
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/check_golden.py live $<TARGET_FILE:exliar>
                 ${PROJECT_SOURCE_DIR})
set_tests_properties(check_golden_live PROPERTIES LABELS "machines")
