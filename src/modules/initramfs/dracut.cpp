// dracut reads /etc/dracut.conf and then /etc/dracut.conf.d/*.conf — only names ending in
// ".conf" (dracut.conf(5)); quickpassthrough's drop-in named "vfio" is silently ignored
// (peer-tools.md §4.2). `+=` values need spaces inside the quotes, because dracut appends
// strings: add_drivers+="a" add_drivers+="b" gives "ab" (dracut warns about it).
// force_drivers both includes and loads the modules early (dracut commit 125bb747),
// add_drivers only includes them.
#include "modules/initramfs/dracut.h"

#include <fmt/format.h>

#include <algorithm>

#include "host/paths.h"
#include "host/text.h"
#include "modules/initramfs/backend.h"
#include "modules/initramfs/shell_assign.h"
#include "modules/kernel_modules.h"

namespace exliar {

namespace {

constexpr const char* kSource = "modules/dracut";
constexpr std::string_view kModuleLists[] = {"add_drivers", "force_drivers", "drivers",
                                             "omit_drivers"};

bool lists_modules(const std::string& name) {
  return std::find(std::begin(kModuleLists), std::end(kModuleLists), name) !=
         std::end(kModuleLists);
}

}  // namespace

Result<std::string> dracut_remove_drivers(std::string_view text, std::string_view path,
                                          const std::vector<std::string>& forbidden) {
  auto as = parse_shell_assignments(text, path);
  if (!as) return tl::unexpected(as.error());
  std::string out(text);
  for (auto it = as->rbegin(); it != as->rend(); ++it) {
    if (!lists_modules(it->name) || it->name == "omit_drivers") continue;
    std::vector<size_t> idx;
    for (size_t i = 0; i < it->words.size(); ++i)
      if (std::find(forbidden.begin(), forbidden.end(),
                    normalize_module_name(it->words[i].value)) != forbidden.end())
        idx.push_back(i);
    if (!idx.empty()) out = remove_words(out, *it, idx);
  }
  return out;
}

Result<std::vector<std::string>> dracut_lint(std::string_view text, std::string_view path) {
  auto as = parse_shell_assignments(text, path);
  if (!as) return tl::unexpected(as.error());
  std::vector<std::string> w;
  for (const auto& a : *as) {
    if (!lists_modules(a.name)) continue;
    bool quoted = a.form == ShAssign::Form::dquote || a.form == ShAssign::Form::squote;
    if (a.append && quoted && a.close > a.open) {
      char first = text[a.open], last = text[a.close - 1];
      if (first != ' ' || last != ' ')
        w.push_back(
            fmt::format("{}:{}: {}+= value has no space inside the quotes at both ends; "
                        "dracut may glue it to the next value",
                        path, a.line, a.name));
    }
    if (a.name == "omit_drivers")
      for (const auto& word : a.words)
        if (normalize_module_name(word.value).rfind("vfio", 0) == 0)
          w.push_back(fmt::format("{}:{}: omit_drivers leaves {} out of the initramfs", path,
                                  a.line, word.value));
  }
  return w;
}

std::string dracut_conf(const std::vector<std::string>& ours,
                        const std::vector<std::string>& files) {
  std::string s =
      "# Written by exliar; `exliar rollback` removes it.\n"
      "# force_drivers puts the VFIO modules in the initramfs and loads them early, so\n"
      "# vfio-pci claims the passed-through devices before their native drivers load.\n";
  s += "force_drivers+=\" " + join(ours, " ") + " \"\n";
  if (!files.empty()) s += "install_items+=\" " + join(files, " ") + " \"\n";
  return s;
}

bool dracut_detect(const Fs& fs) {
  for (auto p : paths::kDracutBins)
    if (fs.exists(p)) return true;
  return fs.exists(paths::kEtcDracutConf) || fs.is_dir(paths::kEtcDracutConfD);
}

Result<InitramfsOutput> dracut_steps(const Fs& fs, const InitramfsInput& in) {
  InitramfsOutput out;
  std::string ours_path(paths::kExliarDracutConf);
  std::vector<std::string> configs;
  if (fs.exists(paths::kEtcDracutConf)) configs.emplace_back(paths::kEtcDracutConf);
  if (fs.is_dir(paths::kEtcDracutConfD)) {
    auto names = fs.list_dir(paths::kEtcDracutConfD);
    if (!names) return tl::unexpected(names.error());
    for (const auto& n : *names) {
      std::string p = path_join(paths::kEtcDracutConfD, n);
      if (p == ours_path) continue;
      if (n.size() < 5 || n.substr(n.size() - 5) != ".conf") {
        if (fs.is_file(p))
          out.warnings.push_back(fs.display(p) +
                                 " is ignored by dracut: only names ending in .conf are read");
        continue;
      }
      configs.push_back(p);
    }
  }
  for (const auto& p : configs) {
    auto t = read_config(fs, p);
    if (!t) return tl::unexpected(t.error());
    if (!*t) continue;
    auto lint = dracut_lint(**t, fs.display(p));
    if (!lint) return tl::unexpected(lint.error());
    out.warnings.insert(out.warnings.end(), lint->begin(), lint->end());
    auto fixed = dracut_remove_drivers(**t, fs.display(p), in.forbidden);
    if (!fixed) return tl::unexpected(fixed.error());
    add_edit(out, p, *t, *fixed, 0644,
             "remove modules that some installed kernel lacks (dracut-install fails on them, "
             "e.g. vfio_virqfd on kernels >= 6.2)",
             kSource);
  }
  auto existing = read_config(fs, ours_path);
  if (!existing) return tl::unexpected(existing.error());
  add_edit(out, ours_path, *existing, dracut_conf(in.modules, in.files), 0644,
           "load the VFIO modules from the initramfs, before the GPU drivers", kSource);
  // One command for every kernel. Not --parallel: in dracut 059 (Debian 12's dracut-core
  // 059-4, /usr/bin/dracut) it starts one dracut per kernel at once with no limit, each
  // with its own compressor, interleaves their logs (the failing kernel's error becomes
  // hard to read), and holds every kernel's work tree in its tmpdir (/var/tmp) at once; the
  // time saved on a host with two or three kernels does not outweigh a harder failure.
  out.steps.push_back(command_step(RunCommand{{"dracut", "--regenerate-all", "--force"},
                                              "rebuild the initramfs of every installed kernel",
                                              {"dracut", "--regenerate-all", "--force"}},
                                   "the initramfs must contain the new module configuration",
                                   kSource));
  return out;
}

}  // namespace exliar
