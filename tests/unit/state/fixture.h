// A small realistic machine and a realistic plan over it: modify, create (in new nested
// directories), delete, a mode-0600 file, a regeneration command and a sysfs write.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "host/context.h"
#include "host/fs.h"
#include "host/runner.h"
#include "plan/plan.h"
#include "unit/state/helpers.h"

namespace exliar::test {

inline constexpr const char* kGrubBefore =
    "# If you change this file, run 'update-grub'\n"
    "GRUB_DEFAULT=0\n"
    "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash\"\n"
    "GRUB_CMDLINE_LINUX=\"\"\n";
inline constexpr const char* kGrubAfter =
    "# If you change this file, run 'update-grub'\n"
    "GRUB_DEFAULT=0\n"
    "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash intel_iommu=on iommu=pt vfio-pci.ids=10de:1d01\"\n"
    "GRUB_CMDLINE_LINUX=\"\"\n";
inline constexpr const char* kOverride = "/sys/bus/pci/devices/0000:01:00.0/driver_override";

/// Builds the machine under dir (a fresh directory).
void make_machine(const std::string& dir);
Plan realistic_plan();

/// An Fs over a copy of the machine plus the pieces a Context needs.
struct Rig {
  TempDir tmp;
  std::string root;
  std::unique_ptr<RealFs> real;
  std::unique_ptr<FaultyFs> fs;
  RecordingRunner runner;
  std::unique_ptr<Context> ctx;
  Tree original;

  Rig();
  Tree now() const { return snapshot(root); }
  Tree now(const std::set<std::string>& exclude) const { return snapshot(root, exclude); }
  /// Makes the engine treat this root as the live system (commands run through runner).
  void go_live() { fs->live = true; }
};

/// After a simulated crash: rolls back the newest transaction unless it is rolled back,
/// then expects the tree to be the original, byte for byte.
void recover_and_compare(Rig& rig, const std::string& what);

}  // namespace exliar::test
