#!/usr/bin/python
# -*- coding: utf-8 -*-
# Gathers exliar's inventory and verdicts as facts, so a play can choose GPUs per host.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: exliar_facts
short_description: exliar's inventory (detect) and verdicts (check) as host facts
description:
  - Runs C(exliar detect --json) and C(exliar check --json) and returns them as the fact
    C(exliar), with a short per-GPU summary in C(exliar.gpus) for choosing a GPU in a play.
  - Reads only; never changes the host.
version_added: "0.1.0"
author:
  - exliar developers
options:
  root:
    description: Read the system rooted at this directory (exliar C(--root)).
    type: path
    default: /
  exliar_path:
    description: The exliar executable.
    type: path
    default: exliar
notes:
  - Supports check mode (it reads only).
"""

EXAMPLES = r"""
- name: Read exliar's view of the host
  exliar_facts:

- name: Pass the first ready discrete GPU
  exliar:
    gpu: "{{ (ansible_facts.exliar.gpus | selectattr('ready') | rejectattr('integrated') | first).address }}"
"""

RETURN = r"""
ansible_facts:
  description: Facts under the key C(exliar).
  returned: always
  type: complex
  contains:
    exliar:
      description: >-
        C(detect) and C(check) (exliar's JSON documents as they are), C(gpus) (one entry
        per GPU with address, name, vendor, integrated, boot_vga, iommu_group, status,
        summary, ready, blocking findings) and C(ready) (addresses of the GPUs that can
        be passed through).
      type: dict
"""

import json

from ansible.module_utils.basic import AnsibleModule


def run(module, args, ok):
    argv = [module.params["exliar_path"], "--root", module.params["root"]] + args + ["--json"]
    rc, out, err = module.run_command(argv)
    if rc not in ok:
        module.fail_json(msg="%s failed (exit %d): %s" % (" ".join(argv), rc, err.strip()), rc=rc)
    try:
        return json.loads(out)
    except ValueError:
        module.fail_json(msg="%s printed no JSON document: %s" % (" ".join(argv), err.strip()))


def summarize(detect, check):
    verdicts = {v.get("gpu"): v for v in check.get("verdicts", [])}
    gpus = []
    for g in detect.get("gpus", []):
        addr = g.get("address")
        v = verdicts.get(addr, {})
        db = g.get("db") or {}
        blocking = [{"id": f.get("id"), "subject": f.get("subject"), "message": f.get("message")}
                    for f in check.get("findings", [])
                    if f.get("severity") == "error" and f.get("subject") in ("system", addr)]
        gpus.append({
            "address": addr,
            "name": db.get("name") or addr,
            "vendor": g.get("vendor"),
            "integrated": bool(g.get("integrated")),
            "boot_vga": bool(g.get("boot_vga")),
            "iommu_group": g.get("iommu_group"),
            "status": v.get("status", "unknown"),
            "summary": v.get("summary", ""),
            "ready": bool(v) and v.get("status") != "blocked",
            "blocking": blocking,
        })
    return gpus


def main():
    module = AnsibleModule(
        argument_spec=dict(
            root=dict(type="path", default="/"),
            exliar_path=dict(type="path", default="exliar"),
        ),
        supports_check_mode=True,
    )
    detect = run(module, ["detect"], ok=(0,))
    check = run(module, ["check"], ok=(0, 1))
    gpus = summarize(detect, check)
    module.exit_json(changed=False, ansible_facts={"exliar": {
        "detect": detect,
        "check": check,
        "gpus": gpus,
        "ready": [g["address"] for g in gpus if g["ready"]],
    }})


if __name__ == "__main__":
    main()
