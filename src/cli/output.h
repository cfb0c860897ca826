// Where results go: stdout, or -o FILE written atomically.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "gpu/classify.h"
#include "host/context.h"
#include "probe/inventory.h"

namespace exliar::cli {

/// Writes the result text; returns an exit code (0, or kEnvironment when -o fails).
int emit(Context& ctx, std::string_view text);
int emit_json(Context& ctx, const nlohmann::ordered_json& j);
/// A message to stderr ("exliar: ..."), unless --quiet and not an error.
void say(const Context& ctx, std::string_view msg);
void error(const Context& ctx, std::string_view msg);
/// Probe notes (unreadable optional data) as warnings on stderr.
void print_notes(const Context& ctx, const Inventory& inv);
/// probe() plus plugins (on_init, on_device_detect annotations) and warnings on stderr.
Inventory probe_host(Context& ctx);

/// probe_host plus the GPU database (--gpu-db) and the classification of every GPU.
struct Classified {
  Inventory inv;
  std::vector<gpu::GpuInfo> gpus;
};
/// Fails (after printing why) only when the GPU database cannot be loaded.
std::optional<Classified> probe_and_classify(Context& ctx);

}  // namespace exliar::cli
