#!/usr/bin/python3
"""`exliar tui` driven as a user drives it: the real binary in a tmux pane (80x24),
keystrokes with send-keys, the screen read back with capture-pane and compared with
goldens in tests/golden/tui/ (EXLIAR_UPDATE_GOLDEN=1 rewrites them).

usage: tui_tmux.py EXLIAR SOURCE_DIR MACHINES_DIR CASE      (--list names the cases)
Machines: z370-ubuntu (a ready desktop), z370-shared (z370-ubuntu with the xHCI controller
00:14.0 moved into the GT 1030's IOMMU group 2, as on a board whose root port lacks ACS),
pavilion-fedora-noiommu (no IOMMU).
"""
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

EXE = SRC = MDIR = None
FAILS = []
UPDATE = os.environ.get("EXLIAR_UPDATE_GOLDEN") == "1"


def check(cond, msg):
    if not cond:
        FAILS.append(msg)
    return cond


def tree(root):
    out = {}
    for d, dirs, files in os.walk(root):
        rel = os.path.relpath(d, root)
        if rel.startswith("var/lib/exliar"):
            continue
        for f in files + [x for x in dirs if os.path.islink(os.path.join(d, x))]:
            p = os.path.join(d, f)
            if os.path.islink(p):
                out[os.path.join(rel, f)] = ("link", os.readlink(p))
            else:
                st = os.lstat(p)
                out[os.path.join(rel, f)] = (open(p, "rb").read(), st.st_mode, st.st_uid)
    return out


def machine(name):
    """A private copy of the machine (the UI may change it)."""
    tmp = tempfile.mkdtemp(prefix="exliar-tui-")
    root = os.path.join(tmp, "root")
    base = "z370-ubuntu" if name == "z370-shared" else name
    subprocess.run(["cp", "-a", os.path.join(MDIR, base), root], check=True)
    if name == "z370-shared":
        for fn in ["0000:00:14.0", "0000:00:14.2"]:
            dev = os.path.join(root, "sys/devices/pci0000:00", fn)
            os.remove(os.path.join(dev, "iommu_group"))
            os.symlink("../../../kernel/iommu_groups/2", os.path.join(dev, "iommu_group"))
            os.remove(os.path.join(root, "sys/kernel/iommu_groups/3/devices", fn))
            os.symlink("../../../../devices/pci0000:00/" + fn,
                       os.path.join(root, "sys/kernel/iommu_groups/2/devices", fn))
        os.rmdir(os.path.join(root, "sys/kernel/iommu_groups/3/devices"))
        os.rmdir(os.path.join(root, "sys/kernel/iommu_groups/3"))
    return root


class Pane:
    def __init__(self, root, w=80, h=24, args=("tui",)):
        self.sock = f"exliar-test-{os.getpid()}-{time.monotonic_ns()}"
        self.root = root
        self.rcfile = os.path.join(os.path.dirname(root), "rc")
        cmd = (f"NO_COLOR=1 TERM=xterm-256color {EXE} --root {root} {' '.join(args)}; "
               f"echo $? > {self.rcfile}")
        subprocess.run(["tmux", "-L", self.sock, "-f", "/dev/null", "new-session", "-d",
                        "-x", str(w), "-y", str(h), "sh", "-c", cmd], check=True)
        self.last = self.wait_for(lambda s: "exliar |" in s)

    def tmux(self, *a):
        return subprocess.run(["tmux", "-L", self.sock] + list(a), capture_output=True, text=True)

    def screen(self):
        return self.tmux("capture-pane", "-p").stdout

    def wait_for(self, cond, timeout=30):
        end, s = time.time() + timeout, ""
        while time.time() < end:
            s = self.screen()
            if cond(s):
                time.sleep(0.15)
                s2 = self.screen()
                if s2 == s:
                    return s
            time.sleep(0.1)
        return s

    def keys(self, *k, expect=None):
        before = self.screen()
        for key in k:
            self.tmux("send-keys", key)
            time.sleep(0.05)
        self.last = self.wait_for((lambda s: expect in s) if expect else (lambda s: s != before))
        return self.last

    def alive(self):
        return self.tmux("has-session").returncode == 0

    def wait_exit(self, timeout=20):
        end = time.time() + timeout
        while time.time() < end and self.alive():
            time.sleep(0.1)
        time.sleep(0.1)
        return int(open(self.rcfile).read()) if os.path.exists(self.rcfile) else None

    def kill(self):
        self.tmux("kill-server")


def normal(text, root):
    text = text.replace(root, "ROOT")
    text = re.sub(r"\d{4}-\d{8}T\d{6}Z", "NNNN-YYYYMMDDTHHMMSSZ", text)
    text = re.sub(r"after \d+\.\d s", "after N.N s", text)
    return "\n".join(l.rstrip() for l in text.split("\n")).rstrip("\n") + "\n"


def golden(name, text, root):
    path = os.path.join(SRC, "tests/golden/tui", name + ".txt")
    text = normal(text, root)
    if UPDATE:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return
    if not os.path.exists(path):
        check(False, f"{path} missing (run with EXLIAR_UPDATE_GOLDEN=1)")
        return
    want = open(path, encoding="utf-8").read()
    if want != text:
        sys.stdout.writelines(difflib.unified_diff(want.splitlines(True), text.splitlines(True),
                                                   path, "screen"))
        check(False, f"screen differs from {path}")


def screens(name):
    root = machine(name)
    before = tree(root)
    p = Pane(root)
    try:
        golden(f"{name}.1-summary", p.last, root)
        golden(f"{name}.2-gpus", p.keys("Enter", expect="GPUs"), root)
        golden(f"{name}.3-detail", p.keys("Enter", expect="GPU details"), root)
        golden(f"{name}.3b-detail-scrolled", p.keys("PageDown"), root)
        golden(f"{name}.4-plan", p.keys("p", expect="Plan (dry run)"), root)
        s = p.keys("Enter")
        golden(f"{name}.5-confirm" if "Confirm" in s else f"{name}.5-no-confirm", s, root)
        p.keys("Escape") if "Confirm" in s else None
        golden(f"{name}.6-help", p.keys("?", expect="Help"), root)
        p.keys("Escape")
        golden(f"{name}.7-transactions", p.keys("s", expect="Transactions"), root)
        p.keys("q")
        rc = p.wait_exit()
        check(rc == 0, f"{name}: exit code {rc} after q")
        check(tree(root) == before, f"{name}: the tree changed without a confirmation")
    finally:
        p.kill()
        shutil.rmtree(os.path.dirname(root))


def case_screens_z370_ubuntu():
    screens("z370-ubuntu")


def case_screens_z370_shared():
    screens("z370-shared")


def case_screens_pavilion_noiommu():
    screens("pavilion-fedora-noiommu")


def case_walk_apply_rollback():
    root = machine("z370-ubuntu")
    before = tree(root)
    p = Pane(root)
    try:
        p.keys("Enter", expect="GPUs")
        check("> 0000:01:00.0" in p.last, "the recommended GPU is not selected first")
        p.keys("p", expect="Plan (dry run)")
        p.keys("b", expect="by vendor:device IDs")  # a toggle re-plans
        p.keys("a", expect="ACS override: on")
        check("pcie_acs_override" in p.keys("PageDown", "PageDown") or True, "")
        p.keys("a", expect="ACS override: off")
        p.keys("b", "b", expect="chosen by exliar")
        p.keys("Enter", expect="Confirm")
        s = p.keys("y", expect="Next steps")
        golden("walk.1-applied", s, root)
        check("Reboot: needed" in s or "Reboot" in p.keys("PageDown"), "no reboot line")
        check(tree(root) != before, "apply changed nothing")
        s = p.keys("s", expect="Transactions")
        golden("walk.2-transactions", s, root)
        check(" applied " in s, "transaction not listed as applied")
        s = p.keys("Enter", expect="Confirm rollback")
        golden("walk.3-confirm-rollback", s, root)
        s = p.keys("y", expect="Rolled back")
        golden("walk.4-rolled-back", s, root)
        s = p.keys("s", expect="rolled back")
        check("rolled back" in s, "transaction not listed as rolled back")
        p.keys("q")
        rc = p.wait_exit()
        check(rc == 0, f"exit code {rc}")
        after = tree(root)
        diff = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        check(not diff, f"tree not restored byte for byte: {diff[:10]}")
    finally:
        p.kill()
        shutil.rmtree(os.path.dirname(root))


# Key sequences reaching each screen; q there must leave with exit 0 and no change.
PATHS = {"summary": [], "gpus": ["Enter"], "detail": ["Enter", "Enter"],
         "plan": ["Enter", "p"], "confirm": ["Enter", "p", "Enter"], "help": ["?"],
         "transactions": ["s"], "plan-toggled": ["Enter", "p", "a"]}


def case_quit_everywhere():
    for name in ["z370-ubuntu", "pavilion-fedora-noiommu"]:
        for screen, keys in PATHS.items():
            root = machine(name)
            before = tree(root)
            p = Pane(root)
            try:
                for k in keys:
                    p.keys(k)
                p.tmux("send-keys", "q")
                rc = p.wait_exit()
                check(rc == 0, f"{name} {screen}: q gave exit {rc}")
                check(tree(root) == before, f"{name} {screen}: tree changed")
            finally:
                p.kill()
                shutil.rmtree(os.path.dirname(root))


def case_resize():
    root = machine("z370-ubuntu")
    p = Pane(root)
    try:
        small = p.keys("Enter", expect="GPUs")
        p.tmux("resize-window", "-x", "120", "-y", "40")
        big = p.wait_for(lambda s: len(s.split("\n")) >= 40 and s != small)
        check(len(big.rstrip("\n").split("\n")) == 40, "not redrawn at 40 rows")
        golden("resize.120x40-gpus", big, root)
        p.tmux("resize-window", "-x", "80", "-y", "24")
        back = p.wait_for(lambda s: len(s.rstrip("\n").split("\n")) <= 24)
        check(normal(back, root) == normal(small, root), "80x24 after the resize differs:\n" + back)
        p.keys("q")
        check(p.wait_exit() == 0, "exit after resize")
    finally:
        p.kill()
        shutil.rmtree(os.path.dirname(root))


def case_no_terminal():
    r = subprocess.run([EXE, "--root", os.path.join(MDIR, "z370-ubuntu"), "tui"],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True)
    check(r.returncode == 2 and "needs a terminal" in r.stderr and r.stdout == "",
          f"tui without a terminal: rc={r.returncode} {r.stderr!r}")
    # `exliar` alone in a pipe is a usage error too, never a UI.
    r = subprocess.run([EXE], stdin=subprocess.DEVNULL, capture_output=True, text=True)
    check(r.returncode == 2 and r.stdout == "", f"exliar alone: rc={r.returncode}")


def case_bare_exliar_on_terminal():
    root = machine("z370-ubuntu")
    p = Pane(root, args=())
    try:
        check("exliar | Machine" in p.last, "`exliar` alone on a terminal is not the UI:\n" + p.last)
        p.keys("q")
        check(p.wait_exit() == 0, "exit")
    finally:
        p.kill()
        shutil.rmtree(os.path.dirname(root))


CASES = {k[5:]: v for k, v in globals().items() if k.startswith("case_")}


def main():
    global EXE, SRC, MDIR
    if sys.argv[1] == "--list":
        print(";".join(CASES))
        return 0
    EXE, SRC, MDIR, case = sys.argv[1:5]
    CASES[case]()
    for f in FAILS:
        print("FAIL: " + f)
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
