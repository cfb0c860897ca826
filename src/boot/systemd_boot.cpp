// systemd-boot: Boot Loader Specification entries on the ESP/XBOOTLDR, plus
// /etc/kernel/cmdline, which kernel-install (and proxmox-boot-tool) copy into entries and
// UKIs of kernels installed later (systemd#18456: that file is the place to persist).
#include <fmt/format.h>

#include "boot/backend.h"
#include "boot/entry_files.h"
#include "host/paths.h"

namespace exliar::boot {

namespace {

struct EntryFile {
  std::string path;
  std::string text;
};

/// Entries of installed kernels in every loader/entries directory. An entry whose
/// kernel image is gone is stale (a removed kernel) and left alone; so is a type #2/EFI
/// entry, which has no `linux` line to attach options to.
Result<std::vector<EntryFile>> installed_entries(const Fs& fs, std::vector<std::string>* notes) {
  std::vector<EntryFile> out;
  for (auto dir :
       {paths::kBootLoaderEntries, paths::kBootEfiLoaderEntries, paths::kEfiLoaderEntries}) {
    auto names = fs.list_dir(dir);
    if (!names) continue;
    std::string esp(path_dirname(path_dirname(dir)));  // ".../loader/entries" -> ESP root
    for (const auto& n : *names) {
      if (n.size() < 5 || n.substr(n.size() - 5) != ".conf") continue;
      std::string p = path_join(dir, n);
      auto t = read_boot_file(fs, p);
      if (!t) return tl::unexpected(t.error());
      auto e = parse_loader_entry(*t);
      if (!e) return tl::unexpected(Error{e.error().message, p, 0, e.error().line});
      auto linux = e->first(*t, "linux");
      if (!linux) {
        if (notes) notes->push_back(p + " has no `linux` line (EFI or UKI entry); not edited");
        continue;
      }
      auto version = e->first(*t, "version");
      bool installed = fs.exists(path_join(esp, *linux)) ||
                       (version && (fs.exists(path_join(paths::kLibModules, *version)) ||
                                    fs.exists(path_join(paths::kUsrLibModules, *version))));
      if (!installed) {
        if (notes)
          notes->push_back(
              fmt::format("{}: kernel {} is not installed; stale entry not edited", p, *linux));
        continue;
      }
      out.push_back({p, *t});
    }
  }
  return out;
}

class SystemdBootBackend final : public BootBackend {
 public:
  std::string name() const override { return "systemd-boot"; }

  Result<BootConfig> read_files(const Fs& fs) const override {
    BootConfig cfg;
    cfg.backend = name();
    auto entries = installed_entries(fs, &cfg.notes);
    if (!entries) return tl::unexpected(entries.error());
    for (const auto& f : *entries) {
      auto view = loader_entry_view(f.path, f.text);
      if (!view) return tl::unexpected(view.error());
      BootEntryView v = std::move(*view);
      v.name += " (" + std::string(path_basename(f.path)) + ")";
      cfg.entries.push_back(std::move(v));
    }
    if (fs.exists(paths::kEtcKernelCmdline)) {
      auto t = read_boot_file(fs, paths::kEtcKernelCmdline);
      if (!t) return tl::unexpected(t.error());
      auto r = parse_kernel_cmdline_file(*t);
      if (!r)
        return tl::unexpected(
            Error{r.error().message, std::string(paths::kEtcKernelCmdline), 0, r.error().line});
      auto words = region_words(*t, {*r});
      cfg.entries.push_back(
          {std::string(paths::kEtcKernelCmdline) + " (for kernels installed later)",
           words.value_or(std::vector<std::string>{}),
           {{std::string(paths::kEtcKernelCmdline), 1, "cmdline"}},
           false,
           true});
    }
    if (cfg.entries.empty())
      return fail(
          "systemd-boot: no loader entry of an installed kernel and no /etc/kernel/cmdline found");
    return cfg;
  }

  Result<BootPlan> plan_edits(const Fs& fs, const std::vector<ParamEdit>& edits) const override {
    BootPlan plan;
    std::vector<std::string> notes;
    auto entries = installed_entries(fs, &notes);
    if (!entries) return tl::unexpected(entries.error());
    bool proxmox = fs.exists(paths::kProxmoxBootUuids);
    bool has_cmdline = fs.exists(paths::kEtcKernelCmdline);
    if (entries->empty() && !has_cmdline)
      return fail(
          "systemd-boot: no loader entry of an installed kernel and no /etc/kernel/cmdline to "
          "edit");
    std::vector<ParamEdit> applied;
    auto note_applied = [&](const std::vector<ParamEdit>& a) {
      for (const auto& e : a)
        if (std::find(applied.begin(), applied.end(), e) == applied.end()) applied.push_back(e);
    };
    if (has_cmdline) {
      auto r = plan_kernel_cmdline_edit(fs, edits, plan, "boot/systemd-boot");
      if (!r) return tl::unexpected(r.error());
      note_applied(*r);
    }
    // Proxmox regenerates the entries on its (unmounted) ESPs from /etc/kernel/cmdline.
    if (!proxmox)
      for (const auto& f : *entries) {
        std::string after = f.text;
        auto r = edit_loader_entry(after, edits);
        if (!r) return tl::unexpected(Error{r.error().message, f.path, 0, r.error().line});
        note_applied(*r);
        push_edit(plan, f.path, f.text, after, "boot/systemd-boot");
      }
    plan.applied = applied;
    if (proxmox && !plan.steps.empty())
      plan.steps.push_back(
          command_step(RunCommand{{"proxmox-boot-tool", "refresh"},
                                  "copy /etc/kernel/cmdline into the boot entries on every ESP",
                                  {"proxmox-boot-tool", "refresh"}},
                       "apply the command line to the boot entries", "boot/systemd-boot"));
    if (has_cmdline && !proxmox && !plan.steps.empty())
      plan.warnings.push_back(
          "unified kernel images (EFI/Linux/*.efi) embed their command line; rebuild them "
          "(kernel-install add / mkinitcpio -P) if this system boots one");
    return plan;
  }
};

}  // namespace

std::unique_ptr<BootBackend> make_systemd_boot_backend(const System&) {
  return std::make_unique<SystemdBootBackend>();
}

}  // namespace exliar::boot
