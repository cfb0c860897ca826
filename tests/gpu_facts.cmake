# GPU database facts fixed in issue 17 (the gpu-db audit): a fixture GPU per fixed fact,
# asserting `exliar check` and `exliar vm-xml`; and the generated ID tables are up to date.
execute_process(COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/gpu_facts.py --list
                OUTPUT_VARIABLE _gpu_fact_cases OUTPUT_STRIP_TRAILING_WHITESPACE)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/gpu_facts.py)
foreach(_case ${_gpu_fact_cases})
  add_test(NAME gpu_facts.${_case}
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/gpu_facts.py $<TARGET_FILE:exliar>
                   ${PROJECT_BINARY_DIR}/machines/z370-ubuntu ${_case})
  set_tests_properties(gpu_facts.${_case} PROPERTIES LABELS "machines")
endforeach()
add_test(NAME gpu_ids_generated
         COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tools/gen_gpu_ids.py --check ${PROJECT_SOURCE_DIR})
