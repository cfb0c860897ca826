"""The QEMU machine of the real-OS lab: q35 with Intel's IOMMU, OVMF, one virtio disk.

Same devices as the initramfs lab (../e2e/lab.py DEVICES, verified in
../../../shared/knowledge/qemu-lab.md): boot VGA on the root bus, ati-vga behind root
port 1 (no driver on Debian: aty128fb is blacklisted), bochs-display + HD audio behind
root port 2 (bound at boot by bochs-drm and snd_hda_intel). UEFI firmware is OVMF
(package ovmf): a read-only code image plus a per-disk copy of the variable store.
`-no-reboot` turns the guest's reboot into a QEMU exit, so every boot is a new process
on the same disk: a cold boot through firmware, boot loader and the guest's initramfs.
`-nic none`: no NIC, so OVMF never waits on a network boot option.
"""

import os
import resource
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "e2e"))
import lab as e2e_lab  # noqa: E402

OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
# QEMU's default CPU model reports AuthenticAMD while the IOMMU is Intel's; an Intel
# model makes intel_iommu=off mean what it says (realos-lab.md, "Costs and traps").
CPU = "qemu64,vendor=GenuineIntel"


def argv(disk, vars_fd, console, data, kernel=None, initrd=None, append=None):
    a = ["qemu-system-x86_64", "-accel", "tcg", "-m", "1024", "-smp", "2", "-cpu", CPU,
         "-display", "none", "-monitor", "none", "-no-reboot", "-nic", "none",
         "-machine", "q35,kernel-irqchip=split",
         "-device", "intel-iommu,intremap=on,caching-mode=on",
         "-drive", f"if=pflash,format=raw,readonly=on,file={OVMF_CODE}",
         "-drive", f"if=pflash,format=raw,file={vars_fd}",
         "-drive", f"file={disk},format=raw,if=virtio,cache=unsafe",
         "-serial", f"file:{console}", "-serial", f"file:{data}"]
    if kernel:  # the installer's boot: the image's own kernel and initrd, no boot loader
        a += ["-kernel", kernel, "-initrd", initrd, "-append", append]
    return a + e2e_lab.DEVICES


def fresh_vars(path):
    shutil.copy(OVMF_VARS, path)


class Boot:
    """One boot: QEMU until the guest powers off (or the timeout), then the parsed data
    channel (the e2e protocol: E2E-BEGIN/END, E2E-RC, E2E-FAIL, E2E-RESULT)."""

    def __init__(self, name, workdir):
        self.name = name
        self.console = os.path.join(workdir, f"{name}.console.log")
        self.data = os.path.join(workdir, f"{name}.data.log")
        self.wall = None
        self.cpu = None  # QEMU's CPU seconds: on a shared, loaded host a better estimate of
        # an idle CI machine's wall time than the wall time itself
        self.timed_out = False
        self.qemu_err = ""
        self.res = None

    def run(self, qemu_argv, timeout):
        for p in (self.console, self.data):
            if os.path.exists(p):
                os.unlink(p)
        t0 = time.monotonic()
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        try:
            p = subprocess.run(qemu_argv, stdin=subprocess.DEVNULL, capture_output=True,
                               text=True, timeout=timeout)
            self.qemu_err = p.stderr
        except subprocess.TimeoutExpired as e:
            self.timed_out = True
            self.qemu_err = (e.stderr or b"").decode(errors="replace")
        self.wall = time.monotonic() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
        text = open(self.data, errors="replace").read() if os.path.exists(self.data) else ""
        # OVMF and GRUB write to every serial port; the guest's records start at its first
        # E2E- line, which may follow the firmware's escape codes on the same line.
        i = text.find("E2E-BOOTED ")
        text = text[i:] if i >= 0 else text
        self.res = e2e_lab.parse(text)
        return self

    def problems(self, timeout):
        out = [f"{self.name}: {f}" for f in self.res["fails"]]
        if self.timed_out:
            out.append(f"{self.name}: guest did not power off within {timeout:.0f} s (killed)")
        if self.res["result"] is None:
            out.append(f"{self.name}: no E2E-RESULT line: the guest crashed or hung")
        return out

    def report_tail(self):
        return (f"--- {self.name} qemu stderr\n{self.qemu_err.strip()}\n"
                f"--- {self.name} console (tail of {self.console})\n{e2e_lab.tail(self.console, 60)}\n"
                f"--- {self.name} data channel (tail of {self.data})\n{e2e_lab.tail(self.data, 60)}")
