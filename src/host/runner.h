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
};

struct RunOptions {
  std::string input;                     ///< written to the command's stdin
  std::chrono::milliseconds timeout{0};  ///< 0 = none
  std::vector<std::string> env;          ///< extra NAME=VALUE entries
};

class Runner {
 public:
  virtual ~Runner() = default;
  /// Fails only when the command could not be started; a non-zero exit is a result.
  virtual Result<CommandResult> run(const std::vector<std::string>& argv,
                                    const RunOptions& opts = {}) = 0;
};

/// Runs real processes.
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
