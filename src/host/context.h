// What every command receives: the rooted filesystem, the command runner and output
// settings. Passed down explicitly; exliar has no globals.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "host/fs.h"
#include "host/runner.h"

namespace exliar {

enum class Verbosity { quiet = -1, normal = 0, verbose = 1 };

struct Output {
  bool json = false;
  bool color = false;  ///< decided once from --color, isatty and NO_COLOR
  Verbosity verbosity = Verbosity::normal;
  bool stdin_is_tty = false;
  std::FILE* out = stdout;  ///< results
  std::FILE* err = stderr;  ///< messages and progress
  /// Set once a result reached stdout (or -o); the error messages printed so far. Under
  /// --json a command that fails without a result gets them as {"error": ...} on stdout.
  mutable bool wrote_result = false;
  mutable std::vector<std::string> errors;
  bool err_is_tty = false;  ///< progress lines only on a terminal
};

struct Context {
  Fs& fs;
  Runner& runner;
  Output output;
  std::string gpu_db_dir;  ///< --gpu-db override ("" = embedded)
  bool no_plugins = false;
  bool yes = false;                   ///< --yes: do not ask
  std::string output_file;            ///< -o FILE: write results atomically there instead of stdout
  bool run_root_plugins = false;      ///< --run-root-plugins (see plugin/host.h)
  bool ignore_refused_hooks = false;  ///< --ignore-refused-hooks
  bool root_code_noted = false;       ///< the "skipped the root's plugins" note was printed
};

}  // namespace exliar
