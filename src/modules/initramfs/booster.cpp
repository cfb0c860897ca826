// booster's init is a Go program that loads the modules named in modules_force_load
// itself, early, before it handles udev events (booster README, "modules_force_load").
// It runs no shell scripts and no modprobe `install` rules, so binding by address cannot
// happen inside a booster image; exliar refuses that combination instead of guessing.
#include "modules/initramfs/booster.h"

#include <fmt/format.h>

#include <algorithm>

#include "host/paths.h"
#include "host/text.h"
#include "modules/initramfs/backend.h"
#include "modules/kernel_modules.h"

namespace exliar {

namespace {

constexpr const char* kSource = "modules/booster";
constexpr std::string_view kKey = "modules_force_load:";

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

Result<std::string> booster_edit(std::string_view text, std::string_view path,
                                 const std::vector<std::string>& ours,
                                 const std::vector<std::string>& forbidden,
                                 const std::vector<std::string>& natives) {
  // Find the last top-level key line (a later duplicate wins in booster's YAML decoder).
  size_t line_begin = std::string_view::npos, line_end = 0;
  int line_no = 0, found_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    ++line_no;
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string_view::npos ? text.size() : nl;
    if (text.substr(pos, end - pos).rfind(kKey, 0) == 0) {
      line_begin = pos;
      line_end = end;
      found_no = line_no;
    }
    pos = end + (nl == std::string_view::npos ? 0 : 1);
  }
  if (line_begin == std::string_view::npos) {
    std::string out(text);
    if (!out.empty() && out.back() != '\n') out += '\n';
    return out + std::string(kKey) + " " + join(ours, ",") + "\n";
  }
  std::string_view line = text.substr(line_begin, line_end - line_begin);
  std::string_view value = line.substr(kKey.size());
  std::string comment;
  if (auto hash = value.find(" #"); hash != std::string_view::npos) {
    comment = std::string(value.substr(hash));
    value = value.substr(0, hash);
  }
  std::string_view v = trim(value);
  if (!v.empty() && (v.front() == '[' || v.front() == '"' || v.front() == '\'' || v.front() == '-'))
    return fail(
        "modules_force_load is not a plain comma-separated list; exliar will not guess "
        "how to edit it",
        std::string(path), 0, found_no);
  std::vector<std::string> items;
  for (auto part : split(v, ',')) {
    auto t = trim(part);
    if (!t.empty()) items.emplace_back(t);
  }
  // Already in order? Every one of ours present, in order, before the first native driver.
  size_t first_native = items.size();
  for (size_t i = 0; i < items.size(); ++i)
    if (contains(natives, normalize_module_name(items[i]))) {
      first_native = i;
      break;
    }
  bool ok = true;
  size_t last = 0;
  for (size_t k = 0; k < ours.size() && ok; ++k) {
    auto it = std::find_if(items.begin(), items.end(), [&](const std::string& s) {
      return normalize_module_name(s) == ours[k];
    });
    size_t p = static_cast<size_t>(it - items.begin());
    if (it == items.end() || p >= first_native || (k > 0 && p < last)) ok = false;
    last = p;
  }
  bool has_forbidden = std::any_of(items.begin(), items.end(), [&](const std::string& s) {
    return contains(forbidden, normalize_module_name(s));
  });
  if (ok && !has_forbidden) return std::string(text);
  std::vector<std::string> next;
  if (!ok) next = ours;
  for (const auto& s : items) {
    auto n = normalize_module_name(s);
    if (contains(forbidden, n) || (!ok && contains(ours, n))) continue;
    next.push_back(s);
  }
  std::string out(text.substr(0, line_begin));
  out += std::string(kKey) + " " + join(next, ",") + comment;
  out += text.substr(line_end);
  return out;
}

bool booster_detect(const Fs& fs) {
  return fs.exists(paths::kBoosterBin) || fs.exists(paths::kEtcBoosterYaml);
}

Result<InitramfsOutput> booster_steps(const Fs& fs, const InitramfsInput& in) {
  if (in.address_mode)
    return fail(
        "booster images run no scripts and no modprobe install rules, so binding by "
        "address cannot happen at boot; use --bind ids, or --no-initramfs and bind at "
        "runtime with `exliar bind`",
        fs.display(paths::kEtcBoosterYaml));
  InitramfsOutput out;
  std::vector<std::string> natives(std::begin(kNativeDrivers), std::end(kNativeDrivers));
  for (const auto& d : in.native_drivers) natives.push_back(normalize_module_name(d));
  std::string path(paths::kEtcBoosterYaml);
  auto before = read_config(fs, path);
  if (!before) return tl::unexpected(before.error());
  auto after = booster_edit(*before ? **before : std::string(), fs.display(path), in.modules,
                            in.forbidden, natives);
  if (!after) return tl::unexpected(after.error());
  add_edit(out, path, *before, *after, 0644,
           "load the VFIO modules from the initramfs, before the GPU drivers", kSource);
  // One build per installed kernel. Arch's booster pacman hook names the image after the
  // kernel package (/usr/lib/modules/<ver>/pkgbase); without that file the version is used.
  for (const auto& k : in.kernels) {
    std::string name = k.version;
    for (auto base : {paths::kLibModules, paths::kUsrLibModules})
      if (auto pb = fs.read_file(path_join(path_join(base, k.version), "pkgbase"))) {
        if (!trim(*pb).empty()) name = std::string(trim(*pb));
        break;
      }
    std::string image = path_join(paths::kBootDir, "booster-" + name + ".img");
    std::vector<std::string> argv = {"booster",          "build",   "--force",
                                     "--kernel-version", k.version, image};
    out.steps.push_back(
        command_step(RunCommand{argv, "rebuild the booster image of " + k.version, argv},
                     "the initramfs must contain the new module configuration", kSource));
  }
  return out;
}

}  // namespace exliar
