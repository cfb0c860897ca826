// `exliar help [COMMAND...]`: the same text as `exliar COMMAND --help`, from the CLI11
// definitions (so it never drifts from what the parser accepts).
#include <CLI/CLI.hpp>

#include "cli/cli_errors.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "ui/suggest.h"

namespace exliar::cli {

int run_help(Context& ctx, CLI::App& app, const HelpOptions& o) {
  CLI::App* cur = &app;
  std::string path = "exliar";
  for (const auto& word : o.command) {
    CLI::App* next = nullptr;
    for (auto* s : cur->get_subcommands([](CLI::App*) { return true; }))
      if (s->get_name() == word) next = s;
    if (!next) {
      auto near = ui::nearest(word, verb_names(*cur));
      std::string msg = "no help for '" + word + "': `" + path + "` has no such command";
      error(ctx, msg);
      if (near)
        std::fprintf(ctx.output.err, "Did you mean `exliar help%s %s`?\n", path.substr(6).c_str(),
                     near->c_str());
      return kUsage;
    }
    cur = next;
    path += " " + word;
  }
  // App::help() would describe the selected verb (`help` itself); format `cur` directly.
  std::string text = cur->get_formatter()->make_help(cur, path, CLI::AppFormatMode::Normal);
  if (cur == &app)
    text +=
        "\nStart with `exliar check`: it says which GPU can be passed through and the next "
        "command.\n`exliar help COMMAND` explains one command.\n";
  return emit(ctx, text);
}

}  // namespace exliar::cli
