// How exliar fails: the message on stderr, under --json also {"error": {...}} on stdout,
// and one exit code per situation (commands.h ExitCode). Parse errors get a "did you
// mean" for mistyped verbs and options.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "host/context.h"

namespace exliar::cli {

/// "usage", "findings", "environment", "apply-failed" for an exit code.
const char* exit_kind(int code);

/// {"error": {"message", "kind", "exit_code", "messages"?, "suggestion"?}} on `out`.
void print_json_error(std::FILE* out, const std::string& message, int code,
                      const std::vector<std::string>& more = {},
                      const std::string& suggestion = "");

/// After a command: under --json, when it failed without writing a result, the errors it
/// printed become the JSON error object on stdout. Returns rc.
int finish(const Context& ctx, int rc);

/// Handles a CLI11 parse failure for argv (help and --version included); returns the
/// exit code. `json`: --json appeared on the command line.
int parse_failure(CLI::App& app, const CLI::ParseError& e, const std::vector<std::string>& args,
                  bool json);

/// Names of the verbs (subcommands) of app, in declaration order.
std::vector<std::string> verb_names(CLI::App& app);

/// "unknown command 'chek'; did you mean `exliar check`?" (with json, on stdout as well).
/// Returns kUsage.
int unknown_verb(CLI::App& app, const std::string& word, bool json);

}  // namespace exliar::cli
