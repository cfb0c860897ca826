"""A GPT disk image with an ESP and an ext4 root, made and read without loop devices.

Layout (sfdisk(8) script; 1 MiB alignment):
  p1  ESP   FAT32, ESP_MIB             mounted at /boot/efi
  p2  root  ext4,  ROOT_MIB            /
The file systems are made as image files (`mkfs.ext4 -d DIR` fills ext4 from a directory,
mke2fs(8); `mkfs.vfat -C` creates a FAT image) and copied to their offsets. Files are
read back with debugfs(8) and mtools, which open a file system at a byte offset in the
disk image (`img?offset=N`, `img@@N`), so nothing is ever mounted on the host.
"""

import os
import shutil
import subprocess

MIB = 1024 * 1024
ESP_START_MIB, ESP_MIB = 1, 160
ROOT_START_MIB, ROOT_MIB = ESP_START_MIB + ESP_MIB, 3072
DISK_MIB = ROOT_START_MIB + ROOT_MIB + 1  # + the backup GPT

ESP_OFFSET = ESP_START_MIB * MIB
ROOT_OFFSET = ROOT_START_MIB * MIB

# GPT partition type GUIDs (UEFI spec, table 5-7 "EFI System Partition"; the Linux root
# x86-64 type is the Discoverable Partitions Specification's).
ESP_TYPE = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
ROOT_TYPE = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"


class DiskError(Exception):
    pass


def run(argv, **kw):
    try:
        return subprocess.run(argv, check=True, capture_output=True, text=True, **kw).stdout
    except FileNotFoundError:
        raise DiskError(f"`{argv[0]}` not found: run scripts/install-deps.sh")
    except subprocess.CalledProcessError as e:
        raise DiskError(f"`{' '.join(argv)}` failed ({e.returncode}): "
                        f"{(e.stderr or '').strip()[-2000:]}")


def make(path, rootdir, root_uuid, esp_serial, tmp):
    """Writes the disk at PATH from ROOTDIR; the ESP starts empty (the guest installs
    its boot loader into it on the setup boot)."""
    root_img, esp_img = os.path.join(tmp, "root.img"), os.path.join(tmp, "esp.img")
    for p in (root_img, esp_img, path):
        if os.path.exists(p):
            os.unlink(p)
    run(["mkfs.ext4", "-q", "-F", "-U", root_uuid, "-L", "root", "-d", rootdir,
         root_img, f"{ROOT_MIB}M"])
    run(["mkfs.vfat", "-F", "32", "-i", esp_serial.replace("-", ""), "-n", "ESP",
         "-C", esp_img, str(ESP_MIB * 1024)])
    with open(path, "wb") as f:
        f.truncate(DISK_MIB * MIB)
    script = (f"label: gpt\n"
              f"start={ESP_START_MIB}MiB, size={ESP_MIB}MiB, type={ESP_TYPE}, name=ESP\n"
              f"start={ROOT_START_MIB}MiB, size={ROOT_MIB}MiB, type={ROOT_TYPE}, name=root\n")
    run(["sfdisk", "-q", path], input=script)
    for img, off in ((esp_img, ESP_OFFSET), (root_img, ROOT_OFFSET)):
        run(["dd", f"if={img}", f"of={path}", "bs=1M", f"seek={off // MIB}",
             "conv=notrunc,sparse", "status=none"])
        os.unlink(img)


def copy(src, dst):
    run(["cp", "--sparse=always", src, dst])


def _root(path):
    return f"{path}?offset={ROOT_OFFSET}"


def debugfs(path, commands, write=False):
    """Runs debugfs commands (one a line) on the root file system; returns stdout.
    debugfs exits 0 even when a command fails, so its stderr is checked for errors."""
    argv = ["debugfs"] + (["-w"] if write else []) + ["-f", "-", _root(path)]
    res = subprocess.run(argv, input=commands, capture_output=True, text=True)
    errs = [l for l in res.stderr.splitlines()
            if l and not l.startswith("debugfs ") and "File exists" not in l]
    if res.returncode != 0 or errs:
        raise DiskError(f"debugfs on {path} failed: {' | '.join(errs)[-1500:]}")
    return res.stdout


def read_file(path, inner):
    """Contents of INNER (an absolute path on the root file system), or None."""
    res = subprocess.run(["debugfs", "-R", f"cat {inner}", _root(path)], capture_output=True)
    if res.returncode != 0 or b"not found" in res.stderr or b"File not found" in res.stderr:
        return None
    return res.stdout.decode(errors="replace")


def rdump(path, inner, dest):
    """Copies directory INNER out of the root file system into DEST/<basename>."""
    os.makedirs(dest, exist_ok=True)
    debugfs(path, f"rdump {inner} {dest}\n")


def put_file(path, inner, data, mode=0o644):
    """Creates or replaces INNER with DATA (bytes or str), owned by root."""
    tmp = path + ".put"
    with open(tmp, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    try:
        debugfs(path, f"rm {inner}\n", write=True)
    except DiskError:
        pass  # it did not exist
    debugfs(path, f"write {tmp} {inner}\nsif {inner} mode 0{0o100000 | mode:o}\n"
                  f"sif {inner} uid 0\nsif {inner} gid 0\n", write=True)
    os.unlink(tmp)


def install_tree(path, tree):
    """Copies every directory, file and symlink of TREE into the root file system at the
    same path (what `cmake --install` with DESTDIR left), owned by root."""
    cmds = []
    for dirpath, dirs, files in os.walk(tree):
        rel = "/" + os.path.relpath(dirpath, tree).lstrip(".")
        rel = rel if rel != "/" else ""
        for d in sorted(dirs):
            full = os.path.join(dirpath, d)
            if os.path.islink(full):
                cmds.append(f"symlink {rel}/{d} {os.readlink(full)}")
                continue
            cmds.append(f"mkdir {rel}/{d}")
        for f in sorted(files):
            full, inner = os.path.join(dirpath, f), f"{rel}/{f}"
            if os.path.islink(full):
                cmds.append(f"symlink {inner} {os.readlink(full)}")
                continue
            mode = os.stat(full).st_mode & 0o7777
            cmds += [f"rm {inner}", f"write {full} {inner}", f"sif {inner} mode 0{0o100000 | mode:o}",
                     f"sif {inner} uid 0", f"sif {inner} gid 0"]
    argv = ["debugfs", "-w", "-f", "-", _root(path)]
    res = subprocess.run(argv, input="\n".join(cmds) + "\n", capture_output=True, text=True)
    errs = [l for l in res.stderr.splitlines()
            if l and not l.startswith("debugfs ") and "File exists" not in l
            and "File not found by ext2_lookup" not in l
            and "already exists" not in l]
    if res.returncode != 0 or errs:
        raise DiskError(f"installing {tree} into {path} failed: {' | '.join(errs)[-1500:]}")


def esp_read(path, inner):
    """Contents of INNER on the ESP (mtools path, e.g. ::/EFI/BOOT/BOOTX64.EFI), or None."""
    res = subprocess.run(["mtype", "-i", f"{path}@@{ESP_OFFSET}", inner], capture_output=True)
    return res.stdout if res.returncode == 0 else None


def esp_copy_out(path, dest):
    """Copies the whole ESP out into DEST (mcopy -s)."""
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    run(["mcopy", "-s", "-n", "-p", "-m", "-i", f"{path}@@{ESP_OFFSET}", "::/", dest])


def needs_recovery(path):
    """Whether the root file system's ext4 journal holds unreplayed transactions (the
    guest stopped without unmounting it)."""
    res = subprocess.run(["dumpe2fs", "-h", _root(path)], capture_output=True, text=True)
    return any(l.startswith("Filesystem features:") and "needs_recovery" in l
               for l in res.stdout.splitlines())


def replay_journal(path):
    """Replays the root file system's journal, as the kernel would at the next mount, so
    debugfs sees (and keeps) the current state. e2fsck cannot re-open a file system at an
    offset after the replay, so the partition is copied out, checked, and the chunks that
    changed are written back (the disk stays sparse)."""
    part = path + ".root"
    chunk = MIB
    run(["dd", f"if={path}", f"of={part}", "bs=1M", f"skip={ROOT_START_MIB}",
         f"count={ROOT_MIB}", "conv=sparse", "status=none"])
    try:
        r = subprocess.run(["e2fsck", "-fy", part], capture_output=True, text=True)
        if r.returncode not in (0, 1):
            raise DiskError(f"e2fsck of the guest's root file system failed ({r.returncode}): "
                            f"{r.stdout[-800:]}")
        with open(part, "rb") as src, open(path, "r+b") as dst:
            off = 0
            while True:
                new = src.read(chunk)
                if not new:
                    break
                dst.seek(ROOT_OFFSET + off)
                if dst.read(len(new)) != new:
                    dst.seek(ROOT_OFFSET + off)
                    dst.write(new)
                off += len(new)
    finally:
        os.unlink(part)
