# The user's journey on a real Debian 12 system under QEMU (TCG), through real reboots:
# tests/realos/journey.py. The disks are built once from the host's apt mirror and cached
# in the build tree (realos-cache, keyed by their inputs; image.py holds a lock per stack,
# so tests of one stack wait for its single build). Every test copies the cached disk,
# so under `ctest -j2` two run side by side: each guest is mostly one busy vCPU.
# They start only after the initramfs e2e tests (DEPENDS orders, it does not require a
# pass): those give their guests under a minute and must not share the cores with these.
find_package(Python3 REQUIRED COMPONENTS Interpreter)

set(EXLIAR_REALOS ${CMAKE_CURRENT_SOURCE_DIR}/realos/journey.py)
set(EXLIAR_REALOS_CACHE ${PROJECT_BINARY_DIR}/realos-cache)
set(EXLIAR_REALOS_AFTER e2e_selftest)
foreach(s ${EXLIAR_E2E_SCENARIOS})
  list(APPEND EXLIAR_REALOS_AFTER e2e_${s})
endforeach()

# realos_<name> STACK ARGS...: one journey.
function(exliar_realos name stack)
  add_test(NAME realos_${name}
           COMMAND Python3::Interpreter ${EXLIAR_REALOS} --cache ${EXLIAR_REALOS_CACHE}
                   --stack ${stack} --build-dir ${PROJECT_BINARY_DIR}
                   --work ${CMAKE_CURRENT_BINARY_DIR}/realos/${name} ${ARGN})
  # A cold run builds the disk first (debootstrap + setup boot); the figures are in
  # the issue note. ctest's timeout is the backstop, journey.py times each boot.
  set_tests_properties(realos_${name} PROPERTIES LABELS realos TIMEOUT 3000
                       DEPENDS "${EXLIAR_REALOS_AFTER}")
endfunction()

# Stack A: GRUB + initramfs-tools, no systemd (init= script), the driverless ati-vga.
exliar_realos(grub grub --gpu ati)
# The lab's own test: a deliberately broken exliar (GRUB's regeneration is `true`) must
# make the journey fail, at boot1's command line check.
exliar_realos(grub_broken grub --gpu ati --broken update-grub --expect-fail lacks)

# The judges on a recorded journey, with corruptions (no QEMU).
add_test(NAME realos_selftest COMMAND Python3::Interpreter ${CMAKE_CURRENT_SOURCE_DIR}/realos/selftest.py)
set_tests_properties(realos_selftest PROPERTIES TIMEOUT 60 LABELS realos)
