#include "boot/backend.h"

#include <fmt/format.h>

#include "boot/entry_files.h"
#include "boot/region.h"
#include "host/paths.h"
#include "host/text.h"

namespace exliar::boot {

bool grub_uses_bls(const Fs& fs, const System& sys);  // grub_backend.cpp

bool distro_is(const Distro& d, std::initializer_list<std::string_view> families) {
  for (auto f : families) {
    if (d.id && *d.id == f) return true;
    for (const auto& l : d.id_like)
      if (l == f) return true;
  }
  return false;
}

Result<std::string> read_boot_file(const Fs& fs, std::string_view path) {
  auto t = fs.read_file(path);
  if (!t) {
    Error e = t.error();
    if (e.path.empty()) e.path = std::string(path);
    return tl::unexpected(e);
  }
  if (auto st = check_line_ends(*t); !st) {
    Error e = st.error();
    e.path = std::string(path);
    return tl::unexpected(e);
  }
  return t;
}

void push_edit(BootPlan& plan, std::string path, std::string before, std::string after,
               std::string source) {
  if (before == after) return;
  plan.steps.push_back(
      edit_step(EditFile{std::move(path), std::move(before), std::move(after), 0644},
                "kernel command line", std::move(source)));
}

Result<std::unique_ptr<BootBackend>> select_backend(const Fs& fs, const System& sys) {
  switch (sys.bootloader) {
    case Bootloader::kernelstub:
      return make_kernelstub_backend(sys);
    case Bootloader::systemd_boot:
      return make_systemd_boot_backend(sys);
    case Bootloader::grub:
      if (grub_uses_bls(fs, sys)) return make_bls_backend(sys);
      return make_grub_backend(sys);
    case Bootloader::unknown:
      break;
  }
  return fail(fmt::format(
      "cannot tell which boot loader this system uses (no GRUB defaults file, loader entries, "
      "{} or kernelstub configuration found)",
      paths::kEtcKernelCmdline));
}

Result<BootEntryView> loader_entry_view(const std::string& path, std::string_view text) {
  auto e = parse_loader_entry(text);
  if (!e) return tl::unexpected(Error{e.error().message, path, 0, e.error().line});
  auto words = region_words(text, e->options());
  if (!words) return tl::unexpected(Error{words.error().message, path, 0, words.error().line});
  BootEntryView v{
      e->first(text, "title").value_or(std::string(path_basename(path))), *words, {}, false, false};
  for (const auto& r : e->options()) v.origins.push_back({path, r.line, "options"});
  return v;
}

Result<std::vector<ParamEdit>> plan_kernel_cmdline_edit(const Fs& fs,
                                                        const std::vector<ParamEdit>& edits,
                                                        BootPlan& plan, std::string source) {
  auto before = read_boot_file(fs, paths::kEtcKernelCmdline);
  if (!before) return tl::unexpected(before.error());
  std::string after = *before;
  auto r = edit_kernel_cmdline_file(after, edits);
  if (!r)
    return tl::unexpected(
        Error{r.error().message, std::string(paths::kEtcKernelCmdline), 0, r.error().line});
  push_edit(plan, std::string(paths::kEtcKernelCmdline), *before, after, std::move(source));
  return r;
}

}  // namespace exliar::boot
