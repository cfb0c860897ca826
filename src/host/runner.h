// Commands run as argv vectors (posix_spawn, never a shell), with output captured.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "host/error.h"

namespace exliar {

struct CommandResult {
  int exit_code = 0;       ///< exit status, or 128+signal when killed
  bool timed_out = false;  ///< killed because the timeout passed
  std::string out;
  std::string err;
  /// Bytes read but not kept because of RunOptions::max_output.
  size_t out_dropped = 0, err_dropped = 0;
};

struct RunOptions {
  std::string input;                     ///< written to the command's stdin
  std::chrono::milliseconds timeout{0};  ///< 0 = none
  std::vector<std::string> env;          ///< extra NAME=VALUE entries
  /// Keep at most this many bytes of stdout and of stderr each (0 = all); the rest is
  /// read and counted in CommandResult::*_dropped, so the command never blocks on a pipe.
  size_t max_output = 0;
};

class Runner {
 public:
  virtual ~Runner() = default;
  /// Fails only when the command could not be started; a non-zero exit is a result.
  virtual Result<CommandResult> run(const std::vector<std::string>& argv,
                                    const RunOptions& opts = {}) = 0;
};

/// Runs real processes. Each command gets a process group of its own; on timeout the
/// whole group is killed. The command is done when its process exits, not when its
/// pipes close: a background child left holding stdout does not hold exliar, and a
/// command that closes its stdout and stderr still times out.
class ProcessRunner final : public Runner {
 public:
  Result<CommandResult> run(const std::vector<std::string>& argv, const RunOptions& opts) override;
};

/// Records every argv and answers from a script; for tests.
class RecordingRunner final : public Runner {
 public:
  struct Call {
    std::vector<std::string> argv;
    RunOptions opts;
  };
  Result<CommandResult> run(const std::vector<std::string>& argv, const RunOptions& opts) override;

  std::vector<Call> calls;
  /// Answers in order; when exhausted, every command succeeds with empty output.
  std::vector<Result<CommandResult>> answers;
  /// Calls at or after this index fail to start (fault injection), -1 = never.
  int fail_from = -1;
};

/// "a b 'c d'": argv quoted for display (never executed).
std::string shell_quote(const std::vector<std::string>& argv);

}  // namespace exliar
