#!/usr/bin/python3
"""Bad input gets a clear error, never a crash (issue 3).

Each case copies a built fixture machine into a temp dir, breaks one thing, runs
`exliar --root COPY detect --json` and asserts: no crash (no signal, no sanitizer report),
the expected exit code (3 for an unusable --root, 0 otherwise), that stderr names the
offending file, that stdout is still one valid JSON document, and what the inventory shows.

usage: bad_input.py EXLIAR MACHINE_ROOT [CASE...]
       bad_input.py --list      (case names, ';'-separated, for CMake)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

DEV = "0000:01:00.0"  # the GT 1030 of z370-ubuntu
DEV_DIR = "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0"
HOST_DEV = None  # a real /sys device of this host, used as an escape target


def host_device():
    try:
        for n in sorted(os.listdir("/sys/bus/pci/devices")):
            return os.path.realpath(os.path.join("/sys/bus/pci/devices", n)), n
    except OSError:
        pass
    return "/sys/devices/pci0000:00/0000:00:00.0", "0000:00:00.0"


def put(root, rel, data, mode="w"):
    p = os.path.join(root, rel)
    if os.path.lexists(p) and not os.path.isdir(p):
        os.remove(p)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, mode) as f:
        f.write(data)


def relink(root, rel, target):
    p = os.path.join(root, rel)
    if os.path.lexists(p):
        os.remove(p)
    os.symlink(target, p)


def rm(root, rel):
    p = os.path.join(root, rel)
    if os.path.isdir(p) and not os.path.islink(p):
        shutil.rmtree(p)
    else:
        os.remove(p)


def devices(j):
    return {d["address"]: d for d in j["devices"]}


# name -> (mutation(root), expected exit, substrings stderr must contain, check(json) or None)
# A mutation may return a replacement --root argument (for the --root cases).
def cases():
    host_path, host_name = host_device()
    c = {}

    def case(name, exit_code, must_name, check=None):
        def deco(fn):
            c[name] = (fn, exit_code, must_name, check)
            return fn
        return deco

    @case("root_missing", 3, ["does-not-exist"])
    def _(root):
        return os.path.join(root, "does-not-exist")

    @case("root_is_file", 3, ["proc/cmdline"])
    def _(root):
        return os.path.join(root, "proc/cmdline")

    @case("vendor_missing", 0, [DEV, "vendor"], lambda j: DEV not in devices(j))
    def _(root):
        rm(root, f"{DEV_DIR}/vendor")

    @case("class_empty", 0, [DEV, "class"], lambda j: DEV not in devices(j))
    def _(root):
        put(root, f"{DEV_DIR}/class", "")

    @case("device_not_hex", 0, [DEV, "device"], lambda j: DEV not in devices(j))
    def _(root):
        put(root, f"{DEV_DIR}/device", "0xZZ01\n")

    @case("vendor_too_wide", 0, [DEV, "vendor"], lambda j: DEV not in devices(j))
    def _(root):
        put(root, f"{DEV_DIR}/vendor", "0x10de10de\n")

    @case("class_binary_junk", 0, [DEV, "class"], lambda j: DEV not in devices(j))
    def _(root):
        put(root, f"{DEV_DIR}/class", b"\x00\xff\xfe\n", "wb")

    @case("revision_not_hex", 0, [DEV, "revision"],
          lambda j: devices(j)[DEV].get("revision") is None and devices(j)[DEV]["vendor_id"] == "10de")
    def _(root):
        put(root, f"{DEV_DIR}/revision", "rev a1\n")

    @case("bus_link_dangling", 0, ["sys/bus/pci/devices/0000:05:00.0"],
          lambda j: "0000:05:00.0" not in devices(j) and len(j["devices"]) == 20)
    def _(root):
        rm(root, "sys/devices/pci0000:00/0000:00:1d.0/0000:05:00.0")

    @case("bus_link_absolute_escape", 0, ["sys/bus/pci/devices/0000:05:00.0"],
          lambda j: "0000:05:00.0" not in devices(j) and len(j["devices"]) == 20)
    def _(root):
        # An absolute target names the HOST's /sys: following it would leak the host's device.
        relink(root, "sys/bus/pci/devices/0000:05:00.0", host_path)

    @case("bus_link_dotdot_escape", 0, ["sys/bus/pci/devices/0000:05:00.0"],
          lambda j: "0000:05:00.0" not in devices(j) and len(j["devices"]) == 20)
    def _(root):
        relink(root, "sys/bus/pci/devices/0000:05:00.0", "../" * 40 + host_path.lstrip("/"))

    @case("bus_link_loop", 0, ["sys/bus/pci/devices/0000:05:00.0"],
          lambda j: "0000:05:00.0" not in devices(j))
    def _(root):
        relink(root, "sys/bus/pci/devices/0000:05:00.0", "0000:05:00.0")

    @case("bus_entry_not_an_address", 0, ["sys/bus/pci/devices/garbage"],
          lambda j: len(j["devices"]) == 21)
    def _(root):
        os.symlink("../../../devices/pci0000:00/0000:00:1d.0/0000:05:00.0",
                   os.path.join(root, "sys/bus/pci/devices/garbage"))

    @case("bus_devices_missing", 0, ["sys/bus/pci/devices"], lambda j: j["devices"] == [])
    def _(root):
        rm(root, "sys/bus/pci/devices")

    @case("group_without_devices", 0, ["sys/kernel/iommu_groups/99"],
          lambda j: j["system"]["iommu"]["active"])
    def _(root):
        os.makedirs(os.path.join(root, "sys/kernel/iommu_groups/99/devices"))

    @case("group_without_devices_dir", 0, ["sys/kernel/iommu_groups/98"],
          lambda j: j["system"]["iommu"]["active"])
    def _(root):
        os.makedirs(os.path.join(root, "sys/kernel/iommu_groups/98"))

    @case("iommu_group_link_garbage", 0, [DEV, "iommu_group"],
          lambda j: devices(j)[DEV]["iommu_group"] is None)
    def _(root):
        relink(root, f"{DEV_DIR}/iommu_group", "../../../../kernel/iommu_groups/not-a-number")

    @case("iommu_group_link_escape", 0, [DEV, "iommu_group"],
          lambda j: devices(j)[DEV]["iommu_group"] is None)
    def _(root):
        relink(root, f"{DEV_DIR}/iommu_group", "/sys/kernel/iommu_groups/7")

    @case("pci_ids_is_directory", 0, ["pci.ids"],
          lambda j: devices(j)[DEV]["vendor_name"] is None and devices(j)[DEV]["vendor_id"] == "10de")
    def _(root):
        rm(root, "usr/share/misc/pci.ids")
        os.makedirs(os.path.join(root, "usr/share/misc/pci.ids"))

    @case("pci_ids_binary_junk", 0, [],
          lambda j: devices(j)[DEV]["vendor_id"] == "10de" and len(j["devices"]) == 21)
    def _(root):
        put(root, "usr/share/misc/pci.ids", bytes(range(256)) * 64 + b"10de", "wb")

    @case("pci_ids_truncated_lines", 0, [],
          lambda j: devices(j)[DEV]["vendor_name"] == "NVIDIA Corporation"
          and devices(j)[DEV]["device_name"] is None)
    def _(root):
        put(root, "usr/share/misc/pci.ids", "10de  NVIDIA Corporation\n\t1d\n\t\t\n\t1d01\n\t1d0")

    @case("os_release_unterminated_quote", 0, ["etc/os-release"], None)
    def _(root):
        put(root, "etc/os-release", 'NAME="Ubuntu\nID=ubuntu\nVERSION_ID="24.04"\n')

    @case("os_release_odd_quoting", 0, [],
          lambda j: j["system"]["distro"]["id"] == "ubuntu"
          and j["system"]["distro"]["version_id"] == "24.04"
          and j["system"]["distro"]["pretty_name"] == 'Ubuntu "Noble" 24.04')
    def _(root):
        put(root, "etc/os-release",
            "# comment\n  \nID='ubuntu'\nVERSION_ID=\"24.04\"\n"
            "PRETTY_NAME=\"Ubuntu \\\"Noble\\\" 24.04\"\nID_LIKE=debian\n")

    @case("os_release_binary", 0, [], lambda j: "system" in j)
    def _(root):
        put(root, "etc/os-release", b"\x00\xff=\xfe\n=\n==\nID\n", "wb")

    @case("os_release_dangling_symlink", 0, ["os-release"],
          lambda j: j["system"]["distro"]["id"] is None)
    def _(root):
        relink(root, "etc/os-release", "../usr/lib/os-release")  # target does not exist

    @case("cpuinfo_empty", 0, ["proc/cpuinfo"],
          lambda j: j["system"]["cpu"]["vendor"] == "unknown"
          and j["system"]["cpu"]["virtualization"] == "none")
    def _(root):
        put(root, "proc/cpuinfo", "")

    @case("cpuinfo_missing", 0, ["proc/cpuinfo"],
          lambda j: j["system"]["cpu"]["vendor"] == "unknown")
    def _(root):
        rm(root, "proc/cpuinfo")

    @case("secure_boot_var_truncated", 0, ["SecureBoot-8be4df61"],
          lambda j: j["system"]["secure_boot"] == "unknown")
    def _(root):
        put(root, "sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c",
            b"\x06\x00", "wb")

    @case("cmdline_missing", 0, [], lambda j: j["system"]["iommu"]["cmdline"] == [])
    def _(root):
        rm(root, "proc/cmdline")

    @case("boot_vga_junk", 0, [], lambda j: devices(j)["0000:00:02.0"]["boot_vga"] is False)
    def _(root):
        put(root, "sys/devices/pci0000:00/0000:00:02.0/boot_vga", "yes\n")

    # The kernel's links are relative; an absolute target names the host's /sys, not this
    # tree (exliar once took its basename: a driver not bound here, a group that lists others).
    @case("driver_link_escape", 0, [DEV, "driver"], lambda j: devices(j)[DEV]["driver"] is None)
    def _(root):
        relink(root, f"{DEV_DIR}/driver", "/sys/bus/pci/drivers/vfio-pci")

    @case("class_latin1", 0, [DEV, "class"], lambda j: DEV not in devices(j))
    def _(root):
        put(root, f"{DEV_DIR}/class", b"0x03\xe900\n", "wb")

    @case("os_release_latin1", 0, [],
          lambda j: j["system"]["distro"]["id"] == "ubuntu"
          and "\ufffd" in (j["system"]["distro"]["pretty_name"] or ""))
    def _(root):
        put(root, "etc/os-release", b'ID=ubuntu\nPRETTY_NAME="Ubunt\xfa 24.04"\n', "wb")

    @case("pci_ids_latin1_name", 0, [],
          lambda j: (devices(j)[DEV]["vendor_name"] or "").startswith("NVIDIA"))
    def _(root):
        put(root, "usr/share/misc/pci.ids",
            b"10de  NVIDIA Corpora\xe7ion\n\t1d01  GP108 [GeForce GT 1030]\n", "wb")

    @case("cpuinfo_no_newline_junk", 0, [],
          lambda j: j["system"]["cpu"]["vendor"] == "intel")
    def _(root):
        put(root, "proc/cpuinfo", b"vendor_id\t: GenuineIntel\nmodel name\t: \xff\xfe\nflags : vmx", "wb")

    return c


def run_case(exe, base, name, spec):
    mutate, want_exit, must_name, check = spec
    tmp = tempfile.mkdtemp(prefix=f"exliar-bad-{name}-")
    try:
        root = os.path.join(tmp, "root")
        shutil.copytree(base, root, symlinks=True)
        arg = mutate(root) or root
        p = subprocess.run([exe, "--root", arg, "detect", "--json"], capture_output=True,
                           timeout=60)
        out, err = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
        problems = []
        if p.returncode < 0:
            problems.append(f"killed by signal {-p.returncode}")
        if "runtime error" in err or "AddressSanitizer" in err or "terminate called" in err:
            problems.append("crash report on stderr")
        if p.returncode != want_exit:
            problems.append(f"exit {p.returncode}, want {want_exit}")
        for s in must_name:
            if s not in err:
                problems.append(f"stderr does not name {s!r}")
        if want_exit == 0:
            try:
                j = json.loads(out)
                if check and not check(j):
                    problems.append("inventory check failed")
            except ValueError as e:
                problems.append(f"stdout is not JSON: {e}")
            except (KeyError, TypeError) as e:
                problems.append(f"inventory check raised {e!r}")
        elif out.strip():
            # Under --json an error is one JSON object on stdout (issue 18), nothing else.
            try:
                e = json.loads(out).get("error", {})
                if e.get("exit_code") != p.returncode or not e.get("message"):
                    problems.append(f"stdout error object does not match: {out!r}")
            except ValueError:
                problems.append("stdout on error is not a JSON error object")
        first = err.strip().splitlines()[:3]
        status = "ok  " if not problems else "FAIL"
        print(f"{status} {name}: exit {p.returncode}; stderr: {' | '.join(first)[:300]}")
        for pr in problems:
            print(f"       - {pr}")
        return not problems
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv):
    if argv[1:] == ["--list"]:
        print(";".join(cases()))
        return 0
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    exe, base = argv[1], argv[2]
    all_cases = cases()
    names = argv[3:] or list(all_cases)
    failed = [n for n in names if not run_case(exe, base, n, all_cases[n])]
    print(f"{len(names) - len(failed)}/{len(names)} bad-input cases passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
