#!/usr/bin/env python3
"""The user's journey on a real Debian 12 system under QEMU, through real reboots.

  journey.py --cache DIR --stack grub|sdboot --build-dir BUILD --work DIR
             [--gpu ati|bochs] [--fault none|hook] [--expect-fail]

1. the stack's disk (image.py: debootstrap, setup boot; cached in the build tree);
2. a copy of it with exliar installed the way a user installs it from source:
   `cmake --install BUILD --prefix /usr/local` into a DESTDIR, copied into the image;
3. boots through OVMF and the guest's own boot loader and initramfs:
     boot0  baseline facts, `exliar check`, `plan`, `apply --yes` (real regeneration)
     boot1  command line, vfio-pci bindings, /dev/vfio, `status`; `rollback --yes`
     boot2  command line, drivers, /etc and the boot files as in boot0, `status`
   With --fault the regeneration fails during apply (a failing initramfs hook): apply must
   roll back by itself, and boot3 must be the baseline.
4. judge.py compares the boots from the files read out of the image.
Exit 0 = pass, 1 = the journey failed, 2 = the lab could not run. --expect-fail inverts
0 and 1 (the lab's own test with a deliberately broken exliar).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)

import disk  # noqa: E402
import image  # noqa: E402
import judge  # noqa: E402
import machine  # noqa: E402

BOOT_TIMEOUT = 1200  # per boot; a loaded 2-core host runs TCG several times slower


# The lab's own test: exliar built with one fact wrong. GRUB's regeneration command
# becomes `true` (same length, NUL-padded, so the binary keeps its layout): apply edits
# /etc/default/grub but grub.cfg, which is what the boot loader reads, never changes. The
# literal is shared with the check that update-grub exists (grub_backend.cpp), so that
# check looks for `true` instead and passes, as a real slip would.
BREAKS = {"update-grub": (b"\0update-grub\0", b"\0true" + b"\0" * 8)}


def break_binary(path, what):
    old, new = BREAKS[what]
    data = open(path, "rb").read()
    if data.count(old) != 1:
        raise image.ImageError(f"{path}: expected the literal {old!r} once, found "
                               f"{data.count(old)}: the broken build needs updating")
    open(path, "wb").write(data.replace(old, new))


def install_exliar(build_dir, work, img, broken=None):
    dest = os.path.join(work, "destdir")
    shutil.rmtree(dest, ignore_errors=True)
    env = dict(os.environ, DESTDIR=dest)
    subprocess.run(["cmake", "--install", build_dir, "--prefix", "/usr/local"], check=True,
                   env=env, capture_output=True)
    if not os.path.exists(os.path.join(dest, "usr", "local", "bin", "exliar")):
        raise image.ImageError(f"`cmake --install {build_dir}` installed no usr/local/bin/exliar")
    if broken:
        break_binary(os.path.join(dest, "usr", "local", "bin", "exliar"), broken)
    disk.install_tree(img, dest)


def boot_once(img, vars_fd, work, phase, timeout):
    disk.put_file(img, "/e2e/phase", phase + "\n")
    b = machine.Boot(phase, work)
    b.run(machine.argv(img, vars_fd, b.console, b.data), timeout)
    if disk.needs_recovery(img):  # killed, or a shutdown that left the journal dirty
        print(f"realos: {phase}: the guest left its root journal dirty; replaying it", flush=True)
        disk.replay_journal(img)
    out = os.path.join(work, "out")
    shutil.rmtree(out, ignore_errors=True)
    try:
        disk.rdump(img, "/e2e/out", work)
    except disk.DiskError as e:
        return b, [f"{phase}: cannot read /e2e/out from the image: {e}"]
    return b, b.problems(timeout)


def times(out, phase):
    t = judge.read(out, f"times.{phase}") or ""
    return ", ".join(f"{w[0]} {float(w[1]):.0f}" for w in (l.split() for l in t.splitlines()) if len(w) == 2)


def journey(args):
    t0 = time.monotonic()
    img_cached, meta = image.build(args.cache, args.stack)
    t_img = time.monotonic()
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    img = os.path.join(args.work, "disk.img")
    disk.copy(img_cached, img)
    if disk.needs_recovery(img):
        raise image.ImageError(f"{img_cached}: its root journal is dirty (the setup boot did not "
                               "unmount it); remove the cache directory to rebuild it")
    install_exliar(args.build_dir, args.work, img, args.broken)
    for rel, src in image.RUN_FILES.items():
        disk.put_file(img, "/" + rel, open(src).read(), 0o755)
    disk.put_file(img, "/e2e/params",
                  f"GPU={args.gpu}\nFAULT={args.fault}\nRECOVERY={int(args.recovery)}\n")
    vars_fd = os.path.join(args.work, "vars.fd")
    machine.fresh_vars(vars_fd)
    out = os.path.join(args.work, "out")
    phases = (["boot0", "boot3"] if args.fault != "none" else
              ["boot0", "boot1", "boot1r", "boot2"] if args.recovery else ["boot0", "boot1", "boot2"])
    judges = {"boot0": lambda: judge.check_boot0(out) + (judge.check_fault(out) if args.fault != "none" else []),
              "boot1": lambda: judge.check_applied(out, rolled_back=not args.recovery),
              "boot1r": lambda: judge.check_recovery(out),
              "boot2": lambda: judge.check_restored(out),
              # an apply that failed and rolled itself back is recorded as rolled back
              "boot3": lambda: judge.check_restored(out, boot="boot3", status="status3")}
    report, problems, boots = [], [], []
    for ph in phases:
        b, probs = boot_once(img, vars_fd, args.work, ph, args.timeout)
        boots.append(b)
        probs += judges[ph]() if os.path.isdir(out) else []
        m = b.res["marks"]
        report.append(f"{ph}: wall {b.wall:.0f} s, qemu cpu {b.cpu:.0f} s, guest up at {m.get('booted', -1):.0f} s, "
                      f"done {m.get('done', -1):.0f} s ({times(out, ph)})")
        problems += probs
        if probs:
            break
    total = time.monotonic() - t0
    head = (f"realos {args.stack} gpu={args.gpu} fault={args.fault}: image "
            f"{'cached' if t_img - t0 < 60 else 'built'} in {t_img - t0:.0f} s "
            f"(build: {json.dumps(meta['seconds'])}), total {total:.0f} s")
    print(head)
    for r in report:
        print("  " + r)
    if problems:
        print(f"realos {args.stack}: FAIL")
        for p in problems:
            print(f"  - {p}")
        if not args.expect_fail:
            print(boots[-1].report_tail())
        elif not any(args.expect_fail in p for p in problems):
            print(f"realos: expected a problem containing {args.expect_fail!r}")
            return 3
        return 1
    print(f"realos {args.stack}: PASS")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--cache", required=True, help="image cache directory (in the build tree)")
    p.add_argument("--stack", required=True, choices=sorted(image.STACKS))
    p.add_argument("--build-dir", required=True, help="cmake build tree to install exliar from")
    p.add_argument("--work", required=True)
    p.add_argument("--gpu", default="ati", choices=["ati", "bochs"])
    p.add_argument("--fault", default="none", choices=["none", "hook"],
                   help="hook: the initramfs rebuild fails during apply (journey.sh)")
    p.add_argument("--timeout", type=float, default=BOOT_TIMEOUT, help="seconds per boot")
    p.add_argument("--recovery", action="store_true",
                   help="boot GRUB's recovery entry after boot1 and roll back from there")
    p.add_argument("--broken", choices=sorted(BREAKS),
                   help="install a deliberately broken exliar (the lab's own test)")
    p.add_argument("--expect-fail", metavar="TEXT",
                   help="pass only if the journey fails with a problem containing TEXT")
    args = p.parse_args()
    for tool in ("qemu-system-x86_64", "debootstrap", "debugfs", "mkfs.vfat", "sfdisk", "mcopy"):
        if shutil.which(tool) is None:
            print(f"realos: FAIL: `{tool}` not found: run scripts/install-deps.sh", file=sys.stderr)
            return 2
    if not os.path.exists(machine.OVMF_CODE):
        print(f"realos: FAIL: no {machine.OVMF_CODE}: install ovmf", file=sys.stderr)
        return 2
    try:
        rc = journey(args)
    except (image.ImageError, disk.DiskError, subprocess.CalledProcessError) as e:
        print(f"realos: FAIL: {e}", file=sys.stderr)
        return 2
    if args.expect_fail:
        print("realos: the broken exliar " + {1: "was caught (pass)", 0: "went unnoticed (FAIL)"}
              .get(rc, "failed in another way (FAIL)"))
        return 0 if rc == 1 else 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
