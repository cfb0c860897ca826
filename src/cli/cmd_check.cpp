// `exliar check`: a verdict per GPU, then the findings with evidence and fixes.
#include <fmt/format.h>

#include "analyze/findings.h"
#include "analyze/recommend.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "gpu/classify.h"
#include "gpu/db.h"
#include "host/text.h"
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

std::string finding_text(const analyze::Finding& f, bool color, bool verbose) {
  std::string out = fmt::format("  {} [{}] {}\n",
                                paint(color, color_of(f.severity), analyze::to_string(f.severity)),
                                f.id, f.message);
  for (const auto& e : f.evidence) out += "      read: " + e + "\n";
  if (verbose)
    for (const auto& p : f.provenance) out += "      source: " + p + "\n";
  if (f.fix) out += "      fix: " + *f.fix + "\n";
  return out;
}

// Findings of one subject, errors first, then warnings, then information (stable).
std::string findings_of(const analyze::Report& r, const std::string& subject, bool color,
                        bool verbose) {
  std::string out;
  for (Severity s : {Severity::error, Severity::warning, Severity::info})
    for (const auto& f : r.findings)
      if (f.subject == subject && f.severity == s) out += finding_text(f, color, verbose);
  return out;
}

std::string gpu_tags(const gpu::GpuInfo& g) {
  std::vector<std::string> t;
  t.push_back(g.gpu.integrated ? "integrated" : "discrete");
  if (g.gpu.boot_vga) t.push_back("boot GPU");
  return "(" + join(t, ", ") + ")";
}

std::string report_text(const analyze::Report& r, const analyze::Recommendation& rec,
                        const std::vector<gpu::GpuInfo>& gpus, bool color, bool verbose) {
  std::string out = paint(color, Color::bold, "Verdict") + "\n";
  if (r.verdicts.empty()) out += "  No GPU to check.\n";
  for (const auto& v : r.verdicts) {
    std::string name;
    for (const auto& g : gpus)
      if (g.gpu.address == v.gpu) name = g.name + " " + gpu_tags(g);
    Color c = v.status == VerdictStatus::blocked    ? Color::red
              : v.status == VerdictStatus::warnings ? Color::yellow
                                                    : Color::green;
    out += fmt::format("  {}  {}\n    {}\n", paint(color, Color::bold, v.gpu.str()), name,
                       paint(color, c, v.summary));
  }
  std::string system = findings_of(r, "system", color, verbose);
  if (!system.empty()) out += "\n" + paint(color, Color::bold, "System") + "\n" + system;
  for (const auto& v : r.verdicts) {
    std::string mine = findings_of(r, v.gpu.str(), color, verbose);
    if (!mine.empty()) out += "\n" + paint(color, Color::bold, "GPU " + v.gpu.str()) + "\n" + mine;
  }
  // Findings about other subjects (a companion function, ...) keep their own heading.
  for (const auto& f : r.findings) {
    bool known = f.subject == "system";
    for (const auto& v : r.verdicts) known |= f.subject == v.gpu.str();
    if (!known)
      out += "\n" + paint(color, Color::bold, f.subject) + "\n" + finding_text(f, color, verbose);
  }
  out += "\n";
  if (rec.gpu) {
    std::string name;
    for (const auto& g : gpus)
      if (g.gpu.address == *rec.gpu) name = g.name;
    out += paint(color, Color::bold, "Recommended: " + rec.gpu->str()) + "  " + name + "\n";
    out += "  why: " + rec.reason + "\n";
  } else {
    out += paint(color, Color::bold, "Recommended: none") + "\n  why: " + rec.reason + "\n";
  }
  if (rec.next)
    out += "Next: " + paint(color, Color::bold, *rec.next) +
           " (a dry run: shows every change, changes nothing)\n";
  else if (!rec.candidates.empty())
    out += "Next: exliar plan --gpu ADDR with one of the GPUs above\n";
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
  auto rec = analyze::recommend(report, gpus);
  int rc = kOk;
  if (ctx.output.json) {
    auto j = analyze::report_to_json(report);
    j["recommended"] = analyze::recommendation_to_json(rec);
    rc = emit_json(ctx, j);
  } else {
    rc = emit(ctx, report_text(report, rec, gpus, ctx.output.color,
                               ctx.output.verbosity == Verbosity::verbose));
  }
  if (rc != kOk) return rc;
  return analyze::check_exit_code(report) == 0 ? kOk : kFindings;
}

}  // namespace exliar::cli
