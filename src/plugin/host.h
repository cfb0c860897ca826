// Plugins (shared objects with the C ABI in include/exliar/plugin.h) and hook scripts
// (executables in /etc/exliar/hooks.d/<hook>/), found under the host root and called at
// the five hook points.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "host/error.h"
#include "host/fs.h"
#include "host/runner.h"
#include "probe/inventory.h"

struct exliar_plugin_v1;

namespace exliar {

enum class LoadStatus { loaded, refused, failed };
const char* to_string(LoadStatus);

struct PluginRecord {
  std::string path;  ///< inside the root
  std::string name, version;
  unsigned abi = 0;
  LoadStatus status = LoadStatus::failed;
  std::string reason;  ///< why refused or failed (dlerror() text, ownership problem)
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

class PluginHost {
 public:
  /// Discovers and loads everything under fs's root; disabled = --no-plugins.
  PluginHost(const Fs& fs, Runner& runner, bool disabled);
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

  std::chrono::milliseconds script_timeout{30000};

 private:
  struct Loaded;
  Status run_bind_hook(const char* hook, const BindEvent& e, bool veto);
  /// Runs the scripts of hook with json on stdin; returns the first failure.
  Status run_scripts(const char* hook, const std::string& json);

  const Fs& fs_;
  Runner& runner_;
  std::vector<PluginRecord> records_;
  std::vector<ScriptRecord> scripts_;
  std::vector<std::unique_ptr<Loaded>> loaded_;
  std::vector<std::string> warnings_;
  std::vector<HookLog> log_;
  bool initialized_ = false;
};

/// The trust rule for code exliar runs as root: the file and every directory above it,
/// up to the host root, are owned by root and not group- or world-writable. A symlink is
/// followed (inside the root) and its target checked the same way. Returns the resolved
/// path, or why it is refused.
Result<std::string> trusted_path(const Fs& fs, std::string_view path);

}  // namespace exliar
