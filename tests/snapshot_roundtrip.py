#!/usr/bin/python3
"""usage: snapshot_roundtrip.py EXLIAR MACHINE_ROOT

`exliar --root MACHINE snapshot OUT.tar.gz`, unpack OUT, then `detect --json` and
`check --json` on the unpacked tree must equal those on MACHINE (paths shown with the
root's prefix are compared with the prefix removed). Also: every file in the archive
was listed by the command, and nothing in it is a file exliar did not read (placeholders
are empty).
"""
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile


def run(exe, root, *args):
    r = subprocess.run([exe, "--root", root, "--no-plugins", *args], capture_output=True,
                       text=True)
    return r.returncode, r.stdout.replace(root, "<ROOT>")


def main():
    exe, machine = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    tmp = tempfile.mkdtemp(prefix="exliar-snaptest.")
    try:
        out = os.path.join(tmp, "snap.tar.gz")
        r = subprocess.run([exe, "--root", machine, "--json", "snapshot", out],
                           capture_output=True, text=True)
        if r.returncode:
            print("FAIL: snapshot exit %d: %s" % (r.returncode, r.stderr))
            return 1
        listed = json.loads(r.stdout)["entries"]
        unpacked = os.path.join(tmp, "root")
        os.makedirs(unpacked)
        with tarfile.open(out) as t:
            members = t.getmembers()
            t.extractall(unpacked)
        in_tar = {"/" + m.name.lstrip("./") for m in members if m.name not in (".", "./")}
        in_list = {e["path"] for e in listed}
        if in_tar != in_list:
            print("FAIL: archive and listing differ: only in archive %s, only listed %s"
                  % (sorted(in_tar - in_list)[:20], sorted(in_list - in_tar)[:20]))
            return 1
        for e in listed:
            if e["type"] == "empty" and os.path.getsize(unpacked + e["path"]):
                print("FAIL: placeholder %s has content" % e["path"])
                return 1
        bad = 0
        for args in (("detect", "--json"), ("check", "--json"), ("check",)):
            a, b = run(exe, machine, *args), run(exe, unpacked, *args)
            if a != b:
                bad += 1
                import difflib
                print("FAIL: %s differs (exit %d vs %d):" % (" ".join(args), a[0], b[0]))
                print("".join(list(difflib.unified_diff(a[1].splitlines(True), b[1].splitlines(True),
                                                        "machine", "snapshot"))[:60]))
        # Names: from the root's pci.ids; without one, from the host's, and -v says which.
        r = subprocess.run([exe, "--root", unpacked, "-v", "detect"], capture_output=True, text=True)
        if "device names from %s/usr/share/" % unpacked not in r.stderr:
            bad += 1
            print("FAIL: -v does not name the root's pci.ids: " + r.stderr[-500:])
        for p in ("usr/share/misc/pci.ids", "usr/share/hwdata/pci.ids", "usr/share/pci.ids",
                  "usr/share/pciids/pci.ids"):
            if os.path.exists(os.path.join(unpacked, p)):
                os.unlink(os.path.join(unpacked, p))
        r = subprocess.run([exe, "--root", unpacked, "-v", "detect"], capture_output=True, text=True)
        host_ids = any(os.path.exists(p) for p in ("/usr/share/misc/pci.ids", "/usr/share/hwdata/pci.ids"))
        if host_ids and "device names from the host's /usr/share/" not in r.stderr:
            bad += 1
            print("FAIL: without the root's pci.ids, -v does not say the host's: " + r.stderr[-500:])
        size = os.path.getsize(out)
        files = sum(1 for e in listed if e["type"] == "file")
        print("%s: %d entries (%d files read, %d empty), %d bytes compressed"
              % (os.path.basename(machine), len(listed), files,
                 sum(1 for e in listed if e["type"] == "empty"), size))
        return 1 if bad else 0
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    sys.exit(main())
