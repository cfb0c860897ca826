// Cross-checks database entries against pci.ids names: the name pci.ids gives a device
// must carry the chip/platform the database claims for it.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "gpu/db.h"
#include "host/paths.h"
#include "probe/pci_ids.h"

using namespace exliar;
using namespace exliar::gpu;

namespace {

std::string slurp(const std::string& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Sample {
  std::uint16_t vendor, device;
  const char* pciids_has;  ///< substring of the pci.ids device name
  const char* db_has;      ///< substring of the database codename
};

// clang-format off
const Sample kSamples[] = {
    {0x1002, 0x15bf, "Phoenix", "Phoenix"},     {0x1002, 0x15d8, "Picasso", "Picasso"},
    {0x1002, 0x15dd, "Raven", "Raven"},         {0x1002, 0x1638, "Cezanne", "Cezanne"},
    {0x1002, 0x164c, "Lucienne", "Lucienne"},   {0x1002, 0x164e, "Raphael", "Raphael"},
    {0x1002, 0x1681, "Rembrandt", "Rembrandt"}, {0x1002, 0x66af, "Vega 20", "Vega 20"},
    {0x1002, 0x6798, "Tahiti", "Tahiti"},       {0x1002, 0x67b1, "Hawaii", "Hawaii"},
    {0x1002, 0x67df, "Ellesmere", "Ellesmere"}, {0x1002, 0x67ff, "Baffin", "Baffin"},
    {0x1002, 0x687f, "Vega 10", "Vega 10"},     {0x1002, 0x6939, "Tonga", "Tonga"},
    {0x1002, 0x6981, "Lexa", "Lexa"},           {0x1002, 0x7300, "Fiji", "Fiji"},
    {0x1002, 0x731f, "Navi 10", "Navi 10"},     {0x1002, 0x7340, "Navi 14", "Navi 14"},
    {0x1002, 0x73a5, "Navi 21", "Navi 21"},     {0x1002, 0x73bf, "Navi 21", "Navi 21"},
    {0x1002, 0x73df, "Navi 22", "Navi 22"},     {0x1002, 0x73ff, "Navi 23", "Navi 23"},
    {0x1002, 0x743f, "Navi 24", "Navi 24"},     {0x1002, 0x744c, "Navi 31", "Navi 31"},
    {0x1002, 0x7480, "Navi 33", "Navi 33"},
    {0x10de, 0x13c2, "GM204", "GM"},            {0x10de, 0x1b80, "GP104", "GP104"},
    {0x10de, 0x1d01, "GP108", "GP108"},         {0x10de, 0x1d10, "GP108", "GP108"},
    {0x10de, 0x1eb8, "TU104", "TU104"},         {0x10de, 0x1f91, "TU117", "TU117"},
    {0x10de, 0x2204, "GA102", "GA102"},         {0x10de, 0x2684, "AD102", "AD102"},
    {0x8086, 0x0162, "IvyBridge", "Ivy Bridge"}, {0x8086, 0x0412, "4th Gen Core", "Haswell"},
    {0x8086, 0x1616, "HD Graphics 5500", "Broadwell"}, {0x8086, 0x1912, "HD Graphics 530", "Skylake"},
    {0x8086, 0x3185, "GeminiLake", "Gemini Lake"}, {0x8086, 0x3e92, "CoffeeLake", "Coffee Lake"},
    {0x8086, 0x4680, "AlderLake", "Alder Lake"}, {0x8086, 0x4905, "DG1", "DG1"},
    {0x8086, 0x4c8a, "RocketLake", "Rocket Lake"}, {0x8086, 0x5690, "DG2", "DG2"},
    {0x8086, 0x56a0, "DG2", "DG2"},             {0x8086, 0x56a5, "DG2", "DG2"},
    {0x8086, 0x5912, "HD Graphics 630", "Kaby Lake"}, {0x8086, 0x5a85, "HD Graphics 500", "Apollo Lake"},
    {0x8086, 0x8a52, "Iris Plus", "Ice Lake"},  {0x8086, 0x9a49, "TigerLake", "Tiger Lake"},
    {0x8086, 0x9bc5, "CometLake", "Comet Lake"}, {0x8086, 0xa780, "Raptor Lake", "Raptor Lake"},
};
// clang-format on

void check_samples(const PciIds& ids, const GpuDb& db, bool require_all) {
  for (const auto& s : kSamples) {
    auto name = ids.device(s.vendor, s.device);
    if (!name) {
      EXPECT_FALSE(require_all) << std::hex << s.vendor << ":" << s.device
                                << " missing from pci.ids";
      continue;
    }
    EXPECT_NE(name->find(s.pciids_has), std::string_view::npos) << *name;
    auto m = db.lookup(s.vendor, s.device, std::nullopt);
    ASSERT_TRUE(m.entry) << std::hex << s.vendor << ":" << s.device;
    EXPECT_NE(m.entry->codename.find(s.db_has), std::string::npos)
        << std::hex << s.device << ": pci.ids says \"" << *name << "\", database says \""
        << m.entry->codename << "\"";
  }
}

}  // namespace

TEST(GpuDbPciIds, SampleAgreesWithFixture) {
  auto db = load_embedded_gpu_db();
  ASSERT_TRUE(db);
  std::string text =
      slurp(std::string(EXLIAR_SOURCE_DIR) + "/tests/unit/gpu/data/pci-ids-sample.ids");
  ASSERT_FALSE(text.empty());
  check_samples(PciIds(text), *db, true);
}

// Runs against the system's pci.ids; skipped only when none is installed.
TEST(GpuDbPciIds, EveryNvidiaChipNameInSystemPciIdsMatchesTheArchitecture) {
  std::string text;
  for (auto p : paths::kPciIdsCandidates)
    if (text.empty()) text = slurp(std::string(p));
  if (text.empty()) GTEST_SKIP() << "no pci.ids installed";
  auto db = load_embedded_gpu_db();
  ASSERT_TRUE(db);
  PciIds ids(text);
  check_samples(ids, *db, false);
  // Names start with the chip ("GP108 [GeForce GT 1030]"); the prefix fixes the architecture.
  const std::pair<const char*, const char*> prefixes[] = {
      {"GF", "Fermi"},        {"GK", "Kepler"},    {"GM", "Maxwell"}, {"GP", "Pascal"},
      {"GV", "Volta"},        {"TU", "Turing"},    {"GA", "Ampere"},  {"GH", "Hopper"},
      {"AD", "Ada Lovelace"}, {"GB2", "Blackwell"}};
  std::regex skip("Audio|USB|UCSI|Bridge|Switch|PCI|SMBus|NVLink|Host");
  // One pass over the NVIDIA block (PciIds::device scans per call; 64k calls are slow).
  std::vector<std::pair<std::uint16_t, std::string>> nvidia;
  {
    std::istringstream in(text);
    std::string line;
    bool in_nv = false;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      if (line[0] != '\t') {
        in_nv = line.rfind("10de ", 0) == 0;
        continue;
      }
      if (in_nv && line.size() > 7 && line[1] != '\t')
        nvidia.push_back({static_cast<std::uint16_t>(std::stoul(line.substr(1, 4), nullptr, 16)),
                          line.substr(7)});
    }
  }
  int checked = 0;
  for (const auto& [dev, full] : nvidia) {
    std::string_view nm = full;
    const std::string_view* name = &nm;
    for (auto [pre, arch] : prefixes) {
      std::string p(pre);
      if (name->substr(0, p.size()) != p || name->size() <= p.size() || !isdigit((*name)[p.size()]))
        continue;
      if (std::regex_search(name->begin(), name->end(), skip)) continue;
      auto m = db->lookup(0x10de, dev, std::nullopt);
      ++checked;
      EXPECT_TRUE(m.entry && m.entry->architecture == arch)
          << std::hex << dev << " \"" << *name << "\" -> "
          << (m.entry ? m.entry->architecture : "none");
    }
  }
  EXPECT_GT(checked, 300);
}
