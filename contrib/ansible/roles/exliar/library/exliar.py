#!/usr/bin/python
# -*- coding: utf-8 -*-
# Ansible module that drives exliar: it plans first, reports `changed` only when the plan
# has steps, applies exactly the plan it showed (`apply --from`), and rolls back with
# `state: absent`. Everything it knows comes from exliar's JSON outputs; it decides
# nothing about GPUs itself.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: exliar
short_description: Prepare a host for GPU passthrough (VFIO) with exliar, idempotently
description:
  - Runs C(exliar check) and C(exliar plan --json) for the requested GPU. When the plan has
    steps, applies exactly that plan as one journaled transaction (C(exliar apply --from));
    when it has none, the host is already configured and nothing changes.
  - Fails with the blocking finding's message when exliar says the GPU cannot be passed
    through, without touching the host.
  - With I(state=absent), rolls back every transaction exliar applied, newest first, byte
    for byte.
  - Check mode runs the plan only; diff mode shows the plan's file diffs.
  - A reboot is needed for the boot configuration to take effect; the module says so in
    I(reboot_required) and leaves the reboot to the play (see the C(exliar) role).
version_added: "0.1.0"
author:
  - exliar developers
options:
  state:
    description:
      - C(present) applies the plan for I(gpu); C(absent) rolls back every applied
        transaction.
    type: str
    choices: [present, absent]
    default: present
  gpu:
    description:
      - The GPU to pass through, as a PCI address (C(0000:01:00.0)), or C(auto) to let
        exliar choose the one GPU that can be passed through.
    type: str
    default: auto
  bind:
    description:
      - How vfio-pci claims the GPU at boot. C(ids) uses vfio-pci.ids; C(address) uses
        driver_override (needed when another GPU has the same IDs). Default is exliar's
        choice.
    type: str
    choices: [ids, address]
  extra_params:
    description: Kernel parameters to add as well.
    type: list
    elements: str
    default: []
  acs_override:
    description: Split IOMMU groups with pcie_acs_override (needs a patched kernel).
    type: bool
    default: false
  no_initramfs:
    description: Do not change or rebuild the initramfs.
    type: bool
    default: false
  rom:
    description: A VBIOS file to use for the GPU.
    type: path
  root:
    description:
      - Operate on the system rooted at this directory (exliar C(--root)). Regeneration
        commands are then recorded, not run, and returned in I(pending_commands).
    type: path
    default: /
  exliar_path:
    description: The exliar executable.
    type: path
    default: exliar
  no_plugins:
    description: Load no exliar plugins and run no hook scripts.
    type: bool
    default: false
notes:
  - Supports check mode and diff mode.
  - Needs exliar on the managed host; it has no Python dependencies beyond Ansible's own.
"""

EXAMPLES = r"""
- name: Give the one passable GPU to vfio-pci
  exliar:
    gpu: auto
  register: vfio

- name: Reboot when the new boot configuration needs it
  ansible.builtin.reboot:
  when: vfio.reboot_required

- name: Pass a second GPU with the same IDs as the host's GPU
  exliar:
    gpu: "0000:02:00.0"
    bind: address

- name: Undo everything exliar did
  exliar:
    state: absent
"""

RETURN = r"""
gpu:
  description: The GPU the plan is for (the address C(auto) resolved to).
  returned: state=present
  type: str
  sample: "0000:01:00.0"
verdict:
  description: exliar's verdict for that GPU (status and summary from C(check --json)).
  returned: state=present
  type: dict
  sample: {"gpu": "0000:01:00.0", "status": "ready", "summary": "ready"}
transaction:
  description: The id of the transaction applied by this run (empty when nothing changed).
  returned: always
  type: str
  sample: "0001-20261203T114249Z"
rolled_back:
  description: The transactions rolled back, newest first.
  returned: state=absent
  type: list
  elements: str
steps:
  description: The plan's steps (kind, path or command, reason), without file contents.
  returned: state=present
  type: list
  elements: dict
pending_commands:
  description: Regeneration commands exliar recorded instead of running (under root).
  returned: always
  type: list
  elements: str
reboot_required:
  description: Whether a reboot is needed for the applied state to be in effect.
  returned: always
  type: bool
blocking:
  description: The blocking findings (id, subject, message, fix) when the module fails.
  returned: failure
  type: list
  elements: dict
"""

import json
import os
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule


class Exliar:
    """Runs exliar with the global options and parses its JSON answer."""

    def __init__(self, module):
        self.module = module
        p = module.params
        self.base = [p["exliar_path"], "--root", p["root"]]
        if p["no_plugins"]:
            self.base.append("--no-plugins")

    def run(self, args, ok=(0,), result=None):
        argv = self.base + args + ["--json"]
        rc, out, err = self.module.run_command(argv)
        doc = None
        if out.strip():
            try:
                doc = json.loads(out)
            except ValueError:
                doc = None
        if rc not in ok:
            self.module.fail_json(msg=error_text(argv, rc, doc, err), rc=rc, cmd=argv,
                                  stderr=err, **(result or {}))
        if not isinstance(doc, dict):
            self.module.fail_json(msg="%s printed no JSON document (exit %d): %s"
                                  % (" ".join(argv), rc, err.strip()), cmd=argv)
        return doc


def error_text(argv, rc, doc, err):
    # exliar's --json errors may arrive as {"error": {...}} on stdout; older builds print
    # "exliar: error: ..." on stderr. Either way the user sees exliar's own words.
    if isinstance(doc, dict) and doc.get("error"):
        e = doc["error"]
        return e.get("message", json.dumps(e)) if isinstance(e, dict) else str(e)
    text = err.strip() or "exit %d" % rc
    return "%s failed: %s" % (" ".join(os.path.basename(a) if i == 0 else a
                                       for i, a in enumerate(argv)), text)


def blocking_findings(check, gpu):
    """Error findings that apply to this GPU (or to every GPU: subject "system")."""
    subjects = {"system", gpu} if gpu else None
    return [f for f in check.get("findings", [])
            if f.get("severity") == "error" and (subjects is None or f.get("subject") in subjects)]


def blocked_message(check, gpu):
    if gpu:
        verdict = next((v for v in check.get("verdicts", []) if v.get("gpu") == gpu), None)
        if verdict:
            return "%s: %s" % (gpu, verdict.get("summary", verdict.get("status")))
    lines = ["%s: %s" % (v.get("gpu"), v.get("summary")) for v in check.get("verdicts", [])]
    return "no GPU can be passed through: " + ("; ".join(lines) or "exliar found no GPU")


def pending_of(status):
    cmds = []
    for t in status.get("transactions", []):
        if t.get("state") == "applied":
            cmds.extend(t.get("pending", []))
    return cmds


def reboot_pending(status):
    return any(t.get("state") == "applied" and "pending" in str(t.get("runtime", ""))
               for t in status.get("transactions", []))


def step_summary(step):
    s = {k: v for k, v in step.items() if k not in ("before", "after")}
    return s


def plan_diffs(plan):
    diffs = []
    for step in plan.get("steps", []):
        if step.get("kind") != "edit":
            continue
        diffs.append({
            "before_header": step.get("path", ""),
            "after_header": step.get("path", ""),
            "before": step.get("before") or "",
            "after": step.get("after") or "",
        })
    return diffs


def present(module, ex):
    p = module.params
    result = {"changed": False, "transaction": "", "pending_commands": [], "reboot_required": False}
    check = ex.run(["check"], ok=(0, 1))
    wanted = None if p["gpu"] == "auto" else p["gpu"]
    args = ["plan", "--gpu", p["gpu"]]
    if p["bind"]:
        args += ["--bind", p["bind"]]
    if p["acs_override"]:
        args.append("--acs-override")
    if p["no_initramfs"]:
        args.append("--no-initramfs")
    for param in p["extra_params"]:
        args += ["--extra-param", param]
    if p["rom"]:
        args += ["--rom", p["rom"]]

    argv = ex.base + args + ["--json"]
    rc, out, err = module.run_command(argv)
    if rc != 0:
        # The plan was refused: say why in the words of the blocking finding when exliar's
        # check has one, and keep exliar's own error next to it.
        blockers = blocking_findings(check, wanted)
        try:
            doc = json.loads(out) if out.strip() else None
        except ValueError:
            doc = None
        msg = error_text(argv, rc, doc, err)
        if blockers:
            msg = blocked_message(check, wanted) + " (" + msg + ")"
        module.fail_json(msg=msg, rc=rc, blocking=blockers, cmd=argv, **result)
    try:
        plan = json.loads(out)
    except ValueError:
        module.fail_json(msg="exliar plan printed no JSON document: %s" % err.strip(), cmd=argv)

    gpu = plan.get("intent", {}).get("gpu", wanted)
    verdict = next((v for v in check.get("verdicts", []) if v.get("gpu") == gpu), None)
    result.update(gpu=gpu, verdict=verdict, steps=[step_summary(s) for s in plan.get("steps", [])],
                  warnings_exliar=plan.get("warnings", []))
    if verdict is None or verdict.get("status") == "blocked":
        module.fail_json(msg=blocked_message(check, gpu) if verdict else
                         "%s: exliar check gave no verdict for this GPU" % gpu,
                         blocking=blocking_findings(check, gpu), **result)

    steps = plan.get("steps", [])
    result["changed"] = bool(steps)
    if module._diff:
        result["diff"] = plan_diffs(plan)
    if steps and not module.check_mode:
        # Apply the very plan shown (and diffed): exliar checks that every file still has
        # the content the plan was made from, so nothing unseen is written.
        tmpdir = tempfile.mkdtemp(prefix="exliar-ansible-")
        try:
            path = os.path.join(tmpdir, "plan.json")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(out)
            applied = ex.run(["--yes", "apply", "--from", path], result=result)
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)
        result["transaction"] = applied.get("transaction", "")
    if steps and module.check_mode:
        result["reboot_required"] = True
        result["pending_commands"] = [" ".join(s["argv"]) for s in steps if s.get("kind") == "command"]
        return result
    status = ex.run(["status"], ok=(0, 1))
    result["pending_commands"] = pending_of(status)
    result["reboot_required"] = reboot_pending(status)
    return result


def absent(module, ex):
    result = {"changed": False, "transaction": "", "rolled_back": [], "pending_commands": [],
              "reboot_required": False}
    status = ex.run(["status"], ok=(0, 1))
    applied = [t["id"] for t in status.get("transactions", []) if t.get("state") == "applied"]
    if not applied:
        return result
    result["changed"] = True
    result["reboot_required"] = True
    if module.check_mode:
        result["rolled_back"] = list(reversed(applied))
        return result
    # `rollback` undoes the newest applied transaction; repeat until none is left, never
    # more often than there were transactions to begin with.
    for _ in applied:
        done = ex.run(["--yes", "rollback"], result=result)
        result["rolled_back"].append(done.get("transaction", ""))
        result["pending_commands"].extend(done.get("pending", []))
        status = ex.run(["status"], ok=(0, 1))
        if not any(t.get("state") == "applied" for t in status.get("transactions", [])):
            break
    left = [t["id"] for t in status.get("transactions", []) if t.get("state") == "applied"]
    if left:
        module.fail_json(msg="transactions still applied after rollback: " + ", ".join(left),
                         **result)
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", choices=["present", "absent"], default="present"),
            gpu=dict(type="str", default="auto"),
            bind=dict(type="str", choices=["ids", "address"]),
            extra_params=dict(type="list", elements="str", default=[]),
            acs_override=dict(type="bool", default=False),
            no_initramfs=dict(type="bool", default=False),
            rom=dict(type="path"),
            root=dict(type="path", default="/"),
            exliar_path=dict(type="path", default="exliar"),
            no_plugins=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    ex = Exliar(module)
    if module.params["state"] == "present":
        module.exit_json(**present(module, ex))
    module.exit_json(**absent(module, ex))


if __name__ == "__main__":
    main()
