// What plugins and hook scripts are told. Plugins run in a child process (see
// plugin/process.h), so an event crosses a process boundary: the parent turns the
// inventory into plain "facts" and serializes them; the child rebuilds the C views of
// include/exliar/plugin.h from them. The views own the strings they point to, so the
// pointers stay valid for the duration of a callback.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "exliar/plugin.h"
#include "plugin/host.h"

namespace exliar {

/// One PCI function as a plugin sees it.
struct DeviceFacts {
  std::string address;
  std::uint16_t vendor_id = 0, device_id = 0, subsystem_vendor_id = 0, subsystem_device_id = 0;
  std::uint32_t class_code = 0;
  std::optional<std::string> driver, vendor_name, device_name;
  int iommu_group = -1;
  bool is_gpu = false, boot_vga = false;
};

/// with_names: pci.ids names too (on_device_detect; bind views leave them NULL).
DeviceFacts device_facts(const PciDevice& d, bool is_gpu, bool with_names);
nlohmann::json facts_json(const DeviceFacts& f);
DeviceFacts facts_from_json(const nlohmann::json& j);  ///< throws nlohmann::json::exception

struct BindFacts {
  std::string transaction_id, kind;
  std::vector<DeviceFacts> devices;
};
BindFacts bind_facts(const BindEvent& e);
nlohmann::json bind_facts_json(const BindFacts& b);
BindFacts bind_facts_from_json(const nlohmann::json& j);

struct DeviceView {
  explicit DeviceView(const DeviceFacts& f);
  DeviceView(const DeviceView&) = delete;
  DeviceFacts facts;
  exliar_device_view c{};
};

struct BindView {
  explicit BindView(const BindFacts& b);
  BindView(const BindView&) = delete;
  BindFacts facts;  // owns every string the C views point to
  std::vector<exliar_device_view> devices;
  exliar_bind_view c{};
};

/// Collects annotations; keys are prefixed with the plugin's name ("name.key").
struct Annotator {
  Annotator(std::map<std::string, std::string>& out, std::string plugin);
  std::map<std::string, std::string>& out;
  std::string plugin;
  exliar_annotator c{};
};

/// Longest key or value an annotation may have (plugin.h: "over 256 bytes" is invalid).
inline constexpr size_t kMaxAnnotationBytes = 256;

/// A C string from plugin memory, read at most max bytes far: plugin strings are
/// untrusted and may lack their terminator (ASan found the loader reading past one).
/// Control characters become '?', so a message cannot rewrite the user's terminal.
std::string bounded_string(const char* s, size_t max);

/// {"event": hook, ...extra}
std::string hook_json(const char* hook, const std::map<std::string, std::string>& extra);
std::string device_event_json(const PciDevice& d, const Inventory& inv);
std::string bind_event_json(const char* hook, const BindEvent& e);

}  // namespace exliar
