// Changes are values: a Plan is a list of Steps that `plan` prints and `apply` executes.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace exliar {

/// Create, modify or delete one file. `before` is what the planner read (nullopt when the
/// file did not exist), `after` what it should hold (nullopt = delete).
struct EditFile {
  std::string path;                   ///< host path inside the root
  std::optional<std::string> before;  ///< content read at plan time
  std::optional<std::string> after;   ///< new content; nullopt deletes
  mode_t mode = 0644;                 ///< for created files; existing files keep theirs
  bool operator==(const EditFile&) const = default;
};

/// A regeneration command (initramfs, bootloader). Never run with --root other than "/":
/// it is recorded as pending for the user to run in a chroot.
struct RunCommand {
  std::vector<std::string> argv;
  std::string why;
  /// Undo command run on rollback after files are restored (often the same argv).
  std::vector<std::string> undo_argv;
  bool operator==(const RunCommand&) const = default;
};

/// A runtime sysfs write (driver_override, unbind, drivers_probe).
struct WriteSysfs {
  std::string path;
  std::string value;
  /// Value written on rollback (e.g. the previous driver_override), nullopt = nothing.
  std::optional<std::string> undo_path;
  std::optional<std::string> undo_value;
  bool operator==(const WriteSysfs&) const = default;
};

struct Step {
  std::variant<EditFile, RunCommand, WriteSysfs> action;
  std::string reason;  ///< why this step exists, for the user
  std::string source;  ///< which backend produced it ("boot/grub", "modules/dracut", ...)
  bool operator==(const Step&) const = default;
};

inline Step edit_step(EditFile e, std::string reason, std::string source) {
  return Step{std::move(e), std::move(reason), std::move(source)};
}
inline Step command_step(RunCommand c, std::string reason, std::string source) {
  return Step{std::move(c), std::move(reason), std::move(source)};
}

}  // namespace exliar
