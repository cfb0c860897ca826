#!/usr/bin/env python3
"""Dynamic passthrough (issue 20) as a user meets it: the real exliar binary on copies of a
fixture machine (--root). `vm enable` round-trips byte for byte through `rollback` and
through `vm disable`, a foreign libvirt hook is never touched, Proxmox gets a hookscript,
`vm-hook` is silent for unmanaged VMs and refuses a broken config naming file and line.

  check_vm_hooks.py EXLIAR MACHINES_DIR CASE     (CASE from --list)
"""

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time

FOREIGN = "#!/bin/sh\n# the user's own hook, not exliar's\nexit 0\n"
GPU = "0000:09:00.0"  # fiji-proxmox: amdgpu + HDA in IOMMU group 4


def tree(root, skip=("var/lib/exliar",)):
    """{relative path: (kind, mode, content)} of files and symlinks (dirs only when empty
    is asked for via dirs=True in full_tree)."""
    out = {}
    for d, dirs, files in os.walk(root):
        rel_d = os.path.relpath(d, root)
        if any(rel_d == s or rel_d.startswith(s + "/") for s in skip):
            dirs[:] = []
            continue
        for n in files + [x for x in dirs if os.path.islink(os.path.join(d, x))]:
            p = os.path.join(d, n)
            rel = os.path.normpath(os.path.join(rel_d, n))
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", 0, os.readlink(p))
            else:
                out[rel] = ("file", stat.S_IMODE(st.st_mode), open(p, "rb").read())
    return out


def dirs_of(root):
    """Directories, minus exliar's journal and its parents (exliar's own state)."""
    own = {"var", "var/lib"}
    return {r for r in (os.path.relpath(d, root) for d, _, _ in os.walk(root))
            if r not in own and not r.startswith("var/lib/exliar")}


class Case:
    def __init__(self, exe, machines):
        self.exe = exe
        self.tmp = tempfile.mkdtemp(prefix="exliar-vm-")
        self.root = os.path.join(self.tmp, "root")
        shutil.copytree(os.path.join(machines, "fiji-proxmox"), self.root, symlinks=True)
        self.problems = []

    def run(self, *args, stdin=""):
        t0 = time.monotonic()
        p = subprocess.run([self.exe, "--root", self.root, *args], input=stdin,
                           capture_output=True, text=True, timeout=60)
        p.seconds = time.monotonic() - t0
        return p

    def expect(self, cond, msg):
        if not cond:
            self.problems.append(msg)

    def write(self, rel, text, mode=0o644):
        p = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, mode)

    def read(self, rel):
        return open(os.path.join(self.root, rel)).read()

    def exists(self, rel):
        return os.path.lexists(os.path.join(self.root, rel))


def case_enable_rollback(c):
    c.write("etc/libvirt/hooks/qemu", FOREIGN, 0o755)
    before, before_dirs = tree(c.root), dirs_of(c.root)
    p = c.run("--yes", "vm", "enable", "win11", "--gpu", GPU)
    c.expect(p.returncode == 0, f"vm enable exited {p.returncode}: {p.stderr}")
    disp = "etc/libvirt/hooks/qemu.d/exliar"
    c.expect(c.exists(disp) and os.stat(os.path.join(c.root, disp)).st_mode & 0o111,
             "no executable dispatcher in qemu.d")
    c.expect("vm-hook" in c.read(disp), "the dispatcher does not call vm-hook")
    c.expect(c.read("etc/libvirt/hooks/qemu") == FOREIGN, "the foreign qemu hook changed")
    c.expect("restart libvirtd" not in p.stderr,
             "asked for a libvirtd restart although libvirt already had a qemu hook")
    cfg = json.loads(c.read("etc/exliar/vms/win11.json"))
    c.expect(cfg["gpu"] == GPU and cfg["functions"] == [GPU, "0000:09:00.1"] and
             cfg["mode"] == "secondary", f"config: {cfg}")
    r = c.run("--yes", "rollback")
    c.expect(r.returncode == 0, f"rollback exited {r.returncode}: {r.stderr}")
    c.expect(tree(c.root) == before, "rollback did not restore the tree byte for byte")
    c.expect(dirs_of(c.root) == before_dirs,
             f"rollback left directories: {sorted(dirs_of(c.root) - before_dirs)}")


def case_enable_disable(c):
    c.write("etc/libvirt/hooks/qemu", FOREIGN, 0o755)
    c.write("etc/libvirt/hooks/qemu.d/10-other", FOREIGN, 0o755)
    before = tree(c.root)
    for name in ("win11", "linux"):
        p = c.run("--yes", "vm", "enable", name, "--gpu", GPU, "--single-gpu")
        c.expect(p.returncode == 0, f"vm enable {name} exited {p.returncode}: {p.stderr}")
    p = c.run("--yes", "vm", "enable", "win11", "--gpu", GPU)
    c.expect(p.returncode != 0 and "already enabled" in p.stderr, "enabled the same VM twice")
    lst = c.run("--json", "vm", "list")
    vms = {v["name"]: v for v in json.loads(lst.stdout)["vms"]}
    c.expect(set(vms) == {"win11", "linux"} and vms["win11"]["mode"] == "single-gpu" and
             vms["win11"]["hook_installed"], f"vm list: {lst.stdout}")
    c.run("--yes", "vm", "disable", "win11")
    c.expect(c.exists("etc/libvirt/hooks/qemu.d/exliar"),
             "the dispatcher went although another VM uses it")
    p = c.run("--yes", "vm", "disable", "linux")
    c.expect(p.returncode == 0, f"vm disable exited {p.returncode}: {p.stderr}")
    c.expect(tree(c.root) == before, "enable+disable did not give back the same files")
    p = c.run("--yes", "vm", "disable", "linux")
    c.expect(p.returncode != 0 and "not enabled" in p.stderr, "disabled a VM twice")


def case_foreign_dispatcher(c):
    c.write("etc/libvirt/hooks/qemu.d/exliar", FOREIGN, 0o755)
    before = tree(c.root)
    p = c.run("--yes", "vm", "enable", "win11", "--gpu", GPU)
    c.expect(p.returncode != 0 and "not written by exliar" in p.stderr,
             f"replaced a foreign qemu.d/exliar: {p.returncode} {p.stderr}")
    c.expect(tree(c.root) == before, "a refused enable changed files")


def case_proxmox(c):
    os.makedirs(os.path.join(c.root, "etc/pve"))
    before = tree(c.root)
    p = c.run("--yes", "vm", "enable", "win11", "--gpu", GPU)
    c.expect(p.returncode != 0 and "VMID" in p.stderr, "Proxmox accepted a non-numeric VMID")
    c.expect(tree(c.root) == before, "a refused enable changed files")
    p = c.run("--yes", "vm", "enable", "100", "--gpu", GPU, "--single-gpu")
    c.expect(p.returncode == 0, f"vm enable 100 exited {p.returncode}: {p.stderr}")
    snip = "var/lib/vz/snippets/exliar-hook"
    c.expect(c.exists(snip) and "vm-hook" in c.read(snip), "no Proxmox hookscript snippet")
    c.expect("qm set 100 --hookscript local:snippets/exliar-hook" in p.stderr,
             f"no qm set hint: {p.stderr}")
    x = c.run("vm-xml", "--format", "proxmox", "--gpu", GPU)
    c.expect(x.stdout == "hostpci0: 09:00,pcie=1,x-vga=1\n", f"vm-xml proxmox: {x.stdout!r}")


def kernel_attrs(c):
    """What a real kernel has and the fixture lacks: driver_override, drivers_probe, a
    loaded vfio-pci (the bind writes land in these plain files)."""
    devs = os.path.join(c.root, "sys/bus/pci/devices")
    for a in os.listdir(devs):
        with open(os.path.join(os.path.realpath(os.path.join(devs, a)), "driver_override"),
                  "w") as f:
            f.write("(null)\n")
    c.write("sys/bus/pci/drivers_probe", "")
    for d in ("vfio-pci", "amdgpu", "snd_hda_intel"):
        for op in ("bind", "unbind"):
            c.write(f"sys/bus/pci/drivers/{d}/{op}", "")


def case_hook_unmanaged_and_root(c):
    kernel_attrs(c)
    p = c.run("vm-hook", "otherdomain", "prepare", "begin", "-", stdin="<domain/>")
    c.expect(p.returncode == 0 and p.stdout == "" and p.stderr == "",
             f"unmanaged VM: rc {p.returncode} {p.stdout!r} {p.stderr!r}")
    c.expect(p.seconds < 1.0, f"unmanaged VM took {p.seconds:.2f} s")
    print(f"unmanaged vm-hook: {p.seconds * 1000:.0f} ms")
    c.run("--yes", "vm", "enable", "win11", "--gpu", GPU)
    p = c.run("vm-hook", "win11", "started", "begin", "-")
    c.expect(p.returncode == 0 and p.stderr == "", "an operation exliar ignores did something")
    p = c.run("vm-hook", "win11", "prepare", "begin", "-", stdin="<domain/>")
    c.expect(p.returncode == 0, f"prepare on the fixture exited {p.returncode}: {p.stderr}")
    c.expect(c.read("sys/bus/pci/devices/0000:09:00.0/driver_override") == "vfio-pci",
             "prepare did not write driver_override")
    c.expect(c.exists("run/exliar/vm-win11.json"), "prepare recorded no session")
    st = c.run("status")
    c.expect("with VM win11 since" in st.stdout, f"status: {st.stdout}")
    p = c.run("vm-hook", "win11", "release", "end", "-")
    c.expect(p.returncode == 0, f"release exited {p.returncode}: {p.stderr}")
    c.expect(not c.exists("run/exliar/vm-win11.json"), "release left the session")
    c.expect(c.read("sys/bus/pci/devices/0000:09:00.0/driver_override") == "\n",
             "release did not clear driver_override")
    p = c.run("vm-hook", "win11", "release", "end", "-")
    c.expect(p.returncode == 0 and p.stderr == "", f"second release: {p.stderr}")


def case_broken_config(c):
    c.run("--yes", "vm", "enable", "win11", "--gpu", GPU)
    c.write("etc/exliar/vms/win11.json", '{\n  "schema_version": 1,\n  "name": "win11",\n  oops\n}\n')
    before = tree(c.root)
    p = c.run("vm-hook", "win11", "prepare", "begin", "-")
    c.expect(p.returncode != 0, "prepare accepted a broken config")
    c.expect("etc/exliar/vms/win11.json:4:" in p.stderr, f"no file:line in {p.stderr!r}")
    c.expect(tree(c.root) == before, "a refused prepare changed files")


CASES = {k[5:]: v for k, v in globals().items() if k.startswith("case_")}


def main():
    if sys.argv[1:] == ["--list"]:
        print(";".join(CASES))
        return 0
    exe, machines, name = sys.argv[1:4]
    c = Case(exe, machines)
    try:
        CASES[name](c)
    finally:
        shutil.rmtree(c.tmp, ignore_errors=True)
    for p in c.problems:
        print("FAIL:", p)
    return 1 if c.problems else 0


if __name__ == "__main__":
    sys.exit(main())
