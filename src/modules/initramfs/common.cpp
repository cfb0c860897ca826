// Helpers shared by the initramfs backends.
#include <fmt/format.h>

#include "host/text.h"
#include "modules/initramfs/backend.h"

namespace exliar {

Result<std::optional<std::string>> read_config(const Fs& fs, std::string_view path) {
  auto st = fs.stat(path);
  if (!st) {
    if (st.error().err == ENOENT) return std::optional<std::string>{};
    return tl::unexpected(st.error());
  }
  if (st->type != FileStat::Type::regular)
    return fail("is not a regular file; exliar will not edit it", fs.display(path));
  // Root may write anyway, but a file without any write bit was made read-only on
  // purpose (or sits on a read-only mount): editing it would override that decision.
  if ((st->mode & 0222) == 0)
    return fail(fmt::format("is read-only (mode {:04o}); exliar will not edit it (make it "
                            "writable, or use --no-initramfs and add the VFIO modules yourself)",
                            st->mode),
                fs.display(path));
  auto text = fs.read_file(path);
  if (!text) return tl::unexpected(text.error());
  if (looks_binary(*text))
    return fail("holds binary data, not a configuration file; exliar will not edit it",
                fs.display(path));
  if (auto ends = check_line_ends(*text); !ends) {
    Error e = ends.error();
    e.path = fs.display(path);
    return tl::unexpected(e);
  }
  return std::optional<std::string>(std::move(*text));
}

void add_edit(InitramfsOutput& out, std::string path, std::optional<std::string> before,
              std::optional<std::string> after, mode_t mode, std::string reason,
              std::string source) {
  if (before == after) return;
  out.steps.push_back(
      edit_step(EditFile{std::move(path), std::move(before), std::move(after), mode},
                std::move(reason), std::move(source)));
}

}  // namespace exliar
