#!/usr/bin/python3
"""Golden `exliar check` output on a fixture machine (text and JSON) and the live host.

usage: check_golden.py EXLIAR SOURCE_DIR MACHINE_ROOT NAME
       check_golden.py live EXLIAR SOURCE_DIR

Runs `check` and `check --json` with --root MACHINE_ROOT, validates the JSON against
tests/contracts/check.schema.json, checks the exit code against the contract (0 when some
GPU has no error finding, 1 otherwise) and compares both outputs with
tests/golden/NAME.check.txt / NAME.check.json. EXLIAR_UPDATE_GOLDEN=1 rewrites the goldens.
live: on / (this build host: no GPU, no IOMMU) check must exit 1 and say so.
"""
import json
import os
import subprocess
import sys

import jsonschema


def run(args):
    p = subprocess.run(args, capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, NO_COLOR="1"))
    return p.returncode, p.stdout, p.stderr


def validate(src, doc):
    with open(os.path.join(src, "tests/contracts/check.schema.json"), encoding="utf-8") as f:
        schema = json.load(f)
    # The contract's $id is relative ("exliar/check/1"); jsonschema 4.10 (Debian 12) joins
    # it with itself when resolving "#/$defs/..." and fails, so give it an absolute one.
    schema["$id"] = "urn:exliar:" + schema.get("$id", "check")
    jsonschema.Draft202012Validator(schema).validate(doc)


def expected_rc(doc):
    ok = any(v["status"] != "blocked" for v in doc["verdicts"])
    return 0 if ok else 1


def compare(path, text, update):
    if update or not os.path.exists(path):
        if not update:
            print(f"FAIL: {path} missing (run with EXLIAR_UPDATE_GOLDEN=1)")
            return False
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        print(f"updated {path}")
        return True
    with open(path, encoding="utf-8") as f:
        want = f.read()
    if want != text:
        import difflib
        sys.stdout.writelines(difflib.unified_diff(want.splitlines(True), text.splitlines(True),
                                                   path, "actual"))
        print(f"FAIL: output differs from {path}")
        return False
    return True


def main():
    if sys.argv[1] == "live":
        exe, src = sys.argv[2], sys.argv[3]
        rc, out, err = run([exe, "check", "--json"])
        doc = json.loads(out)
        validate(src, doc)
        ids = {f["id"] for f in doc["findings"]}
        want = {"no-gpu", "iommu-inactive"}
        if rc != 1 or not want <= ids:
            print(f"FAIL: live check rc={rc} ids={sorted(ids)} stderr={err}")
            return 1
        print(f"live: rc={rc}, findings {sorted(ids)}")
        return 0
    exe, src, root, name = sys.argv[1:5]
    update = os.environ.get("EXLIAR_UPDATE_GOLDEN") == "1"
    golden = os.path.join(src, "tests/golden")
    rc_text, text, err = run([exe, "--root", root, "check"])
    rc_json, out, err2 = run([exe, "--root", root, "check", "--json"])
    doc = json.loads(out)
    validate(src, doc)
    ok = True
    if rc_text != rc_json or rc_json != expected_rc(doc):
        print(f"FAIL: exit codes text={rc_text} json={rc_json}, contract says {expected_rc(doc)}")
        ok = False
    # Every finding must carry evidence; every verdict's GPU must be a GPU of detect.
    for f in doc["findings"]:
        if not f["evidence"]:
            print(f"FAIL: finding {f['id']} has no evidence")
            ok = False
    ok &= compare(os.path.join(golden, f"{name}.check.txt"), text + f"--- exit {rc_text}\n", update)
    ok &= compare(os.path.join(golden, f"{name}.check.json"), out, update)
    if err.strip():
        print("exliar stderr: " + err.strip())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
