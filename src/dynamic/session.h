// A running VM's hold on its GPU: /run/exliar/vm-<name>.json lists every step `vm-hook
// prepare` took, each written down before it runs and marked done after, so `release`
// (or a failed prepare) undoes exactly those steps, newest first, even after a crash.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "host/error.h"
#include "host/fs.h"
#include "probe/inventory.h"

namespace exliar::dynamic {

/// One recorded action. kind is a key of the step table in hook_steps.cpp:
///   stop-service  target = service, detail = init ("systemd"/"openrc")
///   check-holders target = the device nodes (space-separated); no undo
///   vtcon-unbind  target = "vtcon1", detail = its name ("(M) frame buffer device")
///   fb-unbind     target = platform driver, detail = device ("efi-framebuffer.0")
///   unload-module target = module
///   bind          target = IOMMU group, detail = the bind transaction's id
struct HookStep {
  std::string kind, target, detail;
  /// planned, started, done, skipped (nothing to do), undone, failed
  std::string status = "planned";
  std::string note;  ///< what happened, for `vm list` and the log
  bool operator==(const HookStep&) const = default;
};

struct Session {
  std::string vm;
  PciAddress gpu;
  bool single_gpu = false;
  std::string since;  ///< UTC time prepare began
  /// preparing, prepared, releasing, release-failed
  std::string state = "preparing";
  double prepare_seconds = 0;
  std::vector<HookStep> steps;
  bool operator==(const Session&) const = default;
};

std::string session_path(std::string_view vm);
std::string format_session(const Session& s);
Result<Session> parse_session(std::string_view text, std::string_view path);
/// Every session under /run/exliar, by VM name; unreadable ones are errors naming the file.
Result<std::vector<Session>> list_sessions(const Fs& fs);

}  // namespace exliar::dynamic
