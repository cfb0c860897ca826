#!/usr/bin/env python3
"""Build a fake host root from a compact machine manifest (see README.md here).

The sysfs part is laid out as the kernel lays it out (drivers/pci/pci-sysfs.c,
drivers/base/core.c): every PCI function is a directory under its upstream bridge
(sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0); sys/bus/pci/devices/<addr>,
driver, iommu_group and the drivers/ and iommu_groups/ back links are RELATIVE
symlinks, so the tree stays valid wherever it is copied. Each function also gets a
binary `config` consistent with its attributes (or copied from a real `lspci -xxxx`
dump), so lspci's linux-sysfs back end reads the same facts as exliar: it is the
independent oracle for these trees.

usage: build.py MACHINE_DIR OUT_DIR
       build.py --extract-pciids SRC_PCI_IDS MACHINE_DIR... > pci.ids
Stdlib only.
"""
import os
import re
import shlex
import shutil
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PCI_IDS_FIXTURE = os.path.join(HERE, "pci.ids")
ADDR_RE = re.compile(r"^([0-9a-f]{4}):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$")


class ManifestError(Exception):
    pass


class Pci:
    def __init__(self, fields, opts, lineno):
        if len(fields) != 6:
            raise ManifestError(f"line {lineno}: pci needs ADDR PARENT VEN:DEV SVEN:SDEV CLASS REV")
        self.addr, self.parent, ids, sub, cls, rev = fields
        self.lineno = lineno
        m = ADDR_RE.match(self.addr)
        if not m:
            raise ManifestError(f"line {lineno}: bad address {self.addr}")
        self.domain, self.bus, self.dev, self.fn = (int(x, 16) for x in m.groups())
        self.vendor, self.device = (int(x, 16) for x in ids.split(":"))
        self.svendor, self.sdevice = (0, 0) if sub == "-" else (int(x, 16) for x in sub.split(":"))
        self.has_subsys = sub != "-"
        self.cls = int(cls, 16)
        self.rev = int(rev, 16)
        self.driver = opts.get("driver")
        self.group = int(opts["group"]) if "group" in opts else None
        self.boot_vga = opts.get("boot_vga")
        self.config_src = opts.get("config")
        self.sec = self.sub_bus = None
        if "bus" in opts:
            s, e = opts["bus"].split(":")
            self.sec, self.sub_bus = int(s, 16), int(e, 16)
        self.is_bridge = (self.cls >> 8) == 0x0604
        if self.is_bridge and self.sec is None and not self.config_src:
            raise ManifestError(f"line {lineno}: bridge {self.addr} needs bus=SEC:SUB")
        self.path = None  # relative path under the root, set by layout()

    @property
    def slot(self):
        return self.addr[:-2]


def parse_opts(words):
    fields, opts = [], {}
    for w in words:
        if "=" in w:
            k, v = w.split("=", 1)
            opts[k] = v
        else:
            fields.append(w)
    return fields, opts


def read_manifest(mdir):
    path = os.path.join(mdir, "manifest")
    entries = []
    with open(path, encoding="utf-8") as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            try:
                words = shlex.split(line, comments=True)
            except ValueError as e:
                raise ManifestError(f"{path}:{lineno}: {e}") from None
            if not words:
                continue
            kind, rest = words[0], words[1:]
            if kind == "pci":
                fields, opts = parse_opts(rest)
                entries.append(("pci", Pci(fields, opts, lineno)))
            elif kind == "expect":
                continue  # checked by check_machine.py against exliar's output
            elif kind in ("file", "text", "link", "empty", "dir", "efivar", "kernel"):
                entries.append((kind, rest, lineno))
            else:
                raise ManifestError(f"{path}:{lineno}: unknown directive {kind}")
    return entries


def parse_lspci_dump(path):
    """Config bytes per short BDF from `lspci -xxx/-xxxx` output (pciutils test format)."""
    out, cur = {}, None
    hexline = re.compile(r"^([0-9a-f]{2,3}): ((?:[0-9a-f]{2} ?){1,16})$")
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            m = re.match(r"^([0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) ", line)
            if m:
                cur = m.group(1)
                out[cur] = bytearray()
                continue
            m = hexline.match(line)
            if m and cur is not None:
                off = int(m.group(1), 16)
                data = bytes(int(b, 16) for b in m.group(2).split())
                buf = out[cur]
                if len(buf) < off:
                    buf.extend(b"\0" * (off - len(buf)))
                buf[off:off + len(data)] = data
    return out


def synth_config(p, multifunction):
    """A config header consistent with the sysfs attributes (PCI Local Bus spec 3.0 §6.1)."""
    size = 256 if p.is_bridge else 64
    c = bytearray(size)
    struct.pack_into("<HH", c, 0x00, p.vendor, p.device)
    command = 0x0006 if p.driver else 0x0000  # memory space + bus master once a driver runs
    struct.pack_into("<HH", c, 0x04, command, 0x0000)
    c[0x08] = p.rev
    c[0x09], c[0x0A], c[0x0B] = p.cls & 0xFF, (p.cls >> 8) & 0xFF, (p.cls >> 16) & 0xFF
    c[0x0E] = (0x01 if p.is_bridge else 0x00) | (0x80 if multifunction else 0x00)
    if p.is_bridge:
        c[0x18], c[0x19], c[0x1A] = p.bus, p.sec, p.sub_bus
        if p.has_subsys:
            # Bridges carry their subsystem IDs in the SSVID capability (id 0x0d).
            struct.pack_into("<HH", c, 0x04, command, 0x0010)  # status: capability list
            c[0x34] = 0x40
            c[0x40], c[0x41] = 0x0D, 0x00
            struct.pack_into("<HH", c, 0x44, p.svendor, p.sdevice)
    else:
        struct.pack_into("<HH", c, 0x2C, p.svendor, p.sdevice)
    return bytes(c)


def check_dump(p, cfg, where):
    vendor, device = struct.unpack_from("<HH", cfg, 0)
    cls = cfg[0x0B] << 16 | cfg[0x0A] << 8 | cfg[0x09]
    facts = [(vendor, p.vendor, "vendor"), (device, p.device, "device"), (cls, p.cls, "class"),
             (cfg[0x08], p.rev, "revision")]
    if p.is_bridge:
        if p.sec is None:
            p.sec, p.sub_bus = cfg[0x19], cfg[0x1A]
        facts += [(cfg[0x18], p.bus, "primary bus"), (cfg[0x19], p.sec, "secondary bus"),
                  (cfg[0x1A], p.sub_bus, "subordinate bus")]
    else:
        sv, sd = struct.unpack_from("<HH", cfg, 0x2C)
        facts += [(sv, p.svendor, "subsystem vendor"), (sd, p.sdevice, "subsystem device")]
    for got, want, what in facts:
        if got != want:
            raise ManifestError(f"line {p.lineno}: {where}: {what} is {got:#x}, manifest says {want:#x}")


def write(path, data, mode="wb"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, mode) as f:
        f.write(data)


def rel_symlink(root, link, target):
    """Create root/link -> target, where target is a root-relative path, as a relative link."""
    link_abs = os.path.join(root, link)
    os.makedirs(os.path.dirname(link_abs), exist_ok=True)
    rel = os.path.relpath(os.path.join(root, target), os.path.dirname(link_abs))
    os.symlink(rel, link_abs)


def layout(pcis):
    by_addr = {p.addr: p for p in pcis}
    if len(by_addr) != len(pcis):
        raise ManifestError("duplicate PCI address")

    def path_of(p, seen=()):
        if p.path:
            return p.path
        if p.parent == "-":
            p.path = f"sys/devices/pci{p.domain:04x}:{p.bus:02x}/{p.addr}"
        else:
            if p.parent not in by_addr or p.parent in seen:
                raise ManifestError(f"line {p.lineno}: parent {p.parent} is not a listed bridge")
            up = by_addr[p.parent]
            if not up.is_bridge or up.sec is None or not (up.sec <= p.bus <= up.sub_bus):
                raise ManifestError(f"line {p.lineno}: bus {p.bus:02x} is not behind {p.parent}")
            p.path = path_of(up, seen + (p.addr,)) + "/" + p.addr
        return p.path

    for p in pcis:
        path_of(p)


def build_pci(root, pcis, mdir, builtin_drivers=()):
    dumps = {}
    for p in pcis:  # dumps first: bridges may take their bus numbers from them
        if p.config_src:
            fname, bdf = p.config_src.rsplit("@", 1)
            if fname not in dumps:
                dumps[fname] = parse_lspci_dump(os.path.join(mdir, "files", fname))
            if bdf not in dumps[fname]:
                raise ManifestError(f"line {p.lineno}: {bdf} not in {fname}")
            p.config = bytes(dumps[fname][bdf])
            check_dump(p, p.config, p.config_src)
    layout(pcis)
    slots = {}
    for p in pcis:
        slots.setdefault(p.slot, []).append(p)
    for p in pcis:
        d = os.path.join(root, p.path)
        os.makedirs(d, exist_ok=True)
        attrs = {
            "vendor": f"0x{p.vendor:04x}\n",
            "device": f"0x{p.device:04x}\n",
            "subsystem_vendor": f"0x{p.svendor:04x}\n",
            "subsystem_device": f"0x{p.sdevice:04x}\n",
            "class": f"0x{p.cls:06x}\n",
            "revision": f"0x{p.rev:02x}\n",
            "enable": "1\n" if p.driver else "0\n",
        }
        # boot_vga exists only for VGA-class functions (pci-sysfs.c boot_vga_attr_is_visible).
        if (p.cls >> 8) == 0x0300:
            attrs["boot_vga"] = "1\n" if p.boot_vga == "1" else "0\n"
        if p.is_bridge:
            attrs["secondary_bus_number"] = f"{p.sec}\n"
            attrs["subordinate_bus_number"] = f"{p.sub_bus}\n"
        for k, v in attrs.items():
            write(os.path.join(d, k), v, "w")
        cfg = getattr(p, "config", None) or synth_config(p, len(slots[p.slot]) > 1)
        write(os.path.join(d, "config"), cfg)
        rel_symlink(root, f"sys/bus/pci/devices/{p.addr}", p.path)
        rel_symlink(root, f"{p.path}/subsystem", "sys/bus/pci")
        if p.driver:
            drv = f"sys/bus/pci/drivers/{p.driver}"
            os.makedirs(os.path.join(root, drv), exist_ok=True)
            rel_symlink(root, f"{p.path}/driver", drv)
            rel_symlink(root, f"{drv}/{p.addr}", p.path)
        if p.group is not None:
            g = f"sys/kernel/iommu_groups/{p.group}"
            os.makedirs(os.path.join(root, g, "devices"), exist_ok=True)
            rel_symlink(root, f"{p.path}/iommu_group", g)
            rel_symlink(root, f"{g}/devices/{p.addr}", p.path)
    os.makedirs(os.path.join(root, "sys/bus/pci/devices"), exist_ok=True)
    os.makedirs(os.path.join(root, "sys/bus/pci/drivers"), exist_ok=True)
    # The kernel registers the iommu_groups kset at boot even when no IOMMU is enabled.
    os.makedirs(os.path.join(root, "sys/kernel/iommu_groups"), exist_ok=True)


def unescape(s):
    """shlex already turned \\\\ and \\" into \\ and "; here only \\n, \\t and \\0 remain."""
    return re.sub(r"\\([nt0])", lambda m: {"n": "\n", "t": "\t", "0": "\0"}[m.group(1)], s).encode()


def build_kernel(root, args, lineno):
    kver, opts = args[0], dict(a.split("=", 1) for a in args[1:])
    base = os.path.join(root, "lib/modules", kver)
    builtin = [m for m in opts.get("builtin", "").split(",") if m]
    modules = [m for m in opts.get("modules", "").split(",") if m]
    where = {"vfio": "kernel/drivers/vfio/vfio.ko", "vfio_iommu_type1":
             "kernel/drivers/vfio/vfio_iommu_type1.ko", "vfio_pci": "kernel/drivers/vfio/pci/vfio-pci.ko",
             "vfio_pci_core": "kernel/drivers/vfio/pci/vfio-pci-core.ko",
             "vfio_virqfd": "kernel/drivers/vfio/vfio_virqfd.ko",
             "kvm": "kernel/arch/x86/kvm/kvm.ko", "kvm_intel": "kernel/arch/x86/kvm/kvm-intel.ko",
             "kvm_amd": "kernel/arch/x86/kvm/kvm-amd.ko"}
    for m in builtin + modules:
        if m not in where:
            raise ManifestError(f"line {lineno}: unknown module {m}")
    os.makedirs(base, exist_ok=True)
    # modules.builtin lists built-in objects by their would-be .ko path (kbuild).
    write(os.path.join(base, "modules.builtin"),
          "".join(f"{where[m]}\n" for m in builtin), "w")
    dep = ""
    for m in modules:
        write(os.path.join(base, where[m]), b"")  # placeholder: presence is what is checked
        dep += f"{where[m]}:\n"
    write(os.path.join(base, "modules.dep"), dep, "w")


def build(mdir, out):
    entries = read_manifest(mdir)
    if os.path.lexists(out):
        shutil.rmtree(out)
    os.makedirs(out)
    pcis = [e[1] for e in entries if e[0] == "pci"]
    for e in entries:
        kind = e[0]
        if kind == "pci":
            continue
        args, lineno = e[1], e[2]
        target = os.path.join(out, args[0].lstrip("/")) if args else None
        try:
            if kind == "file":
                os.makedirs(os.path.dirname(target), exist_ok=True)
                shutil.copyfile(os.path.join(mdir, "files", args[1]), target)
            elif kind == "text":
                write(target, unescape(args[1]))
            elif kind == "empty":
                write(target, b"")
            elif kind == "dir":
                os.makedirs(target, exist_ok=True)
            elif kind == "link":
                os.makedirs(os.path.dirname(target), exist_ok=True)
                os.symlink(args[1], target)
            elif kind == "efivar":
                # efivarfs: 4 attribute bytes, then the value ("utf16:TEXT" = UTF-16LE + NUL).
                attr = bytes.fromhex(args[1])
                val = (args[2][6:] + "\0").encode("utf-16-le") if args[2].startswith("utf16:") \
                    else bytes.fromhex(args[2])
                write(os.path.join(out, "sys/firmware/efi/efivars", args[0]), attr + val)
            elif kind == "kernel":
                build_kernel(out, args, lineno)
        except (IndexError, OSError, ValueError) as ex:
            raise ManifestError(f"line {lineno}: {kind}: {ex}") from None
    build_pci(out, pcis, mdir)
    write(os.path.join(out, "usr/share/misc/pci.ids"), pciids_subset(PCI_IDS_FIXTURE, pcis), "w")


def pciids_subset(src, pcis):
    """Vendor, device and class lines needed by `pcis`, verbatim and in source order."""
    vendors = {f"{p.vendor:04x}" for p in pcis} | {f"{p.svendor:04x}" for p in pcis if p.has_subsys}
    devices = {(f"{p.vendor:04x}", f"{p.device:04x}") for p in pcis}
    classes = {f"{p.cls >> 16:02x}" for p in pcis}
    subclasses = {(f"{p.cls >> 16:02x}", f"{(p.cls >> 8) & 0xff:02x}") for p in pcis}
    out, ven, cls, in_classes, header = [], None, None, False, True
    with open(src, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                if header and line.startswith("#"):
                    out.append(line)  # keep the leading header (version, licence)
                continue
            header = False
            if line.startswith("C "):
                in_classes, cls = True, line.split()[1]
                if cls in classes:
                    out.append(line)
                continue
            if in_classes:
                if line.startswith("\t") and not line.startswith("\t\t"):
                    if (cls, line.split()[0]) in subclasses:
                        out.append(line)
                continue
            if not line.startswith("\t"):
                ven = line[:4]
                if ven in vendors:
                    out.append(line)
            elif not line.startswith("\t\t") and (ven, line[1:5]) in devices:
                out.append(line)
    return "".join(out)


def extract_pciids(src, mdirs):
    """Print the lines of `src` (a full pci.ids) that any machine needs, for the fixture."""
    pcis = []
    for m in mdirs:
        pcis += [e[1] for e in read_manifest(m) if e[0] == "pci"]
    sys.stdout.write(pciids_subset(src, pcis))


def selftest():
    """The builder refuses inconsistent manifests and writes what lspci expects."""
    import tempfile
    tmp = tempfile.mkdtemp(prefix="exliar-build-selftest-")
    fx = os.path.join(HERE, "mx150-debian/files/lenovo-kabylake-u-laptop_nvidia-mx150-3d-controller_optimus-subset.lspci-vvxxxx")
    bad = {
        "bridge without bus": "pci 0000:00:01.0 - 8086:1901 - 060400 00\n",
        "child outside bridge range": "pci 0000:00:01.0 - 8086:1901 - 060400 00 bus=01:01\n"
                                      "pci 0000:02:00.0 0000:00:01.0 10de:1d01 - 030000 a1\n",
        "parent not listed": "pci 0000:01:00.0 0000:00:01.0 10de:1d01 - 030000 a1\n",
        "dump disagrees": "pci 0000:02:00.0 - 10de:1d10 17aa:225b 030000 a1 config=d@02:00.0\n",
        "unknown directive": "frobnicate x\n",
    }
    try:
        for name, text in bad.items():
            m = os.path.join(tmp, "m")
            os.makedirs(os.path.join(m, "files"), exist_ok=True)
            shutil.copyfile(fx, os.path.join(m, "files", "d"))
            with open(os.path.join(m, "manifest"), "w") as f:
                f.write(text)
            try:
                build(m, os.path.join(tmp, "out"))
            except ManifestError:
                continue
            raise AssertionError(f"selftest: {name}: accepted")
        with open(os.path.join(m, "manifest"), "w") as f:
            f.write("pci 0000:00:01.0 - 8086:1901 1849:1901 060400 07 driver=pcieport group=2 bus=01:01\n"
                    "pci 0000:01:00.0 0000:00:01.0 10de:1d01 1458:3771 030000 a1 group=2\n"
                    "pci 0000:01:00.1 0000:00:01.0 10de:0fb8 1458:3771 040300 a1 group=2\n")
        out = os.path.join(tmp, "out")
        build(m, out)
        br = os.path.join(out, "sys/devices/pci0000:00/0000:00:01.0")
        with open(os.path.join(br, "config"), "rb") as f:
            c = f.read()
        assert len(c) == 256 and c[0x0E] == 0x01 and c[0x19] == 1 and c[0x1A] == 1, c[:32]
        assert struct.unpack_from("<HH", c, 0x44) == (0x1849, 0x1901)
        with open(os.path.join(br, "0000:01:00.0/config"), "rb") as f:
            c = f.read()
        assert len(c) == 64 and c[0x0E] == 0x80 and struct.unpack_from("<HH", c, 0x2C) == (0x1458, 0x3771)
        assert os.readlink(os.path.join(out, "sys/bus/pci/devices/0000:01:00.0")) == \
            "../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0"
        assert os.readlink(os.path.join(br, "0000:01:00.0/iommu_group")) == "../../../../kernel/iommu_groups/2"
        assert os.path.exists(os.path.join(out, "sys/kernel/iommu_groups/2/devices/0000:01:00.1/vendor"))
        assert os.path.exists(os.path.join(out, "sys/bus/pci/drivers/pcieport/0000:00:01.0/class"))
        assert os.path.exists(os.path.join(br, "0000:01:00.0/boot_vga"))
        assert not os.path.exists(os.path.join(br, "0000:01:00.1/boot_vga"))
        print("build.py selftest: ok")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv):
    try:
        if argv[1:] == ["--selftest"]:
            selftest()
        elif len(argv) >= 3 and argv[1] == "--extract-pciids":
            extract_pciids(argv[2], argv[3:])
        elif len(argv) == 3:
            build(argv[1], argv[2])
        else:
            sys.stderr.write(__doc__)
            return 2
    except ManifestError as e:
        sys.stderr.write(f"build.py: {argv[1]}: {e}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
