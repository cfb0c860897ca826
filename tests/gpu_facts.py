#!/usr/bin/python3
"""Regression tests for the GPU database facts fixed in issue 17 (the gpu-db audit).

Each case copies the built z370-ubuntu fixture (UHD 630 at 00:02.0, GT 1030 at 01:00.0),
gives one of its GPUs the audited vendor:device ID, and asserts what the user sees: the
`exliar check --json` findings for that GPU and the `exliar vm-xml` output (with and
without --legacy-nvidia-driver). check and vm-xml must agree on Code 43.

usage: gpu_facts.py EXLIAR MACHINE_ROOT CASE
       gpu_facts.py --list
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

DGPU = ("0000:01:00.0", "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0")
IGPU = ("0000:00:02.0", "sys/devices/pci0000:00/0000:00:02.0")

# name: (slot, vendor, device, expectations)
#   find: {finding id: (severity, substring of the message)}; absent: finding ids that must
#   not be there; hidden / hidden_legacy: does vm-xml hide KVM (without / with the flag)?
#   name: substring of the GPU's database name (detect --json gpus[].db.name)
CASES = {
    # W1: GeForce Kepler+: check info names R465, vm-xml leaves KVM visible unless asked.
    "geforce-gt1030": (DGPU, "10de", "1d01", {
        "find": {"code-43-risk": ("info", "before R465"), "reset-unknown": ("warning", "Unknown")},
        "hidden": False, "hidden_legacy": True}),
    # W2: pro IDs inside a GeForce chip range, and datacenter chips: no Code 43 at all.
    "pro-rtx-a6000": (DGPU, "10de", "2230", {
        "absent": ["code-43-risk"], "hidden": False, "hidden_legacy": False}),
    "datacenter-a100": (DGPU, "10de", "20b0", {
        "absent": ["code-43-risk"], "hidden": False, "hidden_legacy": False}),
    # W2 + W3: T4 is pro, and its no-bus-reset quirk was reverted: reset unknown, not FLR.
    "tesla-t4": (DGPU, "10de", "1eb8", {
        "absent": ["code-43-risk"], "find": {"reset-unknown": ("warning", "test it")},
        "hidden": False, "hidden_legacy": False}),
    # Unknown NVIDIA ID: Code 43 unknown, KVM hidden only when asked.
    "nvidia-unknown": (DGPU, "10de", "3400", {
        "find": {"code-43-risk": ("info", "Unknown"), "unknown-gpu": ("info", "not in")},
        "hidden": False, "hidden_legacy": True}),
    # Fermi: every driver predates R465, so vm-xml hides KVM without being asked.
    "fermi-gtx580": (DGPU, "10de", "1080", {
        "find": {"code-43-risk": ("warning", "never got a driver")},
        "hidden": True, "hidden_legacy": True}),
    # W6: C68 IGP is pre-Tesla (Curie), not "Tesla".
    "c68-igp": (DGPU, "10de", "053e", {
        "name": "pre-Tesla", "find": {"code-43-risk": ("info", "Unknown")},
        "hidden": False, "hidden_legacy": True}),
    # W4/W5: Bonaire/Hawaii do not respond to a bus reset (QEMU's own reset quirk).
    "hawaii-r9-290x": (DGPU, "1002", "67b0", {
        "find": {"reset-bug": ("warning", "does not respond to a bus reset")},
        "hidden": False, "hidden_legacy": False}),
    "bonaire-hd7790": (DGPU, "1002", "665c", {
        "find": {"reset-bug": ("warning", "does not respond to a bus reset")},
        "hidden": False, "hidden_legacy": False}),
    "bonaire-mobile": (DGPU, "1002", "6640", {
        "find": {"reset-bug": ("warning", "Reported")}, "hidden": False, "hidden_legacy": False}),
    # D1: GCN1/GCN3 reset is unknown (a warning with the way to test), not "bus reset fine".
    "tahiti-hd7970": (DGPU, "1002", "6798", {
        "find": {"reset-unknown": ("warning", "exliar test")}, "hidden": False, "hidden_legacy": False}),
    "fiji-fury": (DGPU, "1002", "7300", {
        "find": {"reset-unknown": ("warning", "exliar test")}, "hidden": False, "hidden_legacy": False}),
    # D10: RDNA4 reset problems are "reported", not known.
    "navi48": (DGPU, "1002", "7550", {
        "find": {"reset-bug": ("warning", "Reported")}, "hidden": False, "hidden_legacy": False}),
    # D12: Thames is not Evergreen.
    "thames": (DGPU, "1002", "6841", {"name": "Thames", "hidden": False, "hidden_legacy": False}),
    # D4: an Intel iGPU does not need a ROM file in UPT mode: info, no vbios-needed warning.
    "intel-cfl-igd": (IGPU, "8086", "3e92", {
        "find": {"vbios-legacy-igd": ("info", "UPT")}, "absent": ["vbios-needed"],
        "hidden": False, "hidden_legacy": False}),
    # D5: Meteor Lake is outside QEMU's IGD table: no legacy-mode ROM advice.
    "intel-mtl-igd": (IGPU, "8086", "7d55", {
        "absent": ["vbios-needed", "vbios-legacy-igd"], "hidden": False, "hidden_legacy": False}),
    # D9: Arrow Lake-U 7d41 is Xe-LPG, not Xe-LPG+.
    "intel-arl-u": (IGPU, "8086", "7d41", {
        "name": "Arrow Lake-U / -S, Xe-LPG", "hidden": False, "hidden_legacy": False}),
}


def run(args):
    p = subprocess.run(args, capture_output=True, text=True, timeout=120)
    if p.returncode < 0:
        sys.exit(f"FAIL: {args} died by signal {-p.returncode}\n{p.stderr}")
    return p.returncode, p.stdout, p.stderr


def main():
    if sys.argv[1:] == ["--list"]:
        print(";".join(CASES))
        return 0
    exe, machine, case = sys.argv[1:4]
    (addr, rel), vendor, device, want = CASES[case]
    errors = []
    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.join(tmp, "root")
        shutil.copytree(machine, root, symlinks=True)
        for f, v in (("vendor", vendor), ("device", device)):
            with open(os.path.join(root, rel, f), "w") as fh:
                fh.write(f"0x{v}\n")
        rc, out, err = run([exe, "--root", root, "check", "--json"])
        if rc not in (0, 1):
            sys.exit(f"FAIL: check exited {rc}\n{err}")
        findings = {f["id"]: f for f in json.loads(out)["findings"] if f["subject"] == addr}
        for fid, (sev, text) in want.get("find", {}).items():
            f = findings.get(fid)
            if not f:
                errors.append(f"check: no {fid} finding for {addr} (has {sorted(findings)})")
            elif f["severity"] != sev or text not in f["message"] + (f["fix"] or ""):
                errors.append(f"check: {fid} is {f['severity']}: {f['message']!r}; want {sev} with {text!r}")
        for fid in want.get("absent", []):
            if fid in findings:
                errors.append(f"check: unexpected {fid}: {findings[fid]['message']}")
        c43 = findings.get("code-43-risk")
        if "name" in want:
            rc, out, err = run([exe, "--root", root, "detect", "--json"])
            names = [g["db"]["name"] for g in json.loads(out)["gpus"] if g["address"] == addr]
            if not names or want["name"] not in names[0]:
                errors.append(f"detect: name {names} lacks {want['name']!r}")
        for flag, key in (([], "hidden"), (["--legacy-nvidia-driver"], "hidden_legacy")):
            rc, xml, err = run([exe, "--root", root, "vm-xml", "--gpu", addr] + flag)
            if rc != 0:
                errors.append(f"vm-xml {flag}: exit {rc}: {err}")
                continue
            hidden = "<hidden state='on'" in xml
            vid = "<vendor_id state='on'" in xml
            if hidden != want[key] or vid != want[key]:
                errors.append(f"vm-xml {flag}: hidden KVM {hidden}, vendor_id {vid}; want {want[key]}\n{xml}")
            if hidden and "needs them" in xml:
                errors.append("vm-xml: still says the guest driver 'needs them'")
            # check and vm-xml agree: hidden KVM by default <=> a code-43 warning.
            if not flag and hidden != bool(c43 and c43["severity"] == "warning"):
                errors.append(f"check and vm-xml disagree: code-43-risk {c43 and c43['severity']}, hidden {hidden}")
    if errors:
        print(f"FAIL {case} ({vendor}:{device} at {addr}):\n  " + "\n  ".join(errors))
        return 1
    print(f"ok {case} ({vendor}:{device})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
