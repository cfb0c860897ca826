#!/usr/bin/python3
"""Fleet test (issue 22): the Ansible module, facts, role and report playbook driving the
real exliar binary on 8 copies of different fixture machines, with Debian's ansible-core.

Usage: fleet.py EXLIAR SOURCE_DIR MACHINES_DIR WORK_DIR

Every expectation comes from exliar itself, run by this script outside Ansible (check and
plan on a pristine copy), and from tree digests; Ansible's answers are read from its JSON
callback. Each phase prints what it checked; the first failed assertion ends the test.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time

# host name -> (fixture machine, what it stands for, exliar_gpu for the play)
FLEET = {
    "desktop": ("z370-ubuntu", "ready desktop, GRUB + initramfs-tools", "auto"),
    "acs-apu": ("b550-manjaro-acs", "shared groups, only GPU is the APU", "auto"),
    "noiommu": ("pavilion-fedora-noiommu", "no IOMMU, dracut", "auto"),
    "laptop": ("mx150-debian", "Optimus laptop, vfio-pci built in", "auto"),
    "twogpu": ("z690-arch", "two passable GPUs, systemd-boot + mkinitcpio", "0000:03:00.0"),
    "proxmox": ("fiji-proxmox", "single-GPU Proxmox, systemd-boot via /etc/kernel/cmdline", "0000:09:00.0"),
    "dracut-vm": ("vbox-tumbleweed", "VirtualBox guest, dracut, no IOMMU", "auto"),
    "kernelstub": ("yoga-popos", "Pop!_OS laptop, kernelstub", "auto"),
}
STATE_DIR = os.path.join("var", "lib", "exliar")  # exliar's own journal: not part of the OS
# ... and the directories above it, which exliar creates when a copied root has none.
STATE_PARENTS = {"var", os.path.join("var", "lib")}


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def digest(root):
    """Path, type, mode, owner, content or link target of every entry outside exliar's
    state directory."""
    h = {}
    for d, dirs, files in os.walk(root):
        rel_d = os.path.relpath(d, root)
        if rel_d == STATE_DIR or rel_d.startswith(STATE_DIR + os.sep):
            dirs[:] = []
            continue
        for name in dirs + files:
            p = os.path.join(d, name)
            rel = os.path.relpath(p, root)
            if rel == STATE_DIR or (rel in STATE_PARENTS and os.path.isdir(p)):
                continue
            st = os.lstat(p)
            if os.path.islink(p):
                what = "l:" + os.readlink(p)
            elif os.path.isdir(p):
                what = "d"
            else:
                with open(p, "rb") as f:
                    what = "f:" + hashlib.sha256(f.read()).hexdigest()
            h[rel] = (what, st.st_mode, st.st_uid, st.st_gid)
    return h


def diff_digests(a, b):
    keys = sorted(set(a) | set(b))
    return [k for k in keys if a.get(k) != b.get(k)]


def exliar_json(exliar, root, *args):
    p = subprocess.run([exliar, "--root", root, *args, "--json"], capture_output=True, text=True)
    try:
        doc = json.loads(p.stdout) if p.stdout.strip() else None
    except ValueError:
        doc = None
    return p.returncode, doc, p.stderr


class Fleet:
    def __init__(self, exliar, src, machines, work):
        self.exliar, self.src, self.machines, self.work = exliar, src, machines, work
        self.adir = os.path.join(src, "contrib", "ansible")
        self.times = {}

    def copy(self, tag):
        base = os.path.join(self.work, tag)
        shutil.rmtree(base, ignore_errors=True)
        os.makedirs(base)
        for host, (machine, _, _) in FLEET.items():
            shutil.copytree(os.path.join(self.machines, machine), os.path.join(base, host),
                            symlinks=True)
        return base

    def inventory(self, base):
        hosts = {}
        for host, (_, _, gpu) in FLEET.items():
            hosts[host] = {
                "ansible_connection": "local",
                "ansible_python_interpreter": "/usr/bin/python3",
                "exliar_root": os.path.join(base, host),
                "exliar_path": self.exliar,
                "exliar_gpu": gpu,
                "exliar_reboot": False,  # a --root copy cannot reboot; the role skips it anyway
            }
        path = os.path.join(base + ".inventory.json")
        with open(path, "w") as f:
            json.dump({"fleet": {"hosts": hosts}}, f, indent=1)
        return path

    def play(self, label, playbook, inventory, *extra):
        env = dict(os.environ)
        env.update({
            "ANSIBLE_CONFIG": os.path.join(self.adir, "ansible.cfg"),
            "ANSIBLE_STDOUT_CALLBACK": "json",
            "ANSIBLE_LOCAL_TEMP": os.path.join(self.work, "ansible-tmp"),
            "ANSIBLE_HOME": os.path.join(self.work, "ansible-home"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_HOST_KEY_CHECKING": "0",
        })
        argv = ["ansible-playbook", "-i", inventory, "--forks", "8",
                os.path.join(self.adir, "playbooks", playbook), *extra]
        t0 = time.monotonic()
        p = subprocess.run(argv, capture_output=True, text=True, env=env)
        self.times[label] = time.monotonic() - t0
        try:
            out = json.loads(p.stdout)
        except ValueError:
            fail("%s: ansible-playbook printed no JSON (exit %d)\n%s\n%s"
                 % (label, p.returncode, p.stdout[-3000:], p.stderr[-3000:]))
        print("%s: ansible-playbook exit %d in %.1f s" % (label, p.returncode, self.times[label]))
        return out

    @staticmethod
    def results(out, task_name):
        """host -> result of the first task whose name starts with task_name."""
        res = {}
        for play in out["plays"]:
            for t in play["tasks"]:
                if t["task"]["name"].split(" : ", 1)[-1].startswith(task_name):
                    for h, r in t["hosts"].items():
                        res.setdefault(h, r)
        return res

    def oracle(self, base):
        """For every host: the GPU exliar chooses, its verdict, the plan (None when plan
        refuses), from exliar run outside Ansible on a pristine copy."""
        want = {}
        for host, (_, _, gpu) in FLEET.items():
            root = os.path.join(base, host)
            rc, check, err = exliar_json(self.exliar, root, "check")
            if rc not in (0, 1) or check is None:
                fail("%s: exliar check failed (exit %d): %s" % (host, rc, err))
            rc, plan, err = exliar_json(self.exliar, root, "plan", "--gpu", gpu)
            chosen = plan["intent"]["gpu"] if rc == 0 and plan else (None if gpu == "auto" else gpu)
            verdict = next((v for v in check["verdicts"] if v["gpu"] == chosen), None)
            blocked = rc != 0 or verdict is None or verdict["status"] == "blocked"
            refusal = err.strip().split("error: ", 1)[-1].splitlines()[0] if rc != 0 else ""
            want[host] = {"check": check, "plan": plan if rc == 0 else None, "gpu": chosen,
                          "verdict": verdict, "blocked": blocked, "refusal": refusal}
        return want


def main():
    if len(sys.argv) != 5:
        print(__doc__)
        return 2
    exliar, src, machines, work = (os.path.abspath(a) for a in sys.argv[1:])
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    fl = Fleet(exliar, src, machines, work)

    pristine = fl.copy("pristine")
    before = {h: digest(os.path.join(pristine, h)) for h in FLEET}
    want = fl.oracle(pristine)
    ready = sorted(h for h in FLEET if not want[h]["blocked"])
    blocked = sorted(h for h in FLEET if want[h]["blocked"])
    print("oracle: ready %s; blocked %s" % (ready, blocked))
    if len(ready) < 3 or len(blocked) < 3:
        fail("the fleet must mix ready and blocked hosts (ready %s, blocked %s)" % (ready, blocked))

    # --- check + diff on fresh copies: nothing written, the diffs are exliar plan's.
    dry = fl.copy("dry")
    out = fl.play("check-diff", "site.yml", fl.inventory(dry), "--check", "--diff")
    res = fl.results(out, "Plan and apply")
    for h in FLEET:
        changes = diff_digests(before[h], digest(os.path.join(dry, h)))
        if changes:
            fail("check mode changed %s: %s" % (h, changes[:5]))
        if os.path.exists(os.path.join(dry, h, STATE_DIR, "transactions")):
            fail("check mode started a transaction on %s" % h)
        r = res.get(h)
        if r is None:
            fail("check mode: no result for %s" % h)
        if want[h]["blocked"]:
            if not r.get("failed"):
                fail("check mode: blocked host %s did not fail: %s" % (h, r))
            continue
        plan = want[h]["plan"]
        edits = [s for s in plan["steps"] if s["kind"] == "edit"]
        shown = r.get("diff") or []
        expect = [{"before_header": s["path"], "after_header": s["path"],
                   "before": s["before"] or "", "after": s["after"] or ""} for s in edits]
        if shown != expect:
            fail("check mode: %s diff differs from exliar plan:\nshown %s\nplan %s"
                 % (h, json.dumps(shown)[:800], json.dumps(expect)[:800]))
        if r.get("changed") != bool(plan["steps"]):
            fail("check mode: %s changed=%s but the plan has %d steps"
                 % (h, r.get("changed"), len(plan["steps"])))
        print("  check-diff %-10s %d diffs = exliar plan, tree unchanged" % (h, len(shown)))

    # --- first real run
    run = fl.copy("run")
    inv = fl.inventory(run)
    out = fl.play("apply-1", "site.yml", inv)
    res = fl.results(out, "Plan and apply")
    stats = out["stats"]
    for h in FLEET:
        r, w, root = res.get(h), want[h], os.path.join(run, h)
        if r is None:
            fail("apply-1: no result for %s" % h)
        if w["blocked"]:
            if not r.get("failed"):
                fail("apply-1: blocked host %s did not fail: %s" % (h, r))
            msg = r.get("msg", "")
            if "Traceback" in msg or "MODULE FAILURE" in msg:
                fail("apply-1: %s failed with a traceback, not a finding: %s" % (h, msg))
            errors = [f for f in w["check"]["findings"] if f["severity"] == "error"
                      and f["subject"] in ("system", w["gpu"] or f["subject"])]
            ids = [b.get("id") for b in r.get("blocking", [])]
            if errors:
                # blocked by a finding: its message, and the findings by id
                if not any(f["message"] in msg for f in errors):
                    fail("apply-1: %s failed without the blocking finding's message: %r (findings %s)"
                         % (h, msg, [f["id"] for f in errors]))
                if not ids or not set(ids) <= {f["id"] for f in errors}:
                    fail("apply-1: %s blocking=%s, check --json errors %s"
                         % (h, ids, [f["id"] for f in errors]))
            elif w["refusal"] not in msg or not w["refusal"]:
                # refused by the planner (no finding): exliar's own error
                fail("apply-1: %s failed with %r, exliar plan says %r" % (h, msg, w["refusal"]))
            changes = diff_digests(before[h], digest(root))
            if changes or os.path.exists(os.path.join(root, STATE_DIR, "transactions")):
                fail("apply-1: blocked host %s was touched: %s" % (h, changes[:5]))
            print("  apply-1    %-10s failed as exliar says: %s" % (h, ids or w["refusal"][:60]))
            continue
        if not r.get("changed") or not r.get("transaction"):
            fail("apply-1: ready host %s not changed: %s" % (h, r))
        if r.get("gpu") != w["gpu"] or r.get("verdict") != w["verdict"]:
            fail("apply-1: %s gpu/verdict %s/%s, exliar says %s/%s"
                 % (h, r.get("gpu"), r.get("verdict"), w["gpu"], w["verdict"]))
        if not r.get("reboot_required"):
            fail("apply-1: %s applied a boot change but reboot_required is false" % h)
        rc, status, err = exliar_json(exliar, root, "status")
        applied = [t["id"] for t in status["transactions"] if t["state"] == "applied"]
        if applied != [r["transaction"]] or status["drift"]:
            fail("apply-1: %s status %s, module said %s" % (h, status, r["transaction"]))
        rc, again, err = exliar_json(exliar, root, "plan", "--gpu", FLEET[h][2])
        if rc != 0 or again["steps"]:
            fail("apply-1: %s still has plan steps after apply: %s" % (h, again))
        print("  apply-1    %-10s changed, transaction %s, %d pending commands"
              % (h, r["transaction"], len(r.get("pending_commands", []))))
        if stats[h]["changed"] < 1:
            fail("apply-1: stats say %s did not change" % h)
    for h in blocked:
        if stats[h]["failures"] != 1:
            fail("apply-1: %s failures %s" % (h, stats[h]))
    after1 = {h: digest(os.path.join(run, h)) for h in FLEET}

    # --- second run: idempotent
    out = fl.play("apply-2", "site.yml", inv)
    res = fl.results(out, "Plan and apply")
    for h in FLEET:
        r = res.get(h, {})
        if want[h]["blocked"]:
            if not r.get("failed"):
                fail("apply-2: blocked host %s did not fail" % h)
        elif r.get("changed") or out["stats"][h]["changed"]:
            fail("apply-2: %s changed on the second run: %s" % (h, r))
        if diff_digests(after1[h], digest(os.path.join(run, h))):
            fail("apply-2: %s tree changed on the second run" % h)
    print("  apply-2    no host changed; %d hosts ok, %d failed as before" % (len(ready), len(blocked)))

    # --- fleet report
    report = os.path.join(work, "report.md")
    out = fl.play("report", "report.yml", inv, "-e", "exliar_report=" + report)
    rows = []
    with open(report) as f:
        for line in f:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) == 5 and cells[0] in FLEET:
                rows.append(cells)
    for h in FLEET:
        mine = [(c[1], c[3], c[4]) for c in rows if c[0] == h]
        check = want[h]["check"]
        expect = []
        for v in check["verdicts"]:
            first = next((f["id"] for f in check["findings"] if f["severity"] == "error"
                          and f["subject"] in ("system", v["gpu"])), "-")
            expect.append((v["gpu"], v["status"], first if v["status"] == "blocked" else "-"))
        if sorted(mine) != sorted(expect):
            fail("report: %s rows %s, exliar check --json says %s" % (h, mine, expect))
    print("  report     %d rows for %d hosts match check --json" % (len(rows), len(FLEET)))

    # --- state: absent (the role's rollback tag) restores every tree
    out = fl.play("rollback", "site.yml", inv, "--tags", "rollback")
    res = fl.results(out, "Roll back every")
    for h in FLEET:
        r = res.get(h, {})
        if r.get("failed"):
            fail("rollback: %s failed: %s" % (h, r.get("msg")))
        if bool(r.get("changed")) != (h in ready):
            fail("rollback: %s changed=%s" % (h, r.get("changed")))
        changes = diff_digests(before[h], digest(os.path.join(run, h)))
        if changes:
            fail("rollback: %s differs from the pristine copy: %s" % (h, changes[:5]))
    print("  rollback   every tree equals its pristine copy (%d entries compared)"
          % sum(len(d) for d in before.values()))

    # --- the modules' documentation is valid for ansible-doc
    for mod in ("exliar", "exliar_facts"):
        p = subprocess.run(["ansible-doc", "-M", os.path.join(fl.adir, "roles", "exliar", "library"),
                            "-t", "module", "--json", mod], capture_output=True, text=True)
        if p.returncode != 0:
            fail("ansible-doc %s: %s" % (mod, p.stderr))
        doc = json.loads(p.stdout)[mod]
        if not doc.get("doc", {}).get("options") or not doc.get("return"):
            fail("ansible-doc %s: no options or return block" % mod)
    print("  ansible-doc accepts both modules")

    print("fleet times (s): " + ", ".join("%s %.1f" % kv for kv in fl.times.items()))
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
