// GRUB (grub-mkconfig / update-grub) and GRUB with BLS entries (Fedora, RHEL: grubby).
#include <fmt/format.h>

#include <algorithm>

#include "boot/backend.h"
#include "boot/entry_files.h"
#include "boot/grub.h"
#include "host/paths.h"
#include "host/text.h"

namespace exliar::boot {

namespace {

/// /etc/default/grub, or what Fedora's /etc/sysconfig/grub symlink points to; a symlink
/// is resolved so the atomic write replaces the file, not the link.
Result<std::string> grub_main_path(const Fs& fs) {
  for (auto p : {paths::kEtcDefaultGrub, paths::kEtcSysconfigGrub}) {
    auto st = fs.stat(p, false);
    if (!st) continue;
    if (st->type == FileStat::Type::symlink) return resolve_link(fs, p);
    return std::string(p);
  }
  return fail(fmt::format("no GRUB defaults file ({} or {})", paths::kEtcDefaultGrub,
                          paths::kEtcSysconfigGrub));
}

/// Only Debian's grub-mkconfig sources grub.d/*.cfg (debian/patches "grub.d-cfg").
bool reads_dropins(const System& sys) {
  return !sys.distro.id || distro_is(sys.distro, {"debian", "ubuntu"});
}

Result<std::vector<GrubSource>> load_sources(const Fs& fs, const System& sys,
                                             std::vector<std::string>* notes) {
  auto main = grub_main_path(fs);
  if (!main) return tl::unexpected(main.error());
  auto text = read_boot_file(fs, *main);
  if (!text) return tl::unexpected(text.error());
  std::vector<GrubSource> out{{*main, *text}};
  auto names = fs.list_dir(paths::kEtcDefaultGrubD);
  if (!names) return out;
  for (const auto& n : *names) {
    // grub-mkconfig: `for x in ${sysconfdir}/default/grub.d/*.cfg; do if [ -e "${x}" ];
    // then . "${x}"; fi; done` (Debian patch grub.d-cfg). A glob's `*` never matches a
    // leading '.' (XCU 2.13.3), so dotfiles are not read; a dangling link fails -e.
    if (n.size() < 4 || n.substr(n.size() - 4) != ".cfg" || n.starts_with(".")) continue;
    std::string p = path_join(paths::kEtcDefaultGrubD, n);
    auto lst = fs.stat(p, false);
    if (lst && lst->type == FileStat::Type::symlink) {
      auto target = resolve_link(fs, p);
      if (!target)
        return fail(fmt::format("a symbolic link that leaves {} ({}): grub-mkconfig on that "
                                "system would read it, exliar cannot see what it sets. Replace "
                                "the link with the file, or remove it",
                                fs.root(), target.error().message),
                    p);
      if (!fs.exists(*target)) continue;
    }
    if (!fs.is_file(p)) {
      if (fs.exists(p) && reads_dropins(sys))
        return fail("not a regular file, but grub-mkconfig would source it", p);
      continue;
    }
    if (!reads_dropins(sys)) {
      if (notes)
        notes->push_back(fmt::format(
            "{} is ignored: this distribution's grub-mkconfig does not read grub.d", p));
      continue;
    }
    auto t = read_boot_file(fs, p);
    if (!t) return tl::unexpected(t.error());
    out.push_back({p, *t});
  }
  return out;
}

bool has_tool(const Fs& fs, std::string_view name) {
  for (auto dir : {paths::kUsrSbin, paths::kSbin, paths::kUsrBin, paths::kBin})
    if (fs.exists(path_join(dir, name))) return true;
  return false;
}

/// grub2-mkconfig's output: on EFI installs from before Fedora 34 the real config lives on
/// the ESP; since then /boot/efi/EFI/<vendor>/grub.cfg is a stub that `configfile`s
/// /boot/grub2/grub.cfg and must not be overwritten (Fedora change "UnifyGrubConfig").
std::string grub2_cfg(const Fs& fs) {
  if (auto vendors = fs.list_dir(paths::kBootEfiDir))
    for (const auto& v : *vendors) {
      std::string p = path_join(path_join(paths::kBootEfiDir, v), "grub.cfg");
      auto t = fs.read_file(p);
      if (t && t->find("configfile") == std::string::npos &&
          t->find("menuentry") != std::string::npos && !fs.exists(paths::kBootGrub2Cfg))
        return p;
    }
  return std::string(paths::kBootGrub2Cfg);
}

RunCommand regen_command(const Fs& fs, const System& sys) {
  std::vector<std::string> argv;
  bool debian = distro_is(sys.distro, {"debian", "ubuntu"});
  if (has_tool(fs, "update-grub") || (debian && !has_tool(fs, "grub-mkconfig")))
    argv = {"update-grub"};
  else if (has_tool(fs, "grub2-mkconfig") ||
           (!has_tool(fs, "grub-mkconfig") &&
            (distro_is(sys.distro, {"fedora", "rhel", "suse", "opensuse"}) ||
             fs.exists(paths::kBootGrub2Cfg))))
    argv = {"grub2-mkconfig", "-o", grub2_cfg(fs)};
  else
    argv = {"grub-mkconfig", "-o", std::string(paths::kBootGrubCfg)};
  return RunCommand{argv, "regenerate grub.cfg so the next boot uses the new command line", argv};
}

std::vector<CmdlineOrigin> origins_of(const std::vector<GrubSource>& src, const GrubEval& ev,
                                      std::string_view var) {
  std::vector<CmdlineOrigin> out;
  auto chain = grub_chain(src.data(), ev, var);
  for (auto it = chain.rbegin(); it != chain.rend(); ++it)
    out.push_back({src[it->source].path, ev.at(*it).line, std::string(var)});
  return out;
}

Result<BootConfig> read_grub(const Fs& fs, const System& sys, bool bls) {
  BootConfig cfg;
  cfg.backend = bls ? "grub-bls" : "grub";
  auto src = load_sources(fs, sys, &cfg.notes);
  if (!src) return tl::unexpected(src.error());
  auto ev = evaluate_grub(*src);
  if (!ev) return tl::unexpected(ev.error());
  auto lin = grub_words(*ev, kGrubLinux), def = grub_words(*ev, kGrubDefault);
  auto o_lin = origins_of(*src, *ev, kGrubLinux), o_def = origins_of(*src, *ev, kGrubDefault);
  if (bls) {
    cfg.entries.push_back(
        {"GRUB_CMDLINE_LINUX (for kernels installed later)", lin, o_lin, false, true});
    return cfg;
  }
  BootEntryView normal{"normal entries", lin, o_lin, true, false};
  normal.params.insert(normal.params.end(), def.begin(), def.end());
  normal.origins.insert(normal.origins.end(), o_def.begin(), o_def.end());
  cfg.entries.push_back(std::move(normal));
  auto dis = ev->env.find("GRUB_DISABLE_RECOVERY");
  if (dis == ev->env.end() || dis->second != "true")
    cfg.entries.push_back({"recovery entries", lin, o_lin, true, false});
  return cfg;
}

class GrubBackend final : public BootBackend {
 public:
  explicit GrubBackend(System s) : sys_(std::move(s)) {}
  std::string name() const override { return "grub"; }
  Result<BootConfig> read_files(const Fs& fs) const override { return read_grub(fs, sys_, false); }
  Result<BootPlan> plan_edits(const Fs& fs, const std::vector<ParamEdit>& edits) const override {
    auto src = load_sources(fs, sys_, nullptr);
    if (!src) return tl::unexpected(src.error());
    auto edited = *src;
    auto applied = edit_grub(edited, edits, false);
    if (!applied) return tl::unexpected(applied.error());
    BootPlan plan;
    plan.applied = *applied;
    for (size_t i = 0; i < edited.size(); ++i)
      push_edit(plan, edited[i].path, (*src)[i].text, edited[i].text, "boot/grub");
    if (!plan.steps.empty())
      plan.steps.push_back(command_step(regen_command(fs, sys_),
                                        "write the new command line into grub.cfg", "boot/grub"));
    return plan;
  }

 private:
  System sys_;
};

}  // namespace

std::unique_ptr<BootBackend> make_grub_backend(const System& sys) {
  return std::make_unique<GrubBackend>(sys);
}

// ---- BLS (grubby) ----------------------------------------------------------------------

namespace {

struct BlsEntryFile {
  std::string path;
  std::string text;
};

Result<std::vector<BlsEntryFile>> bls_entries(const Fs& fs) {
  std::vector<BlsEntryFile> out;
  auto names = fs.list_dir(paths::kBootLoaderEntries);
  if (!names) return out;
  for (const auto& n : *names) {
    if (n.size() < 5 || n.substr(n.size() - 5) != ".conf") continue;
    std::string p = path_join(paths::kBootLoaderEntries, n);
    auto t = read_boot_file(fs, p);
    if (!t) return tl::unexpected(t.error());
    out.push_back({p, *t});
  }
  return out;
}

std::optional<std::string> last_of_key(const std::string& entry_text, const std::string& key) {
  auto entry = parse_loader_entry(entry_text);
  if (!entry) return std::nullopt;
  auto words = region_words(entry_text, entry->options());
  if (!words) return std::nullopt;
  for (auto it = words->rbegin(); it != words->rend(); ++it)
    if (normalize_key(std::string_view(*it).substr(0, it->find('='))) == normalize_key(key))
      return *it;
  return std::nullopt;
}

/// grubby's --args replaces the value of a key that is already there, so a comma-list
/// key is given as the whole merged token (computed on the first entry), and its undo
/// as the token it replaced.
RunCommand grubby_command(const std::vector<BlsEntryFile>& entries, const ParamEdit& e) {
  std::vector<std::string> base = {"grubby", "--update-kernel=ALL"};
  auto with = [&](std::string arg) {
    auto v = base;
    v.push_back(std::move(arg));
    return v;
  };
  std::string why = "update every BLS entry in " + std::string(paths::kBootLoaderEntries);
  size_t eq = e.param.find('=');
  std::string key = e.param.substr(0, eq);
  bool list = eq != std::string::npos && is_list_key(key) && eq + 1 < e.param.size();
  if (!list || entries.empty()) {
    if (e.op == ParamEdit::Op::add)
      return {with("--args=" + e.param), why, with("--remove-args=" + e.param)};
    return {with("--remove-args=" + e.param), why, with("--args=" + e.param)};
  }
  std::string text = entries[0].text;
  auto before = last_of_key(text, key);
  (void)edit_loader_entry(text, {e});
  auto after = last_of_key(text, key);
  return {with(after ? "--args=" + *after : "--remove-args=" + key), why,
          with(before ? "--args=" + *before : "--remove-args=" + key)};
}

/// One grubby call for the whole plan where that means the same as one per parameter
/// (issue 23: one regeneration per plan): grubby takes several space-separated arguments in
/// one --args or --remove-args. Merged only when every command is of one kind, every undo
/// of one kind and no key is edited twice (grubby's order between an --args and a
/// --remove-args in one call, and between two values of one key, is not relied upon).
std::vector<RunCommand> merge_grubby(std::vector<RunCommand> cmds,
                                     const std::vector<ParamEdit>& edits) {
  if (cmds.size() < 2) return cmds;
  auto kind = [](const std::vector<std::string>& argv) {
    return argv.size() == 3 ? argv[2].substr(0, argv[2].find('=') + 1) : std::string();
  };
  std::string k = kind(cmds[0].argv), uk = kind(cmds[0].undo_argv);
  std::vector<std::string> keys;
  for (const auto& e : edits) keys.push_back(normalize_key(e.param.substr(0, e.param.find('='))));
  std::sort(keys.begin(), keys.end());
  if (k.empty() || uk.empty() || std::adjacent_find(keys.begin(), keys.end()) != keys.end())
    return cmds;
  std::string args, undo;
  for (size_t i = 0; i < cmds.size(); ++i) {
    if (kind(cmds[i].argv) != k || kind(cmds[i].undo_argv) != uk) return cmds;
    args += (i ? " " : "") + cmds[i].argv[2].substr(k.size());
  }
  for (size_t i = cmds.size(); i-- > 0;)  // undone in reverse, as separate calls would be
    undo += (undo.empty() ? "" : " ") + cmds[i].undo_argv[2].substr(uk.size());
  RunCommand one = cmds[0];
  one.argv[2] = k + args;
  one.undo_argv[2] = uk + undo;
  return {one};
}

class BlsBackend final : public BootBackend {
 public:
  explicit BlsBackend(System s) : sys_(std::move(s)) {}
  std::string name() const override { return "grub-bls"; }
  Result<BootConfig> read_files(const Fs& fs) const override {
    auto cfg = read_grub(fs, sys_, true);
    if (!cfg) return cfg;
    auto entries = bls_entries(fs);
    if (!entries) return tl::unexpected(entries.error());
    for (const auto& f : *entries) {
      auto view = loader_entry_view(f.path, f.text);
      if (!view) return tl::unexpected(view.error());
      BootEntryView& v = *view;
      const auto& words = v.params;
      for (const auto& w : words)
        if (w.find("$kernelopts") != std::string::npos)
          cfg->notes.push_back(f.path +
                               " uses $kernelopts from grubenv (grub2-editenv list shows it)");
      cfg->entries.insert(cfg->entries.end() - 1, std::move(v));
    }
    return cfg;
  }
  Result<BootPlan> plan_edits(const Fs& fs, const std::vector<ParamEdit>& edits) const override {
    BootPlan plan;
    auto entries = bls_entries(fs);
    if (!entries) return tl::unexpected(entries.error());
    // Persist for kernels installed later and for grub2-mkconfig --update-bls-cmdline
    // (rhboot/grub2 PR #126): GRUB_CMDLINE_LINUX, and /etc/kernel/cmdline when present.
    if (auto src = load_sources(fs, sys_, nullptr)) {
      auto edited = *src;
      auto applied = edit_grub(edited, edits, true);
      if (!applied) return tl::unexpected(applied.error());
      for (size_t i = 0; i < edited.size(); ++i)
        push_edit(plan, edited[i].path, (*src)[i].text, edited[i].text, "boot/bls");
    }
    if (fs.exists(paths::kEtcKernelCmdline)) {
      if (auto r = plan_kernel_cmdline_edit(fs, edits, plan, "boot/bls"); !r)
        return tl::unexpected(r.error());
    }
    std::vector<RunCommand> cmds;
    std::vector<ParamEdit> touching;
    for (const auto& e : edits) {
      bool touches = false;
      for (const auto& f : *entries) {
        std::string t = f.text;
        auto r = edit_loader_entry(t, {e});
        if (!r) return tl::unexpected(Error{r.error().message, f.path, 0, r.error().line});
        touches = touches || !r->empty();
      }
      if (!touches) continue;
      plan.applied.push_back(e);
      touching.push_back(e);
      cmds.push_back(grubby_command(*entries, e));
    }
    for (auto& c : merge_grubby(std::move(cmds), touching))
      plan.steps.push_back(
          command_step(std::move(c), "apply the command line to installed kernels", "boot/bls"));
    return plan;
  }

 private:
  System sys_;
};

}  // namespace

std::unique_ptr<BootBackend> make_bls_backend(const System& sys) {
  return std::make_unique<BlsBackend>(sys);
}

/// GRUB_ENABLE_BLSCFG=true and entries present: the kernel arguments live in the entries.
bool grub_uses_bls(const Fs& fs, const System& sys) {
  auto src = load_sources(fs, sys, nullptr);
  if (!src) return false;
  auto ev = evaluate_grub(*src);
  if (!ev) return false;
  auto it = ev->env.find("GRUB_ENABLE_BLSCFG");
  if (it == ev->env.end() || it->second != "true") return false;
  auto entries = bls_entries(fs);
  return entries && !entries->empty();
}

}  // namespace exliar::boot
