# Installing like a system tool (issue 19): `cmake --install` into a DESTDIR, the generated
# man page and completions checked against the CLI definitions (tests/cli_docs.py --list).
execute_process(COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/cli_docs.py --list
                OUTPUT_VARIABLE _docs_cases OUTPUT_STRIP_TRAILING_WHITESPACE)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/cli_docs.py)
foreach(_case ${_docs_cases})
  add_test(NAME cli_docs.${_case}
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/cli_docs.py $<TARGET_FILE:exliar>
                   ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR} ${_case})
  set_tests_properties(cli_docs.${_case} PROPERTIES LABELS "install")
endforeach()

# The Debian package: build, lintian, install into a pristine Debian 12 chroot, run, purge
# (tests/package/deb_test.py). Minutes, root, the mirror: labelled e2e too, so the quick
# suite (-LE e2e) leaves it to CI.
add_test(NAME package_deb
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/package/deb_test.py ${PROJECT_SOURCE_DIR}
                 ${PROJECT_BINARY_DIR})
set_tests_properties(package_deb PROPERTIES LABELS "package;e2e" TIMEOUT 3600 RUN_SERIAL ON)
