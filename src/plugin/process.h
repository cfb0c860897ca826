// The plugin process: every plugin is dlopen()ed and called in a child forked from exliar,
// never in exliar itself, so a plugin that crashes, hangs or corrupts memory (at load or
// in any hook) cannot take a transaction down with it: the parent sees the child die or
// time out and turns that into an error (a veto for on_pre_vfio_bind).
//
// Parent and child speak length-prefixed JSON over a socketpair. The child rebuilds the
// C views from the serialized facts (plugin/views.h), calls the plugin and answers
// {rc, err, annotations}. Plugins keep their state across calls (one child serves every
// hook of a PluginHost).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "host/error.h"

namespace exliar {

/// What the child found when loading one plugin.
struct PluginLoad {
  bool loaded = false;
  bool refused = false;  ///< ABI mismatch (as opposed to a dlopen/dlsym failure)
  unsigned abi = 0;
  std::string name, version, reason;
  std::vector<std::string> hooks;  ///< callbacks the plugin provides
};

class PluginProcess {
 public:
  PluginProcess() = default;
  ~PluginProcess();
  PluginProcess(const PluginProcess&) = delete;
  PluginProcess& operator=(const PluginProcess&) = delete;

  /// Forks a child that loads each of host_paths in order. Fills loads[i] for the
  /// plugins loaded before the child died; returns the index of the plugin whose loading
  /// crashed the child (with why), or host_paths.size() when all were loaded.
  size_t start(const std::vector<std::string>& host_paths, std::vector<PluginLoad>& loads,
               std::string& crash, std::chrono::milliseconds timeout);

  /// Sends one request and waits for the answer. Fails when the child crashed, hung
  /// past timeout (it is then killed) or answered garbage; the child is gone after that.
  Result<nlohmann::json> call(const nlohmann::json& request, std::chrono::milliseconds timeout);

  bool alive() const { return sock_ >= 0; }
  void stop();

 private:
  Result<nlohmann::json> receive(std::chrono::milliseconds timeout);
  /// Kills (if needed) and reaps the child; returns how it ended, for messages.
  std::string reap(bool kill_it);

  int sock_ = -1;
  pid_t pid_ = -1;
};

/// "signal 11 (Segmentation fault)" / "exit status 3".
std::string describe_wait_status(int status);

}  // namespace exliar
