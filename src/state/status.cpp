#include "state/status.h"

#include <algorithm>

#include "host/paths.h"
#include "host/text.h"

namespace exliar {

std::vector<FileCheck> check_applied_files(const Fs& fs, const TxInfo& tx) {
  std::vector<FileCheck> out;
  for (size_t i = 0; i < tx.plan.steps.size(); ++i) {
    const auto* e = std::get_if<EditFile>(&tx.plan.steps[i].action);
    if (!e || !tx.find("done", static_cast<int>(i))) continue;
    FileCheck c;
    c.path = e->path;
    c.expected = e->after;
    if (auto cur = fs.read_file(e->path)) c.current = std::move(*cur);
    c.matches = c.current == c.expected;
    out.push_back(std::move(c));
  }
  return out;
}

RuntimeCheck check_runtime(const Fs& fs, const Plan& plan) {
  RuntimeCheck r;
  if (!plan.expect_cmdline.empty()) {
    auto cmdline = fs.read_file(paths::kProcCmdline);
    if (!cmdline) {
      r.known = false;
    } else {
      auto tokens = split_ws(*cmdline);
      for (const auto& want : plan.expect_cmdline)
        if (std::find(tokens.begin(), tokens.end(), want) == tokens.end())
          r.cmdline_missing.push_back(want);
    }
  }
  for (const auto& addr : plan.expect_vfio) {
    auto link = fs.read_link(path_join(path_join(paths::kPciDevices, addr), "driver"));
    if (!link || path_basename(*link) != "vfio-pci") r.vfio_missing.push_back(addr);
  }
  return r;
}

}  // namespace exliar
