// The terminal UI as values: what each screen shows (TuiData, filled from the pipeline's
// results by cmd_tui.cpp), where the user is (Model), update(Model, Key) and
// view(Model) -> Screen. No decisions about the machine are made here: verdicts, the
// recommendation, plans, reboot needs and transactions all come from analyze/plan/state.
// ncurses only blits the Screen (term.cpp), so the same views work in tmux, over SSH and
// on the Linux console.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace exliar::ui::tui {

enum class Attr { normal, bold, selected, good, warn, bad, dim, title };

struct Line {
  std::string text;
  Attr attr = Attr::normal;
};

struct Screen {
  int width = 80, height = 24;
  std::vector<Line> rows;  ///< exactly height rows, each at most width columns
};

struct GpuRow {
  std::string address, name, tags;  ///< tags: "discrete, boot GPU"
  std::string status;               ///< "ready", "warnings", "blocked"
  std::string summary;              ///< the verdict's sentence
  bool recommended = false;
  std::vector<Line> detail;  ///< functions, group, findings with fixes, database facts
};

struct PlanView {
  std::string title;                 ///< "Plan: apply --gpu ... (6 steps)" or the planner's error
  std::vector<Line> body;            ///< steps with their diffs
  std::vector<std::string> changes;  ///< one line per step, for the confirmation
  bool ok = false;
  bool in_effect = false;
};

struct TxRow {
  std::string id, state, command, time;
};

/// What the pipeline computed, plus the actions the UI may ask for.
struct TuiData {
  std::string root;                                          ///< shown in confirmations
  std::vector<std::pair<std::string, std::string>> summary;  ///< label, value
  std::vector<GpuRow> gpus;
  std::string recommendation;  ///< "0000:01:00.0: why" or "none: why"
  /// plan(gpu, bind "ids"|"address"|"", acs_override) -> the plan for these options.
  std::function<PlanView(const std::string&, const std::string&, bool)> plan;
  /// apply the last planned options; returns the result screen's lines.
  std::function<std::vector<Line>(const std::string&, const std::string&, bool)> apply;
  std::function<std::vector<TxRow>()> transactions;
  std::function<std::vector<Line>(const std::string&)> rollback;
};

enum class View { summary, gpus, detail, plan, confirm, result, status, confirm_rollback };

enum class Key {
  up,
  down,
  page_up,
  page_down,
  enter,
  back,
  tab,
  help,
  quit,
  plan,
  status,
  yes,
  no,
  bind,
  acs,
  other
};

struct Model {
  View view = View::summary;
  size_t gpu = 0;     ///< selected GPU
  size_t tx = 0;      ///< selected transaction
  size_t scroll = 0;  ///< first body row shown
  bool help = false;
  bool done = false;  ///< leave the UI
  std::string bind;   ///< plan toggles
  bool acs = false;
  PlanView plan;
  std::vector<Line> result;
  std::vector<TxRow> txs;
  View back_to = View::summary;
};

/// Starting model: the recommended GPU selected.
Model start(const TuiData& d);
/// Pure apart from the TuiData actions a key asks for (plan, apply, rollback).
Model update(Model m, Key k, const TuiData& d, int height);
Screen view(const Model& m, const TuiData& d, int width, int height);

/// Cuts UTF-8 text to `width` code points ("…" marks a cut).
std::string fit(const std::string& s, size_t width);

}  // namespace exliar::ui::tui
