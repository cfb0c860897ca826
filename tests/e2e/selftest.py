#!/usr/bin/env python3
"""The e2e judges judged: recorded data channels (recorded/*.log, captured from real lab
boots of Debian 6.1.0-56 under QEMU 7.2) must pass checks.py, and each deliberate
corruption of them must be reported. Runs without QEMU, so it guards the host-side
logic even where the lab cannot boot. Exit 0 = all cases behaved."""

import copy
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, HERE)

import checks  # noqa: E402
import lab  # noqa: E402


def load(name):
    return lab.parse(open(os.path.join(HERE, "recorded", name + ".log")).read())


def with_inventory(res, edit):
    res = copy.deepcopy(res)
    inv = json.loads(res["sections"]["detect.out"])
    edit(inv)
    res["sections"]["detect.out"] = json.dumps(inv)
    return res


def with_syswalk(res, old, new):
    res = copy.deepcopy(res)
    text = res["sections"]["syswalk"]
    assert old in text, old
    res["sections"]["syswalk"] = text.replace(old, new, 1)
    return res


def dev(inv, addr):
    return next(d for d in inv["devices"] if d["address"] == addr)


def gpu(inv, addr):
    return next(g for g in inv["gpus"] if g["address"] == addr)


def main():
    det, noi = load("detect"), load("no_iommu")
    failures, cases = [], []

    def expect(name, scenario, res, clean):
        cases.append(name)
        problems = checks.run(scenario, res)
        if clean and problems:
            failures.append(f"{name}: expected no problem, got {problems}")
        if not clean and not problems:
            failures.append(f"{name}: corruption not detected")

    expect("recorded detect", "detect", det, True)
    expect("recorded no_iommu", "no_iommu", noi, True)
    corrupt = {
        "driver": lambda i: dev(i, "0000:02:00.0").update(driver=None),
        "group of a device": lambda i: dev(i, "0000:02:00.1").update(iommu_group=5),
        "boot_vga": lambda i: dev(i, "0000:01:00.0").update(boot_vga=True),
        "parent": lambda i: dev(i, "0000:02:00.0").update(parent="0000:00:03.0"),
        "missing device": lambda i: i["devices"].pop(),
        "group list": lambda i: i["iommu_groups"].pop(),
        "group_count": lambda i: i["system"]["iommu"].update(group_count=3),
        "audio not in the GPU": lambda i: gpu(i, "0000:02:00.0")["functions"].pop(),
        "audio as its own GPU": lambda i: i["gpus"].append(
            dict(gpu(i, "0000:02:00.0"), address="0000:02:00.1")),
        "display not a GPU": lambda i: i["gpus"].pop(),
        "isolation": lambda i: gpu(i, "0000:01:00.0").update(isolation="shared"),
        "gpu boot_vga": lambda i: gpu(i, "0000:00:02.0").update(boot_vga=False),
    }
    for name, edit in corrupt.items():
        expect(f"detect: {name}", "detect", with_inventory(det, edit), False)
    expect("detect: sysfs driver differs", "detect",
           with_syswalk(det, "0x038000 bochs-drm", "0x038000 -"), False)
    expect("detect: exit code", "detect", dict(det, rc=dict(det["rc"], detect=3)), False)
    expect("no_iommu: active", "no_iommu",
           with_inventory(noi, lambda i: i["system"]["iommu"].update(active=True)), False)
    expect("no_iommu: isolation", "no_iommu",
           with_inventory(noi, lambda i: gpu(i, "0000:01:00.0").update(isolation="isolated")),
           False)
    check_ok = copy.deepcopy(noi)
    check_ok["sections"]["check.out"] = "GPU 0000:01:00.0: blocked\n  IOMMU is off: add ...\n"
    check_ok["sections"]["check.err"] = ""
    check_ok["rc"]["check"] = 1
    expect("no_iommu: check says off", "no_iommu", check_ok, True)
    expect("no_iommu: check exits 0", "no_iommu", dict(check_ok, rc=dict(check_ok["rc"], check=0)),
           False)
    silent = copy.deepcopy(check_ok)
    silent["sections"]["check.out"] = "blocked\n"
    expect("no_iommu: check silent about the IOMMU", "no_iommu", silent, False)

    bind_ok = copy.deepcopy(noi)
    bind_ok["sections"]["bind.out"] = ""
    bind_ok["sections"]["bind.err"] = "exliar: error: the IOMMU is not active on this host\n"
    bind_ok["rc"]["bind"] = 3
    expect("no_iommu: bind refused", "no_iommu", bind_ok, True)
    expect("no_iommu: bind succeeds", "no_iommu", dict(bind_ok, rc=dict(bind_ok["rc"], bind=0)),
           False)
    vague = copy.deepcopy(bind_ok)
    vague["sections"]["bind.err"] = "exliar: error: cannot bind\n"
    expect("no_iommu: bind refusal without a reason", "no_iommu", vague, False)

    # vfio_test (issue 21): the recorded run passes; each wrong measurement is caught.
    vt = load("vfio_test")
    expect("recorded vfio_test", "vfio_test", vt, True)

    def with_test(name, edit):
        res = copy.deepcopy(vt)
        j = json.loads(res["sections"][name + ".out"])
        edit(j)
        res["sections"][name + ".out"] = json.dumps(j)
        return res

    test_corrupt = {
        "a reset lost": ("ati", lambda j: j["reset"].update(ok=2, survives=False)),
        "no reset issued": ("display", lambda j: j["reset"].update(kind="none")),
        "wrong device id": ("ati", lambda j: j.update(device_id="5047")),
        "wrong group": ("display", lambda j: j.update(iommu_group=99)),
        "ROM not read": ("ati", lambda j: j["rom"].update(source=None, bytes=0)),
        "GOP claimed": ("ati", lambda j: j["checks"][2].update(title="The ROM is valid")),
        "no BARs": ("display", lambda j: j.update(bars=[])),
        "schema: bad verdict": ("ati", lambda j: j.update(verdict="great")),
        "schema: field missing": ("display", lambda j: j.pop("link")),
        "reset methods": ("ati", lambda j: j["reset"].update(sysfs_reset_methods="flr")),
    }
    for cname, (which, edit) in test_corrupt.items():
        expect(f"vfio_test: {cname}", "vfio_test", with_test(which, edit), False)
    no_check = copy.deepcopy(vt)
    no_check["sections"]["check.out"] = no_check["sections"]["check.out"].replace(
        "Reset measured OK", "Reset behaviour of this GPU is not confirmed")
    expect("vfio_test: check ignores the measurement", "vfio_test", no_check, False)
    expect("vfio_test: test failed", "vfio_test", dict(vt, rc=dict(vt["rc"], ati=3)), False)

    cases.append("parse: unterminated section")
    if not lab.parse("E2E-BEGIN x\nabc\n")["fails"]:
        failures.append("parse: an unterminated section is not reported")
    for f in failures:
        print("FAIL " + f)
    print(f"e2e selftest: {len(cases) - len(failures)} of {len(cases)} cases behaved, {len(failures)} did not")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
