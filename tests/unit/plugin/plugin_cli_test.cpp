// Plugins end to end through the exliar binary on a copy of a fixture machine: annotations
// in detect --json, a veto that rolls apply back byte for byte, and a plugin that crashes
// mid-apply leaving an interrupted transaction that rollback recovers.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "host/runner.h"

namespace exliar {
namespace {

namespace fsys = std::filesystem;

class PluginCli : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/exliar-plugcli-XXXXXX";
    tmp_ = ::mkdtemp(tmpl);
    ::chmod(tmp_.c_str(), 0755);
    root_ = tmp_ + "/root";
    sh("cp -a '" + std::string(EXLIAR_BINARY_DIR) + "/machines/z370-ubuntu' '" + root_ + "'");
    ::chmod(root_.c_str(), 0755);
  }
  void TearDown() override { fsys::remove_all(tmp_); }

  CommandResult sh(const std::string& cmd) {
    auto r = runner_.run({"sh", "-c", cmd}, {});
    EXPECT_TRUE(r);
    return *r;
  }
  /// trusted: --run-root-plugins, which these tests need to exercise the root's plugins.
  CommandResult exliar(std::vector<std::string> args, bool trusted = true) {
    std::vector<std::string> argv = {EXLIAR_EXE, "--root", root_};
    if (trusted) argv.push_back("--run-root-plugins");
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = runner_.run(argv, {});
    EXPECT_TRUE(r);
    return *r;
  }
  void install(const std::string& so) {
    sh("mkdir -p '" + root_ + "/usr/lib/exliar/plugins' && chmod 755 '" + root_ + "/usr' '" +
       root_ + "/usr/lib' '" + root_ + "/usr/lib/exliar' '" + root_ +
       "/usr/lib/exliar/plugins' && install -m 755 '" + PLUGIN_DIR + "/" + so + ".so' '" + root_ +
       "/usr/lib/exliar/plugins/'");
  }
  void snapshot() { sh("cp -a '" + root_ + "' '" + tmp_ + "/before'"); }
  /// diff of the tree against the snapshot, exliar's own journal left out.
  std::string changes() {
    // The fixture has no /var: only exliar's journal lives there.
    return sh("diff -r --no-dereference -x var '" + tmp_ + "/before' '" + root_ + "'; true").out;
  }

  ProcessRunner runner_;
  std::string tmp_, root_;
};

TEST_F(PluginCli, AnnotationsAppearInDetectJson) {
  install("annotate_veto");
  auto r = exliar({"detect", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"annotate-veto.role\": \"passthrough-candidate\""), std::string::npos);
  EXPECT_NE(r.out.find("\"annotate-veto.role\": \"host-display\""), std::string::npos);
  auto off = exliar({"--no-plugins", "detect", "--json"});
  EXPECT_EQ(off.out.find("annotate-veto"), std::string::npos);
  auto list = exliar({"plugins", "--json"});
  EXPECT_EQ(list.exit_code, 0);
  EXPECT_NE(list.out.find("\"status\": \"loaded\""), std::string::npos) << list.out;
}

TEST_F(PluginCli, PluginsJsonGolden) {
  install("annotate_veto");
  install("bad_abi");
  install("no_symbol");
  sh("mkdir -p '" + root_ + "/etc/exliar/hooks.d/on_post_vfio_bind' && chmod -R 755 '" + root_ +
     "/etc/exliar' && install -m 755 '" + HOOK_EXAMPLE + "' '" + root_ +
     "/etc/exliar/hooks.d/on_post_vfio_bind/50-log' && install -m 644 '" + HOOK_EXAMPLE + "' '" +
     root_ + "/etc/exliar/hooks.d/on_post_vfio_bind/60-not-executable'");
  auto r = exliar({"plugins", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // dlerror() names the file by its host path: make it independent of the temp dir.
  std::string out = r.out;
  for (size_t p; (p = out.find(root_)) != std::string::npos;) out.replace(p, root_.size(), "ROOT");
  std::string golden = std::string(EXLIAR_SOURCE_DIR) + "/tests/golden/plugins.json";
  if (std::getenv("EXLIAR_UPDATE_GOLDEN")) std::ofstream(golden) << out;
  std::ifstream in(golden);
  std::string want((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(out, want);
}

TEST_F(PluginCli, VetoRollsApplyBackByteForByte) {
  install("annotate_veto");
  sh("mkdir -p '" + root_ + "/etc/exliar' && echo 0000:01:00.1 > '" + root_ +
     "/etc/exliar/veto-address'");
  snapshot();
  auto r = exliar({"apply", "--gpu", "0000:01:00.0", "--yes"});
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  EXPECT_NE(r.err.find("0000:01:00.1 is reserved for the host"), std::string::npos) << r.err;
  EXPECT_EQ(changes(), "");
  auto status = exliar({"status"});
  EXPECT_EQ(status.out.find("interrupted"), std::string::npos) << status.out;
}

TEST_F(PluginCli, RollbackFiresOnCleanup) {
  sh("mkdir -p '" + root_ + "/etc/exliar/hooks.d/on_cleanup' '" + root_ +
     "/etc/exliar/hooks.d/on_post_vfio_bind' && chmod -R 755 '" + root_ +
     "/etc/exliar' && install -m 755 '" + HOOK_EXAMPLE + "' '" + root_ +
     "/etc/exliar/hooks.d/on_cleanup/50-log' && install -m 755 '" + HOOK_EXAMPLE + "' '" + root_ +
     "/etc/exliar/hooks.d/on_post_vfio_bind/50-log'");
  ASSERT_EQ(exliar({"apply", "--gpu", "0000:01:00.0", "--yes"}).exit_code, 0);
  ASSERT_EQ(exliar({"rollback", "--yes"}).exit_code, 0);
  std::string log = sh("cat '" + root_ + "/var/log/exliar-hooks.log'").out;
  auto post = log.find("on_post_vfio_bind {");
  auto cleanup = log.find("on_cleanup {");
  ASSERT_NE(post, std::string::npos) << log;
  ASSERT_NE(cleanup, std::string::npos) << log;
  EXPECT_LT(post, cleanup);
  EXPECT_NE(log.find("\"kind\":\"boot\""), std::string::npos) << log;
  EXPECT_NE(log.find("\"address\":\"0000:01:00.1\""), std::string::npos) << log;
}

TEST_F(PluginCli, HookScriptVetoesToo) {
  sh("mkdir -p '" + root_ + "/etc/exliar/hooks.d/on_pre_vfio_bind' && chmod -R 755 '" + root_ +
     "/etc/exliar' && printf '#!/bin/sh\\necho no binding today >&2\\nexit 3\\n' > '" + root_ +
     "/etc/exliar/hooks.d/on_pre_vfio_bind/10-no' && chmod 755 '" + root_ +
     "/etc/exliar/hooks.d/on_pre_vfio_bind/10-no'");
  snapshot();
  auto r = exliar({"apply", "--gpu", "auto", "--yes"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("no binding today"), std::string::npos) << r.err;
  EXPECT_EQ(changes(), "");
}

// Item 19: the plugin runs in a child process; its segfault is a veto, the apply is rolled
// back and nothing is left interrupted.
TEST_F(PluginCli, CrashingPluginVetoesAndApplyRollsBack) {
  install("crash_on_bind");
  snapshot();
  auto r = exliar({"apply", "--gpu", "0000:01:00.0", "--yes"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("plugin crasher crashed: signal 11"), std::string::npos) << r.err;
  EXPECT_EQ(changes(), "");
  auto status = exliar({"status"});
  EXPECT_EQ((status.out + status.err).find("interrupted"), std::string::npos) << status.out;
  auto again = exliar({"--no-plugins", "apply", "--gpu", "0000:01:00.0", "--yes"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
}

// Item 1: `--root DIR` loads no plugin and runs no hook of DIR unless asked, and says so.
TEST_F(PluginCli, ForeignRootCodeNeverRunsOnTheHost) {
  install("crash_on_bind");  // would kill the bind if it ran
  install("annotate_veto");  // would annotate detect output if it ran
  for (const char* hook : {"on_init", "on_pre_vfio_bind", "on_post_vfio_bind"})
    sh("mkdir -p '" + root_ + "/etc/exliar/hooks.d/" + hook + "' && printf '#!/bin/sh\\ntouch " +
       tmp_ + "/ran-" + hook + "\\n' > '" + root_ + "/etc/exliar/hooks.d/" + hook +
       "/10-mark' && chmod 755 '" + root_ + "/etc/exliar/hooks.d/" + hook + "/10-mark'");
  sh("chmod -R go-w '" + root_ + "/etc/exliar'");
  auto check = exliar({"check"}, false);
  EXPECT_NE(
      check.err.find("2 plugin(s) and 3 hook script(s) under " + root_ + " were not loaded or run"),
      std::string::npos)
      << check.err;
  auto detect = exliar({"detect", "--json"}, false);
  EXPECT_EQ(detect.exit_code, 0);
  EXPECT_EQ(detect.out.find("annotate-veto"), std::string::npos);
  auto apply = exliar({"apply", "--gpu", "0000:01:00.0", "--yes"}, false);
  EXPECT_EQ(apply.exit_code, 0) << apply.err;
  // Said once per run, not once per use of the plugin host.
  size_t first = apply.err.find("were not loaded or run");
  ASSERT_NE(first, std::string::npos) << apply.err;
  EXPECT_EQ(apply.err.find("were not loaded or run", first + 1), std::string::npos) << apply.err;
  for (const char* hook : {"on_init", "on_pre_vfio_bind", "on_post_vfio_bind"})
    EXPECT_FALSE(fsys::exists(tmp_ + "/ran-" + hook)) << hook;
  auto list = exliar({"plugins", "--json"}, false);
  EXPECT_NE(list.out.find("\"enabled\": false"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("\"status\": \"skipped\""), std::string::npos) << list.out;
  EXPECT_EQ(list.out.find("\"status\": \"loaded\""), std::string::npos) << list.out;
  // With the explicit option the hooks do run.
  ASSERT_EQ(exliar({"rollback", "--yes"}, false).exit_code, 0);
  sh("rm -f '" + root_ + "/usr/lib/exliar/plugins/crash_on_bind.so'");
  EXPECT_EQ(exliar({"apply", "--gpu", "0000:01:00.0", "--yes"}).exit_code, 0);
  EXPECT_TRUE(fsys::exists(tmp_ + "/ran-on_pre_vfio_bind"));
}

}  // namespace
}  // namespace exliar
