#include <unistd.h>

#include <cstdio>

#include "cli/commands.h"
#include "cli/output.h"

namespace exliar::cli {

int emit(Context& ctx, std::string_view text) {
  ctx.output.wrote_result = true;
  if (ctx.output_file.empty()) {
    std::fwrite(text.data(), 1, text.size(), ctx.output.out);
    std::fflush(ctx.output.out);
    return kOk;
  }
  // -o names a file on the machine running exliar, not inside --root.
  auto host = RealFs::open("/");
  if (!host) {
    ctx.output.wrote_result = false;
    error(ctx, host.error().describe());
    return kEnvironment;
  }
  std::string p = ctx.output_file;
  if (p.front() != '/') {
    char buf[4096];
    if (getcwd(buf, sizeof buf)) p = std::string(buf) + "/" + p;
  }
  if (auto r = host->write_atomic(p, text, 0644); !r) {
    ctx.output.wrote_result = false;
    error(ctx, r.error().describe());
    return kEnvironment;
  }
  return kOk;
}

// Host data (sysfs attributes, os-release, pci.ids names) may hold bytes that are not
// UTF-8; dump() would throw on them, so they are replaced by U+FFFD instead.
int emit_json(Context& ctx, const nlohmann::ordered_json& j) {
  return emit(ctx, j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n");
}

void say(const Context& ctx, std::string_view msg) {
  if (ctx.output.verbosity == Verbosity::quiet) return;
  std::fprintf(ctx.output.err, "%.*s\n", static_cast<int>(msg.size()), msg.data());
}

void error(const Context& ctx, std::string_view msg) {
  ctx.output.errors.emplace_back(msg);
  std::fprintf(ctx.output.err, "exliar: error: %.*s\n", static_cast<int>(msg.size()), msg.data());
}

}  // namespace exliar::cli
