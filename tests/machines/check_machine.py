#!/usr/bin/python3
"""Checks of `exliar detect --json` on the fixture machines and on the live host.

usage: check_machine.py oracle|schema|golden|expect  EXLIAR SOURCE_DIR MACHINE_ROOT NAME
       check_machine.py live EXLIAR SOURCE_DIR

oracle  lspci's linux-sysfs back end (an independent reader of the same tree) must list the
        same functions with the same IDs, class, revision, subsystem, driver, IOMMU group and
        names (from the machine's own pci.ids) as exliar; parents must match the manifest.
schema  the JSON validates against tests/contracts/detect.schema.json (python3-jsonschema).
golden  the JSON equals tests/golden/NAME.detect.json (EXLIAR_UPDATE_GOLDEN=1 rewrites it).
expect  the `expect` lines of the machine's manifest hold (what README.md says it covers).
live    on /: exactly the functions `lspci -D` lists, valid JSON, no IOMMU and no GPU.
"""
import json
import os
import shlex
import subprocess
import sys

FAILS = []


def fail(msg):
    FAILS.append(msg)
    print("FAIL: " + msg)


def detect(exe, root):
    args = [exe] + (["--root", root] if root else []) + ["detect", "--json"]
    p = subprocess.run(args, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        fail(f"{' '.join(args)} exited {p.returncode}: {p.stderr.strip()}")
        sys.exit(1)
    if p.stderr.strip():
        print("exliar stderr: " + p.stderr.strip())
    return json.loads(p.stdout)


def lspci_records(args):
    """Records of `lspci -vmm...`: one dict per function (keys as lspci prints them)."""
    p = subprocess.run(["lspci"] + args, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        fail(f"lspci {' '.join(args)} exited {p.returncode}: {p.stderr.strip()}")
        sys.exit(1)
    recs, cur = [], {}
    for line in p.stdout.splitlines():
        if not line.strip():
            if cur:
                recs.append(cur)
            cur = {}
            continue
        k, _, v = line.partition(":\t")
        cur[k] = v
    if cur:
        recs.append(cur)
    return recs


def sysfs_opts(root):
    return ["-A", "linux-sysfs", "-O", f"sysfs.path={root}/sys/bus/pci", "-O", "hwdb.disable=1",
            "-i", f"{root}/usr/share/misc/pci.ids"]


def manifest_lines(src, name):
    with open(os.path.join(src, "tests/machines", name, "manifest"), encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if line.strip() and not line.lstrip().startswith("#"):
                yield lineno, shlex.split(line, comments=True)


def oracle(exe, src, root, name):
    j = detect(exe, root)
    devs = {d["address"]: d for d in j["devices"]}
    # The exact command of the issue, for the device set.
    p = subprocess.run(["lspci", "-A", "linux-sysfs", "-O", f"sysfs.path={root}/sys/bus/pci", "-nnkD"],
                       capture_output=True, text=True, timeout=60)
    nnk_slots = {ln.split()[0] for ln in p.stdout.splitlines() if ln and not ln[0].isspace()}
    nums = {r["Slot"]: r for r in lspci_records(sysfs_opts(root) + ["-vmmnkD"])}
    names = {r["Slot"]: r for r in lspci_records(sysfs_opts(root) + ["-vmmD"])}
    if not nums:
        fail("lspci lists no devices")
    if set(nums) != set(devs) or nnk_slots != set(devs):
        fail(f"device sets differ: only lspci {sorted(set(nums) - set(devs))}, "
             f"only exliar {sorted(set(devs) - set(nums))}, -nnk {len(nnk_slots)} vs {len(devs)}")
    checked = 0
    for slot, r in nums.items():
        d = devs.get(slot)
        if d is None:
            continue
        want = {
            "vendor_id": r["Vendor"], "device_id": r["Device"],
            "class": r["Class"] + r.get("ProgIf", "00"),
            "revision": r.get("Rev", "00"),
            "driver": r.get("Driver"),
            "iommu_group": int(r["IOMMUGroup"]) if "IOMMUGroup" in r else None,
        }
        if "SVendor" in r:
            want["subsystem_vendor_id"] = r["SVendor"]
            want["subsystem_device_id"] = r["SDevice"]
        elif d.get("subsystem_vendor_id") not in (None, "0000"):
            fail(f"{slot}: lspci shows no subsystem, exliar {d.get('subsystem_vendor_id')}")
        n = names[slot]
        if not n["Vendor"].startswith("Unknown vendor"):
            want["vendor_name"] = n["Vendor"]
        if not n["Device"].startswith("Device "):
            want["device_name"] = n["Device"]
        for k, v in want.items():
            checked += 1
            if d.get(k) != v:
                fail(f"{slot}.{k}: lspci {v!r}, exliar {d.get(k)!r}")
    # Parents (upstream bridge from the directory nesting) against the manifest.
    for lineno, w in manifest_lines(src, name):
        if w[0] == "pci" and w[1] in devs:
            want = None if w[2] == "-" else w[2]
            checked += 1
            if devs[w[1]].get("parent") != want:
                fail(f"{w[1]}.parent: manifest line {lineno} {want}, exliar {devs[w[1]].get('parent')}")
    # Parents as lspci sees them: the bridge (header type 1) whose secondary bus number in
    # config space is the device's bus. Checks the config files against the dir nesting.
    p = subprocess.run(["lspci"] + sysfs_opts(root) + ["-xD"], capture_output=True, text=True,
                       timeout=60)
    cfg, cur = {}, None
    for ln in p.stdout.splitlines():
        if ln and not ln[0].isspace() and not ln[:3].endswith(": ") and ln[4:5] == ":":
            cur = ln.split()[0]
            cfg[cur] = []
        elif cur and ln[:2] in ("00", "10", "20", "30") and ln[2:4] == ": ":
            cfg[cur] += [int(b, 16) for b in ln[4:].split()]
    sec = {a: c[0x19] for a, c in cfg.items() if len(c) >= 0x1B and c[0x0E] & 0x7F == 1}
    for a, d in devs.items():
        bus = int(a[5:7], 16)
        ups = [b for b, s in sec.items() if s == bus and b[:4] == a[:4]]
        want = ups[0] if len(ups) == 1 else None
        checked += 1
        if d.get("parent") != want:
            fail(f"{a}.parent: lspci config space says {want} ({ups}), exliar {d.get('parent')}")
    # Groups listed under iommu_groups agree with the devices' own links.
    members = {}
    for d in j["devices"]:
        if d.get("iommu_group") is not None:
            members.setdefault(d["iommu_group"], []).append(d["address"])
    got = {g["id"]: sorted(g["devices"]) for g in j["iommu_groups"]}
    if got != {k: sorted(v) for k, v in members.items()}:
        fail(f"iommu_groups {got} disagree with device links {members}")
    print(f"{name}: {len(devs)} functions, {checked} facts checked against lspci and the manifest")


def schema(exe, src, root, name):
    import jsonschema  # python3-jsonschema (Debian), hence /usr/bin/python3
    with open(os.path.join(src, "tests/contracts/detect.schema.json"), encoding="utf-8") as f:
        s = json.load(f)
    # The contract's $id is relative ("exliar/detect/1"); jsonschema 4.10 (Debian 12) joins it
    # with itself when resolving "#/$defs/...", so validate with an absolute id instead.
    s["$id"] = "urn:exliar:" + s.get("$id", "detect")
    v = jsonschema.Draft202012Validator(s)
    errs = list(v.iter_errors(detect(exe, root)))
    for e in errs[:20]:
        fail(f"schema: {'/'.join(map(str, e.absolute_path))}: {e.message}")
    if not errs:
        print(f"{name}: valid against detect.schema.json")


def golden(exe, src, root, name):
    text = json.dumps(detect(exe, root), indent=2, sort_keys=False) + "\n"
    path = os.path.join(src, "tests/golden", f"{name}.detect.json")
    if os.environ.get("EXLIAR_UPDATE_GOLDEN") == "1":
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        print(f"updated {path}")
        return
    if not os.path.exists(path):
        fail(f"{path} missing (run with EXLIAR_UPDATE_GOLDEN=1)")
        return
    with open(path, encoding="utf-8") as f:
        want = f.read()
    if want != text:
        import difflib
        sys.stdout.writelines(difflib.unified_diff(want.splitlines(True), text.splitlines(True),
                                                   path, "exliar detect --json", n=2))
        fail(f"output differs from {path} (EXLIAR_UPDATE_GOLDEN=1 to accept)")


def dig(obj, path):
    for part in path.split("."):
        obj = obj[int(part)] if isinstance(obj, list) else obj[part]
    return obj


def expect(exe, src, root, name):
    j = detect(exe, root)
    n = 0
    for lineno, w in manifest_lines(src, name):
        if w[0] != "expect":
            continue
        n += 1
        raw = w[-1]
        try:
            want = json.loads(raw)
        except ValueError:
            want = raw
        try:
            if w[1] == "system":
                got = dig(j["system"], w[2])
            elif w[1] in ("gpu", "device"):
                items = {x["address"]: x for x in j["gpus" if w[1] == "gpu" else "devices"]}
                got = dig(items[w[2]], w[3]) if w[2] in items else f"<no {w[1]} {w[2]}>"
            elif w[1] == "count":
                got = len(j[w[2]])
            else:
                fail(f"manifest line {lineno}: unknown expect {w[1]}")
                continue
        except (KeyError, IndexError) as e:
            got = f"<missing {e}>"
        if got != want:
            fail(f"manifest line {lineno}: expect {' '.join(w[1:-1])} = {want!r}, got {got!r}")
    if n == 0:
        fail("manifest has no expect lines")
    print(f"{name}: {n} expectations checked")


def live(exe, src):
    j = detect(exe, None)
    p = subprocess.run(["lspci", "-D"], capture_output=True, text=True, timeout=60)
    slots = {ln.split()[0] for ln in p.stdout.splitlines() if ln.strip()}
    got = {d["address"] for d in j["devices"]}
    if slots != got:
        fail(f"live: lspci -D {sorted(slots)} vs exliar {sorted(got)}")
    if j["system"]["iommu"]["active"]:
        fail("live: exliar says the IOMMU is active; this VM has none")
    if j["gpus"]:
        fail(f"live: exliar lists GPUs {[g['address'] for g in j['gpus']]}; this VM has none")
    if any(d["class"].startswith("03") for d in j["devices"]):
        fail("live: a display-class device is listed")
    schema(exe, src, None, "live")
    # The text form must say so plainly, for a person reading it.
    t = subprocess.run([exe, "detect"], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, NO_COLOR="1"))
    low = t.stdout.lower()
    if "iommu" not in low or not any(s in low for s in ("no iommu", "iommu: off", "iommu off",
                                                         "iommu: none", "iommu: inactive",
                                                         "not active", "no groups")):
        fail("live: `exliar detect` text does not say clearly that there is no IOMMU")
    if not any(s in low for s in ("no gpu", "gpus: none", "no display")):
        fail("live: `exliar detect` text does not say clearly that there is no GPU")
    print(f"live: {len(got)} functions, same as lspci -D")


def main(argv):
    if len(argv) >= 4 and argv[1] == "live":
        live(argv[2], argv[3])
    elif len(argv) == 6 and argv[1] in ("oracle", "schema", "golden", "expect"):
        globals()[argv[1]](argv[2], argv[3], argv[4], argv[5])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
