# The guided CLI (issue 18): recommendation, next steps, progress, help, did-you-mean, JSON
# errors and exit codes, on the fixture machines (tests/guided_cli.py --list names the cases).
execute_process(COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/guided_cli.py --list
                OUTPUT_VARIABLE _guided_cases OUTPUT_STRIP_TRAILING_WHITESPACE)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/guided_cli.py)
foreach(_case ${_guided_cases})
  add_test(NAME guided_cli.${_case}
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/guided_cli.py $<TARGET_FILE:exliar>
                   ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/machines ${_case})
  set_tests_properties(guided_cli.${_case} PROPERTIES LABELS "machines")
endforeach()

# The terminal UI driven in tmux (tests/tui_tmux.py): golden screens on three machines, the
# walk apply -> rollback with the tree restored, q from every screen, a resize.
find_program(TMUX_EXECUTABLE tmux REQUIRED)
execute_process(COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/tui_tmux.py --list
                OUTPUT_VARIABLE _tui_cases OUTPUT_STRIP_TRAILING_WHITESPACE)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/tui_tmux.py)
foreach(_case ${_tui_cases})
  add_test(NAME tui.${_case}
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/tui_tmux.py $<TARGET_FILE:exliar>
                   ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/machines ${_case})
  set_tests_properties(tui.${_case} PROPERTIES LABELS "machines" TIMEOUT 300)
endforeach()
