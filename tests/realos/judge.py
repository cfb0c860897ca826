"""The host's judgement of a real-OS journey, from the files the guest left in /e2e/out
(read out of the disk image after each boot). Pure functions over those texts, so the
lab's self-test can feed them recorded or corrupted output.

Each check returns a list of problems (empty = pass).
"""

import json
import os

import initrd


def read(out, name):
    p = os.path.join(out, name)
    return open(p, errors="replace").read() if os.path.exists(p) else None


def rc(out, name):
    t = read(out, name + ".rc")
    return int(t) if t and t.strip().lstrip("-").isdigit() else None


def tokens(cmdline):
    return (cmdline or "").split()


def drivers(sys_text):
    """syswalk text -> {address: driver or "-"} (lib.sh: `dev ADDR VEN DEV CLASS DRV GRP ...`)."""
    out = {}
    for line in (sys_text or "").splitlines():
        w = line.split()
        if len(w) >= 7 and w[0] == "dev":
            out[w[1]] = w[5]
    return out


def groups(sys_text):
    out = {}
    for line in (sys_text or "").splitlines():
        w = line.split()
        if len(w) >= 7 and w[0] == "dev":
            out[w[1]] = w[6]
    return out


def tree(text):
    """tree_state text -> {path: (stat line, md5 or None)}."""
    entries = {}
    for line in (text or "").splitlines():
        if "|" in line:
            path = line.split("|", 1)[0]
            entries[path] = [line, None]
        else:
            parts = line.split(None, 1)
            if len(parts) == 2 and len(parts[0]) == 32 and parts[1] in entries:
                entries[parts[1]][1] = parts[0]
    return {k: tuple(v) for k, v in entries.items()}


def initrd_contents(out, boot, path):
    """What the guest's copy of the initramfs image PATH, made during BOOT (journey.sh
    facts), unpacks to; or the same listing saved as JSON (`<copy>.json`, the recorded
    journeys of selftest.py, which leave out the images themselves). None if neither."""
    p = os.path.join(out, f"initrd.{boot}.{path.lstrip('/').replace('/', '_')}")
    if os.path.exists(p):
        return initrd.contents(open(p, "rb").read())
    if os.path.exists(p + ".json"):
        return {k: tuple(v) for k, v in json.load(open(p + ".json")).items()}
    return None


def tree_diff(before, after, limit=25, out=None, boots=None):
    """Differences of two tree_state texts. With OUT and BOOTS, an initramfs image whose
    bytes differ is compared by what it unpacks to instead (initrd.py)."""
    a, b = tree(before), tree(after)
    out_lines = []
    for p in sorted(set(a) | set(b)):
        if p not in b:
            out_lines.append(f"missing: {a[p][0]}")
        elif p not in a:
            out_lines.append(f"new: {b[p][0]}")
        elif a[p] != b[p]:
            if a[p][0] == b[p][0] and out and boots:
                try:
                    ia = initrd_contents(out, boots[0], p)
                    ib = initrd_contents(out, boots[1], p)
                    d = initrd.diff(ia, ib) if ia is not None and ib is not None else None
                except initrd.InitrdError as e:
                    d = [f"cannot read it: {e}"]
                if d is not None:
                    if d:
                        out_lines.append(f"changed initramfs {p}: " + "; ".join(d))
                    continue
            what = "content" if a[p][0] == b[p][0] else f"{a[p][0]} -> {b[p][0]}"
            out_lines.append(f"changed {p}: {what}")
    out = out_lines
    return out[:limit] + ([f"... {len(out) - limit} more"] if len(out) > limit else [])


def plan_expectations(out):
    """(expect_cmdline, expect_vfio) of the plan exliar printed with --json."""
    t = read(out, "planjson.out")
    try:
        j = json.loads(t)
    except (TypeError, ValueError):
        return None, None
    if isinstance(j, dict) and "plan" in j and isinstance(j["plan"], dict):
        j = j["plan"]
    return j.get("expect_cmdline"), j.get("expect_vfio")


def check_boot0(out):
    probs = []
    if not tokens(read(out, "cmdline.boot0")):
        probs.append("boot0: no /proc/cmdline recorded")
    gpu = (read(out, "gpu.boot0") or "").split()
    if len(gpu) != 1:
        probs.append(f"boot0: expected one passthrough candidate, found {gpu}")
    for name in ("plan", "planjson"):
        if rc(out, name) != 0:
            probs.append(f"boot0: exliar {name} exited {rc(out, name)}: {(read(out, name + '.err') or '')[:300]}")
    cmd, vfio = plan_expectations(out)
    if not cmd:
        probs.append("boot0: the plan names no command line tokens (expect_cmdline)")
    if not vfio:
        probs.append("boot0: the plan names no function for vfio-pci (expect_vfio)")
    elif gpu and not any(gpu[0] in a for a in vfio):
        probs.append(f"boot0: the plan's vfio functions {vfio} miss the GPU {gpu[0]}")
    return probs


def check_applied(out, boot="boot1", base="boot0", rolled_back=True):
    """After the reboot that follows apply: the command line and the drivers; then the
    rollback ran (unless the journey rolls back from the recovery entry)."""
    probs = []
    cmd, vfio = plan_expectations(out)
    before, after = tokens(read(out, f"cmdline.{base}")), tokens(read(out, f"cmdline.{boot}"))
    if not after:
        return [f"{boot}: no /proc/cmdline recorded"]
    missing = [t for t in (cmd or []) if t not in after]
    if missing:
        probs.append(f"{boot}: /proc/cmdline lacks {missing} that the plan promised: {' '.join(after)}")
    added = [t for t in after if t not in before]
    extra = [t for t in added if t not in (cmd or [])]
    if extra:
        probs.append(f"{boot}: /proc/cmdline gained {extra}, which the plan did not name")
    d0, d1 = drivers(read(out, f"sys.{base}")), drivers(read(out, f"sys.{boot}"))
    g1 = groups(read(out, f"sys.{boot}"))
    nodes = (read(out, f"vfio.{boot}") or "").split()
    passed = set()
    for a in vfio or []:
        a = a if a.count(":") == 2 else "0000:" + a
        passed.add(a)
        if d1.get(a) != "vfio-pci":
            probs.append(f"{boot}: {a} is driven by {d1.get(a)}, not vfio-pci")
        if g1.get(a, "-") == "-" or g1.get(a) not in nodes:
            probs.append(f"{boot}: no /dev/vfio/{g1.get(a)} for {a} (have {nodes})")
    for a, drv in d0.items():
        if a not in passed and d1.get(a) != drv:
            probs.append(f"{boot}: {a} outside the passed group changed driver {drv} -> {d1.get(a)}")
    st = read(out, "status.out") or ""
    if rc(out, "status") != 0 or "running system: active" not in st:
        probs.append(f"{boot}: exliar status exited {rc(out, 'status')} without saying active: {st[:300]}")
    if rolled_back and rc(out, "rollback") != 0:
        probs.append(f"{boot}: exliar rollback exited {rc(out, 'rollback')}: {(read(out, 'rollback.err') or '')[:400]}")
    return probs


def check_recovery(out, boot="boot1r", base="boot0"):
    """GRUB's recovery entry after apply: update-grub gives it GRUB_CMDLINE_LINUX only
    (Debian's /etc/grub.d/10_linux: "single" + GRUB_CMDLINE_LINUX), so what exliar put
    into GRUB_CMDLINE_LINUX_DEFAULT is absent; the initramfs still binds the GPU to
    vfio-pci (modprobe.d ids= + the module in the image), the boot GPU keeps its driver,
    so the host has its console, and `exliar rollback` works from here."""
    probs = []
    cmd, vfio = plan_expectations(out)
    try:
        warnings = json.loads(read(out, "planjson.out")).get("warnings", [])
    except (TypeError, ValueError):
        warnings = []
    if not any("recovery entries" in w for w in warnings):
        probs.append("boot0: the plan does not tell the user what the recovery entry gets")
    c = tokens(read(out, f"cmdline.{boot}"))
    if "single" not in c:
        probs.append(f"{boot}: not the recovery entry: /proc/cmdline is {' '.join(c)}")
    d0, d1 = drivers(read(out, f"sys.{base}")), drivers(read(out, f"sys.{boot}"))
    passed = {a if a.count(":") == 2 else "0000:" + a for a in vfio or []}
    for a in passed:
        if d1.get(a) != "vfio-pci":
            probs.append(f"{boot}: recovery mode left {a} with {d1.get(a)}, expected the "
                         "initramfs binding to vfio-pci")
    for a, drv in d0.items():
        if a not in passed and d1.get(a) != drv:
            probs.append(f"{boot}: {a} changed driver {drv} -> {d1.get(a)} in recovery mode")
    if rc(out, "rollback") != 0:
        probs.append(f"{boot}: exliar rollback from recovery mode exited {rc(out, 'rollback')}: "
                     f"{(read(out, 'rollback.err') or '')[:400]}")
    return probs


def check_restored(out, boot="boot2", base="boot0", status="status2", want="rolled back"):
    """After rollback (or a failed apply) and a reboot: everything as in the baseline."""
    probs = []
    before, after = read(out, f"cmdline.{base}"), read(out, f"cmdline.{boot}")
    if after is None:
        return [f"{boot}: no /proc/cmdline recorded"]
    if tokens(before) != tokens(after):
        probs.append(f"{boot}: /proc/cmdline is `{after.strip()}`, baseline was `{(before or '').strip()}`")
    d0, d2 = drivers(read(out, f"sys.{base}")), drivers(read(out, f"sys.{boot}"))
    if d0 != d2:
        probs.append(f"{boot}: drivers differ from the baseline: "
                     + ", ".join(f"{a} {d0.get(a)} -> {d2.get(a)}" for a in sorted(set(d0) | set(d2))
                                 if d0.get(a) != d2.get(a)))
    if (read(out, f"vfio.{boot}") or "").split() != (read(out, f"vfio.{base}") or "").split():
        probs.append(f"{boot}: /dev/vfio is {read(out, f'vfio.{boot}')!r}, baseline {read(out, f'vfio.{base}')!r}")
    diff = tree_diff(read(out, f"tree.{base}"), read(out, f"tree.{boot}"), out=out, boots=(base, boot))
    if diff:
        probs.append(f"{boot}: /etc and the boot files differ from the baseline:\n      "
                     + "\n      ".join(diff))
    st = (read(out, status + ".out") or "") + (read(out, status + ".err") or "")
    if want not in st.lower():
        probs.append(f"{boot}: exliar status does not say {want!r}: {st[:300]}")
    return probs


def check_fault(out):
    """apply with a failing regeneration: exit 4 and the tree as before the apply."""
    probs = []
    if rc(out, "apply") != 4:
        probs.append(f"boot0: apply exited {rc(out, 'apply')} with a failing regeneration, "
                     f"expected 4 (rolled back): {(read(out, 'apply.err') or '')[:300]}")
    diff = tree_diff(read(out, "tree.boot0"), read(out, "tree.boot0.applied"), out=out,
                     boots=("boot0", "boot0.applied"))
    if diff:
        probs.append("boot0: after the automatic rollback the tree differs:\n      " + "\n      ".join(diff))
    return probs
