// `exliar check`: a verdict per GPU, then the findings with evidence and fixes.
#include <fmt/format.h>

#include "analyze/findings.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "gpu/classify.h"
#include "gpu/db.h"
#include "ui/text.h"

namespace exliar::cli {

namespace {

using analyze::Severity;
using analyze::VerdictStatus;
using ui::Color;
using ui::paint;

Color color_of(Severity s) {
  return s == Severity::error ? Color::red : s == Severity::warning ? Color::yellow : Color::cyan;
}

std::string report_text(const analyze::Report& r, const std::vector<gpu::GpuInfo>& gpus,
                        bool color) {
  std::string out = paint(color, Color::bold, "Verdict") + "\n";
  if (r.verdicts.empty()) out += "  No GPU to check.\n";
  for (const auto& v : r.verdicts) {
    std::string name;
    for (const auto& g : gpus)
      if (g.gpu.address == v.gpu) name = g.name;
    Color c = v.status == VerdictStatus::blocked    ? Color::red
              : v.status == VerdictStatus::warnings ? Color::yellow
                                                    : Color::green;
    out += fmt::format("  {}  {}\n    {}\n", paint(color, Color::bold, v.gpu.str()), name,
                       paint(color, c, v.summary));
  }
  out += "\n" + paint(color, Color::bold, "Findings") + "\n";
  if (r.findings.empty()) out += "  none\n";
  for (const auto& f : r.findings) {
    out += fmt::format("  {} [{}] {}: {}\n",
                       paint(color, color_of(f.severity), analyze::to_string(f.severity)), f.id,
                       f.subject, f.message);
    for (const auto& e : f.evidence) out += "      read: " + e + "\n";
    if (f.fix) out += "      fix: " + *f.fix + "\n";
  }
  return out;
}

}  // namespace

int run_check(Context& ctx, const CheckOptions& o) {
  std::optional<PciAddress> only;
  if (!o.gpu.empty()) {
    only = parse_pci_address(o.gpu);
    if (!only) {
      error(ctx, "--gpu " + o.gpu + ": not a PCI address (expected 0000:01:00.0)");
      return kUsage;
    }
  }
  auto classified = probe_and_classify(ctx);
  if (!classified) return kEnvironment;
  const Inventory& inv = classified->inv;
  const auto& gpus = classified->gpus;
  if (only) {
    bool found = false;
    for (const auto& g : gpus) found |= g.gpu.address == *only;
    if (!found) {
      error(ctx, "--gpu " + only->str() + ": no GPU at this address (see `exliar detect`)");
      return kUsage;
    }
  }
  auto facts = analyze::gather_config_facts(ctx.fs);
  auto report = analyze::analyze(inv, gpus, facts, only);
  int rc = ctx.output.json ? emit_json(ctx, analyze::report_to_json(report))
                           : emit(ctx, report_text(report, gpus, ctx.output.color));
  if (rc != kOk) return rc;
  return analyze::check_exit_code(report) == 0 ? kOk : kFindings;
}

}  // namespace exliar::cli
