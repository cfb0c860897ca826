#include <fmt/format.h>

#include <map>

#include "cli/commands.h"
#include "cli/json_stream.h"
#include "cli/output.h"
#include "gpu/classify.h"
#include "gpu/db.h"
#include "gpu/gpu_json.h"
#include "host/text.h"
#include "probe/inventory_json.h"
#include "probe/probe.h"
#include "ui/describe.h"
#include "ui/text.h"

namespace exliar::cli {

namespace {

using ui::Color;
using ui::paint;

std::string system_text(const Inventory& inv, bool color) {
  const System& s = inv.system;
  auto val = [](const std::optional<std::string>& v) { return v ? *v : std::string("unknown"); };
  std::string distro = s.distro.pretty_name ? *s.distro.pretty_name : val(s.distro.id);
  if (s.distro.id && s.distro.pretty_name) distro += " (" + *s.distro.id + ")";
  std::string cpu = val(s.cpu.model) + " (" + to_string(s.cpu.vendor) + ", virtualization: " +
                    (s.cpu.virtualization == Virtualization::none
                         ? paint(color, Color::red, "none")
                         : std::string(to_string(s.cpu.virtualization))) +
                    ")";
  std::string boot = to_string(s.bootloader);
  if (!s.bootloader_evidence.empty()) boot += " (from " + s.bootloader_evidence + ")";
  std::string iommu;
  if (s.iommu.active) {
    iommu = paint(color, Color::green, "active") + fmt::format(", {} groups", s.iommu.group_count);
  } else {
    iommu = paint(color, Color::red, "not active") +
            " (no IOMMU groups: the IOMMU is off, absent or not enabled in firmware)";
  }
  if (!s.iommu.cmdline.empty()) iommu += "; cmdline: " + join(s.iommu.cmdline, " ");
  std::vector<std::vector<std::string>> rows = {
      {"Kernel", val(s.kernel)},
      {"Distribution", distro},
      {"CPU", cpu},
      {"Bootloader", boot},
      {"Init system", to_string(s.init)},
      {"Initramfs", to_string(s.initramfs)},
      {"Secure Boot", to_string(s.secure_boot)},
      {"IOMMU", iommu},
  };
  return paint(color, Color::bold, "System") + "\n" + ui::render_table({}, rows, "  ");
}

// gpus: the classified view, so that an APU's GPU is "integrated" here as in --json (the
// probe alone recognises only Intel's bus-0 iGPUs).
std::string gpus_text(const Inventory& inv, const std::vector<gpu::GpuInfo>& gpus, bool color) {
  std::string out = paint(color, Color::bold, "GPUs") + "\n";
  if (gpus.empty()) {
    return out + "  No GPU found: no PCI function of display class (03xx) on this system.\n";
  }
  for (const auto& info : gpus) {
    const Gpu& g = info.gpu;
    const PciDevice* d = inv.find(g.address);
    Color c = g.isolation == Isolation::isolated ? Color::green
              : g.isolation == Isolation::shared ? Color::yellow
                                                 : Color::red;
    out += fmt::format("  {}  {}\n", paint(color, Color::bold, g.address.str()),
                       d ? ui::device_label(*d) : "");
    std::vector<std::string> fns;
    for (const auto& f : g.functions) fns.push_back(f.str());
    out += fmt::format("    vendor {}, {}{}, IOMMU group {}: {}\n", to_string(g.vendor),
                       g.integrated ? "integrated" : "discrete", g.boot_vga ? ", boot VGA" : "",
                       g.iommu_group ? std::to_string(*g.iommu_group) : "none",
                       paint(color, c, ui::isolation_label(g)));
    out += fmt::format("    functions: {}; driver: {}\n", join(fns, ", "),
                       d && d->driver ? *d->driver : "none");
  }
  return out;
}

std::string device_row_text(const PciDevice& d) {
  return fmt::format("    {}  [{:04x}]  {}{}\n", d.address.str(), d.class_sub(),
                     ui::device_label(d), d.driver ? " (driver " + *d.driver + ")" : "");
}

std::string devices_text(const Inventory& inv, bool color) {
  std::string out;
  if (inv.groups.empty()) {
    out += paint(color, Color::bold, "Devices") + " (no IOMMU groups)\n";
    for (const auto& d : inv.devices) out += device_row_text(d);
    return out;
  }
  out += paint(color, Color::bold, "Devices by IOMMU group") + "\n";
  for (const auto& g : inv.groups) {
    out += fmt::format("  Group {}\n", g.id);
    for (const auto& a : g.devices)
      if (const PciDevice* d = inv.find(a))
        out += device_row_text(*d);
      else
        out += fmt::format("    {}  (listed in the group, not found in the PCI scan)\n", a.str());
  }
  std::string ungrouped;
  for (const auto& d : inv.devices)
    if (!d.iommu_group) ungrouped += device_row_text(d);
  if (!ungrouped.empty()) out += "  Not in any group\n" + ungrouped;
  return out;
}

// Written member by member and device by device: memory stays flat at 8192 functions.
int detect_json(Context& ctx, const Inventory& inv, const std::vector<gpu::GpuInfo>& gpus) {
  JsonStream out(ctx);
  out.member("schema_version", 1);
  out.member("system", system_to_json(inv.system));
  out.begin_array("devices");
  for (const auto& d : inv.devices) out.element(device_to_json(d));
  out.end_array();
  out.begin_array("iommu_groups");
  for (const auto& g : inv.groups) out.element(group_to_json(g));
  out.end_array();
  // gpus[].db: what the GPU database says about each GPU (fields added, none renamed).
  std::map<PciAddress, const gpu::GpuInfo*> classified;
  for (const auto& g : gpus) classified[g.gpu.address] = &g;
  out.begin_array("gpus");
  for (const auto& g : inv.gpus) {
    auto j = gpu_to_json(g);
    if (auto it = classified.find(g.address); it != classified.end())
      gpu::augment_gpu_json(j, *it->second);
    out.element(j);
  }
  out.end_array();
  if (!inv.notes.empty()) {
    out.begin_array("notes");
    for (const auto& n : inv.notes) out.element(note_to_json(n));
    out.end_array();
  }
  return out.finish();
}

}  // namespace

void print_notes(const Context& ctx, const Inventory& inv) {
  if (ctx.output.verbosity == Verbosity::quiet) return;
  for (const auto& n : inv.notes)
    std::fprintf(ctx.output.err, "exliar: warning: %s: %s\n", n.path.c_str(), n.message.c_str());
}

int run_detect(Context& ctx) {
  Inventory inv = probe_host(ctx);
  auto db = gpu::load_gpu_db(ctx.gpu_db_dir);
  if (!db) {
    error(ctx, "GPU database: " + db.error().describe());
    return kEnvironment;
  }
  auto gpus = gpu::classify(inv, *db);
  if (ctx.output.json) return detect_json(ctx, inv, gpus);
  bool color = ctx.output.color;
  return emit(ctx, system_text(inv, color) + "\n" + gpus_text(inv, gpus, color) + "\n" +
                       devices_text(inv, color));
}

}  // namespace exliar::cli
