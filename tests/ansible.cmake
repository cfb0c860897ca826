# Fleet test (issue 22): contrib/ansible's module, facts, role and report playbook run by
# Debian's ansible-playbook against 8 copies of the fixture machines (--root), forks 8.
add_test(NAME ansible_fleet
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/ansible/fleet.py
                 $<TARGET_FILE:exliar> ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/machines
                 ${PROJECT_BINARY_DIR}/ansible-fleet)
set_tests_properties(ansible_fleet PROPERTIES LABELS "ansible" TIMEOUT 900)
