"""Real Debian 12 system disks for the two boot stacks, built from scratch and cached.

  stack "grub":   GRUB EFI (via OVMF) + initramfs-tools, `init=` script (fast boots)
  stack "sdboot": systemd-boot + dracut, systemd as init

How (../../../shared/knowledge/realos-lab.md, each step verified there):
  1. debootstrap --variant=minbase from the host's apt mirror (mirror.py) with the
     stack's packages and exliar's runtime libraries;
  2. the test system configured for speed, not exliar's behaviour: initramfs-tools
     MODULES=dep and zstd -1, dracut hostonly and zstd -1 (a one-process-per-module
     MODULES=most build takes ~14 min under TCG);
  3. a GPT disk with an empty ESP and the ext4 root (disk.py), fstab by UUID;
  4. the setup boot, as an installer would do it: QEMU boots the image's own kernel and
     initrd directly, and the guest builds its own initramfs and installs its boot loader
     into the ESP (guest/journey.sh, phase "setup").
The result is cached in the build tree under a key of every input (the stack's package
list, the mirror, the kernel package apt resolves today, the lab's own files), so a second
run copies it in seconds; exliar is installed into a copy per run (journey.py).
"""

import fcntl
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "e2e"))

import disk  # noqa: E402
import kernel as e2e_kernel  # noqa: E402
import machine  # noqa: E402
import mirror  # noqa: E402

SUITE = "bookworm"
LAYOUT = 1  # bump when the cached disk's layout changes
# What exliar needs at run time (ldd of the binary, libstdc++ is in minbase), what the
# guest scripts use, and what exliar reads (pci.ids for names).
# libncursesw6/libtinfo6: `exliar tui` (issue 18) made ncurses a runtime library.
COMMON = ["linux-image-amd64", "kmod", "udev", "pciutils", "pci.ids", "e2fsprogs",
          "dosfstools", "zstd", "cpio", "libfmt9", "libssl3", "libpugixml1v5",
          "libncursesw6", "libtinfo6"]
STACKS = {
    "grub": {"include": ["initramfs-tools", "grub-efi-amd64"], "then": []},
    # dracut conflicts with initramfs-tools, the first alternative of the kernel's
    # "initramfs-tools | linux-initramfs-tool", which debootstrap always picks (even with
    # --exclude): so dracut comes second, through apt in the new system, which replaces
    # initramfs-tools as it would on a user's machine. systemd-sysv makes systemd /sbin/init.
    "sdboot": {"include": [], "then": ["dracut", "systemd-boot", "systemd-sysv"]},
}
GUEST_FILES = {  # image path -> source: what the setup boot runs (part of the key)
    "e2e/init.sh": os.path.join(HERE, "guest", "init.sh"),
    "e2e/common.sh": os.path.join(HERE, "guest", "common.sh"),
    "e2e/setup.sh": os.path.join(HERE, "guest", "setup.sh"),
    "e2e/lib.sh": os.path.join(os.path.dirname(HERE), "e2e", "guest", "lib.sh"),
}
# Installed into each run's copy (journey.py), so editing them keeps the cache.
RUN_FILES = dict(GUEST_FILES, **{"e2e/journey.sh": os.path.join(HERE, "guest", "journey.sh")})
SERIAL = "console=ttyS0 no_timer_check"  # why no_timer_check: ../e2e/lab.py APPEND_BASE
INIT = "init=/e2e/init.sh"
SETUP_TIMEOUT = 1500


class ImageError(Exception):
    pass


def log(msg):
    print(f"realos: {msg}", file=sys.stderr, flush=True)


def inputs(stack):
    """Everything the cached disk depends on (the cache key is their hash)."""
    uri = mirror.find(SUITE)
    if not uri:
        raise ImageError(f"no `deb` source for {SUITE} main in /etc/apt/sources.list(.d): "
                         "the image is bootstrapped from the host's mirror")
    try:
        kpkg, kver = e2e_kernel.resolve_package()
    except e2e_kernel.LabError as e:
        raise ImageError(str(e))
    files = {}
    for p in sorted([os.path.join(HERE, f) for f in ("image.py", "disk.py", "machine.py")] +
                    list(GUEST_FILES.values())):
        files[os.path.relpath(p, os.path.dirname(HERE))] = hashlib.sha256(
            open(p, "rb").read()).hexdigest()
    return {"layout": LAYOUT, "suite": SUITE, "mirror": uri, "stack": stack,
            "packages": COMMON + STACKS[stack]["include"], "then": STACKS[stack]["then"],
            # the host's candidate (its sources may add -updates): a new point release
            # changes it, which is all the key needs
            "kernel": f"{kpkg}={kver}", "files": files}


def key_of(inp):
    return hashlib.sha256(json.dumps(inp, sort_keys=True).encode()).hexdigest()[:16]


def _write(root, rel, text, mode=0o644):
    p = os.path.join(root, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w") as f:
        f.write(text)
    os.chmod(p, mode)


def _sed(path, old, new):
    text = open(path).read()
    if old not in text:
        raise ImageError(f"{path}: expected `{old}` (Debian's default) to configure the lab")
    open(path, "w").write(text.replace(old, new, 1))


def configure(root, stack, root_uuid, esp_serial):
    _write(root, "etc/fstab",
           f"UUID={root_uuid} / ext4 errors=remount-ro 0 1\n"
           f"UUID={esp_serial} /boot/efi vfat umask=0077 0 1\n")
    _write(root, "etc/hostname", "realos\n")
    os.makedirs(os.path.join(root, "boot", "efi"), exist_ok=True)
    for rel, src in GUEST_FILES.items():
        _write(root, rel, open(src).read(), 0o755)
    _write(root, "e2e/stack", stack + "\n")
    if os.path.exists(os.path.join(root, "etc", "resolv.conf")):
        os.unlink(os.path.join(root, "etc", "resolv.conf"))  # the host's, copied by debootstrap
    if stack == "grub":
        # Speed only (initramfs-tools(7) conf.d overrides initramfs.conf): the modules the
        # root device needs instead of "most", and the fastest zstd level.
        _write(root, "etc/initramfs-tools/conf.d/realos-lab-speed",
               "# realos lab: test-system speed under TCG\nMODULES=dep\nCOMPRESS=zstd\n"
               "COMPRESSLEVEL=1\n")
        g = os.path.join(root, "etc", "default", "grub")
        _sed(g, "GRUB_TIMEOUT=5", "GRUB_TIMEOUT=0")
        _sed(g, 'GRUB_CMDLINE_LINUX=""', f'GRUB_CMDLINE_LINUX="{SERIAL} {INIT}"')
    else:
        # The IOMMU-off baseline lives in this stack: Debian's kernel turns the Intel IOMMU
        # on by itself (INTEL_IOMMU_DEFAULT_ON_INTGPU_OFF=y), so only an explicit
        # intel_iommu=off makes exliar add the switch (realos-lab.md).
        _write(root, "etc/kernel/cmdline",
               f"root=UUID={root_uuid} ro {SERIAL} quiet intel_iommu=off\n")
        # dracut.conf(5): hostonly keeps only what this machine needs to boot.
        _write(root, "etc/dracut.conf.d/10-realos-lab-speed.conf",
               '# realos lab: test-system speed under TCG\nhostonly="yes"\n'
               'compress="zstd -1 -q -T0"\n')
        _write(root, "etc/systemd/system/e2e.service",
               "[Unit]\nDescription=realos lab phase\nAfter=local-fs.target "
               "systemd-modules-load.service systemd-udev-settle.service\n"
               "Wants=systemd-udev-settle.service\n\n[Service]\nType=oneshot\n"
               "ExecStart=/e2e/init.sh --systemd\nStandardOutput=journal+console\n\n"
               "[Install]\nWantedBy=multi-user.target\n")
        wants = os.path.join(root, "etc", "systemd", "system", "multi-user.target.wants")
        os.makedirs(wants, exist_ok=True)
        link = os.path.join(wants, "e2e.service")
        if not os.path.lexists(link):
            os.symlink("/etc/systemd/system/e2e.service", link)


def chroot_apt(root, packages, logfile):
    """apt-get install in the new system (its sources.list is the mirror debootstrap used),
    with /proc, /sys and /dev for the packages' scripts (dracut builds an image)."""
    mounts = []
    try:
        for src, fstype in (("proc", "proc"), ("sysfs", "sysfs")):
            d = os.path.join(root, src if src == "proc" else "sys")
            subprocess.run(["mount", "-t", fstype, src, d], check=True)
            mounts.append(d)
        d = os.path.join(root, "dev")
        subprocess.run(["mount", "--bind", "/dev", d], check=True)
        mounts.append(d)
        rc = os.path.join(root, "etc", "resolv.conf")  # name service for apt; removed later
        if os.path.lexists(rc):
            os.unlink(rc)
        shutil.copy("/etc/resolv.conf", rc)
        # policy-rc.d(8) exit 101: no service starts inside the chroot
        _write(root, "usr/sbin/policy-rc.d", "#!/bin/sh\nexit 101\n", 0o755)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive", LC_ALL="C")
        with open(logfile, "w") as lf:
            for argv in (["apt-get", "update", "-q"],
                         ["apt-get", "install", "-y", "-q", "--no-install-recommends"] + packages):
                r = subprocess.run(["chroot", root] + argv, env=env, stdout=lf,
                                   stderr=subprocess.STDOUT)
                if r.returncode != 0:
                    raise ImageError(f"`{' '.join(argv)}` in the new system failed ({r.returncode}):\n"
                                     + "\n".join(open(logfile).read().splitlines()[-30:]))
        subprocess.run(["chroot", root, "apt-get", "clean"], check=True)
        for rel in ("usr/sbin/policy-rc.d",):
            os.unlink(os.path.join(root, rel))
        subprocess.run(["rm", "-rf", os.path.join(root, "var", "lib", "apt", "lists")], check=True)
        os.makedirs(os.path.join(root, "var", "lib", "apt", "lists", "partial"))
    finally:
        for d in reversed(mounts):
            subprocess.run(["umount", "-l", d])


def setup_boot(stack, disk_img, root, root_uuid, tmp):
    """The installer's boot: the image's own kernel + initrd, the guest finishes itself."""
    vmlinuz = sorted(glob.glob(os.path.join(root, "boot", "vmlinuz-*")))
    initrd = sorted(glob.glob(os.path.join(root, "boot", "initrd.img-*")))
    if len(vmlinuz) != 1 or len(initrd) != 1:
        raise ImageError(f"expected one kernel and one initrd in {root}/boot: {vmlinuz} {initrd}")
    kern, ird = os.path.join(tmp, "vmlinuz"), os.path.join(tmp, "initrd")
    shutil.copy(vmlinuz[0], kern)
    shutil.copy(initrd[0], ird)
    disk.put_file(disk_img, "/e2e/phase", "setup\n")
    vars_fd = os.path.join(tmp, "vars.fd")
    machine.fresh_vars(vars_fd)
    boot = machine.Boot("setup", tmp)
    append = f"root=UUID={root_uuid} ro {SERIAL} {INIT}"
    boot.run(machine.argv(disk_img, vars_fd, boot.console, boot.data, kern, ird, append),
             SETUP_TIMEOUT)
    probs = boot.problems(SETUP_TIMEOUT)
    if disk.needs_recovery(disk_img):
        probs.append("the setup boot left the root journal dirty (it did not unmount /)")
    if probs or boot.res["result"] != "PASS":
        raise ImageError("setup boot failed:\n  " + "\n  ".join(probs) + "\n" + boot.report_tail())
    return boot


def build(cache, stack):
    """Path of the cached, set-up disk for STACK (built when missing) and its metadata."""
    inp = inputs(stack)
    key = key_of(inp)
    outdir = os.path.join(cache, f"{stack}-{key}")
    meta_path = os.path.join(outdir, "meta.json")
    os.makedirs(cache, exist_ok=True)
    with open(os.path.join(cache, f"{stack}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the stacks build in parallel, each once
        if os.path.exists(meta_path):
            return os.path.join(outdir, "disk.img"), json.load(open(meta_path))
        for old in glob.glob(os.path.join(cache, f"{stack}-*")):
            shutil.rmtree(old, ignore_errors=True)  # a stale key: its inputs changed
        for old in glob.glob(os.path.join(cache, f"build-{stack}-*")):
            subprocess.run(["rm", "-rf", "--one-file-system", old])  # an interrupted build
        tmp = tempfile.mkdtemp(prefix=f"build-{stack}-", dir=cache)
        try:
            meta = _build(cache, tmp, stack, inp)
            os.rename(os.path.join(tmp, "disk.img"), os.path.join(tmp, "disk.final"))
            os.makedirs(outdir)
            os.rename(os.path.join(tmp, "disk.final"), os.path.join(outdir, "disk.img"))
            for f in ("setup.console.log", "setup.data.log"):
                shutil.copy(os.path.join(tmp, f), os.path.join(outdir, f))
            with open(meta_path + ".tmp", "w") as f:
                json.dump(meta, f, indent=1)
            os.rename(meta_path + ".tmp", meta_path)
        finally:
            subprocess.run(["rm", "-rf", "--one-file-system", tmp])
        return os.path.join(outdir, "disk.img"), meta


def rootfs(cache, stack, inp, tmp):
    """The debootstrapped tree of STACK, cached on its own (keyed by the packages and the
    mirror only), so a change to the lab's scripts does not download it again."""
    rinp = {k: inp[k] for k in ("layout", "suite", "mirror", "stack", "packages", "then", "kernel")}
    done = os.path.join(cache, f"rootfs-{stack}-{key_of(rinp)}")
    if os.path.exists(os.path.join(done, ".complete")):
        return done, 0
    for old in glob.glob(os.path.join(cache, f"rootfs-{stack}-*")):
        subprocess.run(["rm", "-rf", "--one-file-system", old])
    root = os.path.join(tmp, "rootfs")
    t0 = time.monotonic()
    argv = ["debootstrap", "--variant=minbase", "--include=" + ",".join(inp["packages"])]
    log(f"{stack}: debootstrap {SUITE} from {inp['mirror']} ({inp['kernel']})")
    try:
        subprocess.run(argv + [SUITE, root, inp["mirror"]], check=True,
                       stdout=open(os.path.join(tmp, "debootstrap.log"), "w"),
                       stderr=subprocess.STDOUT)
    except FileNotFoundError:
        raise ImageError("debootstrap not found: run scripts/install-deps.sh")
    except subprocess.CalledProcessError as e:
        raise ImageError(f"debootstrap failed ({e.returncode}); last lines:\n"
                         + "\n".join(open(os.path.join(tmp, "debootstrap.log")).read()
                                     .splitlines()[-30:]))
    if inp["then"]:
        log(f"{stack}: apt-get install {' '.join(inp['then'])} in the new system")
        chroot_apt(root, inp["then"], os.path.join(tmp, "apt.log"))
    subprocess.run(["rm", "-rf", os.path.join(root, "var", "cache", "apt", "archives")],
                   check=True)
    os.makedirs(os.path.join(root, "var", "cache", "apt", "archives", "partial"))
    open(os.path.join(root, ".complete"), "w").close()
    os.rename(root, done)
    return done, time.monotonic() - t0


def _build(cache, tmp, stack, inp):
    t0 = time.monotonic()
    cached_root, t_debootstrap = rootfs(cache, stack, inp, tmp)
    root = os.path.join(tmp, "root")
    subprocess.run(["cp", "-a", cached_root, root], check=True)
    os.unlink(os.path.join(root, ".complete"))
    t_boot = time.monotonic()
    root_uuid, esp_serial = str(uuid.uuid4()), uuid.uuid4().hex[:8].upper()
    esp_serial = f"{esp_serial[:4]}-{esp_serial[4:]}"
    configure(root, stack, root_uuid, esp_serial)
    img = os.path.join(tmp, "disk.img")
    disk.make(img, root, root_uuid, esp_serial, tmp)
    t_disk = time.monotonic()
    log(f"{stack}: disk made, setup boot")
    boot = setup_boot(stack, img, root, root_uuid, tmp)
    t_setup = time.monotonic()
    log(f"{stack}: debootstrap {t_debootstrap:.0f} s, copy+disk {t_disk - t_boot + (t_boot - t0 - t_debootstrap):.0f} s, "
        f"setup boot {t_setup - t_disk:.0f} s (qemu cpu {boot.cpu:.0f} s)")
    return {"inputs": inp, "root_uuid": root_uuid, "esp_serial": esp_serial,
            "seconds": {"debootstrap": round(t_debootstrap), "disk": round(t_disk - t_boot),
                        "setup_boot": round(t_setup - t_disk), "setup_qemu_cpu": round(boot.cpu)},
            "setup_marks": boot.res["marks"]}


if __name__ == "__main__":
    import argparse
    p = argparse.ArgumentParser(description="build (or find) the cached disk of a stack")
    p.add_argument("--cache", required=True)
    p.add_argument("stack", choices=sorted(STACKS))
    a = p.parse_args()
    try:
        path, meta = build(a.cache, a.stack)
    except (ImageError, disk.DiskError) as e:
        print(f"realos: FAIL: {e}", file=sys.stderr)
        sys.exit(2)
    print(path, json.dumps(meta["seconds"]))
