#!/usr/bin/env python3
"""QEMU lab: boot Debian's kernel with an emulated Intel IOMMU and run one scenario.

  lab.py --cache DIR fetch
  lab.py --cache DIR run --exliar BIN --scenario NAME --work DIR [--timeout S]

`run` builds an initramfs (busybox, the modules, exliar, the scenario), boots it under
TCG exactly as ../../../shared/knowledge/qemu-lab.md verified, waits for the guest to power
off, parses the data channel and applies the scenario's host-side checks (checks.py).
Exit 0 = pass, 1 = the scenario failed, 2 = the lab itself could not run (missing QEMU,
no kernel): both fail the ctest test; a missing QEMU is never a skip.
On failure the serial logs stay in the work directory and their tails are printed.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, HERE)

import checks  # noqa: E402
import initramfs  # noqa: E402
import kernel  # noqa: E402

# Boot parameters. `quiet` keeps the console short; the IOMMU ones are the recipe's.
# no_timer_check: under TCG on a loaded host the kernel's IO-APIC timer test can miss its
# ticks and panic ("timer doesn't work through Interrupt-remapped IO-APIC", seen at load
# 10 on 2 cores); the parameter skips that test (Documentation/admin-guide/
# kernel-parameters.txt), as cloud images do for the same reason.
APPEND_BASE = "console=ttyS0 panic=-1 quiet no_timer_check"
APPEND_IOMMU = "intel_iommu=on iommu=pt"

# The machine: q35 with the interrupt-remapping IOMMU (needs a split irqchip), a boot VGA
# on the root bus, an ATI VGA behind root port 1, and a display-class (0380) function plus
# HD audio as one multifunction device behind root port 2 (a "GPU with its audio").
DEVICES = [
    "-device", "VGA",
    "-device", "pcie-root-port,id=rp1,slot=1,chassis=1",
    "-device", "ati-vga,bus=rp1",
    "-device", "pcie-root-port,id=rp2,slot=2,chassis=2",
    "-device", "bochs-display,bus=rp2,addr=0.0,multifunction=on",
    "-device", "ich9-intel-hda,bus=rp2,addr=0.1",
]
# `# e2e: devices=single`: the boot VGA alone, the host's only GPU (single-GPU passthrough).
DEVICES_SINGLE = ["-device", "VGA"]
BUSYBOX = "/bin/busybox"  # busybox-static: runs without any library
MACHINES = os.path.join(os.path.dirname(HERE), "machines")  # tests/machines (build.py)


def scenario_options(text):
    """`# e2e: key[=value] ...` lines at the top of a scenario script."""
    opts = {}
    for line in text.splitlines():
        m = re.match(r"#\s*e2e:\s*(.*)", line)
        if m:
            for word in m.group(1).split():
                k, _, v = word.partition("=")
                opts[k] = v or True
    return opts


def qemu_argv(image, initrd, console_log, data_log, iommu=True, devices=DEVICES):
    argv = ["qemu-system-x86_64", "-accel", "tcg", "-m", "1024", "-smp", "2",
            "-display", "none", "-monitor", "none", "-no-reboot",
            "-serial", f"file:{console_log}", "-serial", f"file:{data_log}",
            "-kernel", image, "-initrd", initrd,
            "-machine", "q35,kernel-irqchip=split"]
    append = APPEND_BASE
    if iommu:
        argv += ["-device", "intel-iommu,intremap=on,caching-mode=on"]
        append += " " + APPEND_IOMMU
    return argv + ["-append", append] + devices


def build_initramfs(path, kern, exliar, scenario_file, machine=None):
    a = initramfs.Archive()
    a.chardev("dev/console", 5, 1)
    a.dir("proc"), a.dir("sys"), a.dir("tmp"), a.dir("root")
    a.copy("bin/busybox", BUSYBOX, 0o755)
    a.copy("init", os.path.join(HERE, "guest", "init.sh"), 0o755)
    a.copy("e2e/lib.sh", os.path.join(HERE, "guest", "lib.sh"))
    a.copy("e2e/scenario.sh", scenario_file)
    a.file("e2e/modules.order", "".join(m + "\n" for m in kern["order"]))
    for m in kern["order"]:
        a.copy(f"lib/modules/{m}.ko", os.path.join(kern["modules"], m + ".ko"))
    initramfs.add_executable(a, exliar, "bin/exliar")
    if machine:  # a test machine's root minus its fake sys, for apply/rollback with --root
        with tempfile.TemporaryDirectory() as tmp:
            root = os.path.join(tmp, "root")
            subprocess.run([sys.executable, os.path.join(MACHINES, "build.py"),
                            os.path.join(MACHINES, machine), root], check=True)
            initramfs.add_tree(a, root, "e2e/machine", skip=("sys",))
    data = a.bytes()
    with open(path, "wb") as f:
        f.write(data)
    return len(data)


def parse(text):
    """Data channel -> {"sections": {name: text}, "rc": {name: int}, "fails": [..],
    "result": "PASS"|"FAIL"|None, "marks": {name: seconds}}."""
    out = {"sections": {}, "rc": {}, "fails": [], "result": None, "marks": {}}
    current, buf = None, []
    for line in text.replace("\r", "").split("\n"):
        if current is not None:
            if line == f"E2E-END {current}":
                out["sections"][current] = "".join(x + "\n" for x in buf)
                current, buf = None, []
            else:
                buf.append(line)
            continue
        if line.startswith("E2E-BEGIN "):
            current = line[len("E2E-BEGIN "):]
        elif line.startswith("E2E-RC "):
            _, name, rc = line.split(" ", 2)
            out["rc"][name] = int(rc)
        elif line.startswith("E2E-FAIL "):
            out["fails"].append(line[len("E2E-FAIL "):])
        elif line.startswith("E2E-RESULT "):
            out["result"] = line.split()[1]
        elif line.startswith(("E2E-BOOTED ", "E2E-MODULES ", "E2E-DONE ")):
            k, v = line.split(" ", 1)
            out["marks"][k[4:].lower()] = float(v)
    if current is not None:
        out["fails"].append(f"data channel ended inside section {current}")
    return out


def tail(path, n=40):
    try:
        lines = open(path, errors="replace").read().replace("\r", "").splitlines()
    except OSError:
        return "(missing)"
    return "\n".join(lines[-n:])


def cmd_run(args):
    scenario_file = os.path.join(HERE, "scenarios", args.scenario + ".sh")
    if not os.path.exists(scenario_file):
        print(f"e2e: no scenario {scenario_file}", file=sys.stderr)
        return 2
    if not os.access(args.exliar, os.X_OK):
        print(f"e2e: FAIL: no exliar binary at {args.exliar}", file=sys.stderr)
        return 2
    if shutil.which("qemu-system-x86_64") is None:
        print("e2e: FAIL: qemu-system-x86_64 not found (install qemu-system-x86)", file=sys.stderr)
        return 2
    if not os.path.exists(BUSYBOX) or subprocess.run(
            ["ldd", BUSYBOX], capture_output=True).returncode == 0:
        print(f"e2e: FAIL: {BUSYBOX} missing or not static (install busybox-static)",
              file=sys.stderr)
        return 2
    opts = scenario_options(open(scenario_file).read())
    kern = kernel.cached(args.cache) or kernel.fetch(args.cache, log=lambda s: print(s, file=sys.stderr))
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    initrd = os.path.join(args.work, "initramfs.cpio")
    console, data = os.path.join(args.work, "console.log"), os.path.join(args.work, "data.log")
    size = build_initramfs(initrd, kern, args.exliar, scenario_file, opts.get("machine"))
    argv = qemu_argv(kern["image"], initrd, console, data, iommu=opts.get("iommu") != "off",
                     devices=DEVICES_SINGLE if opts.get("devices") == "single" else DEVICES)
    t0 = time.monotonic()
    timed_out = False
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=args.timeout)
        qemu_err = proc.stderr
    except subprocess.TimeoutExpired as e:
        timed_out, qemu_err = True, (e.stderr or b"").decode(errors="replace")
    wall = time.monotonic() - t0
    res = parse(open(data, errors="replace").read() if os.path.exists(data) else "")
    problems = list(res["fails"])
    if timed_out:
        problems.append(f"guest did not power off within {args.timeout} s (killed)")
    if res["result"] is None:
        problems.append("no E2E-RESULT line: the guest crashed or hung before finishing")
    elif res["result"] != "PASS" and not res["fails"]:
        problems.append(f"guest verdict {res['result']}")
    if res["result"] is not None:
        problems += checks.run(args.scenario, res)
    marks = res["marks"]
    print(f"e2e {args.scenario}: kernel {kern['package']} {kern['version']}, initramfs "
          f"{size // 1024} KiB, wall {wall:.1f} s, guest boot {marks.get('booted', -1):.2f} s, "
          f"modules {marks.get('modules', -1):.2f} s, done {marks.get('done', -1):.2f} s (guest uptime)")
    if problems:
        print(f"e2e {args.scenario}: FAIL")
        for p in problems:
            print(f"  - {p}")
        if qemu_err.strip():
            print(f"--- qemu stderr\n{qemu_err.strip()}")
        print(f"--- console (tail of {console})\n{tail(console)}")
        print(f"--- data channel (tail of {data})\n{tail(data)}")
        print("--- rerun: " + " ".join(argv))
        return 1
    print(f"e2e {args.scenario}: PASS")
    if not args.keep:
        shutil.rmtree(args.work, ignore_errors=True)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--cache", required=True, help="kernel cache directory")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("fetch", help="download and unpack the kernel")
    r = sub.add_parser("run", help="boot one scenario")
    r.add_argument("--exliar", required=True)
    r.add_argument("--scenario", required=True)
    r.add_argument("--work", required=True, help="directory for the initramfs and serial logs")
    r.add_argument("--timeout", type=float, default=55)
    r.add_argument("--keep", action="store_true", help="keep the logs even when passing")
    args = p.parse_args()
    try:
        if args.cmd == "fetch":
            k = kernel.fetch(args.cache, log=lambda s: print(s, file=sys.stderr))
            print(f"e2e: {k['package']} {k['version']}: {' '.join(k['order'])}")
            return 0
        return cmd_run(args)
    except kernel.LabError as e:
        print(f"e2e: FAIL: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
