// nlohmann::json::parse throws out_of_range (406) on a number that overflows a double, not
// only parse_error; found by fuzz_boot_kernelstub. Every JSON reader must turn it into an
// error value.
#include <gtest/gtest.h>

#include "boot/entry_files.h"
#include "gpu/db.h"
#include "plan/plan_json.h"

namespace exliar {
namespace {

constexpr const char* kOverflow = "{\"user\": {\"kernel_options\": [1e99999]}}";

TEST(JsonOverflow, KernelstubConfig) {
  auto r = boot::parse_kernelstub_config(kOverflow);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("not valid JSON"), std::string::npos);
}

TEST(JsonOverflow, SavedPlan) {
  auto r = parse_plan(kOverflow, "plan.json");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("not valid JSON"), std::string::npos);
}

TEST(JsonOverflow, GpuDatabaseFile) {
  gpu::GpuDb db;
  auto r = gpu::parse_gpu_db_file("amd.json", kOverflow, db);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("not valid JSON"), std::string::npos);
}

}  // namespace
}  // namespace exliar
