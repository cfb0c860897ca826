#!/usr/bin/env python3
"""Generate a synthetic host root with N PCI functions for benchmarks.

Layout follows the kernel: per domain a host bridge and root ports on bus 0; behind each
root port either a multi-function endpoint (GPU + HD audio, NIC pairs, NVMe) or a PCIe
switch (upstream + downstream ports) with endpoints below it. Device directories nest
under their bridges; bus/pci/devices, driver and iommu_group are relative symlinks.
Usage: gen_root.py OUTDIR FUNCTIONS [DOMAINS]
"""
import os
import struct
import sys

# (vendor, device, class, driver, functions) templates for endpoints: a realistic mix.
ENDPOINTS = [
    (0x10de, 0x2484, 0x030000, "nvidia", [(0x10de, 0x228b, 0x040300, "snd_hda_intel")]),
    (0x1002, 0x73df, 0x030000, "amdgpu", [(0x1002, 0xab28, 0x040300, "snd_hda_intel")]),
    (0x8086, 0x1539, 0x020000, "igb", [(0x8086, 0x1539, 0x020000, "igb")]),
    (0x144d, 0xa808, 0x010802, "nvme", []),
    (0x1b21, 0x2142, 0x0c0330, "xhci_hcd", []),
    (0x10de, 0x1d01, 0x030000, None, [(0x10de, 0x0fb8, 0x040300, None)]),
]


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def config_bytes(ven, dev, cls, rev, bridge, sec=0, sub=0):
    hdr = 0x01 if bridge else 0x00
    c = bytearray(256 if bridge else 64)
    struct.pack_into("<HHHHBBBBBBBB", c, 0, ven, dev, 0x0006, 0x0010, rev, cls & 0xff,
                     (cls >> 8) & 0xff, (cls >> 16) & 0xff, 0, 0, hdr, 0)
    if bridge:
        c[0x18], c[0x19], c[0x1a] = 0, sec, sub
    else:
        struct.pack_into("<HH", c, 0x2c, ven, dev)
    return bytes(c)


class Gen:
    def __init__(self, root):
        self.root = root
        self.sys = os.path.join(root, "sys")
        self.count = 0
        self.group = 0
        os.makedirs(os.path.join(self.sys, "bus/pci/devices"), exist_ok=True)
        os.makedirs(os.path.join(self.sys, "kernel/iommu_groups"), exist_ok=True)

    def device(self, parent_dir, addr, ven, dev, cls, driver, group, bridge=False, sec=0):
        d = os.path.join(parent_dir, addr)
        os.makedirs(d, exist_ok=True)
        rev = 0xa1
        for name, val in (("vendor", "0x%04x" % ven), ("device", "0x%04x" % dev),
                          ("subsystem_vendor", "0x%04x" % ven), ("subsystem_device", "0x%04x" % dev),
                          ("class", "0x%06x" % cls), ("revision", "0x%02x" % rev)):
            write(os.path.join(d, name), val + "\n")
        # The kernel's pci_uevent() and dev_uevent(): what `exliar detect` reads first.
        ev = "PCI_CLASS=%X\nPCI_ID=%04X:%04X\nPCI_SUBSYS_ID=%04X:%04X\nPCI_SLOT_NAME=%s\n" % (
            cls, ven, dev, ven, dev, addr)
        write(os.path.join(d, "uevent"), ("DRIVER=%s\n" % driver if driver else "") + ev)
        if cls >> 8 == 0x0300:
            write(os.path.join(d, "boot_vga"), "0\n")
        with open(os.path.join(d, "config"), "wb") as f:
            f.write(config_bytes(ven, dev, cls, rev, bridge, sec, sec))
        link = os.path.join(self.sys, "bus/pci/devices", addr)
        os.symlink(os.path.relpath(d, os.path.dirname(link)), link)
        if driver:
            drv = os.path.join(self.sys, "bus/pci/drivers", driver)
            os.makedirs(drv, exist_ok=True)
            os.symlink(os.path.relpath(drv, d), os.path.join(d, "driver"))
            os.symlink(os.path.relpath(d, drv), os.path.join(drv, addr))
        g = os.path.join(self.sys, "kernel/iommu_groups", str(group))
        os.makedirs(os.path.join(g, "devices"), exist_ok=True)
        os.symlink(os.path.relpath(g, d), os.path.join(d, "iommu_group"))
        os.symlink(os.path.relpath(d, os.path.join(g, "devices")), os.path.join(g, "devices", addr))
        self.count += 1
        return d

    def new_group(self):
        self.group += 1
        return self.group - 1


def generate(root, total, domains):
    g = Gen(root)
    per_domain = total // domains
    for dom in range(domains):
        target = per_domain if dom < domains - 1 else total - g.count
        start = g.count
        host = os.path.join(g.sys, "devices", "pci%04x:00" % dom)
        os.makedirs(host, exist_ok=True)
        g.device(host, "%04x:00:00.0" % dom, 0x8086, 0x3ec2, 0x060000, None, g.new_group())
        bus, slot, k = 1, 1, 0
        while g.count - start < target and bus < 255 and slot < 32:
            rp_addr = "%04x:00:%02x.0" % (dom, slot)
            grp = g.new_group()
            rp = g.device(host, rp_addr, 0x8086, 0x1901, 0x060400, "pcieport", grp, True, bus)
            slot += 1
            if k % 3 == 2:  # a switch: upstream port + downstream ports with endpoints
                up = g.device(rp, "%04x:%02x:00.0" % (dom, bus), 0x1002, 0x1478, 0x060400,
                              "pcieport", grp, True, bus + 1)
                bus += 1
                down_bus = bus + 1
                for p in range(8):
                    if g.count - start >= target or down_bus >= 255:
                        break
                    dn = g.device(up, "%04x:%02x:%02x.0" % (dom, bus, p), 0x1002, 0x1479,
                                  0x060400, "pcieport", g.new_group(), True, down_bus)
                    add_endpoint(g, dn, dom, down_bus, k + p, start, target)
                    down_bus += 1
                bus = down_bus
            else:
                add_endpoint(g, rp, dom, bus, k, start, target)
                bus += 1
            k += 1
            if slot >= 32:  # deeper trees: bus 0 is full, nest further root complexes
                break
    return g.count


def add_endpoint(g, parent, dom, bus, k, start, target):
    ven, dev, cls, drv, extra = ENDPOINTS[k % len(ENDPOINTS)]
    grp = g.new_group()
    g.device(parent, "%04x:%02x:00.0" % (dom, bus), ven, dev, cls, drv, grp)
    for fn, (v2, d2, c2, drv2) in enumerate(extra, start=1):
        if g.count - start >= target:
            break
        g.device(parent, "%04x:%02x:00.%d" % (dom, bus, fn), v2, d2, c2, drv2, grp)


def main():
    out, total = sys.argv[1], int(sys.argv[2])
    domains = int(sys.argv[3]) if len(sys.argv) > 3 else max(1, total // 200)
    n = generate(out, total, domains)
    os.makedirs(os.path.join(out, "proc/sys/kernel"), exist_ok=True)
    write(os.path.join(out, "proc/cmdline"), "root=/dev/sda1 ro intel_iommu=on iommu=pt\n")
    write(os.path.join(out, "proc/sys/kernel/osrelease"), "6.8.0-bench\n")
    write(os.path.join(out, "proc/cpuinfo"), "vendor_id\t: GenuineIntel\nmodel name\t: Bench CPU\nflags\t\t: fpu vmx\n")
    print("%s: %d functions in %d domains" % (out, n, domains))


if __name__ == "__main__":
    main()
