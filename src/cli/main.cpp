// exliar's entry point: parse the command line with CLI11 and call one verb.
// Everything else lives in cmd_<verb>.cpp; this file only wires options.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <functional>

#include "cli/cli_errors.h"
#include "cli/commands.h"
#include "host/fs.h"
#include "host/runner.h"
#include "host/text.h"

using namespace exliar;
using namespace exliar::cli;

namespace {

struct Globals {
  std::string root = "/";
  bool json = false;
  std::string color = "auto";
  int verbose = 0;
  bool quiet = false;
  std::string gpu_db;
  bool no_plugins = false;
  bool run_root_plugins = false;
  bool ignore_refused_hooks = false;
  bool yes = false;
  std::string output;
};

// Global options are accepted before and after the verb, so they are added to every
// subcommand too (CLI11 fallthrough).
void add_globals(CLI::App& app, Globals& g) {
  app.add_option("--root", g.root, "Operate on the system rooted at DIR (default /)")
      ->type_name("DIR");
  app.add_flag("--json", g.json, "Print one JSON document on stdout");
  app.add_option("--color", g.color, "Colour: auto, always or never (NO_COLOR is honoured)")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  app.add_flag("-v,--verbose", g.verbose, "More detail (repeat for more)");
  app.add_flag("-q,--quiet", g.quiet, "Only errors on stderr");
  app.add_option("--gpu-db", g.gpu_db, "Read the GPU database from DIR instead of the built-in one")
      ->type_name("DIR");
  app.add_flag("--no-plugins", g.no_plugins, "Load no plugins and run no hook scripts");
  app.add_flag("--run-root-plugins", g.run_root_plugins,
               "With --root DIR: load DIR's plugins and run DIR's hook scripts on this host "
               "(skipped by default: they are DIR's code, running here as you)");
  app.add_flag("--ignore-refused-hooks", g.ignore_refused_hooks,
               "Go on when an on_pre_vfio_bind hook script is refused by the trust check "
               "(by default it vetoes, as it could have)");
  app.add_flag("-y,--yes", g.yes, "Do not ask for confirmation");
  app.add_option("-o,--output", g.output, "Write the result to FILE (atomically) instead of stdout")
      ->type_name("FILE");
}

void add_plan_options(CLI::App* c, PlanOptions& o) {
  c->add_option("--gpu", o.gpu, "GPU to pass through: an address (0000:01:00.0) or 'auto'")
      ->type_name("ADDR|auto");
  c->add_option("--bind", o.bind,
                "ids: vfio-pci.ids=; address: driver_override at early boot (chosen when "
                "another GPU has the same IDs)")
      ->check(CLI::IsMember({"ids", "address"}));
  c->add_flag("--acs-override", o.acs_override,
              "Split IOMMU groups with pcie_acs_override (needs a patched kernel; weakens "
              "isolation between devices)");
  c->add_flag("--no-initramfs", o.no_initramfs, "Do not change or rebuild the initramfs");
  c->add_option("--extra-param", o.extra_params, "Add this kernel parameter too (repeatable)")
      ->type_name("PARAM");
  c->add_option("--rom", o.rom, "Use this VBIOS file for the GPU")->type_name("FILE");
  c->add_option("--from", o.from, "Use the plan saved in FILE by `exliar plan --json`")
      ->type_name("FILE");
}

// `exliar` alone. Not on a terminal there is nobody to show a UI to: say what to run.
int no_verb(CLI::App& app, bool json) {
  std::string msg = "no command given; start with `exliar check`, or see `exliar help`";
  std::fprintf(stderr, "exliar: error: %s\nCommands: %s\n", msg.c_str(),
               join(verb_names(app), ", ").c_str());
  if (json) print_json_error(stdout, msg, kUsage);
  return kUsage;
}

}  // namespace

int main(int argc, char** argv) {
  // `exliar apply … | head -1`: a reader that goes away must not kill exliar in the middle
  // of a transaction. Writes to stdout then fail with EPIPE and are ignored; the commands
  // exliar runs get the default disposition back (ProcessRunner).
  ::signal(SIGPIPE, SIG_IGN);
  CLI::App app{
      "exliar: prepare a Linux host for GPU passthrough (VFIO), safely and reversibly.\n"
      "Reads the machine, says whether a GPU can be given to a VM, writes the boot, module\n"
      "and initramfs changes as one transaction that `exliar rollback` undoes."};
  // One place for each: the CMake project version and data/gpu-db/VERSION (CMakeLists.txt).
  const std::string version = std::string("exliar ") + EXLIAR_VERSION + "\nGPU database " +
                              EXLIAR_GPUDB_VERSION + " (built in; --gpu-db DIR overrides)";
  app.set_version_flag("--version", version);
  // No verb: the terminal UI on a terminal, a usage error elsewhere (below).
  app.require_subcommand(0, 1);
  app.fallthrough();
  Globals g;
  add_globals(app, g);

  std::function<int(Context&)> action;
  auto verb = [&](const char* name, const char* help) {
    CLI::App* c = app.add_subcommand(name, help);
    add_globals(*c, g);
    return c;
  };

  verb("detect", "Inventory: system, PCI devices, IOMMU groups and GPUs")->callback([&] {
    action = [](Context& c) { return run_detect(c); };
  });

  static SnapshotOptions snapshot;
  auto* c_snap = verb("snapshot",
                      "Archive exactly the files detect and check read (for a bug report); "
                      "--root DIR reads it back unpacked");
  c_snap->add_option("out", snapshot.out, "OUT.tar.gz")->required();
  c_snap->callback([&] { action = [](Context& c) { return run_snapshot(c, snapshot); }; });

  static CheckOptions check;
  auto* c_check = verb("check", "Readiness findings; exit 0 = a GPU is ready, 1 = blockers found");
  c_check->add_option("--gpu", check.gpu, "Only this GPU")->type_name("ADDR");
  c_check->callback([&] { action = [](Context& c) { return run_check(c, check); }; });

  static GroupsOptions groups;
  auto* c_groups = verb("groups", "IOMMU groups (table), or the PCI topology as Graphviz");
  c_groups->add_flag("--dot", groups.dot, "Graphviz: groups as clusters, GPUs highlighted");
  c_groups->callback([&] { action = [](Context& c) { return run_groups(c, groups); }; });

  static GpuOptions gpu;
  auto* c_gpu = verb("gpu", "Live view of one GPU: driver, link, power, reset, ROM");
  c_gpu->add_option("address", gpu.address, "PCI address")->required();
  c_gpu->callback([&] { action = [](Context& c) { return run_gpu(c, gpu); }; });

  static PlanOptions plan;
  auto* c_plan = verb("plan", "Dry run: every step apply would take, with file diffs");
  add_plan_options(c_plan, plan);
  c_plan->callback([&] { action = [](Context& c) { return run_plan(c, plan); }; });

  static PlanOptions apply;
  auto* c_apply = verb("apply", "Apply the plan as one journaled transaction");
  add_plan_options(c_apply, apply);
  c_apply->callback([&] { action = [](Context& c) { return run_apply(c, apply); }; });

  verb("status", "What exliar applied, and whether the running system matches it")->callback([&] {
    action = [](Context& c) { return run_status(c); };
  });

  static RollbackOptions rollback;
  auto* c_rb = verb("rollback", "Undo the last (or the given) transaction, byte for byte");
  c_rb->add_option("id", rollback.id, "Transaction id (default: the last applied)");
  c_rb->add_flag("--force", rollback.force, "Restore files even if they changed since apply");
  c_rb->callback([&] { action = [](Context& c) { return run_rollback(c, rollback); }; });

  verb("cleanup-script", "Write a POSIX sh script that undoes everything without exliar")
      ->callback([&] { action = [](Context& c) { return run_cleanup_script(c); }; });

  static BindOptions bind, unbind;
  auto* c_bind = verb("bind", "Move a device's whole IOMMU group to vfio-pci now");
  c_bind->add_option("address", bind.address, "PCI address")->required();
  c_bind->add_flag("--force", bind.force, "Bind even the boot GPU / devices in use");
  c_bind->callback([&] { action = [](Context& c) { return run_bind(c, bind); }; });
  auto* c_unbind = verb("unbind", "Give a group back to the drivers it had before bind");
  c_unbind->add_option("address", unbind.address, "PCI address")->required();
  c_unbind->callback([&] { action = [](Context& c) { return run_unbind(c, unbind); }; });

  static TestOptions test;
  auto* c_test = verb("test", "Measure a GPU through VFIO: resets, ROM, BARs (before a VM)");
  c_test->add_option("address", test.address, "PCI address of the GPU")->required();
  c_test->add_flag("--bind", test.bind,
                   "Move its IOMMU group to vfio-pci for the test and give it back after");
  c_test->add_option("--resets", test.resets, "Resets to issue (default 3)")->type_name("N");
  c_test->callback([&] { action = [](Context& c) { return run_test(c, test); }; });

  static BootOptions boot;
  auto* c_boot = verb("boot", "Kernel command line: show, add or remove parameters");
  c_boot->require_subcommand(1);
  for (const char* a : {"show", "add", "remove"}) {
    auto* s = c_boot->add_subcommand(
        a, std::string(a) == "show" ? "Effective command line of each boot entry"
                                    : (std::string(a) + " kernel parameters (transaction)"));
    add_globals(*s, g);
    if (std::string(a) != "show") s->add_option("params", boot.params, "PARAM...")->required();
    s->callback([&, a] {
      boot.action = a;
      action = [](Context& c) { return run_boot(c, boot); };
    });
  }

  static VbiosOptions vbios;
  auto* c_vbios = verb("vbios", "Dump, check or patch a GPU ROM image");
  c_vbios->require_subcommand(1);
  {
    auto* s = c_vbios->add_subcommand("dump", "Read the ROM of a GPU (sysfs or ACPI VFCT)");
    add_globals(*s, g);
    s->add_option("address", vbios.target, "PCI address")->required();
    s->callback([&] {
      vbios.action = "dump";
      action = [](Context& c) { return run_vbios(c, vbios); };
    });
    s = c_vbios->add_subcommand("check", "Parse a ROM image; exit 0 when usable");
    add_globals(*s, g);
    s->add_option("file", vbios.target, "ROM file")->required();
    s->add_option("--gpu", vbios.gpu, "Check that the ROM matches this GPU")->type_name("ADDR");
    s->callback([&] {
      vbios.action = "check";
      action = [](Context& c) { return run_vbios(c, vbios); };
    });
    s = c_vbios->add_subcommand("patch", "Strip a vendor header before the first image");
    add_globals(*s, g);
    s->add_option("file", vbios.target, "ROM file")->required();
    s->callback([&] {
      vbios.action = "patch";
      action = [](Context& c) { return run_vbios(c, vbios); };
    });
  }

  static VmXmlOptions vm;
  auto* c_vm = verb("vm-xml", "libvirt <hostdev> entries, a patched domain, or QEMU arguments");
  c_vm->add_option("--gpu", vm.gpu, "GPU address")->type_name("ADDR");
  c_vm->add_option("--domain", vm.domain, "Patch this domain XML (virsh dumpxml output)")
      ->type_name("FILE");
  c_vm->add_option("--format", vm.format, "xml, qemu, or proxmox (a hostpciN: line for qm set)")
      ->check(CLI::IsMember({"xml", "qemu", "proxmox"}));
  c_vm->add_option("--check", vm.check, "Lint a domain XML for passthrough mistakes")
      ->type_name("FILE");
  c_vm->add_option("--rom", vm.rom, "ROM file for the GPU")->type_name("FILE");
  c_vm->add_flag("--legacy-nvidia-driver", vm.legacy_nvidia_driver,
                 "The guest runs a GeForce driver older than R465: hide KVM and set a Hyper-V "
                 "vendor_id (Code 43). Not needed with R465+ or for Quadro/Tesla GPUs");
  c_vm->callback([&] { action = [](Context& c) { return run_vm_xml(c, vm); }; });

  // Dynamic passthrough: per-VM hooks instead of boot-time binding (cmd_vm*.cpp).
  static VmOptions vmo;
  auto* c_vmd = verb("vm", "Give a GPU to a VM only while it runs (libvirt or Proxmox hooks)");
  c_vmd->require_subcommand(1);
  {
    auto* s = c_vmd->add_subcommand(
        "enable", "Manage a VM: write its config and install the hook (transaction)");
    add_globals(*s, g);
    s->add_option("name", vmo.name, "libvirt domain name, or the Proxmox VMID")->required();
    s->add_option("--gpu", vmo.gpu, "GPU to hand to the VM (all functions of its slot go)")
        ->type_name("ADDR")
        ->required();
    s->add_flag("--single-gpu", vmo.single_gpu,
                "The host's only GPU: stop the display manager, release consoles and "
                "framebuffers and unload its driver while the VM runs");
    s->add_option("--display-manager", vmo.display_manager,
                  "Service to stop in single-GPU mode (default: detected when the VM starts)")
        ->type_name("SERVICE");
    s->add_option("--unload-module", vmo.unload_modules,
                  "Also unload this module in single-GPU mode (repeatable; in this order)")
        ->type_name("MODULE");
    s->add_option("--hypervisor", vmo.hypervisor, "libvirt, proxmox or auto (Proxmox if /etc/pve)")
        ->check(CLI::IsMember({"auto", "libvirt", "proxmox"}));
    s->callback([&] {
      vmo.action = "enable";
      action = [](Context& c) { return run_vm(c, vmo); };
    });
    s = c_vmd->add_subcommand("disable", "Stop managing a VM: remove its config (and the hook)");
    add_globals(*s, g);
    s->add_option("name", vmo.name, "VM name")->required();
    s->callback([&] {
      vmo.action = "disable";
      action = [](Context& c) { return run_vm(c, vmo); };
    });
    s = c_vmd->add_subcommand("list", "Managed VMs, their GPUs and who holds each GPU now");
    add_globals(*s, g);
    s->callback([&] {
      vmo.action = "list";
      action = [](Context& c) { return run_vm(c, vmo); };
    });
  }
  static VmHookOptions vm_hook;
  auto* c_hook = verb("vm-hook",
                      "Called by the libvirt/Proxmox hook: NAME prepare begin - | NAME release "
                      "end - | VMID pre-start | VMID post-stop (run by hand to recover)");
  c_hook->add_option("args", vm_hook.args, "The hypervisor's hook arguments")->required();
  c_hook->callback([&] { action = [](Context& c) { return run_vm_hook(c, vm_hook); }; });

  verb("plugins", "Plugins and hook scripts found, with load errors")->callback([&] {
    action = [](Context& c) { return run_plugins(c); };
  });

  static HelpOptions help;
  auto* c_help = verb("help", "Explain exliar or one command (same as COMMAND --help)");
  c_help->add_option("command", help.command, "COMMAND [SUBCOMMAND]");
  c_help->callback([&] { action = [&app](Context& c) { return run_help(c, app, help); }; });

  verb("tui", "Interactive terminal UI: machine, GPUs, plan, apply, rollback")->callback([&] {
    action = [](Context& c) { return run_tui(c); };
  });

  // Hidden (no group): the definitions above as JSON, for the man page and completions.
  app.add_subcommand("__cli-tree", "")->group("")->callback([&] {
    action = [&app](Context&) { return run_cli_tree(app, EXLIAR_VERSION); };
  });

  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return parse_failure(app, e, args, std::find(args.begin(), args.end(), "--json") != args.end());
  }
  bool on_terminal = ::isatty(STDIN_FILENO) && ::isatty(STDOUT_FILENO);
  if (!action && (!on_terminal || g.json)) return no_verb(app, g.json);
  if (!action) action = [](Context& c) { return run_tui(c); };

  auto fs = RealFs::open(g.root);
  if (!fs) {
    std::fprintf(stderr, "exliar: error: %s\n", fs.error().describe().c_str());
    if (g.json) print_json_error(stdout, fs.error().describe(), kEnvironment);
    return kEnvironment;
  }
  ProcessRunner runner;
  Output out;
  out.json = g.json;
  out.verbosity = g.quiet ? Verbosity::quiet : g.verbose ? Verbosity::verbose : Verbosity::normal;
  const char* no_color = std::getenv("NO_COLOR");
  bool tty = ::isatty(STDOUT_FILENO);
  out.color = g.color == "always" || (g.color == "auto" && tty && !(no_color && *no_color));
  out.stdin_is_tty = ::isatty(STDIN_FILENO);
  out.err_is_tty = ::isatty(STDERR_FILENO);
  Context ctx{*fs, runner, out, g.gpu_db, g.no_plugins, g.yes, g.output};
  ctx.run_root_plugins = g.run_root_plugins;
  ctx.ignore_refused_hooks = g.ignore_refused_hooks;
  return finish(ctx, action(ctx));
}
