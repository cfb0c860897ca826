// `exliar gpu ADDR`: the live view of one GPU from its sysfs attributes.
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/output.h"
#include "gpu/classify.h"
#include "gpu/db.h"
#include "gpu/gpu_json.h"
#include "host/paths.h"
#include "host/text.h"
#include "ui/text.h"

namespace exliar::cli {

namespace {

using json = nlohmann::ordered_json;

struct Live {
  std::optional<std::string> power_state, cur_speed, cur_width, max_speed, max_width, reset_methods;
  bool rom = false;
  std::optional<std::string> hwmon_name;
  std::optional<double> temp_c, power_w;
};

std::optional<std::string> read_attr(const Fs& fs, const std::string& dir, std::string_view name) {
  auto t = fs.read_file(path_join(dir, name));
  if (!t) return std::nullopt;
  auto v = std::string(trim(*t));
  if (v.empty()) return std::nullopt;
  return v;
}

Live read_live(const Fs& fs, const PciAddress& a) {
  std::string dir = path_join(paths::kPciDevices, a.str());
  Live l;
  l.power_state = read_attr(fs, dir, "power_state");
  l.cur_speed = read_attr(fs, dir, "current_link_speed");
  l.cur_width = read_attr(fs, dir, "current_link_width");
  l.max_speed = read_attr(fs, dir, "max_link_speed");
  l.max_width = read_attr(fs, dir, "max_link_width");
  l.reset_methods = read_attr(fs, dir, "reset_method");
  l.rom = fs.exists(path_join(dir, "rom"));
  // hwmon exists only while a native driver (amdgpu, nouveau, i915/xe) is bound.
  if (auto hw = fs.list_dir(path_join(dir, "hwmon")); hw && !hw->empty()) {
    std::string h = path_join(path_join(dir, "hwmon"), hw->front());
    l.hwmon_name = read_attr(fs, h, "name");
    if (auto t = read_attr(fs, h, "temp1_input"); t)
      if (auto v = parse_long(*t)) l.temp_c = double(*v) / 1000.0;
    for (auto n : {"power1_average", "power1_input"})
      if (auto p = read_attr(fs, h, n); p && !l.power_w)
        if (auto v = parse_long(*p)) l.power_w = double(*v) / 1e6;
  }
  return l;
}

std::string or_unknown(const std::optional<std::string>& v) { return v ? *v : "unknown"; }

bool reset_attr_present(const Fs& fs, const PciAddress& a) {
  return fs.exists(path_join(path_join(paths::kPciDevices, a.str()), "reset_method"));
}

// hwmon is created by the native driver (amdgpu, nouveau, i915/xe); say what the driver
// state means for it instead of a bare "none" that could contradict the Driver row.
std::string sensors_text(const gpu::GpuInfo& g, const Live& l) {
  if (l.hwmon_name || l.temp_c || l.power_w)
    return fmt::format("{}: {}{}", l.hwmon_name ? *l.hwmon_name : "hwmon (unnamed)",
                       l.temp_c ? fmt::format("{:.1f} °C", *l.temp_c) : "no temperature reading",
                       l.power_w ? fmt::format(", {:.1f} W", *l.power_w) : "");
  if (!g.driver) return "not available: no driver is bound (hwmon comes with a native driver)";
  if (*g.driver == "vfio-pci")
    return "not available while vfio-pci holds the GPU (hwmon comes with a native driver)";
  return "not available: " + *g.driver + " exposes no hwmon sensors for this GPU";
}

}  // namespace

int run_gpu(Context& ctx, const GpuOptions& o) {
  auto addr = parse_pci_address(o.address);
  if (!addr) {
    error(ctx, o.address + ": not a PCI address (expected 0000:01:00.0)");
    return kUsage;
  }
  auto classified = probe_and_classify(ctx);
  if (!classified) return kEnvironment;
  const auto& gpus = classified->gpus;
  const gpu::GpuInfo* g = nullptr;
  for (const auto& x : gpus)
    if (x.gpu.address == *addr) g = &x;
  if (!g) {
    error(ctx, addr->str() + ": no GPU at this address (see `exliar detect`)");
    return kUsage;
  }
  Live l = read_live(ctx.fs, *addr);
  if (ctx.output.json) {
    auto opt = [](const auto& v) { return v ? json(*v) : json(nullptr); };
    json j;
    j["address"] = addr->str();
    j["name"] = g->name;
    j["driver"] = opt(g->driver);
    j["power_state"] = opt(l.power_state);
    j["link"] = {{"current_speed", opt(l.cur_speed)},
                 {"current_width", opt(l.cur_width)},
                 {"max_speed", opt(l.max_speed)},
                 {"max_width", opt(l.max_width)}};
    j["reset_methods"] = l.reset_methods ? json(split_ws(*l.reset_methods)) : json::array();
    j["rom"] = l.rom;
    j["hwmon"] = {
        {"name", opt(l.hwmon_name)}, {"temp_c", opt(l.temp_c)}, {"power_w", opt(l.power_w)}};
    j["db"] = gpu::caps_to_json(*g);
    return emit_json(ctx, j);
  }
  bool c = ctx.output.color;
  std::vector<std::vector<std::string>> rows = {
      {"Model", g->name},
      {"Driver", g->driver ? *g->driver : "none bound"},
      {"Power state", l.power_state ? *l.power_state : "unknown (no power_state attribute)"},
      {"Link speed", fmt::format("{} (max {})", or_unknown(l.cur_speed), or_unknown(l.max_speed))},
      {"Link width", fmt::format("{} (max {})", l.cur_width ? "x" + *l.cur_width : "unknown",
                                 l.max_width ? "x" + *l.max_width : "unknown")},
      // reset_method exists since Linux 5.15; an empty one means no reset method.
      {"Reset methods", l.reset_methods ? *l.reset_methods
                        : reset_attr_present(ctx.fs, *addr)
                            ? "none (the kernel knows no way to reset this function)"
                            : "unknown (no reset_method attribute: kernel before 5.15)"},
      {"ROM", l.rom ? "rom attribute present (readable once enabled)" : "no rom attribute"},
      {"Sensors", sensors_text(*g, l)},
  };
  return emit(ctx,
              ui::paint(c, ui::Color::bold, addr->str()) + "\n" + ui::render_table({}, rows, "  "));
}

}  // namespace exliar::cli
