"""The contents of an initramfs image: {path: (mode, md5 of the data or link target)}.

An image is one or more newc cpio archives, each uncompressed (dracut's and
initramfs-tools' early microcode part) or compressed, back to back with zero padding
(Documentation/driver-api/early-userspace/buffer-format.rst). initramfs-tools and dracut
stamp generated files with the build time, so two builds of the same inputs differ in
bytes; what the kernel unpacks (names, modes, data) is what a rollback must restore.
"""

import gzip
import hashlib
import lzma
import subprocess

MAGICS = {b"\x28\xb5\x2f\xfd": "zstd", b"\x1f\x8b": "gzip", b"\xfd7zXZ\x00": "xz",
          b"\x5d\x00\x00": "lzma", b"\x04\x22\x4d\x18": "lz4"}


class InitrdError(Exception):
    pass


def _decompress(kind, data):
    if kind == "gzip":
        return gzip.decompress(data)
    if kind in ("xz", "lzma"):
        return lzma.decompress(data)
    cmd = {"zstd": ["zstd", "-dcq"], "lz4": ["lz4", "-dc"]}[kind]
    # Trailing bytes after the compressed frame are ignored by the kernel; zstd -d would
    # complain about them but still print the frame.
    p = subprocess.run(cmd, input=data, capture_output=True)
    if not p.stdout:
        raise InitrdError(f"{kind} -d failed: {p.stderr.decode(errors='replace')[:200]}")
    return p.stdout


def _cpio(data, pos, out):
    """Parses one newc archive from POS; returns the position after its trailer."""
    while True:
        if data[pos:pos + 6] not in (b"070701", b"070702"):
            raise InitrdError(f"no cpio header at {pos}")
        h = data[pos:pos + 110]
        f = [int(h[6 + 8 * i:14 + 8 * i], 16) for i in range(13)]
        mode, filesize, namesize = f[1], f[6], f[11]
        name_start = pos + 110
        name = data[name_start:name_start + namesize - 1].decode(errors="replace")
        data_start = (name_start + namesize + 3) & ~3
        body = data[data_start:data_start + filesize]
        pos = (data_start + filesize + 3) & ~3
        if name == "TRAILER!!!":
            return pos
        name = name[2:] if name.startswith("./") else name
        out[name] = (f"{mode:o}", hashlib.md5(body).hexdigest() if filesize else "-")


def contents(data):
    out, pos = {}, 0
    while pos < len(data):
        while pos < len(data) and data[pos] == 0:
            pos += 1
        if pos >= len(data):
            break
        if data[pos:pos + 6] in (b"070701", b"070702"):
            pos = _cpio(data, pos, out)
            continue
        kind = next((k for m, k in MAGICS.items() if data.startswith(m, pos)), None)
        if not kind:
            raise InitrdError(f"unknown data at offset {pos}: {data[pos:pos + 8].hex()}")
        inner = _decompress(kind, data[pos:])
        ipos = 0
        while ipos < len(inner):
            while ipos < len(inner) and inner[ipos] == 0:
                ipos += 1
            if ipos < len(inner):
                ipos = _cpio(inner, ipos, out)
        break  # a compressed archive runs to the end of the image
    return out


def diff(a, b, limit=20):
    out = []
    for p in sorted(set(a) | set(b)):
        if a.get(p) != b.get(p):
            out.append(f"{p}: {a.get(p)} -> {b.get(p)}")
    return out[:limit] + ([f"... {len(out) - limit} more"] if len(out) > limit else [])
