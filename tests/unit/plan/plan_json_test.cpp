#include "plan/plan_json.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace exliar {
namespace {

Plan sample() {
  Plan p;
  p.intent = {"apply", "0000:01:00.0",      "address", true,
              false,   {"video=efifb:off"}, {},        "/tmp/x.rom"};
  p.steps.push_back(edit_step({"/etc/default/grub", "A=1\n", "A=2\n", 0644}, "why", "boot/grub"));
  p.steps.push_back(edit_step({"/etc/new", std::nullopt, "x", 0600}, "create", "t"));
  p.steps.push_back(edit_step(
      {"/etc/old", std::string("\xff\xfe binary\0 ok", 14), std::nullopt, 0644}, "delete", "t"));
  p.steps.push_back(
      command_step({{"update-initramfs", "-u", "-k", "all"}, "rebuild", {"update-initramfs", "-u"}},
                   "initramfs", "modules/initramfs-tools"));
  p.steps.push_back(Step{WriteSysfs{"/sys/bus/pci/devices/0000:01:00.0/driver_override", "vfio-pci",
                                    std::nullopt, "\n"},
                         "bind", "modules/bind"});
  p.warnings = {"ACS override weakens isolation"};
  p.expect_cmdline = {"intel_iommu=on"};
  p.expect_vfio = {"0000:01:00.0"};
  return p;
}

TEST(PlanJson, RoundTripsEveryStepKind) {
  Plan p = sample();
  auto j = plan_to_json(p);
  auto back = parse_plan(j.dump(2));
  ASSERT_TRUE(back) << back.error().describe();
  EXPECT_EQ(*back, p);
  EXPECT_EQ(j["steps"][0]["kind"], "edit");
  EXPECT_EQ(j["steps"][1]["mode"], "0600");
  EXPECT_TRUE(j["steps"][1]["before"].is_null());
  EXPECT_TRUE(j["steps"][2]["before"].contains("base64")) << "invalid UTF-8 is stored as base64";
  EXPECT_EQ(j["steps"][3]["argv"][0], "update-initramfs");
  EXPECT_EQ(j["steps"][4]["kind"], "sysfs");
}

TEST(PlanJson, Base64KnownVectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(*base64_decode("Zm9vYg=="), "foob");
  EXPECT_FALSE(base64_decode("Zm9v!mFy"));
  EXPECT_FALSE(base64_decode("Zm9"));
}

TEST(PlanJson, Utf8Validation) {
  EXPECT_TRUE(valid_utf8("plain ascii\n"));
  EXPECT_TRUE(valid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(valid_utf8("\xc3"));          // truncated
  EXPECT_FALSE(valid_utf8("\xc0\xaf"));      // overlong
  EXPECT_FALSE(valid_utf8("\xed\xa0\x80"));  // surrogate
  EXPECT_FALSE(valid_utf8("\xff"));
}

struct Bad {
  const char* json;
  const char* message;
};

TEST(PlanJson, BadDocumentsNameTheProblem) {
  const Bad cases[] = {
      {"{", "not valid JSON"},
      {"[]", "must be a JSON object"},
      {R"({"intent":{"command":"apply"},"steps":[]})", "schema_version is missing"},
      {R"({"schema_version":9,"intent":{"command":"apply"},"steps":[]})",
       "unsupported plan schema_version 9"},
      {R"({"schema_version":1,"steps":[]})", "intent is missing"},
      {R"({"schema_version":1,"intent":{},"steps":[]})", "intent.command is missing"},
      {R"({"schema_version":1,"intent":{"command":"apply"},"steps":{}})", "steps must be an array"},
      {R"({"schema_version":1,"intent":{"command":"apply"},"steps":[{"kind":"reboot"}]})",
       "steps[0].kind must be"},
      {R"({"schema_version":1,"intent":{"command":"apply"},"steps":[{"kind":"edit","path":"etc/x","after":"a"}]})",
       "steps[0].path must be an absolute path"},
      {R"({"schema_version":1,"intent":{"command":"apply"},"steps":[{"kind":"edit","path":"/x"}]})",
       "before cannot both be null"},
      {R"({"schema_version":1,"intent":{"command":"apply"},"steps":[{"kind":"edit","path":"/x","after":"a","mode":"rw"}]})",
       "mode must be an octal string"},
      {R"({"schema_version":1,"intent":{"command":"apply"},"steps":[{"kind":"command","argv":[]}]})",
       "argv must not be empty"},
      {R"({"schema_version":1,"intent":{"command":"apply"},"steps":[{"kind":"edit","path":"/x","after":{"base64":"!!"}}]})",
       "after must be a string"},
  };
  for (const auto& c : cases) {
    auto r = parse_plan(c.json, "plan.json");
    ASSERT_FALSE(r) << c.json;
    EXPECT_NE(r.error().describe().find(c.message), std::string::npos) << r.error().describe();
    EXPECT_EQ(r.error().path, "plan.json");
  }
  auto line = parse_plan("{\n  \"schema_version\": 1,\n  oops\n}", "p.json");
  ASSERT_FALSE(line);
  EXPECT_EQ(line.error().line, 3);
}

// File contents are arbitrary bytes; names and argv are text (UTF-8). Paths are plain
// (no empty, "." or ".." component) and modes ordinary (no setuid/setgid/sticky/world-write):
// parse_plan refuses the others (UntrustedPlan and the cases above test that).
RC_GTEST_PROP(PlanJson, ArbitraryPlansRoundTrip,
              (const std::string& before, const std::string& after, bool del, unsigned mode)) {
  auto text = rc::gen::container<std::string>(rc::gen::inRange<char>(32, 127));
  auto name = rc::gen::nonEmpty(rc::gen::container<std::string>(rc::gen::elementOf(
      std::string("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"))));
  auto path = *name + "/" + *name;
  auto argv = *rc::gen::container<std::vector<std::string>>(text);
  Plan p;
  p.intent.command = "apply";
  p.intent.params = argv;
  p.steps.push_back(
      edit_step({"/" + path, before, del ? std::nullopt : std::optional<std::string>(after),
                 static_cast<mode_t>(mode & 0775)},
                path, path));
  if (!argv.empty()) p.steps.push_back(command_step({argv, path, argv}, path, path));
  p.steps.push_back(Step{WriteSysfs{"/" + path, path, std::nullopt, std::nullopt}, "", ""});
  auto back = parse_plan(plan_to_json(p).dump());
  RC_ASSERT(back.has_value());
  RC_ASSERT(*back == p);
}

}  // namespace
}  // namespace exliar
