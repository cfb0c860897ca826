# Scenario "detect": exliar's inventory equals the kernel's own view of the same guest.
# The guest only captures both; checks.py compares them (devices, drivers, groups,
# boot_vga, parents) and asserts the GPU grouping of the lab's devices.
run detect exliar detect --json
expect_rc detect 0
syswalk >/tmp/syswalk.txt
emit syswalk /tmp/syswalk.txt
