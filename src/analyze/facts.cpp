// Reads the few configuration facts the rules need (through Fs, never directly).
#include <string>

#include "analyze/findings.h"
#include "host/paths.h"
#include "host/text.h"

namespace exliar::analyze {

namespace {

bool is_comment(std::string_view line) {
  auto t = trim(line);
  return t.empty() || t.front() == '#';
}

void scan_file(const Fs& fs, const std::string& p, std::vector<ConfigMention>& out) {
  auto text = fs.read_file(p);
  if (!text) return;
  int n = 0;
  for (auto line : split_lines(*text)) {
    ++n;
    if (is_comment(line)) continue;
    // Module names treat '-' and '_' alike.
    std::string l = to_lower(line);
    if (l.find("vfio_virqfd") != std::string::npos || l.find("vfio-virqfd") != std::string::npos)
      out.push_back({std::string(p), n, std::string(trim(line))});
  }
}

void scan_dir(const Fs& fs, std::string_view dir, std::vector<ConfigMention>& out) {
  auto names = fs.list_dir(dir);
  if (!names) return;
  for (const auto& n : *names) scan_file(fs, path_join(dir, n), out);
}

}  // namespace

ConfigFacts gather_config_facts(const Fs& fs) {
  ConfigFacts f;
  // Every place a module list for the next boot can live (peer-tools.md 5.22-5.26).
  for (auto p : {paths::kEtcMkinitcpioConf, paths::kEtcInitramfsToolsModules, paths::kEtcModules,
                 paths::kEtcBoosterYaml, paths::kEtcDracutConf, paths::kProcCmdline})
    scan_file(fs, std::string(p), f.vfio_virqfd);
  for (auto d : {paths::kEtcMkinitcpioConfD, paths::kEtcDracutConfD, paths::kEtcModulesLoadD,
                 paths::kEtcModprobeD})
    scan_dir(fs, d, f.vfio_virqfd);
  f.vendor_reset_loaded = fs.exists(path_join(paths::kSysModule, "vendor_reset"));
  f.vfct_present = fs.exists(paths::kAcpiVfct);
  // A measured reset replaces the database's prediction; a record that does not parse is
  // reported and ignored (it is untrusted input like every file under the root).
  if (auto names = fs.list_dir(paths::kTestResultsDir))
    for (const auto& n : *names) {
      if (!n.ends_with(".json")) continue;
      std::string p = path_join(paths::kTestResultsDir, n);
      auto text = fs.read_file(p);
      auto rec = text ? parse_test_record(*text, fs.display(p)) : tl::unexpected(text.error());
      if (rec)
        f.measured.push_back(*rec);
      else
        f.bad_records.push_back(rec.error());
    }
  return f;
}

}  // namespace exliar::analyze
