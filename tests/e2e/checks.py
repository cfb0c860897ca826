"""Host-side assertions on what a scenario's guest captured (see guest/lib.sh).

Each check returns a list of problems ("" free); an empty list is a pass. Expected
values come from the guest's own /sys walk, never from constants, except for the
lab machine's shape (lab.py DEVICES) which the checks locate by class code.
"""

import json
import re

PENDING = "is not available in this build yet"  # cli/cmd_pending.cpp


def parse_syswalk(text):
    """guest/lib.sh syswalk -> ({address: dict}, {group id: set(addresses)})."""
    devices, groups = {}, {}
    for line in text.splitlines():
        f = line.split()
        if not f:
            continue
        if f[0] == "dev" and len(f) == 9:
            _, addr, ven, dev, cls, drv, grp, bv, parent = f
            devices[addr] = {
                "vendor_id": ven.removeprefix("0x"), "device_id": dev.removeprefix("0x"),
                "class": cls.removeprefix("0x"), "driver": None if drv == "-" else drv,
                "iommu_group": None if grp == "-" else int(grp), "boot_vga": bv == "1",
                "parent": parent if re.fullmatch(r"[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]",
                                                 parent) else None}
        elif f[0] == "group":
            groups[int(f[1])] = set(f[2:])
        else:
            raise ValueError(f"unexpected syswalk line: {line!r}")
    return devices, groups


def compare_inventory(inv, devices, groups):
    """exliar detect --json against the kernel's view; returns problems."""
    p = []
    got = {d["address"]: d for d in inv["devices"]}
    if set(got) != set(devices):
        p.append(f"devices differ: exliar only {sorted(set(got) - set(devices))}, "
                 f"sysfs only {sorted(set(devices) - set(got))}")
    for addr in sorted(set(got) & set(devices)):
        for key, want in devices[addr].items():
            have = got[addr].get(key)
            if have != want:
                p.append(f"{addr} {key}: exliar says {have!r}, sysfs says {want!r}")
    have_groups = {g["id"]: set(g["devices"]) for g in inv["iommu_groups"]}
    if have_groups != groups:
        p.append(f"IOMMU groups differ: exliar {sorted((k, sorted(v)) for k, v in have_groups.items())}"
                 f" sysfs {sorted((k, sorted(v)) for k, v in groups.items())}")
    iommu = inv["system"]["iommu"]
    if iommu["group_count"] != len(groups):
        p.append(f"system.iommu.group_count {iommu['group_count']} but sysfs has {len(groups)}")
    if iommu["active"] != bool(groups):
        p.append(f"system.iommu.active {iommu['active']} with {len(groups)} groups in sysfs")
    return p


def lab_gpus(devices):
    """The lab's GPU functions located by class: VGA (0300), display (0380) and the HD
    audio (0403) sharing the display's slot."""
    vga = sorted(a for a, d in devices.items() if d["class"].startswith("0300"))
    display = sorted(a for a, d in devices.items() if d["class"].startswith("0380"))
    audio = {a for a in devices if devices[a]["class"].startswith("0403")}
    pairs = {dsp: sorted(a for a in audio if a.rsplit(".", 1)[0] == dsp.rsplit(".", 1)[0])
             for dsp in display}
    return vga, display, pairs


def check_gpus(inv, devices, groups, iommu_on):
    p = []
    gpus = {g["address"]: g for g in inv["gpus"]}
    vga, display, pairs = lab_gpus(devices)
    if len(vga) != 2 or len(display) != 1 or any(len(v) != 1 for v in pairs.values()):
        return [f"lab machine not as built: VGA {vga}, display {display}, audio {pairs}"]
    for addr in vga + display:
        g = gpus.get(addr)
        if g is None:
            p.append(f"{addr} (class {devices[addr]['class']}) is not listed as a GPU")
            continue
        want_fns = sorted([addr] + pairs.get(addr, []))
        if sorted(g["functions"]) != want_fns:
            p.append(f"GPU {addr} functions {g['functions']}, expected {want_fns}")
        if g.get("boot_vga", False) != devices[addr]["boot_vga"]:
            p.append(f"GPU {addr} boot_vga {g.get('boot_vga')} but sysfs {devices[addr]['boot_vga']}")
        if g["iommu_group"] != devices[addr]["iommu_group"]:
            p.append(f"GPU {addr} group {g['iommu_group']} but sysfs {devices[addr]['iommu_group']}")
        if iommu_on:
            others = groups.get(devices[addr]["iommu_group"], set()) - set(want_fns)
            want_iso = "shared" if others else "isolated"
            if g["isolation"] != want_iso or set(g["shared_with"]) != others:
                p.append(f"GPU {addr} isolation {g['isolation']} shared_with {g['shared_with']},"
                         f" expected {want_iso} {sorted(others)}")
        elif g["isolation"] != "no-iommu":
            p.append(f"GPU {addr} isolation {g['isolation']} without an IOMMU")
    for audio in sum(pairs.values(), []):
        if audio in gpus:
            p.append(f"the HD audio function {audio} is listed as a GPU of its own")
    extra = set(gpus) - set(vga + display)
    if extra:
        p.append(f"unexpected GPUs {sorted(extra)}")
    if [a for a in vga if devices[a]["boot_vga"]] != [vga[0]]:
        p.append(f"expected exactly the root-bus VGA {vga[0]} to be boot_vga")
    for addr in [vga[0]] + display:  # the lab's native driver, for the restore tests
        if devices[addr]["driver"] != "bochs-drm":  # the bochs module's pci_driver name
            p.append(f"{addr} driver {devices[addr]['driver']}, lab expects bochs-drm")
    return p


def _inventory(res, name="detect"):
    if res["rc"].get(name) != 0:
        raise ValueError(f"{name} exited {res['rc'].get(name)}: {res['sections'].get(name + '.err')}")
    return json.loads(res["sections"][name + ".out"])


def check_detect(res):
    inv = _inventory(res)
    devices, groups = parse_syswalk(res["sections"]["syswalk"])
    p = compare_inventory(inv, devices, groups)
    if not groups:
        p.append("no IOMMU groups with the IOMMU on")
    return p + check_gpus(inv, devices, groups, True)


def check_no_iommu(res):
    inv = _inventory(res)
    devices, groups = parse_syswalk(res["sections"]["syswalk"])
    p = compare_inventory(inv, devices, groups)
    if inv["system"]["iommu"]["active"] is not False:
        p.append("system.iommu.active is not false without an IOMMU")
    if any(d["iommu_group"] is not None for d in inv["devices"]):
        p.append("devices have IOMMU groups without an IOMMU")
    p += check_gpus(inv, devices, groups, False)
    out = res["sections"]["check.out"] + res["sections"]["check.err"]
    if PENDING in out:
        print("e2e no_iommu: NOTE: `exliar check` not implemented yet; its assertions skipped")
    else:
        if res["rc"]["check"] != 1:
            p.append(f"check exited {res['rc']['check']}, expected 1 (blockers found)")
        if not re.search(r"iommu", out, re.I) or not re.search(
                r"\b(off|disabled|not enabled|inactive|not active)\b", out, re.I):
            p.append(f"check does not say the IOMMU is off:\n{out}")
    bind = res["sections"]["bind.out"] + res["sections"]["bind.err"]
    if PENDING in bind:
        print("e2e no_iommu: NOTE: `exliar bind` not implemented yet; its assertions skipped")
    else:
        if res["rc"]["bind"] == 0:
            p.append("bind succeeded without an IOMMU")
        if not re.search(r"iommu[^\n]*\b(off|disabled|not enabled|inactive|not active)\b", bind, re.I):
            p.append(f"bind does not say the IOMMU is off:\n{bind}")
    return p


def _schema_problems(doc, name):
    """Violations of tests/contracts/NAME (python3-jsonschema, installed by install-deps)."""
    import jsonschema  # noqa: E402 (only this check needs it)
    import os
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "contracts", name)
    with open(path, encoding="utf-8") as f:
        schema = json.load(f)
    schema["$id"] = "urn:exliar:" + schema.get("$id", name)  # see tests/check_golden.py
    return [f"{name}: {e.message} at {list(e.path)}"
            for e in jsonschema.Draft202012Validator(schema).iter_errors(doc)]


def check_vfio_test(res):
    """`exliar test --bind` JSON against the guest's sysfs: the IDs and group are the
    device's, every requested reset ran and read back sane config space, the ROM QEMU
    loaded was read and parsed (QEMU's SeaBIOS VGA ROMs are legacy x86 only, so the check
    must say there is no EFI image), and `check` then cites the measurement."""
    p = []
    devices, _ = parse_syswalk(res["sections"]["syswalk"])
    methods = dict((l.split(" ", 1) + [""])[:2] for l in res["sections"]["reset_methods"].splitlines())
    vga, display, _ = lab_gpus(devices)
    ati = [a for a in vga if not devices[a]["boot_vga"]][0]
    for name, addr, want in (("ati", ati, 3), ("display", display[0], 2)):
        if res["rc"].get(name) not in (0, 1):
            p.append(f"test of {addr} exited {res['rc'].get(name)}: {res['sections'].get(name + '.err')}")
            continue
        j = json.loads(res["sections"][name + ".out"])
        p += [f"{addr}: {e}" for e in _schema_problems(j, "test.schema.json")]
        d = devices[addr]
        if (j["address"], j["vendor_id"], j["device_id"], j["iommu_group"]) != (
                addr, d["vendor_id"], d["device_id"], d["iommu_group"]):
            p.append(f"{addr}: test reports {j['address']} {j['vendor_id']}:{j['device_id']} "
                     f"group {j['iommu_group']}, sysfs says {d['vendor_id']}:{d['device_id']} "
                     f"group {d['iommu_group']}")
        r = j["reset"]
        if (r["sysfs_reset_methods"] or "") != methods.get(addr, "").strip():
            p.append(f"{addr}: reset methods {r['sysfs_reset_methods']!r}, sysfs {methods.get(addr)!r}")
        if r["kind"] == "none":
            p.append(f"{addr}: no reset issued (kind none); the lab's root port offers a bus reset")
        elif (r["requested"], r["ok"], r["survives"], len(r["times_ms"])) != (want, want, True, want):
            p.append(f"{addr}: resets {r}, expected {want} sane resets")
        elif not all(0 < t < 10000 for t in r["times_ms"]):
            p.append(f"{addr}: implausible reset times {r['times_ms']}")
        rom = j["rom"]
        if rom["source"] != "vfio" or rom["bytes"] <= 0 or rom["bar_size"] < rom["bytes"]:
            p.append(f"{addr}: ROM not read through VFIO: {rom}")
        items = {c["id"]: c for c in j["checks"]}
        if items.get("rom", {}).get("title") != "The ROM has no EFI (GOP) image":
            p.append(f"{addr}: ROM check {items.get('rom')}, expected the missing-GOP warning")
        if not j["bars"] or any(b["size"] <= 0 for b in j["bars"]):
            p.append(f"{addr}: BARs {j['bars']}")
        if j["verdict"] != "warn":
            p.append(f"{addr}: verdict {j['verdict']}, expected warn (ROM without GOP)")
    check = res["sections"].get("check.out", "")
    if not re.search(r"Reset measured OK on \d{4}-\d{2}-\d{2}", check):
        p.append(f"check does not cite the measured reset:\n{check}")
    return p


CHECKS = {"detect": check_detect, "no_iommu": check_no_iommu, "vfio_test": check_vfio_test}


def run(scenario, res):
    """Problems found by the scenario's host-side check; a malformed or missing capture
    is a problem too, never a crash of the lab."""
    fn = CHECKS.get(scenario)
    try:
        return fn(res) if fn else []
    except Exception as e:
        return [f"host check of {scenario}: {type(e).__name__}: {e}"]
