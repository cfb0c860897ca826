#include "gpu/db.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

using namespace exliar;
using namespace exliar::gpu;

namespace {

GpuDb embedded() {
  auto db = load_embedded_gpu_db();
  EXPECT_TRUE(db) << (db ? "" : db.error().describe());
  return db ? *db : GpuDb{};
}

const char* kVendor =
    R"("vendors": [{"vendor_id": "1002", "key": "amd", "name": "AMD", "defaults": {
  "drivers": [], "supports_reset": null, "has_reset_bug": null, "vendor_reset_supported": false,
  "reset_method": null, "requires_acs_override": null, "supports_fbc": false, "supports_gvt": false,
  "supports_sriov": false, "code43": "none", "supports_vbios_loading": true,
  "vbios_needed": "never", "source": "test"}}])";

std::string entry(const std::string& extra_or_override) {
  // A valid entry; `extra_or_override` is spliced in first, so duplicate keys override
  // (nlohmann keeps the last) -- used to break one field at a time.
  return R"({"vendor_id": "1002", "codename": "X", "architecture": "A", "generation": "G",
    "integrated": false, "device_ids": ["67ff"], "drivers": ["amdgpu"], "supports_reset": null,
    "has_reset_bug": null, "vendor_reset_supported": false, "reset_method": null,
    "requires_acs_override": null, "supports_fbc": false, "supports_gvt": false,
    "supports_sriov": false, "code43": "none", "supports_vbios_loading": true,
    "vbios_needed": "never", "source": "test")" +
         extra_or_override + "}";
}

Status parse(const std::string& entries) {
  GpuDb db;
  std::string text =
      std::string(R"({"schema_version": 1, )") + kVendor + R"(, "entries": [)" + entries + "]}";
  auto r = parse_gpu_db_file("t.json", text, db);
  if (!r) return r;
  return validate_gpu_db(db);
}

}  // namespace

TEST(GpuDb, EmbeddedLoadsAndCoversEveryVendorFile) {
  GpuDb db = embedded();
  std::set<std::string> files(db.files.begin(), db.files.end());
  for (auto f :
       {"embedded:amd.json", "embedded:nvidia.json", "embedded:intel.json", "embedded:other.json"})
    EXPECT_TRUE(files.count(f)) << f;
  EXPECT_GT(db.entries.size(), 120u);
  for (const auto& e : db.entries) EXPECT_FALSE(e.caps.source.empty()) << e.codename;
}

TEST(GpuDb, ShippedFilesLoadFromDirectoryToo) {
  auto fs = RealFs::open("/");
  ASSERT_TRUE(fs);
  auto db = load_gpu_db_dir(*fs, std::string(EXLIAR_SOURCE_DIR) + "/data/gpu-db");
  ASSERT_TRUE(db) << db.error().describe();
  EXPECT_EQ(db->entries.size(), embedded().entries.size());
}

TEST(GpuDb, RevisionDecidesPolaris67ff) {
  GpuDb db = embedded();
  auto p10 = db.lookup(0x1002, 0x67ff, 0xe7);
  ASSERT_TRUE(p10.entry);
  EXPECT_EQ(p10.kind, MatchKind::exact_revision);
  EXPECT_NE(p10.entry->codename.find("Polaris 10"), std::string::npos);
  auto p11 = db.lookup(0x1002, 0x67ff, 0xcf);  // RX 560 of the asus-z690 capture
  ASSERT_TRUE(p11.entry);
  EXPECT_EQ(p11.kind, MatchKind::exact);
  EXPECT_NE(p11.entry->codename.find("Polaris 11"), std::string::npos);
  EXPECT_TRUE(p11.caps().vendor_reset_supported);
}

TEST(GpuDb, NarrowestRangeWins) {
  GpuDb db = embedded();
  auto t4 = db.lookup(0x10de, 0x1eb8, std::nullopt);  // exact beats the TU104 range
  ASSERT_TRUE(t4.entry);
  EXPECT_EQ(t4.kind, MatchKind::exact);
  EXPECT_EQ(t4.entry->codename, "TU104GL (Tesla T4)");  // its no-SBR quirk was reverted (W3)
  auto sxm = db.lookup(0x10de, 0x2342, std::nullopt);
  ASSERT_TRUE(sxm.entry);
  EXPECT_EQ(sxm.entry->codename, "GH100 (SXM)");
  auto gb = db.lookup(0x10de, 0x2c05, std::nullopt);
  ASSERT_TRUE(gb.entry);
  EXPECT_EQ(gb.entry->codename, "GB203");
}

TEST(GpuDb, UnknownIdsFallBackToVendorDefaults) {
  GpuDb db = embedded();
  auto m = db.lookup(0x1002, 0x7fff, std::nullopt);
  EXPECT_EQ(m.kind, MatchKind::vendor_default);
  EXPECT_EQ(m.entry, nullptr);
  EXPECT_FALSE(m.caps().has_reset_bug.has_value());
  auto none = db.lookup(0xabcd, 0x0001, std::nullopt);
  EXPECT_EQ(none.kind, MatchKind::unknown_vendor);
  EXPECT_FALSE(none.caps().source.empty());
}

TEST(GpuDb, AcceptsTheTemplateEntry) { EXPECT_TRUE(parse(entry(""))); }

struct Broken {
  const char* name;
  std::string entries;
  const char* expect;  // substring of the error
};

class GpuDbRejects : public ::testing::TestWithParam<Broken> {};

TEST_P(GpuDbRejects, WithFileAndEntryIndex) {
  auto r = parse(GetParam().entries);
  ASSERT_FALSE(r) << GetParam().name;
  EXPECT_NE(r.error().message.find(GetParam().expect), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("t.json"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().path, "t.json");
}

INSTANTIATE_TEST_SUITE_P(
    Broken, GpuDbRejects,
    ::testing::Values(
        Broken{"no source", entry(R"(, "source": "")"), "entry 0 (X): field 'source'"},
        Broken{"acs", entry(R"(, "requires_acs_override": true)"),
               "requires_acs_override' must be null"},
        Broken{"upper hex", entry(R"(, "device_ids": ["67FF"])"), "not 4 lowercase hex"},
        Broken{"short id", entry(R"(, "device_ids": ["67f"])"), "not 4 lowercase hex"},
        Broken{"bad reset", entry(R"(, "reset_method": "magic")"), "reset_method"},
        Broken{"old code43 key", entry(R"(, "needs_code_43_workaround": true)"),
               "replaced by 'code43'"},
        Broken{"bad code43", entry(R"(, "code43": "sometimes")"), "field 'code43' must be"},
        Broken{"bad vbios", entry(R"(, "vbios_needed": "sometimes")"), "vbios_needed"},
        Broken{"unknown key", entry(R"(, "colour": "red")"), "unknown field 'colour'"},
        Broken{"bool type", entry(R"(, "supports_gvt": "yes")"), "supports_gvt"},
        Broken{"range order", entry(R"(, "device_ranges": [{"first": "2000", "last": "1000"}])"),
               "first > last"},
        Broken{
            "revision on range",
            entry(
                R"(, "device_ids": [], "device_ranges": [{"first": "1000", "last": "2000"}], "revisions": ["c1"])"),
            "'revisions' applies to exact"},
        Broken{"no ids", entry(R"(, "device_ids": [])"), "needs 'device_ids' or 'device_ranges'"},
        Broken{"dup across entries", entry("") + "," + entry(""),
               "entry 1 (X): device 1002:67ff is already in t.json entry 0"},
        Broken{
            "partial overlap",
            entry(R"(, "device_ids": [], "device_ranges": [{"first": "1000", "last": "2000"}])") +
                "," +
                entry(
                    R"(, "device_ids": [], "device_ranges": [{"first": "1800", "last": "2800"}])"),
            "overlaps"},
        Broken{"second entry index",
               entry("") + "," + entry(R"(, "device_ids": ["67fe"], "integrated": 1)"),
               "entry 1 (X)"},
        Broken{"undeclared vendor", entry(R"(, "vendor_id": "10de")"), "not declared"}),
    [](const auto& param_info) {
      std::string n = param_info.param.name;
      for (auto& ch : n)
        if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
      return n;
    });

TEST(GpuDb, SyntaxErrorNamesLine) {
  GpuDb db;
  auto r = parse_gpu_db_file("x.json", "{\n\"schema_version\": 1,\n  oops\n}", db);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().line, 3);
  EXPECT_EQ(r.error().path, "x.json");
}

TEST(GpuDb, BrokenDirectoryIsRejectedWithFileName) {
  char tmpl[] = "/tmp/exliar-gpudb-XXXXXX";
  ASSERT_TRUE(mkdtemp(tmpl));
  std::string dir = tmpl;
  std::ifstream in(std::string(EXLIAR_SOURCE_DIR) + "/data/gpu-db/amd.json");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  auto pos = text.find(
      "\"source\": \"Linux drivers/gpu/drm/amd/amdgpu/amdgpu_drv.c pciidlist (CachyOS/linux "
      "0129b5ace938) (CHIP_PITCAIRN)\"");
  ASSERT_NE(pos, std::string::npos);
  text.replace(pos, std::string("\"source\": \"Linux").size(), "\"sauce\": \"Linux");
  std::ofstream(dir + "/amd.json") << text;
  auto fs = RealFs::open("/");
  ASSERT_TRUE(fs);
  auto db = load_gpu_db_dir(*fs, dir);
  ASSERT_FALSE(db);
  EXPECT_NE(db.error().message.find("amd.json: entry 1 (Pitcairn)"), std::string::npos)
      << db.error().message;
  std::remove((dir + "/amd.json").c_str());
  rmdir(dir.c_str());
}
