// What `exliar status` reports: per transaction, whether each file still holds what exliar
// wrote, and whether the running system reflects the plan.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "host/fs.h"
#include "state/journal.h"

namespace exliar {

struct FileCheck {
  std::string path;
  bool matches = true;                  ///< holds exactly what exliar wrote (or is still absent)
  std::optional<std::string> expected;  ///< what exliar wrote (nullopt: it deleted the file)
  std::optional<std::string> current;   ///< what is there now (nullopt: missing)
};

struct RuntimeCheck {
  std::vector<std::string> cmdline_missing;  ///< expected tokens not in /proc/cmdline
  std::vector<std::string> vfio_missing;     ///< expected devices not driven by vfio-pci
  bool known = true;                         ///< false when /proc/cmdline cannot be read
  bool active() const { return known && cmdline_missing.empty() && vfio_missing.empty(); }
};

/// Files changed by tx (steps with a done record), compared with the disk now.
std::vector<FileCheck> check_applied_files(const Fs& fs, const TxInfo& tx);
RuntimeCheck check_runtime(const Fs& fs, const Plan& plan);

}  // namespace exliar
