// Plugins (shared objects with the C ABI in include/exliar/plugin.h) and hook scripts
// (executables in /etc/exliar/hooks.d/<hook>/), found under the host root and called at
// the five hook points.
//
// Code found under `--root DIR` (other than /) is the image's code, not this system's: a
// tarball or disk image unpacked as root passes the ownership check, so loading its
// plugins or running its hooks would run the image's code on this host as root. Such
// code is listed as "skipped" and never run unless the user says so (--run-root-plugins),
// the same rule as for the regeneration commands, which are recorded as pending.
//
// Plugins never run inside exliar: they are loaded and called in a child process
// (plugin/process.h), so a crash or hang is an error, not the end of a transaction.
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "host/context.h"
#include "host/error.h"
#include "host/fs.h"
#include "host/runner.h"
#include "probe/inventory.h"

struct exliar_plugin_v1;

namespace exliar {

enum class LoadStatus { loaded, refused, failed, skipped };
const char* to_string(LoadStatus);

struct PluginRecord {
  std::string path;  ///< inside the root
  std::string name, version;
  unsigned abi = 0;
  LoadStatus status = LoadStatus::failed;
  std::string reason;  ///< why refused, failed or skipped (dlerror() text, ownership problem)
};

struct ScriptRecord {
  std::string hook;  ///< on_init, on_device_detect, ...
  std::string path;
  LoadStatus status = LoadStatus::failed;
  std::string reason;
};

/// What a bind hook is told: the transaction and every device that moves.
struct BindEvent {
  std::string transaction_id;
  std::string kind;  ///< "runtime" or "boot"
  std::vector<PciDevice> devices;
  std::vector<PciAddress> gpus;  ///< which of them are GPU display functions
};

/// One hook invocation's result, for the journal.
struct HookLog {
  std::string hook;
  std::string source;  ///< plugin name or script path
  int rc = 0;
  std::string output;
};

inline constexpr const char* kHookNames[] = {"on_init", "on_device_detect", "on_pre_vfio_bind",
                                             "on_post_vfio_bind", "on_cleanup"};

struct PluginPolicy {
  bool disabled = false;  ///< --no-plugins: do not even look
  /// --run-root-plugins: with a root other than /, load its plugins and run its hooks on
  /// this host anyway. Without it they are listed as skipped.
  bool run_root_code = false;
  /// A hook script of on_pre_vfio_bind that the trust check refuses could have vetoed:
  /// it vetoes, unless --ignore-refused-hooks says to go on without it.
  bool refused_hooks_veto = true;
};

class PluginHost {
 public:
  /// Discovers everything under fs's root and loads what policy allows.
  PluginHost(const Fs& fs, Runner& runner, PluginPolicy policy);
  /// The policy of ctx's options; says once per run (on ctx's stderr) what it skipped.
  explicit PluginHost(Context& ctx);
  ~PluginHost();
  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;

  const std::vector<PluginRecord>& plugins() const { return records_; }
  const std::vector<ScriptRecord>& scripts() const { return scripts_; }

  /// Runs once per PluginHost; the other hooks call it first if nobody did.
  void on_init();
  /// Annotations from plugins land in PciDevice::annotations.
  void on_device_detect(Inventory& inv);
  /// An error is a veto: its message names the plugin or script.
  Status on_pre_vfio_bind(const BindEvent& e);
  void on_post_vfio_bind(const BindEvent& e);
  void on_cleanup(const BindEvent& e);

  /// Errors of non-vetoing hooks, for the user (stderr).
  std::vector<std::string> take_warnings();
  std::vector<HookLog> take_log();

  /// How many plugins / hook scripts were skipped because the root is not this system.
  size_t skipped_count() const;
  /// The sentence that says what was skipped and how to run it ("" when nothing was).
  std::string skipped_notice() const;

  std::chrono::milliseconds script_timeout{30000};
  /// Longest a plugin callback may take before its process is killed (a veto/error).
  std::chrono::milliseconds plugin_timeout{30000};

 private:
  struct Loaded;
  struct Proc;
  /// Calls hook in plugin l's process; a crash or hang disables l and is returned.
  Result<nlohmann::json> call(Loaded& l, const char* hook, nlohmann::json request);
  bool respawn();
  Status run_bind_hook(const char* hook, const BindEvent& e, bool veto);
  /// Runs the scripts of hook with json on stdin; returns the first failure.
  Status run_scripts(const char* hook, const std::string& json);

  const Fs& fs_;
  Runner& runner_;
  PluginPolicy policy_;
  std::unique_ptr<Proc> proc_;
  std::vector<PluginRecord> records_;
  std::vector<ScriptRecord> scripts_;
  std::vector<std::unique_ptr<Loaded>> loaded_;
  std::vector<std::string> warnings_;
  std::vector<HookLog> log_;
  bool initialized_ = false;
  std::set<std::string> refused_warned_;  ///< refused scripts already warned about
};

/// The trust rule for code exliar runs as root: the file and every directory above it,
/// up to the host root, are owned by root and not group- or world-writable. A symlink is
/// followed (inside the root) and its target checked the same way. Returns the resolved
/// path, or why it is refused.
Result<std::string> trusted_path(const Fs& fs, std::string_view path);

}  // namespace exliar
