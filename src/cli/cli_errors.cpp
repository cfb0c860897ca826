#include "cli/cli_errors.h"

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "host/text.h"
#include "ui/suggest.h"

namespace exliar::cli {

namespace {

using ojson = nlohmann::ordered_json;

// Global options that take a value: their value is not a verb.
bool takes_value(const std::string& a) {
  for (auto o : {"--root", "--color", "--gpu-db", "-o", "--output"})
    if (a == o) return true;
  return false;
}

bool is_help_or_version(const CLI::ParseError& e) {
  auto n = e.get_name();
  return n == "CallForHelp" || n == "CallForAllHelp" || n == "CallForVersion";
}

// The verb path named on the command line ("boot", "add") and the first token that is
// neither an option nor a verb.
struct Words {
  std::vector<CLI::App*> path;
  std::string stray;
};

Words words_of(CLI::App& app, const std::vector<std::string>& args) {
  Words w;
  CLI::App* cur = &app;
  for (size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    if (a == "--") break;
    if (a.size() > 1 && a[0] == '-') {
      if (takes_value(a)) ++i;
      continue;
    }
    CLI::App* sub = nullptr;
    for (auto* s : cur->get_subcommands([](CLI::App*) { return true; }))
      if (s->get_name() == a) sub = s;
    if (sub) {
      w.path.push_back(sub);
      cur = sub;
      continue;
    }
    // Positionals of a verb (an address, a file) are not stray; a word where a verb is
    // expected is.
    if (w.stray.empty() && cur->get_require_subcommand_min() > 0) w.stray = a;
    if (w.stray.empty() && cur == &app) w.stray = a;
    break;
  }
  return w;
}

std::vector<std::string> option_names(CLI::App* app) {
  std::vector<std::string> out;
  for (const auto* o : app->get_options()) {
    for (const auto& l : o->get_lnames()) out.push_back("--" + l);
    for (const auto& s : o->get_snames()) out.push_back("-" + s);
  }
  return out;
}

std::string command_line(const Words& w) {
  std::string s = "exliar";
  for (auto* a : w.path) s += " " + a->get_name();
  return s;
}

int usage_error(const std::string& msg, const std::string& suggestion, const std::string& help,
                bool as_json) {
  std::fprintf(stderr, "exliar: error: %s\n", msg.c_str());
  if (!suggestion.empty()) std::fprintf(stderr, "Did you mean `%s`?\n", suggestion.c_str());
  std::fprintf(stderr, "Run `%s` for usage.\n", help.c_str());
  if (as_json) print_json_error(stdout, msg, kUsage, {}, suggestion);
  return kUsage;
}

}  // namespace

const char* exit_kind(int code) {
  switch (code) {
    case kFindings:
      return "findings";
    case kUsage:
      return "usage";
    case kEnvironment:
      return "environment";
    case kApplyFailed:
      return "apply-failed";
    default:
      return "error";
  }
}

void print_json_error(std::FILE* out, const std::string& message, int code,
                      const std::vector<std::string>& more, const std::string& suggestion) {
  ojson e;
  e["message"] = message;
  e["kind"] = exit_kind(code);
  e["exit_code"] = code;
  if (!more.empty()) e["messages"] = more;
  if (!suggestion.empty()) e["suggestion"] = suggestion;
  ojson j;
  j["error"] = e;
  auto text = j.dump(2, ' ', false, ojson::error_handler_t::replace) + "\n";
  std::fwrite(text.data(), 1, text.size(), out);
  std::fflush(out);
}

int finish(const Context& ctx, int rc) {
  const auto& o = ctx.output;
  if (o.json && rc != kOk && !o.wrote_result && !o.errors.empty())
    print_json_error(o.out, o.errors.front(), rc, o.errors);
  return rc;
}

std::vector<std::string> verb_names(CLI::App& app) {
  std::vector<std::string> out;
  for (auto* s : app.get_subcommands([](CLI::App*) { return true; }))
    if (!s->get_group().empty()) out.push_back(s->get_name());  // hidden: __cli-tree
  return out;
}

int unknown_verb(CLI::App& app, const std::string& word, bool json) {
  auto near = ui::nearest(word, verb_names(app));
  return usage_error("unknown command '" + word + "'", near ? "exliar " + *near : "", "exliar help",
                     json);
}

int parse_failure(CLI::App& app, const CLI::ParseError& e, const std::vector<std::string>& args,
                  bool json) {
  if (is_help_or_version(e)) return app.exit(e) == 0 ? kOk : kUsage;
  Words w = words_of(app, args);
  std::string help = "exliar help";
  for (auto* a : w.path) help += " " + a->get_name();
  CLI::App* leaf = w.path.empty() ? &app : w.path.back();
  if (!w.stray.empty()) {
    auto near = ui::nearest(w.stray, verb_names(*leaf));
    std::string where = w.path.empty() ? "" : " of `" + command_line(w) + "`";
    return usage_error("unknown command '" + w.stray + "'" + where,
                       near ? command_line(w) + " " + *near : "", help, json);
  }
  // get_name() is the app's name for some errors; the exit code names the kind.
  if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::ExtrasError)) {
    // Unknown options: suggest the nearest option of the verb (or a global one).
    std::string tail = std::string(e.what());
    tail = tail.substr(tail.find(':') + 1);
    std::vector<std::string> extras;
    for (auto x : split_ws(tail)) extras.emplace_back(x);
    for (const auto& x : extras) {
      std::string opt = x.substr(0, x.find('='));
      if (opt.size() < 2 || opt[0] != '-') continue;
      auto near = ui::nearest(opt, option_names(leaf));
      return usage_error("unknown option '" + opt + "' for `" + command_line(w) + "`",
                         near ? command_line(w) + " " + *near : "", help, json);
    }
    return usage_error("unexpected argument" + std::string(extras.size() > 1 ? "s" : "") + " '" +
                           join(extras, "' '") + "' for `" + command_line(w) + "`",
                       "", help, json);
  }
  if (std::string(e.what()) == "A subcommand is required") {
    std::vector<std::string> names;
    for (auto* s : leaf->get_subcommands([](CLI::App*) { return true; }))
      names.push_back(s->get_name());
    return usage_error("`" + command_line(w) + "` needs a command: " + join(names, ", "), "", help,
                       json);
  }
  return usage_error(e.what(), "", help, json);
}

}  // namespace exliar::cli
