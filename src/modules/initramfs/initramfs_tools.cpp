// initramfs-tools loads the modules listed in /etc/initramfs-tools/modules, in order,
// before udev starts probing devices (initramfs-tools(7), "modules"), so listing vfio-pci
// there binds the passed devices before udev loads their native drivers. Hooks in
// /etc/initramfs-tools/hooks run at build time and add files with copy_file.
// `update-initramfs -u -k all` rebuilds the image of every installed kernel.
#include "modules/initramfs/initramfs_tools.h"

#include <algorithm>

#include "host/paths.h"
#include "host/text.h"
#include "modules/initramfs/backend.h"
#include "modules/kernel_modules.h"

namespace exliar {

namespace {

constexpr const char* kSource = "modules/initramfs-tools";

/// The module a line names, "" for blank and comment lines.
std::string line_module(std::string_view line) {
  auto t = trim(line);
  if (t.empty() || t.front() == '#') return {};
  auto ws = split_ws(t);
  return ws.empty() ? std::string{} : normalize_module_name(ws[0]);
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

std::string initramfs_tools_edit_modules(std::string_view text,
                                         const std::vector<std::string>& ours,
                                         const std::vector<std::string>& forbidden,
                                         const std::vector<std::string>& natives) {
  // Split keeping each line's terminator so untouched lines are copied byte for byte.
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string_view::npos ? text.size() : nl + 1;
    lines.emplace_back(text.substr(pos, end - pos));
    pos = end;
  }
  // Which of ours already sit before the first native driver, in order?
  std::vector<std::string> seen;
  size_t first_native = lines.size();
  for (size_t i = 0; i < lines.size(); ++i) {
    auto m = line_module(lines[i]);
    if (contains(natives, m)) {
      first_native = i;
      break;
    }
    if (contains(ours, m)) seen.push_back(m);
  }
  std::vector<std::string> kept;
  size_t insert_at = std::string::npos;
  bool changed = false;
  std::vector<std::string>
      present;  // ours that stay in place (bare lines before natives, or with options)
  for (size_t i = 0; i < lines.size(); ++i) {
    auto m = line_module(lines[i]);
    if (contains(forbidden, m)) {
      changed = true;
      continue;
    }
    if (i == first_native && insert_at == std::string::npos) insert_at = kept.size();
    bool has_options = split_ws(trim(lines[i])).size() > 1;
    if (contains(ours, m) && i > first_native && !has_options) {
      changed = true;  // misplaced after a native driver: re-added before it
      continue;
    }
    if (contains(ours, m)) present.push_back(m);
    kept.push_back(lines[i]);
  }
  std::vector<std::string> add;
  for (const auto& m : ours)
    if (!contains(present, m)) add.push_back(m + "\n");
  if (add.empty() && !changed) return std::string(text);
  if (insert_at == std::string::npos) {
    insert_at = kept.size();
    if (!kept.empty() && !add.empty() && kept.back().back() != '\n') kept.back() += '\n';
  }
  // hook-functions reads this file with `read` (no -r): a line ending in '\' would swallow
  // the first added one. An empty line after it ends the continuation.
  if (insert_at > 0 && !add.empty() && ends_in_continuation(kept[insert_at - 1])) {
    if (kept[insert_at - 1].back() != '\n') kept[insert_at - 1] += '\n';
    kept[insert_at - 1] += '\n';
  }
  kept.insert(kept.begin() + static_cast<std::ptrdiff_t>(insert_at), add.begin(), add.end());
  std::string out;
  for (const auto& l : kept) out += l;
  return out;
}

std::string initramfs_tools_hook(const std::vector<std::string>& files) {
  std::string s =
      "#!/bin/sh\n"
      "# Written by exliar; `exliar rollback` removes it.\n"
      "# Copies exliar's early-bind script, its address list and modprobe configuration\n"
      "# into the initramfs, so vfio-pci claims the chosen devices before their native\n"
      "# drivers load.\n"
      "PREREQ=\"\"\n"
      "prereqs() { echo \"$PREREQ\"; }\n"
      "case \"$1\" in\n"
      "prereqs)\n"
      "\tprereqs\n"
      "\texit 0\n"
      "\t;;\n"
      "esac\n";
  s += ". " + std::string(paths::kInitramfsToolsHookFunctions) + "\n";
  for (const auto& f : files) s += "copy_file config " + f + "\n";
  return s;
}

bool initramfs_tools_detect(const Fs& fs) {
  for (auto p : paths::kUpdateInitramfsBins)
    if (fs.exists(p)) return true;
  return fs.is_dir(paths::kEtcInitramfsTools);
}

Result<InitramfsOutput> initramfs_tools_steps(const Fs& fs, const InitramfsInput& in) {
  InitramfsOutput out;
  std::vector<std::string> natives(std::begin(kNativeDrivers), std::end(kNativeDrivers));
  for (const auto& d : in.native_drivers) natives.push_back(normalize_module_name(d));
  std::string mpath(paths::kEtcInitramfsToolsModules);
  auto before = read_config(fs, mpath);
  if (!before) return tl::unexpected(before.error());
  std::string text = *before ? **before : std::string();
  add_edit(out, mpath, *before,
           initramfs_tools_edit_modules(text, in.modules, in.forbidden, natives), 0644,
           "load the VFIO modules from the initramfs, before the GPU drivers", kSource);
  if (in.address_mode) {
    std::string hook(paths::kExliarInitramfsToolsHook);
    auto existing = read_config(fs, hook);
    if (!existing) return tl::unexpected(existing.error());
    add_edit(out, hook, *existing, initramfs_tools_hook(in.files), 0755,
             "copy the early-bind script and its addresses into the initramfs", kSource);
  }
  out.steps.push_back(command_step(RunCommand{{"update-initramfs", "-u", "-k", "all"},
                                              "rebuild the initramfs of every installed kernel",
                                              {"update-initramfs", "-u", "-k", "all"}},
                                   "the initramfs must contain the new module configuration",
                                   kSource));
  return out;
}

}  // namespace exliar
