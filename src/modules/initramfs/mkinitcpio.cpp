// mkinitcpio: mkinitcpio.conf is a bash file sourced by mkinitcpio; drop-ins in
// /etc/mkinitcpio.conf.d/*.conf are sourced after it and override it (mkinitcpio.conf(5)).
// The package ships that directory from the version that reads it (archlinux.org file list
// of mkinitcpio 40: etc/mkinitcpio.conf.d/), so its presence means drop-ins are supported.
#include "modules/initramfs/mkinitcpio.h"

#include <algorithm>
#include <set>

#include "host/paths.h"
#include "host/text.h"
#include "modules/initramfs/backend.h"
#include "modules/initramfs/shell_assign.h"
#include "modules/kernel_modules.h"

namespace exliar {

namespace {

constexpr const char* kSource = "modules/mkinitcpio";

const ShAssign* last_assign(const std::vector<ShAssign>& as, std::string_view name) {
  const ShAssign* found = nullptr;
  for (const auto& a : as)
    if (a.name == name && !a.append) found = &a;
  return found;
}

std::string join_words(const std::vector<std::string>& w) { return join(w, " "); }

bool in(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

/// Do `ours` all appear, in their order, before the first native driver?
bool order_ok(const ShAssign& a, const std::vector<std::string>& ours,
              const std::vector<std::string>& natives) {
  size_t first_native = a.words.size();
  for (size_t i = 0; i < a.words.size(); ++i)
    if (in(natives, normalize_module_name(a.words[i].value))) {
      first_native = i;
      break;
    }
  size_t last = 0;
  bool first = true;
  for (const auto& m : ours) {
    size_t pos = a.words.size();
    for (size_t i = 0; i < a.words.size(); ++i)
      if (normalize_module_name(a.words[i].value) == m) {
        pos = i;
        break;
      }
    if (pos >= first_native) return false;
    if (!first && pos < last) return false;
    last = pos;
    first = false;
  }
  return true;
}

std::vector<size_t> indices_of(const ShAssign& a, const std::vector<std::string>& names) {
  std::vector<size_t> idx;
  for (size_t i = 0; i < a.words.size(); ++i)
    if (in(names, normalize_module_name(a.words[i].value))) idx.push_back(i);
  return idx;
}

// mkinitcpio.conf is bash: a last line ending in '\' would swallow the appended one
// (found by fuzzing: every apply appended another MODULES= line).
std::string append_line(std::string_view text, const std::string& line) {
  return append_own_line(text, line);
}

}  // namespace

Result<std::string> mkinitcpio_remove_modules(std::string_view text, std::string_view path,
                                              const std::vector<std::string>& forbidden) {
  auto as = parse_shell_assignments(text, path);
  if (!as) return tl::unexpected(as.error());
  std::string out(text);
  // Right to left over assignments so earlier offsets stay valid.
  for (auto it = as->rbegin(); it != as->rend(); ++it) {
    if (it->name != "MODULES") continue;
    auto idx = indices_of(*it, forbidden);
    if (!idx.empty()) out = remove_words(out, *it, idx);
  }
  return out;
}

Result<std::string> mkinitcpio_edit_modules(std::string_view text, std::string_view path,
                                            const std::vector<std::string>& ours,
                                            const std::vector<std::string>& forbidden,
                                            const std::vector<std::string>& natives) {
  auto cleaned = mkinitcpio_remove_modules(text, path, forbidden);
  if (!cleaned) return cleaned;
  auto as = parse_shell_assignments(*cleaned, path);
  if (!as) return tl::unexpected(as.error());
  const ShAssign* a = last_assign(*as, "MODULES");
  if (!a) return append_line(*cleaned, "MODULES=(" + join_words(ours) + ")");
  if (a->form == ShAssign::Form::bare && !a->words.empty())
    return fail(
        "MODULES is assigned a bare word, not an array; exliar will not guess how to "
        "edit it (write it as MODULES=(...))",
        std::string(path), 0, a->line);
  if (order_ok(*a, ours, natives)) return *cleaned;
  std::string out = remove_words(*cleaned, *a, indices_of(*a, ours));
  // The insertion point (just after '(' or the opening quote) is left of every removed
  // word, so a->open is still valid.
  if (a->form == ShAssign::Form::bare) {
    out.insert(a->open, "(" + join_words(ours) + ")");
    return out;
  }
  char next = a->open < out.size() ? out[a->open] : '\0';
  char closer =
      a->form == ShAssign::Form::array ? ')' : (a->form == ShAssign::Form::dquote ? '"' : '\'');
  bool bare_end = next == closer || next == '\n' || next == ' ' || next == '\t';
  out.insert(a->open, join_words(ours) + (bare_end ? "" : " "));
  return out;
}

Result<std::string> mkinitcpio_add_files(std::string_view text, std::string_view path,
                                         const std::vector<std::string>& files) {
  if (files.empty()) return std::string(text);
  auto as = parse_shell_assignments(text, path);
  if (!as) return tl::unexpected(as.error());
  const ShAssign* a = last_assign(*as, "FILES");
  if (!a) return append_line(text, "FILES=(" + join_words(files) + ")");
  if (a->form != ShAssign::Form::array)
    return fail("FILES is not an array; exliar will not guess how to edit it", std::string(path), 0,
                a->line);
  std::vector<std::string> missing;
  for (const auto& f : files) {
    bool have = std::any_of(a->words.begin(), a->words.end(),
                            [&](const ShWord& w) { return w.value == f; });
    if (!have) missing.push_back(f);
  }
  if (missing.empty()) return std::string(text);
  std::string out(text);
  char prev = out[a->close - 1];
  std::string ins = join_words(missing);
  if (prev == '\n')
    ins += "\n";  // multi-line array with ')' on its own line
  else if (prev != '(')
    ins = " " + ins;
  out.insert(a->close, ins);
  return out;
}

std::string mkinitcpio_dropin(const std::vector<std::string>& ours,
                              const std::vector<std::string>& files) {
  std::string s =
      "# Written by exliar; `exliar rollback` removes it.\n"
      "# The VFIO modules come first so vfio-pci claims the passed-through devices before\n"
      "# their native drivers load; the rest of MODULES keeps its order.\n";
  s += "MODULES=(" + join_words(ours) + " \"${MODULES[@]}\")\n";
  if (!files.empty()) s += "FILES+=(" + join_words(files) + ")\n";
  return s;
}

bool mkinitcpio_detect(const Fs& fs) {
  return fs.exists(paths::kMkinitcpioBin) || fs.exists(paths::kEtcMkinitcpioConf);
}

Result<InitramfsOutput> mkinitcpio_steps(const Fs& fs, const InitramfsInput& in) {
  InitramfsOutput out;
  std::string main_path(paths::kEtcMkinitcpioConf);
  auto main = read_config(fs, main_path);
  if (!main) return tl::unexpected(main.error());
  if (!*main)
    return fail("mkinitcpio is installed but its configuration file is missing",
                fs.display(main_path), ENOENT);
  std::vector<std::string> natives(std::begin(kNativeDrivers), std::end(kNativeDrivers));
  for (const auto& d : in.native_drivers) natives.push_back(normalize_module_name(d));

  auto as = parse_shell_assignments(**main, fs.display(main_path));
  if (!as) return tl::unexpected(as.error());
  if (auto hooks = last_assign(*as, "HOOKS")) {
    bool modconf = std::any_of(hooks->words.begin(), hooks->words.end(),
                               [](const ShWord& w) { return w.value == "modconf"; });
    if (!modconf)
      out.warnings.push_back(fs.display(main_path) +
                             ": HOOKS has no `modconf`, so /etc/modprobe.d (softdeps, vfio-pci "
                             "options) is not copied into the image; exliar adds its own file "
                             "through FILES, other modprobe.d files stay out");
  }

  bool dropins = fs.is_dir(paths::kEtcMkinitcpioConfD);
  std::string dropin_path(paths::kExliarMkinitcpioConf);
  if (dropins) {
    // Drop-ins sourced after ours that replace MODULES would undo our ordering.
    auto names = fs.list_dir(paths::kEtcMkinitcpioConfD);
    if (!names) return tl::unexpected(names.error());
    for (const auto& n : *names) {
      std::string p = path_join(paths::kEtcMkinitcpioConfD, n);
      if (p == dropin_path || n.size() < 5 || n.substr(n.size() - 5) != ".conf") continue;
      auto t = read_config(fs, p);
      if (!t) return tl::unexpected(t.error());
      if (!*t) continue;
      auto fixed = mkinitcpio_remove_modules(**t, fs.display(p), in.forbidden);
      if (!fixed) return tl::unexpected(fixed.error());
      add_edit(out, p, *t, *fixed, 0644,
               "remove modules that some installed kernel lacks (mkinitcpio fails on them)",
               kSource);
      auto das = parse_shell_assignments(*fixed, fs.display(p));
      if (das && n > path_basename(dropin_path) && last_assign(*das, "MODULES"))
        out.warnings.push_back(fs.display(p) +
                               " replaces MODULES after exliar's drop-in; the VFIO modules may "
                               "no longer load first");
    }
    auto fixed = mkinitcpio_remove_modules(**main, fs.display(main_path), in.forbidden);
    if (!fixed) return tl::unexpected(fixed.error());
    add_edit(out, main_path, *main, *fixed, 0644,
             "remove modules that some installed kernel lacks (mkinitcpio fails on them)", kSource);
    auto existing = read_config(fs, dropin_path);
    if (!existing) return tl::unexpected(existing.error());
    add_edit(out, dropin_path, *existing, mkinitcpio_dropin(in.modules, in.files), 0644,
             "load the VFIO modules from the initramfs, before the GPU drivers", kSource);
  } else {
    auto edited =
        mkinitcpio_edit_modules(**main, fs.display(main_path), in.modules, in.forbidden, natives);
    if (!edited) return tl::unexpected(edited.error());
    auto with_files = mkinitcpio_add_files(*edited, fs.display(main_path), in.files);
    if (!with_files) return tl::unexpected(with_files.error());
    add_edit(out, main_path, *main, *with_files, 0644,
             "load the VFIO modules from the initramfs, before the GPU drivers", kSource);
  }
  // -P regenerates every preset, i.e. the image of every installed kernel (mkinitcpio(8)).
  out.steps.push_back(command_step(RunCommand{{"mkinitcpio", "-P"},
                                              "rebuild the initramfs of every installed kernel",
                                              {"mkinitcpio", "-P"}},
                                   "the initramfs must contain the new module configuration",
                                   kSource));
  return out;
}

}  // namespace exliar
