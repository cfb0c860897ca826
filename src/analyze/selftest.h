// What a VFIO measurement (probe/vfio_measure.h) means for the VM: `exliar test ADDR`'s
// checklist and verdict, and the record `check` reads back ("reset measured OK on DATE").
// Pure functions over recorded bytes and numbers; tests feed them recorded results.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "host/error.h"
#include "probe/vfio_measure.h"

namespace exliar {

enum class TestState { ok, warn, fail, info };
const char* to_string(TestState);

struct TestItem {
  std::string id;  ///< reset-support, resets, rom, bars, rebar, link
  TestState state = TestState::info;
  std::string title;
  std::vector<std::string> details;
  std::optional<std::string> next;  ///< what to do about it
};

struct BarInfo {
  std::uint32_t index = 0;
  std::uint64_t size = 0;
  bool io = false, mem64 = false, prefetchable = false;
};

/// One entry of the Resizable BAR extended capability (PCIe r6.0 §7.8.6; the kernel's
/// drivers/pci/rebar.c reads the same fields).
struct RebarEntry {
  std::uint32_t bar = 0;
  std::uint64_t current = 0;             ///< bytes
  std::vector<std::uint64_t> supported;  ///< bytes, ascending
};

/// Standard capability IDs in list order from the pointer at 0x34; nullopt when the
/// list is malformed (pointer out of range, a loop).
std::optional<std::vector<std::uint8_t>> capability_ids(std::span<const std::uint8_t> config);
/// Why config space read back after a reset is not the device's: short, all ones,
/// other IDs or class, capability list lost or changed. Empty = sane.
std::vector<std::string> config_problems(std::span<const std::uint8_t> before,
                                         std::span<const std::uint8_t> after, std::uint16_t vendor,
                                         std::uint16_t device);
/// BAR types from the config header, sizes from the VFIO regions.
std::vector<BarInfo> bar_infos(std::span<const std::uint8_t> config,
                               const std::vector<VfioRegion>& regions);
/// Entries of the Resizable BAR capability in extended config space (empty = none).
std::vector<RebarEntry> parse_rebar(std::span<const std::uint8_t> config);
/// "256 MiB", "16 GiB", "4 KiB".
std::string format_size(std::uint64_t bytes);

struct TestReport {
  VfioMeasurement m;
  int resets_requested = 0;
  int resets_ok = 0;                   ///< resets that returned 0 and read back sane config
  std::optional<bool> reset_survives;  ///< nullopt: no reset could be issued
  std::vector<BarInfo> bars;
  std::vector<RebarEntry> rebar;
  std::vector<TestItem> items;
  TestState verdict = TestState::ok;  ///< the worst item (info counts as ok)
};

TestReport interpret(const VfioMeasurement& m, int resets_requested);
/// The `test --json` document (docs/contracts/test.schema.json) and the stored record.
nlohmann::ordered_json test_report_json(const TestReport& r);

/// What `check` needs from a stored record.
struct MeasuredReset {
  std::string address;
  std::string measured_at;
  std::optional<bool> survives;
  std::string reset_kind;
  int resets = 0;
};
/// Parses a stored record (untrusted input): errors name the file.
Result<MeasuredReset> parse_test_record(std::string_view text, std::string_view path);
/// /var/lib/exliar/tests/<address>.json
std::string test_record_path(const PciAddress& a);

}  // namespace exliar
