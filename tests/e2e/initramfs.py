"""A newc cpio archive written directly (no root, no cpio(1) quirks).

The kernel unpacks it into rootfs before running /init (Documentation/driver-api/
early-userspace/buffer-format.rst). Parent directories must precede their entries, and
/dev/console must exist in the archive: the kernel opens it for init's stdio before any
devtmpfs is mounted (init/main.c, console_on_rootfs).
"""

import os
import stat
import subprocess
import tempfile


class Archive:
    def __init__(self):
        self.entries = {}  # path (no leading /) -> (mode, data, rdev)

    def _parents(self, path):
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            self.entries.setdefault(d, (stat.S_IFDIR | 0o755, b"", (0, 0)))

    def dir(self, path):
        path = path.strip("/")
        self._parents(path)
        self.entries[path] = (stat.S_IFDIR | 0o755, b"", (0, 0))

    def file(self, path, data, mode=0o644):
        path = path.strip("/")
        self._parents(path)
        if isinstance(data, str):
            data = data.encode()
        self.entries[path] = (stat.S_IFREG | mode, data, (0, 0))

    def copy(self, path, src, mode=None):
        st = os.stat(src)  # follows symlinks: the archive holds the real bytes
        with open(src, "rb") as f:
            self.file(path, f.read(), mode if mode is not None else stat.S_IMODE(st.st_mode))

    def symlink(self, path, target):
        path = path.strip("/")
        self._parents(path)
        self.entries[path] = (stat.S_IFLNK | 0o777, target.encode(), (0, 0))

    def chardev(self, path, major, minor, mode=0o600):
        path = path.strip("/")
        self._parents(path)
        self.entries[path] = (stat.S_IFCHR | mode, b"", (major, minor))

    def bytes(self):
        out = bytearray()

        def pad():
            out.extend(b"\0" * (-len(out) % 4))

        def entry(ino, name, mode, data, rdev):
            nameb = name.encode() + b"\0"
            fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(nameb), 0]
            out.extend(b"070701" + b"".join(b"%08x" % v for v in fields))
            out.extend(nameb)
            pad()
            out.extend(data)
            pad()

        # Sorted order puts every directory before what it contains.
        for ino, name in enumerate(sorted(self.entries), start=1):
            mode, data, rdev = self.entries[name]
            entry(ino, name, mode, data, rdev)
        entry(0, "TRAILER!!!", 0, b"", (0, 0))
        return bytes(out)


def add_tree(archive, src, dest, skip=()):
    """Copies a directory tree, keeping symlinks as symlinks; top-level names in `skip`
    are left out."""
    for dirpath, dirs, files in os.walk(src):
        rel = os.path.relpath(dirpath, src)
        if rel == ".":
            dirs[:] = [d for d in dirs if d not in skip]
            files = [f for f in files if f not in skip]
        for name in dirs + files:
            full = os.path.join(dirpath, name)
            target = os.path.normpath(os.path.join(dest, rel, name))
            if os.path.islink(full):
                archive.symlink(target, os.readlink(full))
            elif os.path.isdir(full):
                archive.dir(target)
            else:
                archive.copy(target, full)
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(dirpath, d))]


def _stripped(src):
    """The binary without debug sections (a RelWithDebInfo exliar is mostly DWARF, and
    every byte of the initramfs is unpacked under TCG); unchanged if strip is missing."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "bin")
        try:
            subprocess.run(["strip", "--strip-debug", "-o", out, src], check=True,
                           capture_output=True)
        except (FileNotFoundError, subprocess.CalledProcessError):
            out = src
        with open(out, "rb") as f:
            return f.read()


def add_executable(archive, src, dest):
    """Adds a binary and, when it is dynamically linked, every library ldd names plus the
    program interpreter, each at the path ldd printed (the guest has no ld.so.cache, so
    the loader's built-in multiarch search path finds them there)."""
    archive.file(dest, _stripped(src), 0o755)
    res = subprocess.run(["ldd", src], capture_output=True, text=True)
    if res.returncode != 0:  # "not a dynamic executable": a static build
        return []
    libs = []
    for line in res.stdout.splitlines():
        parts = line.split()
        path = None
        if "=>" in parts:
            i = parts.index("=>")
            if i + 1 < len(parts) and parts[i + 1].startswith("/"):
                path = parts[i + 1]
        elif parts and parts[0].startswith("/"):
            path = parts[0]  # the interpreter, e.g. /lib64/ld-linux-x86-64.so.2
        if path:
            archive.copy(path, path, 0o755)
            libs.append(path)
    return libs
