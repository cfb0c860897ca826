#include "dynamic/vm_config.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "host/fs.h"
#include "host/paths.h"

namespace exliar::dynamic {

const char* to_string(Hypervisor h) { return h == Hypervisor::proxmox ? "proxmox" : "libvirt"; }

bool valid_vm_name(std::string_view n) {
  if (n.empty() || n.size() > 64 || n.front() == '.' || n.front() == '-') return false;
  return n.find_first_not_of(
             "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.+-") ==
         std::string_view::npos;
}

std::string vm_config_path(std::string_view name) {
  return path_join(paths::kExliarVmsDir, std::string(name) + ".json");
}

std::string format_vm_config(const VmConfig& c) {
  nlohmann::ordered_json j;
  j["schema_version"] = 1;
  j["name"] = c.name;
  j["gpu"] = c.gpu.str();
  j["functions"] = nlohmann::ordered_json::array();
  for (const auto& f : c.functions) j["functions"].push_back(f.str());
  j["mode"] = c.single_gpu ? "single-gpu" : "secondary";
  j["hypervisor"] = to_string(c.hypervisor);
  j["display_manager"] = c.display_manager ? nlohmann::ordered_json(*c.display_manager) : nullptr;
  j["unload_modules"] = c.unload_modules;
  return j.dump(2) + "\n";
}

namespace {

/// Line of a byte offset, for parse errors.
int line_of(std::string_view text, size_t byte) {
  int line = 1;
  for (size_t i = 0; i < byte && i < text.size(); ++i) line += text[i] == '\n';
  return line;
}

bool valid_module(const std::string& m) {
  return !m.empty() && m.size() < 64 &&
         m.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
             std::string::npos;
}

}  // namespace

Result<VmConfig> parse_vm_config(std::string_view text, std::string_view path) {
  std::string where(path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return fail(std::string("not valid JSON: ") + e.what(), where, 0,
                line_of(text, e.byte > 0 ? e.byte - 1 : 0));
  } catch (const nlohmann::json::exception& e) {
    return fail(std::string("not valid JSON: ") + e.what(), where);
  }
  auto bad = [&](const std::string& what) {
    return fail(what + " (rewrite it with `exliar vm disable` and `exliar vm enable`)", where);
  };
  try {
    if (!j.is_object()) return bad("expected a JSON object");
    if (j.value("schema_version", 0) != 1) return bad("schema_version must be 1");
    VmConfig c;
    c.name = j.at("name").get<std::string>();
    if (!valid_vm_name(c.name)) return bad("\"name\": \"" + c.name + "\" is not a valid VM name");
    auto gpu = parse_pci_address(j.at("gpu").get<std::string>());
    if (!gpu) return bad("\"gpu\" is not a PCI address like 0000:01:00.0");
    c.gpu = *gpu;
    for (const auto& f : j.at("functions")) {
      auto a = parse_pci_address(f.get<std::string>());
      if (!a) return bad("\"functions\" holds \"" + f.get<std::string>() + "\", not a PCI address");
      c.functions.push_back(*a);
    }
    if (c.functions.empty()) return bad("\"functions\" is empty");
    std::string mode = j.at("mode").get<std::string>();
    if (mode != "single-gpu" && mode != "secondary")
      return bad("\"mode\" must be \"single-gpu\" or \"secondary\", not \"" + mode + "\"");
    c.single_gpu = mode == "single-gpu";
    std::string hv = j.value("hypervisor", "libvirt");
    if (hv != "libvirt" && hv != "proxmox")
      return bad("\"hypervisor\" must be \"libvirt\" or \"proxmox\"");
    c.hypervisor = hv == "proxmox" ? Hypervisor::proxmox : Hypervisor::libvirt;
    if (j.contains("display_manager") && !j["display_manager"].is_null()) {
      std::string dm = j["display_manager"].get<std::string>();
      // A service name, passed as one argv word to systemctl / rc-service.
      if (dm.empty() || dm.front() == '-' || dm.find_first_of("/ \t\n") != std::string::npos)
        return bad("\"display_manager\": \"" + dm + "\" is not a service name");
      c.display_manager = dm;
    }
    if (j.contains("unload_modules"))
      for (const auto& m : j["unload_modules"]) {
        std::string s = m.get<std::string>();
        if (!valid_module(s)) return bad("\"unload_modules\": \"" + s + "\" is not a module name");
        c.unload_modules.push_back(s);
      }
    return c;
  } catch (const nlohmann::json::exception& e) {
    return bad(std::string("missing or mistyped field: ") + e.what());
  }
}

}  // namespace exliar::dynamic
