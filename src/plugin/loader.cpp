// Finding and loading plugins. A plugin that fails to load is recorded with the reason
// (ownership, dlerror(), ABI mismatch) and never stops exliar.
#include <dlfcn.h>
#include <fmt/format.h>

#include "exliar/plugin.h"
#include "host/paths.h"
#include "plugin/host.h"
#include "plugin/views.h"

namespace exliar {

const char* to_string(LoadStatus s) {
  switch (s) {
    case LoadStatus::loaded:
      return "loaded";
    case LoadStatus::refused:
      return "refused";
    default:
      return "failed";
  }
}

struct PluginHost::Loaded {
  void* handle = nullptr;
  const exliar_plugin_v1* api = nullptr;
  std::string name;
  ~Loaded() {
    if (handle) ::dlclose(handle);
  }
};

namespace {

void load_plugin(const Fs& fs, const std::string& path, PluginRecord& rec, void*& handle,
                 const exliar_plugin_v1*& api) {
  auto real = trusted_path(fs, path);
  if (!real) {
    rec.status = LoadStatus::refused;
    rec.reason = real.error().message;
    return;
  }
  // RTLD_LOCAL: plugins cannot see each other's symbols; RTLD_NOW: fail at load, not later.
  handle = ::dlopen(fs.display(*real).c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    rec.reason = ::dlerror();
    return;
  }
  ::dlerror();
  auto entry = reinterpret_cast<exliar_plugin_v1_fn>(::dlsym(handle, EXLIAR_PLUGIN_V1_SYMBOL));
  if (!entry) {
    const char* e = ::dlerror();
    rec.reason = e ? e : "no exliar_plugin_v1 symbol";
    return;
  }
  api = entry();
  if (!api) {
    rec.reason = "exliar_plugin_v1() returned NULL";
    return;
  }
  // The version is the first field: read it before anything else.
  rec.abi = api->abi_version;
  if (api->abi_version != EXLIAR_PLUGIN_ABI_VERSION) {
    rec.status = LoadStatus::refused;
    rec.reason = fmt::format("ABI version {} is not supported (this exliar speaks {})",
                             api->abi_version, EXLIAR_PLUGIN_ABI_VERSION);
    api = nullptr;
    return;
  }
  rec.name = api->name ? api->name : "";
  rec.version = api->version ? api->version : "";
  if (rec.name.empty()) {
    rec.reason = "plugin has no name";
    api = nullptr;
    return;
  }
  rec.status = LoadStatus::loaded;
}

bool is_shared_object(std::string_view n) {
  return n.ends_with(".so") || n.find(".so.") != std::string_view::npos;
}

}  // namespace

PluginHost::PluginHost(const Fs& fs, Runner& runner, bool disabled) : fs_(fs), runner_(runner) {
  if (disabled) return;
  for (auto dir : paths::kPluginDirs) {
    auto names = fs.list_dir(dir);
    if (!names) continue;
    for (const auto& n : *names) {
      if (!is_shared_object(n)) continue;
      PluginRecord rec;
      rec.path = path_join(dir, n);
      auto l = std::make_unique<Loaded>();
      load_plugin(fs, rec.path, rec, l->handle, l->api);
      if (rec.status == LoadStatus::loaded) {
        l->name = rec.name;
        loaded_.push_back(std::move(l));
      }
      records_.push_back(std::move(rec));
    }
  }
  for (const char* hook : kHookNames) {
    std::string dir = path_join(paths::kHooksDir, hook);
    auto names = fs.list_dir(dir);
    if (!names) continue;
    for (const auto& n : *names) {  // sorted: scripts run in name order
      if (n.starts_with(".") || n.ends_with("~")) continue;
      ScriptRecord s;
      s.hook = hook;
      s.path = path_join(dir, n);
      auto real = trusted_path(fs, s.path);
      auto st = real ? fs.stat(*real) : Result<FileStat>(tl::unexpected(real.error()));
      if (!real) {
        s.status = LoadStatus::refused;
        s.reason = real.error().message;
      } else if (!st || st->type != FileStat::Type::regular || !(st->mode & 0100)) {
        s.status = LoadStatus::refused;
        s.reason = "refused: not an executable file";
      } else {
        s.status = LoadStatus::loaded;
        s.path = *real;
      }
      scripts_.push_back(std::move(s));
    }
  }
}

PluginHost::~PluginHost() = default;

std::vector<std::string> PluginHost::take_warnings() { return std::exchange(warnings_, {}); }
std::vector<HookLog> PluginHost::take_log() { return std::exchange(log_, {}); }

void PluginHost::on_init() {
  if (initialized_) return;
  initialized_ = true;
  char err[512];
  std::string root = fs_.root();
  for (auto& l : loaded_) {
    if (!l->api->on_init) continue;
    err[0] = 0;
    int rc = l->api->on_init(root.c_str(), err, sizeof err);
    log_.push_back({"on_init", l->name, rc, err});
    if (rc != 0)
      warnings_.push_back(fmt::format("plugin {}: on_init failed ({}): {}", l->name, rc, err));
  }
  if (auto r = run_scripts("on_init", hook_json("on_init", {{"root", root}})); !r)
    warnings_.push_back(r.error().describe());
}

void PluginHost::on_device_detect(Inventory& inv) {
  on_init();
  char err[512];
  for (auto& d : inv.devices) {
    DeviceView view(d, inv);
    for (auto& l : loaded_) {
      if (!l->api->on_device_detect) continue;
      Annotator ann(d.annotations, l->name);
      err[0] = 0;
      int rc = l->api->on_device_detect(&view.c, &ann.c, err, sizeof err);
      if (rc != 0)
        warnings_.push_back(fmt::format("plugin {}: on_device_detect({}) failed ({}): {}", l->name,
                                        d.address.str(), rc, err));
    }
  }
  bool any_script = false;
  for (const auto& s : scripts_)
    any_script |= s.hook == "on_device_detect" && s.status == LoadStatus::loaded;
  if (any_script) {
    for (const auto& d : inv.devices)
      if (auto r = run_scripts("on_device_detect", device_event_json(d, inv)); !r)
        warnings_.push_back(r.error().describe());
  }
}

Status PluginHost::run_bind_hook(const char* hook, const BindEvent& e, bool veto) {
  on_init();
  BindView view(e);
  char err[512];
  for (auto& l : loaded_) {
    using Fn = int (*)(const exliar_bind_view*, char*, size_t);
    Fn fn = std::string_view(hook) == "on_pre_vfio_bind"    ? l->api->on_pre_vfio_bind
            : std::string_view(hook) == "on_post_vfio_bind" ? l->api->on_post_vfio_bind
                                                            : l->api->on_cleanup;
    if (!fn) continue;
    err[0] = 0;
    int rc = fn(&view.c, err, sizeof err);
    log_.push_back({hook, l->name, rc, err});
    if (rc != 0) {
      std::string msg = fmt::format("plugin {} {} ({}): {}", l->name,
                                    veto ? "vetoed the bind" : std::string(hook) + " failed", rc,
                                    err[0] ? err : "no reason given");
      if (veto) return fail(msg);
      warnings_.push_back(msg);
    }
  }
  if (auto r = run_scripts(hook, bind_event_json(hook, e)); !r) {
    if (veto) return r;
    warnings_.push_back(r.error().describe());
  }
  return {};
}

Status PluginHost::on_pre_vfio_bind(const BindEvent& e) {
  return run_bind_hook("on_pre_vfio_bind", e, true);
}
void PluginHost::on_post_vfio_bind(const BindEvent& e) {
  (void)run_bind_hook("on_post_vfio_bind", e, false);
}
void PluginHost::on_cleanup(const BindEvent& e) { (void)run_bind_hook("on_cleanup", e, false); }

}  // namespace exliar
