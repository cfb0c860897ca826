"""Debian's current kernel for the QEMU lab: resolve, download, unpack, pick modules.

The recipe is ../../../shared/knowledge/qemu-lab.md (verified on a 2-core TCG machine):
the kernel package is whatever linux-image-amd64 depends on today (the name changes with
Debian point releases), fetched with `apt-get download` and unpacked with `dpkg -x`, never
installed. The .deb ships no modules.dep (depmod runs at install time), so the insmod
order is computed here from each module's own `modinfo -F depends` / `softdep` fields.

Cache layout (inside the build tree, so `rm -rf build` forgets it):
  <cache>/<package>_<version>.deb      the downloaded package (kept: re-slicing is offline)
  <cache>/<package>_<version>/vmlinuz  the kernel image as packaged (a bzImage)
  <cache>/<package>_<version>/vmlinux  the same kernel uncompressed (an ELF with a PVH note)
  <cache>/<package>_<version>/modules/<name>.ko   uncompressed, only the closure needed
  <cache>/<package>_<version>/lab.json  {"roots": [...], "order": [...]} (the stamp)
"""

import fcntl
import gzip
import json
import lzma
import os
import re
import shutil
import subprocess
import tempfile
import zlib

# Modules the lab loads. vfio_iommu_type1 is only a soft dependency of vfio (it is
# request_module()d when a container is opened), so it is a root of its own. bochs is
# the native DRM driver of QEMU's std VGA and bochs-display: it gives unbind a real
# driver to restore and the boot VGA a real console to refuse on. e1000e drives q35's
# default NIC (8086:10d3), so a default route gives bind a network device to refuse.
ROOT_MODULES = ["vfio-pci", "vfio_iommu_type1", "bochs", "e1000e"]
LAYOUT = 2  # bump when the cache layout changes


def extract_vmlinux(bzimage, dst):
    """The ELF inside a bzImage, like the kernel's scripts/extract-vmlinux. QEMU boots an
    ELF kernel through its PVH entry (CONFIG_PVH=y in Debian's config), which skips the
    real-mode setup and the in-guest decompression: measured on the 2-core CI-like
    machine under load, the first kernel line came 3 s after start instead of 27 s,
    because xz decompression under TCG is slow. Returns False if no payload is found."""
    data = open(bzimage, "rb").read()
    for magic, make in ((b"\xfd7zXZ\x00", lambda: lzma.LZMADecompressor(format=lzma.FORMAT_XZ)),
                        (b"\x1f\x8b\x08", lambda: zlib.decompressobj(16 + zlib.MAX_WBITS))):
        i = data.find(magic)
        while i >= 0:
            try:
                out = make().decompress(data[i:])
            except (lzma.LZMAError, zlib.error):
                out = b""
            if out.startswith(b"\x7fELF"):
                with open(dst, "wb") as f:
                    f.write(out)
                return True
            i = data.find(magic, i + 1)
    return False


class LabError(Exception):
    pass


def _run(argv, **kw):
    try:
        return subprocess.run(argv, check=True, capture_output=True, text=True, **kw).stdout
    except FileNotFoundError:
        raise LabError(f"`{argv[0]}` not found: run scripts/install-deps.sh")
    except subprocess.CalledProcessError as e:
        raise LabError(f"`{' '.join(argv)}` failed ({e.returncode}): {e.stderr.strip()}")


def resolve_package():
    """Name and candidate version of the kernel linux-image-amd64 points at today."""
    out = _run(["apt-cache", "depends", "linux-image-amd64"])
    m = re.search(r"^\s*\|?Depends:\s*(linux-image-\d\S*)", out, re.M)
    if not m:
        raise LabError(f"no linux-image-<version> in `apt-cache depends linux-image-amd64`:\n{out}")
    pkg = m.group(1)
    show = _run(["apt-cache", "show", "--no-all-versions", pkg])
    v = re.search(r"^Version:\s*(\S+)", show, re.M)
    if not v:
        raise LabError(f"no Version in `apt-cache show {pkg}`")
    return pkg, v.group(1)


def _norm(name):
    return name.replace("-", "_")


def _module_index(modroot):
    """Normalised module name -> path of its (possibly compressed) .ko file."""
    index = {}
    for dirpath, _, files in os.walk(modroot):
        for f in files:
            m = re.match(r"(.+)\.ko(\.xz|\.gz|\.zst)?$", f)
            if m:
                index[_norm(m.group(1))] = os.path.join(dirpath, f)
    return index


def _builtin(modroot):
    names = set()
    path = os.path.join(modroot, "modules.builtin")
    if os.path.exists(path):
        for line in open(path):
            names.add(_norm(os.path.basename(line.strip()).split(".ko")[0]))
    return names


def _modinfo_list(path, field):
    out = _run(["modinfo", "-F", field, path])
    if field == "depends":
        return [d for d in out.strip().split(",") if d]
    # softdep: "pre: a b post: c d" (one line per softdep statement)
    return [w for w in out.split() if not w.endswith(":")]


def module_order(modroot, roots):
    """Every module the roots need, dependencies first (a depth-first topological sort)."""
    index, builtin = _module_index(modroot), _builtin(modroot)
    order, state = [], {}

    def visit(name, required):
        n = _norm(name)
        if state.get(n) == "done" or n in builtin:
            return
        if state.get(n) == "active":
            raise LabError(f"module dependency cycle at {name}")
        if n not in index:
            if required:
                raise LabError(f"module {name} is neither in the package nor built in")
            return  # a soft dependency for another architecture (vfio_iommu_spapr_tce)
        state[n] = "active"
        for dep in _modinfo_list(index[n], "depends"):
            visit(dep, True)
        state[n] = "done"
        order.append(n)
        for soft in _modinfo_list(index[n], "softdep"):
            visit(soft, False)

    for r in roots:
        visit(r, True)
    return order, index


def _decompress(src, dst):
    if src.endswith(".xz"):
        data = lzma.open(src).read()
    elif src.endswith(".gz"):
        data = gzip.open(src).read()
    elif src.endswith(".zst"):
        data = _run_bytes(["zstd", "-dc", src])
    else:
        data = open(src, "rb").read()
    with open(dst, "wb") as f:
        f.write(data)


def _run_bytes(argv):
    try:
        return subprocess.run(argv, check=True, capture_output=True).stdout
    except (FileNotFoundError, subprocess.CalledProcessError) as e:
        raise LabError(f"`{' '.join(argv)}` failed: {e}")


def fetch(cache, log=print):
    """Returns {"image", "modules", "order", "package", "version"}, downloading if needed."""
    os.makedirs(cache, exist_ok=True)
    with open(os.path.join(cache, "lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel ctest runs share one download
        pkg, version = resolve_package()
        key = f"{pkg}_{version}"
        outdir = os.path.join(cache, key)
        stamp = os.path.join(outdir, "lab.json")
        if os.path.exists(stamp):
            meta = json.load(open(stamp))
            if meta.get("roots") == ROOT_MODULES and meta.get("layout") == LAYOUT:
                return _result(outdir, meta, pkg, version)
        deb = os.path.join(cache, f"{key}.deb")
        if not os.path.exists(deb):
            log(f"e2e: downloading {pkg} {version}")
            with tempfile.TemporaryDirectory(dir=cache) as tmp:
                _run(["apt-get", "download", f"{pkg}={version}"], cwd=tmp)
                debs = [f for f in os.listdir(tmp) if f.endswith(".deb")]
                if len(debs) != 1:
                    raise LabError(f"apt-get download {pkg} left {debs}")
                os.rename(os.path.join(tmp, debs[0]), deb)
        log(f"e2e: unpacking {os.path.basename(deb)}")
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            _run(["dpkg", "-x", deb, tmp])
            kvers = os.listdir(os.path.join(tmp, "lib", "modules"))
            if len(kvers) != 1:
                raise LabError(f"expected one kernel in {deb}, found {kvers}")
            modroot = os.path.join(tmp, "lib", "modules", kvers[0])
            order, index = module_order(modroot, ROOT_MODULES)
            shutil.rmtree(outdir, ignore_errors=True)
            os.makedirs(os.path.join(outdir, "modules"))
            shutil.copy(os.path.join(tmp, "boot", f"vmlinuz-{kvers[0]}"),
                        os.path.join(outdir, "vmlinuz"))
            pvh = extract_vmlinux(os.path.join(outdir, "vmlinuz"), os.path.join(outdir, "vmlinux"))
            for n in order:
                _decompress(index[n], os.path.join(outdir, "modules", n + ".ko"))
            meta = {"roots": ROOT_MODULES, "order": order, "kernel": kvers[0],
                    "layout": LAYOUT, "pvh": pvh}
            with open(stamp + ".tmp", "w") as f:
                json.dump(meta, f, indent=1)
            os.rename(stamp + ".tmp", stamp)
        return _result(outdir, meta, pkg, version)


def cached(cache):
    """What the last fetch() resolved, without asking apt again (the ctest fixture fetches
    once; scenarios then boot offline). None when nothing was fetched yet."""
    try:
        cur = json.load(open(os.path.join(cache, "current.json")))
        outdir = os.path.join(cache, cur["dir"])
        meta = json.load(open(os.path.join(outdir, "lab.json")))
    except (OSError, ValueError, KeyError):
        return None
    if meta.get("roots") != ROOT_MODULES or meta.get("layout") != LAYOUT:
        return None
    return _result(outdir, meta, cur["package"], cur["version"])


def _result(outdir, meta, pkg, version):
    cur = os.path.join(os.path.dirname(outdir), "current.json")
    with open(cur + ".tmp", "w") as f:
        json.dump({"dir": os.path.basename(outdir), "package": pkg, "version": version}, f)
    os.rename(cur + ".tmp", cur)
    image = "vmlinux" if meta.get("pvh") else "vmlinuz"
    return {"image": os.path.join(outdir, image), "modules": os.path.join(outdir, "modules"),
            "order": meta["order"], "package": pkg, "version": version}
