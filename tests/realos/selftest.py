#!/usr/bin/env python3
"""The real-OS lab's judges on a recorded journey (no QEMU): the recording must pass and
every corruption of it must fail, so a wrong exliar cannot slip through judge.py; and
initrd.py must see through rebuild timestamps but not through a changed file.

recorded/<stack>/ holds the guest's /e2e/out texts of a passing run (without the
initramfs copies, which are tens of MB; initrd.py is tested on archives made here).
"""

import gzip
import json
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)

import initrd  # noqa: E402
import judge  # noqa: E402
import mirror  # noqa: E402

FAILS = []


def expect(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def journey_problems(out):
    return (judge.check_boot0(out) + judge.check_applied(out) + judge.check_restored(out))


def corrupt(src, name, fn):
    """A copy of the recording with file NAME rewritten by fn(text)."""
    d = tempfile.mkdtemp(prefix="realos-selftest-")
    shutil.rmtree(d)
    shutil.copytree(src, d)
    p = os.path.join(d, name)
    text = fn(open(p).read())
    open(p, "w").write(text)
    return d


def newc(entries, mtime):
    """A newc cpio archive of (name, mode, data) with every mtime set to MTIME."""
    out = b""
    for i, (name, mode, data) in enumerate(entries + [("TRAILER!!!", 0, b"")]):
        nb = name.encode() + b"\0"
        fields = [i + 1, mode, 0, 0, 1, mtime, len(data), 0, 0, 0, 0, len(nb), 0]
        hdr = b"070701" + b"".join(b"%08X" % f for f in fields)
        out += hdr + nb
        out += b"\0" * ((-len(out)) % 4) + data
        out += b"\0" * ((-len(out)) % 4)
    return out


def test_recorded(stack):
    src = os.path.join(HERE, "recorded", stack)
    probs = journey_problems(src)
    expect(not probs, f"{stack}: the recorded journey passes {probs[:3]}")
    gpu = open(os.path.join(src, "gpu.boot0")).read().split()[0]
    cases = {
        "the command line lacks vfio-pci.ids after apply":
            ("cmdline.boot1", lambda t: " ".join(w for w in t.split() if not w.startswith("vfio-pci.ids"))),
        "the command line gained a word the plan did not name":
            ("cmdline.boot1", lambda t: t.strip() + " pcie_acs_override=downstream\n"),
        "the GPU is not bound to vfio-pci":
            ("sys.boot1", lambda t: t.replace(f"dev {gpu} ", f"dev {gpu} X").replace(" vfio-pci ", " - ", 1)),
        "/dev/vfio/N is missing":
            ("vfio.boot1", lambda t: "vfio\n"),
        "status does not say active":
            ("status.out", lambda t: t.replace("running system: active", "running system: pending reboot")),
        "rollback failed":
            ("rollback.rc", lambda t: "1\n"),
        "the command line is not the baseline after rollback":
            ("cmdline.boot2", lambda t: t.strip() + " iommu=pt\n"),
        "a file under /etc differs after rollback":
            ("tree.boot2", lambda t: t.replace("  /etc/default/grub", "  /etc/default/grubX", 1)
             if "/etc/default/grub" in t else t.replace("  /etc/kernel/cmdline", "  /etc/kernel/cmdlinX", 1)),
        "a file's mode differs after rollback":
            ("tree.boot2", lambda t: t.replace("/etc/hostname|regular file|644", "/etc/hostname|regular file|600")),
        "a driver differs after rollback":
            ("sys.boot2", lambda t: t.replace(" bochs-drm ", " - ", 1)),
        "the initramfs after rollback still holds exliar's modprobe.d file":
            ("initrd.boot2.boot_initrd.img-6.1.0-50-amd64.json",
             lambda t: json.dumps(dict(json.loads(t), **{"etc/modprobe.d/exliar-vfio.conf": ["100644", "x"]}))),
        "status does not say rolled back":
            ("status2.out", lambda t: t.replace("rolled back", "applied")),
    }
    for what, (name, fn) in cases.items():
        d = corrupt(src, name, fn)
        if open(os.path.join(d, name)).read() == open(os.path.join(src, name)).read():
            expect(False, f"{stack}: corruption '{what}' changed nothing (fix the self-test)")
        else:
            expect(bool(journey_problems(d)), f"{stack}: caught: {what}")
        shutil.rmtree(d)


def test_initrd():
    files = [(".", 0o40755, b""), ("conf", 0o40755, b""),
             ("conf/modules", 0o100644, b"vfio_pci \n"), ("init", 0o100755, b"#!/bin/sh\n")]
    early = newc([("kernel", 0o40755, b"")], 5)
    a = early + gzip.compress(newc(files, 1000), mtime=0)
    b = early + b"\0" * 512 + gzip.compress(newc(files, 2000), mtime=0)
    c = early + gzip.compress(newc(files[:2] + [("conf/modules", 0o100644, b"")] + files[3:], 1000))
    ca, cb, cc = initrd.contents(a), initrd.contents(b), initrd.contents(c)
    expect(ca == cb and "conf/modules" in ca and "kernel" in ca,
           "initrd: a rebuild with new mtimes unpacks to the same files")
    expect(initrd.diff(ca, cc) and "conf/modules" in initrd.diff(ca, cc)[0],
           "initrd: a changed file is found")


def test_mirror():
    d = tempfile.mkdtemp()
    os.makedirs(os.path.join(d, "sources.list.d"))
    open(os.path.join(d, "sources.list"), "w").write(
        "# deb http://wrong/debian bookworm main\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://one.example/debian/ bookworm-updates main\n")
    open(os.path.join(d, "sources.list.d", "debian.sources"), "w").write(
        "Types: deb\nURIs: http://two.example/debian\nSuites: bookworm bookworm-updates\n"
        "Components: main contrib\n\nTypes: deb\nURIs: http://three.example/debian-security\n"
        "Suites: bookworm-security\nComponents: main\n")
    expect(mirror.find("bookworm", d) == "http://two.example/debian",
           "mirror: a deb822 source with the suite wins over other suites and comments")
    open(os.path.join(d, "sources.list"), "w").write(
        "deb [signed-by=/k.gpg] http://one.example/debian/ bookworm main\n")
    expect(mirror.find("bookworm", d) == "http://one.example/debian",
           "mirror: a one-line source with options is read")
    expect(mirror.find("trixie", d) is None, "mirror: no source for a suite -> None")
    shutil.rmtree(d)


if __name__ == "__main__":
    for stack in sorted(os.listdir(os.path.join(HERE, "recorded"))):
        test_recorded(stack)
    test_initrd()
    test_mirror()
    print(f"realos selftest: {len(FAILS)} failure(s)")
    sys.exit(1 if FAILS else 0)
