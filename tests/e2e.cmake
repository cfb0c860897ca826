# End-to-end tests: Debian's kernel under QEMU (TCG) with an emulated Intel IOMMU.
# See tests/e2e/lab.py. `e2e_kernel` downloads the kernel once into the build tree (a
# fixture every scenario requires); each scenario is one boot of at most a minute.
# A missing QEMU or busybox-static fails these tests: it is never a skip.
find_package(Python3 REQUIRED COMPONENTS Interpreter)

set(EXLIAR_E2E_CACHE ${PROJECT_BINARY_DIR}/e2e-cache)
set(EXLIAR_E2E_LAB ${CMAKE_CURRENT_SOURCE_DIR}/e2e/lab.py)

add_test(NAME e2e_kernel COMMAND Python3::Interpreter ${EXLIAR_E2E_LAB} --cache ${EXLIAR_E2E_CACHE} fetch)
set_tests_properties(e2e_kernel PROPERTIES FIXTURES_SETUP e2e_kernel TIMEOUT 600 LABELS e2e)

# Scenarios: tests/e2e/scenarios/<name>.sh runs in the guest, checks.py judges on the host.
set(EXLIAR_E2E_SCENARIOS detect no_iommu)
# Scenarios of verbs still being written join once the verb's cmd_<verb>.cpp exists (the
# house convention, see cli/cmd_pending.cpp); until then no_iommu notes them as skipped.
if(EXISTS ${PROJECT_SOURCE_DIR}/src/cli/cmd_bind.cpp)
  list(APPEND EXLIAR_E2E_SCENARIOS bind_unbind bind_nodriver refusals)
endif()
if(EXISTS ${PROJECT_SOURCE_DIR}/src/cli/cmd_rollback.cpp AND EXISTS ${PROJECT_SOURCE_DIR}/src/cli/cmd_plan.cpp)
  list(APPEND EXLIAR_E2E_SCENARIOS apply_rollback)  # run_apply lives in cmd_plan.cpp
endif()

if(EXISTS ${PROJECT_SOURCE_DIR}/src/cli/cmd_vm_hook.cpp)
  list(APPEND EXLIAR_E2E_SCENARIOS vm_single_gpu vm_secondary vm_prepare_fails)  # issue 20
endif()
if(EXISTS ${PROJECT_SOURCE_DIR}/src/cli/cmd_test.cpp)
  list(APPEND EXLIAR_E2E_SCENARIOS vfio_test)  # issue 21
endif()

foreach(s ${EXLIAR_E2E_SCENARIOS})
  add_test(NAME e2e_${s}
           COMMAND Python3::Interpreter ${EXLIAR_E2E_LAB} --cache ${EXLIAR_E2E_CACHE} run
                   --exliar $<TARGET_FILE:exliar> --scenario ${s}
                   --work ${CMAKE_CURRENT_BINARY_DIR}/e2e/${s} --timeout 55)
  # The guest gets 55 s; ctest's is the backstop if the lab itself hangs.
  set_tests_properties(e2e_${s} PROPERTIES FIXTURES_REQUIRED e2e_kernel TIMEOUT 60 LABELS e2e
                       RESOURCE_LOCK e2e_qemu)
endforeach()

# The host-side judges on recorded guest output (no QEMU needed): each corruption must fail.
add_test(NAME e2e_selftest COMMAND Python3::Interpreter ${CMAKE_CURRENT_SOURCE_DIR}/e2e/selftest.py)
set_tests_properties(e2e_selftest PROPERTIES TIMEOUT 60 LABELS e2e)
