// C views handed to plugins, and the JSON events handed to hook scripts. The views own
// the strings they point to, so pointers stay valid for the duration of a callback.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "exliar/plugin.h"
#include "plugin/host.h"

namespace exliar {

struct DeviceView {
  DeviceView(const PciDevice& d, const Inventory& inv);
  DeviceView(const DeviceView&) = delete;
  std::string address, driver, vendor_name, device_name;
  exliar_device_view c{};
};

struct BindView {
  explicit BindView(const BindEvent& e);
  BindView(const BindView&) = delete;
  std::vector<std::string> strings;  // addresses and drivers (stable: reserved up front)
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

/// {"event": hook, ...extra}
std::string hook_json(const char* hook, const std::map<std::string, std::string>& extra);
std::string device_event_json(const PciDevice& d, const Inventory& inv);
std::string bind_event_json(const char* hook, const BindEvent& e);

}  // namespace exliar
