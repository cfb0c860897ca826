// `exliar tui` (and `exliar` alone on a terminal): fills the UI's data from the same
// pipeline functions the CLI verbs use (probe, classify, analyze, recommend, the planner,
// the transaction engine) and hands it to src/ui/tui. The UI decides nothing itself.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

#include "analyze/findings.h"
#include "analyze/recommend.h"
#include "cli/cli_plan_view.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "gpu/gpu_json.h"
#include "host/text.h"
#include "plan/next_steps.h"
#include "state/journal.h"
#include "ui/describe.h"
#include "ui/tui/term.h"

namespace exliar::cli {

namespace {

using ui::tui::Attr;
using ui::tui::Line;

// What a command would print, captured instead of drawn over the screen.
class Capture {
 public:
  Capture() : f_(open_memstream(&buf_, &len_)) {}
  ~Capture() {
    if (f_) std::fclose(f_);
    std::free(buf_);
  }
  std::FILE* file() { return f_; }
  std::string take() {
    std::fflush(f_);
    return std::string(buf_ ? buf_ : "", len_);
  }

 private:
  char* buf_ = nullptr;
  size_t len_ = 0;
  std::FILE* f_;
};

// The context apply and rollback run in from the UI: their output captured, progress lines
// on (as on a terminal), confirmed already (the UI asked).
Context captured(const Context& base, Capture& out, Capture& err) {
  Context c = base;
  c.output.out = out.file();
  c.output.err = err.file();
  c.output.err_is_tty = true;
  c.output.verbosity = Verbosity::normal;
  c.yes = true;
  return c;
}

std::vector<Line> lines_of(const std::string& text, Attr a = Attr::normal) {
  std::vector<Line> out;
  for (auto l : split_lines(text)) out.push_back({std::string(l), a});
  return out;
}

std::vector<std::pair<std::string, std::string>> summary_of(const Inventory& inv) {
  const System& s = inv.system;
  auto val = [](const std::optional<std::string>& v) { return v ? *v : std::string("unknown"); };
  std::string distro = s.distro.pretty_name ? *s.distro.pretty_name : val(s.distro.id);
  std::string iommu = s.iommu.active ? fmt::format("active, {} groups", s.iommu.group_count)
                                     : "not active (no IOMMU groups)";
  if (!s.iommu.cmdline.empty()) iommu += "; " + join(s.iommu.cmdline, " ");
  return {{"System", distro + ", kernel " + val(s.kernel)},
          {"CPU", val(s.cpu.model) + " (virtualization: " + to_string(s.cpu.virtualization) + ")"},
          {"IOMMU", iommu},
          {"Bootloader", to_string(s.bootloader)},
          {"Initramfs", to_string(s.initramfs)},
          {"Secure Boot", to_string(s.secure_boot)},
          {"GPUs", std::to_string(inv.gpus.size())}};
}

std::vector<Line> detail_of(const Inventory& inv, const gpu::GpuInfo& g, const analyze::Report& r) {
  std::vector<Line> d;
  d.push_back({""});
  d.push_back({"Functions (given to the VM together)", Attr::bold});
  for (const auto& a : g.vm_functions()) {
    const PciDevice* p = inv.find(a);
    d.push_back({"  " + a.str() + "  " + (p ? ui::device_label(*p) : "") +
                 (p && p->driver ? " (driver " + *p->driver + ")" : "")});
  }
  d.push_back({""});
  d.push_back({"IOMMU group " +
                   (g.gpu.iommu_group ? std::to_string(*g.gpu.iommu_group) : std::string("none")) +
                   ": " + ui::isolation_label(g.gpu),
               g.gpu.isolation == Isolation::isolated ? Attr::good : Attr::warn});
  for (const auto& grp : inv.groups)
    if (g.gpu.iommu_group && grp.id == *g.gpu.iommu_group)
      for (const auto& a : grp.devices)
        if (const PciDevice* p = inv.find(a))
          d.push_back({"  " + a.str() + "  [" + fmt::format("{:04x}", p->class_sub()) + "] " +
                       ui::device_label(*p)});
  d.push_back({""});
  d.push_back({"Findings", Attr::bold});
  bool any = false;
  for (auto sev : {analyze::Severity::error, analyze::Severity::warning, analyze::Severity::info})
    for (const auto& f : r.findings) {
      if (f.severity != sev || (f.subject != g.gpu.address.str() && f.subject != "system"))
        continue;
      any = true;
      Attr a = sev == analyze::Severity::error     ? Attr::bad
               : sev == analyze::Severity::warning ? Attr::warn
                                                   : Attr::normal;
      d.push_back(
          {std::string("  ") + analyze::to_string(sev) + " [" + f.id + "] " + f.message, a});
      if (f.fix) d.push_back({"      fix: " + *f.fix});
    }
  if (!any) d.push_back({"  none"});
  d.push_back({""});
  d.push_back({"GPU database", Attr::bold});
  auto caps = gpu::caps_to_json(g);
  for (const auto& [k, v] : caps.items())
    d.push_back({"  " + k + ": " + (v.is_string() ? v.get<std::string>() : v.dump())});
  return d;
}

}  // namespace

int run_tui(Context& ctx) {
  if (!::isatty(STDIN_FILENO) || !::isatty(STDOUT_FILENO)) {
    error(ctx,
          "the terminal UI needs a terminal on stdin and stdout; use `exliar check` and "
          "`exliar plan` in scripts");
    return kUsage;
  }
  // Messages of the pipeline (probe notes, plugin warnings) must not draw over the screen.
  Capture quiet;
  Context base = ctx;
  base.output.err = quiet.file();
  base.output.json = false;
  base.output.color = false;
  auto classified = probe_and_classify(base);
  if (!classified) {
    std::fputs(quiet.take().c_str(), stderr);
    return kEnvironment;
  }
  const Inventory& inv = classified->inv;
  const auto& gpus = classified->gpus;
  auto facts = analyze::gather_config_facts(ctx.fs);
  auto report = analyze::analyze(inv, gpus, facts);
  auto rec = analyze::recommend(report, gpus);

  ui::tui::TuiData d;
  d.root = ctx.fs.root();
  d.summary = summary_of(inv);
  d.recommendation = (rec.gpu ? rec.gpu->str() : std::string("none")) + ": " + rec.reason;
  for (const auto& g : gpus) {
    ui::tui::GpuRow row{g.gpu.address.str(), g.name,
                        std::string(g.gpu.integrated ? "integrated" : "discrete") +
                            (g.gpu.boot_vga ? ", boot GPU" : "")};
    for (const auto& v : report.verdicts)
      if (v.gpu == g.gpu.address) {
        row.status = analyze::to_string(v.status);
        row.summary = v.summary;
      }
    row.recommended = rec.gpu && *rec.gpu == g.gpu.address;
    row.detail = detail_of(inv, g, report);
    d.gpus.push_back(std::move(row));
  }
  auto options = [](const std::string& gpu, const std::string& bind, bool acs) {
    PlanOptions o;
    o.gpu = gpu;
    o.bind = bind;
    o.acs_override = acs;
    return o;
  };
  d.plan = [&](const std::string& gpu, const std::string& bind, bool acs) {
    ui::tui::PlanView v;
    Context c = base;
    auto plan = build_plan(c, options(gpu, bind, acs));
    if (!plan) {
      v.title = "No plan: " + plan.error().describe();
      return v;
    }
    auto text = lines_of(render_plan(*plan, false, ctx.fs.is_live()));
    v.title = text.empty() ? "Plan" : text.front().text;
    v.body.assign(text.begin() + (text.empty() ? 0 : 1), text.end());
    for (auto& l : v.body)
      if (l.text.rfind("[", 0) == 0) l.attr = Attr::bold;
    for (const auto& s : plan->steps) v.changes.push_back(step_label(s));
    v.ok = true;
    v.in_effect = plan->steps.empty() || plan_in_effect(ctx.fs, *plan);
    return v;
  };
  // Apply and rollback run the CLI's own code paths with their output captured: the
  // progress events ([k/n] lines) and the next steps appear on the result screen.
  d.apply = [&](const std::string& gpu, const std::string& bind, bool acs) {
    Capture out, err;
    Context c = captured(base, out, err);
    auto plan = build_plan(c, options(gpu, bind, acs));
    int rc = plan ? run_confirmed(c, *plan) : kEnvironment;
    if (!plan) error(c, plan.error().describe());
    std::vector<Line> r = lines_of(err.take(), Attr::dim);
    r.push_back({""});
    auto o = lines_of(out.take());
    r.insert(r.end(), o.begin(), o.end());
    if (rc != kOk)
      r.push_back({fmt::format("Failed (exit {}): nothing was left half-done.", rc), Attr::bad});
    return r;
  };
  d.transactions = [&] {
    std::vector<ui::tui::TxRow> rows;
    if (auto all = load_transactions(ctx.fs)) {
      for (const auto& e : *all) {
        if (e.tx)
          rows.push_back({e.id, tx_state_name(e.tx->state), e.tx->plan.intent.command, e.tx->time});
        else
          rows.push_back({e.id, "damaged", e.error.describe(), ""});
      }
    }
    return rows;
  };
  d.rollback = [&](const std::string& id) {
    Capture out, err;
    Context c = captured(base, out, err);
    RollbackOptions o;
    o.id = id;
    int rc = run_rollback(c, o);
    std::vector<Line> r = lines_of(err.take(), Attr::dim);
    auto t = lines_of(out.take());
    r.insert(r.end(), t.begin(), t.end());
    if (rc != kOk) r.push_back({fmt::format("Failed (exit {}).", rc), Attr::bad});
    return r;
  };
  return ui::tui::run_terminal(d, ctx.output.color);
}

}  // namespace exliar::cli
