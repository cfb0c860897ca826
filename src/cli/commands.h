// One function per verb, each in cmd_<verb>.cpp. main.cpp only parses options into these
// structs and calls them. Return value is the process exit code (see ExitCode).
#pragma once

#include <string>
#include <vector>

#include "host/context.h"

namespace CLI {
class App;
}

namespace exliar::cli {

enum ExitCode : int {
  kOk = 0,
  kFindings = 1,  ///< check found blockers; status found drift
  kUsage = 2,
  kEnvironment = 3,  ///< not root, unsupported system, lock held, unreadable root
  kApplyFailed = 4,  ///< apply failed and was rolled back (or a plugin vetoed)
};

struct CheckOptions {
  std::string gpu;  ///< "" = every GPU
};
struct GroupsOptions {
  bool dot = false;
};
struct GpuOptions {
  std::string address;
};
struct PlanOptions {
  std::string gpu = "auto";
  std::string bind;  ///< "ids", "address" or "" (choose)
  bool acs_override = false;
  bool no_initramfs = false;
  std::vector<std::string> extra_params;
  std::string rom;
  std::string from;  ///< --from FILE: a saved plan (plan --json) instead of the planner
};
struct RollbackOptions {
  std::string id;  ///< "" = the last applied transaction
  bool force = false;
};
struct BindOptions {
  std::string address;
  bool force = false;
};
struct TestOptions {
  std::string address;
  bool bind = false;  ///< bind the group for the test, give it back after
  int resets = 3;
};
struct BootOptions {
  std::string action;  ///< show, add, remove
  std::vector<std::string> params;
};
struct VbiosOptions {
  std::string action;  ///< dump, check, patch
  std::string target;  ///< ADDR for dump, FILE for check/patch
  std::string gpu;     ///< check: --gpu
};
struct VmXmlOptions {
  std::string gpu;
  std::string domain;  ///< --domain FILE
  std::string format = "xml";
  std::string check;  ///< --check FILE (lint)
  std::string rom;
  bool legacy_nvidia_driver = false;  ///< the guest runs a GeForce driver older than R465
};

// Dynamic passthrough (cmd_vm.cpp, cmd_vm_hook.cpp).
struct VmOptions {
  std::string action;  ///< enable, disable, list
  std::string name;
  std::string gpu;
  bool single_gpu = false;
  std::string hypervisor = "auto";
  std::string display_manager;
  std::vector<std::string> unload_modules;
};
struct VmHookOptions {
  std::vector<std::string> args;  ///< libvirt: NAME OP SUBOP EXTRA; Proxmox: VMID PHASE
};

struct SnapshotOptions {
  std::string out;  ///< OUT.tar.gz (a host path, not inside --root)
};

int run_detect(Context&);
int run_snapshot(Context&, const SnapshotOptions&);
int run_check(Context&, const CheckOptions&);
int run_groups(Context&, const GroupsOptions&);
int run_gpu(Context&, const GpuOptions&);
int run_plan(Context&, const PlanOptions&);
int run_apply(Context&, const PlanOptions&);
int run_status(Context&);
int run_rollback(Context&, const RollbackOptions&);
int run_cleanup_script(Context&);
int run_bind(Context&, const BindOptions&);
int run_unbind(Context&, const BindOptions&);
int run_test(Context&, const TestOptions&);
int run_boot(Context&, const BootOptions&);
int run_vbios(Context&, const VbiosOptions&);
int run_vm_xml(Context&, const VmXmlOptions&);
int run_plugins(Context&);
int run_vm(Context&, const VmOptions&);
int run_vm_hook(Context&, const VmHookOptions&);

// Guided CLI (issue 18): help from the CLI11 definitions.
struct HelpOptions {
  std::vector<std::string> command;  ///< "boot", "add": help for `exliar boot add`
};
int run_help(Context&, CLI::App& app, const HelpOptions&);
/// Hidden `__cli-tree`: every command and option as JSON (man page, completions).
int run_cli_tree(CLI::App& app, const std::string& version);
/// The terminal UI; without a terminal a usage error (exit 2).
int run_tui(Context&);

}  // namespace exliar::cli
