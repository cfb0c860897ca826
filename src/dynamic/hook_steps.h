// The actions a VM hook takes, as a table: each kind knows how to do itself and how to
// undo itself (hook_steps.cpp). Internal to src/dynamic.
#pragma once

#include <string>
#include <vector>

#include "dynamic/hook_run.h"
#include "dynamic/session.h"

namespace exliar::dynamic::detail {

struct StepEnv {
  Context& ctx;
  const HookOptions& opts;
  Session& session;
  std::vector<std::string>& notes;
  std::vector<std::string>& would_run;
  bool stopped_service = false;  ///< set by stop-service: check-holders then waits
};

/// Does the step; "skipped" (returns false) when there was nothing to do.
Result<bool> do_step(StepEnv& env, HookStep& step);
/// Undoes a step that is done (or was started when the process died).
Status undo_step(StepEnv& env, HookStep& step);
/// One line for the user: "stop display-manager.service (gdm.service)".
std::string step_text(const HookStep& step);

}  // namespace exliar::dynamic::detail
