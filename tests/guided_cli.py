#!/usr/bin/python3
"""The guided CLI (issue 18), tested as a user meets it: the real binary on fixture machines.

usage: guided_cli.py EXLIAR SOURCE_DIR MACHINES_DIR CASE
       guided_cli.py --list
Each CASE is a function below; it prints what failed and exits 1, or exits 0.
"""
import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time

MACHINES = ["b550-manjaro-acs", "fiji-proxmox", "mx150-debian", "pavilion-fedora-noiommu",
            "vbox-tumbleweed", "yoga-popos", "z370-ubuntu", "z690-arch"]
EXE = SRC = MDIR = None
FAILS = []


def run(*args, root=None, stdin=subprocess.DEVNULL):
    argv = [EXE] + (["--root", root] if root else []) + list(args)
    p = subprocess.run(argv, capture_output=True, text=True, timeout=120, stdin=stdin,
                       env=dict(os.environ, NO_COLOR="1"))
    return p.returncode, p.stdout, p.stderr


def run_pty(*args, root=None, answer=None, stdout_pipe=True):
    """Runs with stdin and stderr on a pseudo-terminal (stdout piped): returns rc, stdout,
    the terminal's text. `answer` is typed once a [y/N] question appears."""
    argv = [EXE] + (["--root", root] if root else []) + list(args)
    master, slave = pty.openpty()
    p = subprocess.Popen(argv, stdin=slave, stderr=slave, stdout=subprocess.PIPE,
                         env=dict(os.environ, NO_COLOR="1"))
    os.close(slave)
    term, answered, deadline = b"", False, time.time() + 120
    while time.time() < deadline:
        r, _, _ = select.select([master], [], [], 0.2)
        if r:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                chunk = b""
            if not chunk and p.poll() is not None:
                break
            term += chunk
        elif p.poll() is not None:
            break
        if answer is not None and not answered and b"[y/N]" in term:
            os.write(master, (answer + "\n").encode())
            answered = True
    out = p.stdout.read().decode()
    p.wait()
    os.close(master)
    return p.returncode, out, term.decode(errors="replace").replace("\r\n", "\n")


def check(cond, msg):
    if not cond:
        FAILS.append(msg)
    return cond


def root_of(name):
    return os.path.join(MDIR, name)


def copy_of(name):
    d = tempfile.mkdtemp(prefix="exliar-guided-")
    dst = os.path.join(d, "root")
    subprocess.run(["cp", "-a", root_of(name), dst], check=True)
    return dst


def tree(root):
    """Every file's bytes and every link's target, var/lib/exliar (the journal) excepted."""
    out = {}
    for d, dirs, files in os.walk(root):
        rel = os.path.relpath(d, root)
        if rel.startswith("var/lib/exliar"):
            continue
        for f in files + [x for x in dirs if os.path.islink(os.path.join(d, x))]:
            p = os.path.join(d, f)
            out[os.path.join(rel, f)] = ("link", os.readlink(p)) if os.path.islink(p) else open(p, "rb").read()
    return out


# --- check: recommendation and next command -------------------------------------------------

def case_check_recommends():
    for m in MACHINES:
        rc, text, err = run("check", root=root_of(m))
        rcj, out, _ = run("check", "--json", root=root_of(m))
        doc = json.loads(out)
        rec = doc["recommended"]
        check(rc == rcj, f"{m}: exit codes differ text={rc} json={rcj}")
        check("Recommended: " in text, f"{m}: no Recommended line")
        check(rec["reason"] and rec["reason"] in text, f"{m}: reason not in text")
        if rec["gpu"]:
            want = f"Next: exliar plan --gpu {rec['gpu']}"
            check(want in text, f"{m}: text lacks '{want}'")
            check(rec["next"] == f"exliar plan --gpu {rec['gpu']}", f"{m}: json next {rec['next']}")
            check(rec["gpu"] in rec["candidates"], f"{m}: recommended not a candidate")
            # plan --gpu auto picks the same GPU.
            rcp, plan, perr = run("plan", "--gpu", "auto", "--json", root=root_of(m))
            check(rcp == 0 and json.loads(plan)["intent"]["gpu"] == rec["gpu"],
                  f"{m}: plan --gpu auto rc={rcp} differs from recommended {rec['gpu']}: {perr}")
        else:
            check("Recommended: none" in text and rec["next"] is None, f"{m}: none not said")
            rcp, _, perr = run("plan", "--gpu", "auto", root=root_of(m))
            check(rcp != 0, f"{m}: plan --gpu auto succeeded although nothing is recommended")


def case_check_expected_choices():
    want = {"z370-ubuntu": "0000:01:00.0", "mx150-debian": "0000:02:00.0",
            "pavilion-fedora-noiommu": "0000:01:00.0", "b550-manjaro-acs": None,
            "z690-arch": None}
    for m, g in want.items():
        doc = json.loads(run("check", "--json", root=root_of(m))[1])
        check(doc["recommended"]["gpu"] == g, f"{m}: recommended {doc['recommended']} want {g}")
    z690 = json.loads(run("check", "--json", root=root_of("z690-arch"))[1])["recommended"]
    check("several" in z690["reason"] and len(z690["candidates"]) == 2, f"z690: {z690}")
    b550 = json.loads(run("check", "--json", root=root_of("b550-manjaro-acs"))[1])["recommended"]
    check("0000:05:00.0" in b550["reason"], f"b550: reason does not name the GPU: {b550}")


def case_check_grouped_errors_first():
    order = {"error": 0, "warning": 1, "info": 2}
    for m in MACHINES:
        text = run("check", root=root_of(m))[1]
        section, last = None, -1
        for line in text.splitlines():
            if line and not line.startswith(" "):
                section, last = line, -1
                continue
            w = line.split()
            if section and (section == "System" or section.startswith("GPU ")) and w and w[0] in order:
                check(order[w[0]] >= last, f"{m}: {section}: '{w[0]}' after a less severe finding")
                last = order[w[0]]
        doc = json.loads(run("check", "--json", root=root_of(m))[1])
        for f in doc["findings"]:
            head = "System" if f["subject"] == "system" else "GPU " + f["subject"]
            check(f"\n{head}\n" in text, f"{m}: no section {head} for {f['id']}")


def case_check_provenance_verbose_only():
    for m in ["z370-ubuntu", "pavilion-fedora-noiommu", "z690-arch"]:
        text = run("check", root=root_of(m))[1]
        verbose = run("-v", "check", root=root_of(m))[1]
        doc = json.loads(run("check", "--json", root=root_of(m))[1])
        prov = [p for f in doc["findings"] for p in f.get("provenance", [])]
        check(prov, f"{m}: JSON has no provenance")
        for word in ["embedded:", "source:", "note:"]:
            check(word not in text, f"{m}: default text shows '{word}'")
        check(all(p in verbose for p in prov), f"{m}: -v lacks some provenance")


# --- help, mistyped verbs and options, JSON errors, exit codes ------------------------------

def case_help():
    rc, out, _ = run("help")
    check(rc == 0 and "check" in out and "exliar check" in out, f"help rc={rc}")
    for verb in ["check", "plan", "apply", "rollback"]:
        rc, out, _ = run("help", verb)
        rc2, out2, _ = run(verb, "--help")
        body = lambda t: [l for l in t.splitlines() if not l.startswith("Usage:")]
        check(rc == 0 and body(out) == body(out2) and f"Usage: exliar {verb}" in out,
              f"help {verb} differs from {verb} --help")
    rc, out, _ = run("help", "boot", "add")
    check(rc == 0 and "exliar boot add" in out, "help boot add")
    rc, out, err = run("help", "chek")
    check(rc == 2 and "exliar help check" in err, f"help chek: rc={rc} {err}")


def case_did_you_mean():
    cases = [(["chek"], "exliar check"), (["aply"], "exliar apply"),
             (["rolback"], "exliar rollback"), (["boot", "ad", "x"], "exliar boot add"),
             (["plan", "--gup", "auto"], "exliar plan --gpu"),
             (["plan", "--acs-overide"], "exliar plan --acs-override"),
             (["check", "--jsn"], "exliar check --json")]
    for args, want in cases:
        rc, out, err = run(*args, root=root_of("z370-ubuntu"))
        check(rc == 2 and f"Did you mean `{want}`?" in err, f"{args}: rc={rc} err={err!r}")
        check(out == "", f"{args}: stdout not empty without --json")
    rc, out, err = run("xyzzy")
    check(rc == 2 and "unknown command 'xyzzy'" in err and "Did you mean" not in err, err)
    rc, out, err = run()
    check(rc == 2 and "exliar check" in err, f"no verb without a terminal: rc={rc} {err}")


def case_json_errors():
    z = root_of("z370-ubuntu")
    cases = [(["--json", "chek"], None, 2), (["check", "--json", "--gpuu"], None, 2),
             (["--json", "gpu", "0000:99:00.0"], z, 2), (["--json", "check", "--gpu", "zz"], z, 2),
             (["--json", "detect"], "/nonexistent-root", 3),
             (["--json", "apply", "--gpu", "0000:01:00.0"], z, 2),
             (["--json", "plan", "--gpu", "0000:00:14.0"], z, 3)]
    for args, root, code in cases:
        rc, out, err = run(*args, root=root)
        try:
            doc = json.loads(out)
        except ValueError:
            check(False, f"{args}: stdout is not JSON: {out!r}")
            continue
        e = doc.get("error", {})
        check(rc == code and e.get("exit_code") == code and e.get("message") and
              e["message"] in err, f"{args}: rc={rc} {doc} err={err!r}")
    # A result with a non-zero exit (check found blockers) is the result, not an error.
    rc, out, _ = run("--json", "check", root=root_of("vbox-tumbleweed"))
    check(rc == 1 and "error" not in json.loads(out), "check --json with blockers")


def case_exit_codes_consistent():
    z = root_of("z370-ubuntu")
    for verb in [["apply", "--gpu", "0000:01:00.0"], ["rollback"], ["bind", "0000:01:00.0"],
                 ["boot", "add", "foo=1"]]:
        root = copy_of("z370-ubuntu")
        if verb[0] == "rollback":
            run("apply", "--gpu", "0000:01:00.0", "--yes", root=root)
        # A kernel since 3.16 has driver_override; the capture's tree lacks the attribute.
        for fn in ["0000:01:00.0", "0000:01:00.1"]:
            with open(os.path.join(root, "sys/bus/pci/devices", fn, "driver_override"), "w") as f:
                f.write("(null)\n")
        before = tree(root)
        rc, _, err = run(*verb, root=root)  # stdin is not a terminal, no --yes
        check(rc == 2 and "--yes" in err, f"{verb} without a terminal: rc={rc} {err!r}")
        rc, _, term = run_pty(*verb, root=root, answer="n")
        check(rc == 1 and "declined" in term, f"{verb} declined: rc={rc} {term[-300:]!r}")
        check(tree(root) == before, f"{verb}: tree changed although declined")
        shutil.rmtree(os.path.dirname(root))
    del z


def case_quiet_verbose():
    for m in ["z370-ubuntu", "pavilion-fedora-noiommu"]:
        for verb in [["check"], ["detect"], ["plan", "--gpu", "auto"], ["status"], ["groups"]]:
            rc, out, err = run("-q", *verb, root=root_of(m))
            check(err == "" or err.startswith("exliar: error"), f"{m} -q {verb}: stderr {err!r}")


# --- apply: next steps, cleanup script, progress --------------------------------------------

def case_apply_next_steps():
    root = copy_of("z370-ubuntu")
    rc, out, err = run("apply", "--gpu", "0000:01:00.0", "--yes", root=root)
    check(rc == 0, f"apply rc={rc} {err}")
    tx = out.split("Applied as transaction ")[1].split(".")[0] if "Applied as" in out else "?"
    for want in ["Reboot: needed", "`exliar status`", f"`exliar rollback {tx}`",
                 "chroot " + root, "update-initramfs -u -k all",
                 "sh " + root + "/var/lib/exliar/cleanup.sh"]:
        check(want in out, f"apply output lacks {want!r}:\n{out}")
    script = os.path.join(root, "var/lib/exliar/cleanup.sh")
    check(os.path.isfile(script) and (os.stat(script).st_mode & 0o777) == 0o700, "cleanup.sh mode")
    check(subprocess.run(["sh", "-n", script]).returncode == 0, "cleanup.sh is not valid sh")
    check(f"transaction {tx}" in open(script).read(), "cleanup.sh does not undo the transaction")
    rc, out, err = run("rollback", "--yes", root=root)
    check(rc == 0 and "Reboot: needed" in out and "exliar status" in out, f"rollback: {out}")
    check(f"transaction {tx}" not in open(script).read(), "cleanup.sh still undoes it")
    # JSON: the same facts.
    rc, out, _ = run("apply", "--gpu", "0000:01:00.0", "--yes", "--json", root=root)
    nxt = json.loads(out)["next"]
    check(nxt["reboot_needed"] is True and nxt["verify"] == "exliar status" and
          nxt["undo"].startswith("exliar rollback ") and nxt["cleanup_script"].endswith("cleanup.sh"),
          f"apply --json next: {nxt}")
    shutil.rmtree(os.path.dirname(root))


def progress_lines(text):
    return [l for l in text.splitlines() if re.match(r"^\[\d+/\d+\] ", l) and "  [" not in l]


def case_apply_progress():
    root = copy_of("z370-ubuntu")
    rc, out, term = run_pty("apply", "--gpu", "0000:01:00.0", "--yes", root=root)
    n = json.loads(run("plan", "--gpu", "0000:01:00.0", "--json", root=root_of("z370-ubuntu"))[1])
    steps = len(n["steps"])
    check(rc == 0, f"apply rc={rc}")
    # Progress lines are "[k/n] LABEL" alone (the plan shown before has "  [source]" after).
    prog = progress_lines(term)
    check(len(prog) == steps, f"{len(prog)} progress lines for {steps} steps:\n{term}")
    check(prog and prog[0] == f"[1/{steps}] create /etc/modprobe.d/exliar-vfio.conf", prog)
    check(f"[4/{steps}] edit /etc/default/grub" in prog, prog)
    check(prog and prog[-1].startswith(f"[{steps}/{steps}] run update-grub") and
          prog[-1].endswith("(recorded for a chroot, not run)"), prog)
    run("rollback", "--yes", root=root)
    rc, out, term = run_pty("-q", "apply", "--gpu", "0000:01:00.0", "--yes", root=root)
    check(rc == 0 and not progress_lines(term), f"-q still shows progress: {term}")
    run("rollback", "--yes", root=root)
    rc, out, err = run("apply", "--gpu", "0000:01:00.0", "--yes", root=root)
    check(rc == 0 and not progress_lines(err), "progress on a stderr that is not a terminal")
    shutil.rmtree(os.path.dirname(root))


# --- detect and gpu wording -----------------------------------------------------------------

def case_detect_integrated():
    for m in MACHINES:
        doc = json.loads(run("detect", "--json", root=root_of(m))[1])
        text = run("detect", root=root_of(m))[1]
        for g in doc["gpus"]:
            block = text.split(g["address"], 1)[1].split("\n", 2)[1]
            word = "integrated" if g["integrated"] else "discrete"
            check(word in block, f"{m} {g['address']}: text says {block!r}, JSON {word}")


def case_gpu_wording():
    for m in MACHINES:
        doc = json.loads(run("detect", "--json", root=root_of(m))[1])
        for g in doc["gpus"]:
            rc, text, err = run("gpu", g["address"], root=root_of(m))
            check(rc == 0, f"{m} gpu {g['address']}: rc={rc} {err}")
            rows = {l.split(None, 1)[0]: l for l in text.splitlines()[1:] if l.strip()}
            sensors, driver = rows.get("Sensors", ""), rows.get("Driver", "")
            check("none" not in sensors, f"{m}: Sensors says none: {sensors}")
            check("none" not in rows.get("Reset", "") or "knows no way" in rows.get("Reset", ""),
                  f"{m}: {rows.get('Reset')}")
            drv = next((d["driver"] for d in doc["devices"] if d["address"] == g["address"]), None)
            if drv:
                check(drv in driver and (drv in sensors or "hwmon" in sensors.split(":")[0]),
                      f"{m}: Driver {driver!r} vs Sensors {sensors!r}")
            else:
                check("none bound" in driver and "no driver is bound" in sensors, f"{m}: {text}")


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
