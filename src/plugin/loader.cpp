// Finding plugins and hook scripts, deciding which may run, and calling plugins in their
// process. A plugin that fails to load, crashes or hangs is recorded with the reason and
// never stops exliar (a veto hook's failure is a veto).
#include <fmt/format.h>

#include <cstddef>
#include <cstdio>

#include "host/paths.h"
#include "plugin/host.h"
#include "plugin/process.h"
#include "plugin/views.h"

namespace exliar {

const char* to_string(LoadStatus s) {
  switch (s) {
    case LoadStatus::loaded:
      return "loaded";
    case LoadStatus::refused:
      return "refused";
    case LoadStatus::skipped:
      return "skipped";
    default:
      return "failed";
  }
}

struct PluginHost::Loaded {
  size_t record = 0;            ///< index into records_
  std::string name, host_path;  ///< host_path: what the child dlopen()s
  std::vector<std::string> hooks;
  size_t child_index = 0;  ///< position in the current child's load list
  bool crashed = false;
  bool provides(std::string_view h) const {
    for (const auto& x : hooks)
      if (x == h) return true;
    return false;
  }
};

struct PluginHost::Proc {
  PluginProcess p;
};

namespace {

bool is_shared_object(std::string_view n) {
  return n.ends_with(".so") || n.find(".so.") != std::string_view::npos;
}

std::string skip_reason(const Fs& fs) {
  return fmt::format("skipped: {} is not this system; --run-root-plugins runs its code here",
                     fs.root());
}

}  // namespace

PluginHost::PluginHost(const Fs& fs, Runner& runner, PluginPolicy policy)
    : fs_(fs), runner_(runner), policy_(policy), proc_(std::make_unique<Proc>()) {
  if (policy.disabled) return;
  const bool skip = !fs.is_live() && !policy.run_root_code;
  struct Candidate {
    size_t record;
    std::string host_path;
  };
  std::vector<Candidate> candidates;
  for (auto dir : paths::kPluginDirs) {
    auto names = fs.list_dir(dir);
    if (!names) continue;
    for (const auto& n : *names) {
      if (!is_shared_object(n)) continue;
      PluginRecord rec;
      rec.path = path_join(dir, n);
      if (skip) {
        rec.status = LoadStatus::skipped;
        rec.reason = skip_reason(fs);
      } else if (auto real = trusted_path(fs, rec.path); !real) {
        rec.status = LoadStatus::refused;
        rec.reason = real.error().message;
      } else {
        candidates.push_back({records_.size(), fs.display(*real)});
      }
      records_.push_back(std::move(rec));
    }
  }
  // Load in the plugin process. A plugin whose loading kills the process (a crashing
  // constructor) is marked and the others are loaded again in a fresh one.
  while (!candidates.empty()) {
    std::vector<std::string> paths;
    for (const auto& c : candidates) paths.push_back(c.host_path);
    std::vector<PluginLoad> loads;
    std::string crash;
    size_t ok = proc_->p.start(paths, loads, crash, plugin_timeout);
    for (size_t i = 0; i < ok; ++i) {
      PluginRecord& rec = records_[candidates[i].record];
      const PluginLoad& l = loads[i];
      rec.abi = l.abi;
      rec.name = l.loaded ? l.name : "";
      rec.version = l.loaded ? l.version : "";
      rec.reason = l.reason;
      rec.status = l.loaded    ? LoadStatus::loaded
                   : l.refused ? LoadStatus::refused
                               : LoadStatus::failed;
    }
    if (ok == candidates.size()) {
      for (size_t i = 0; i < ok; ++i) {
        if (!loads[i].loaded) continue;
        auto l = std::make_unique<Loaded>();
        l->record = candidates[i].record;
        l->name = loads[i].name;
        l->host_path = candidates[i].host_path;
        l->hooks = loads[i].hooks;
        l->child_index = i;
        loaded_.push_back(std::move(l));
      }
      break;
    }
    PluginRecord& bad = records_[candidates[ok].record];
    bad.status = LoadStatus::failed;
    bad.reason = "the plugin " + crash + " while being loaded";
    candidates.erase(candidates.begin() + static_cast<std::ptrdiff_t>(ok));
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
      if (skip) {
        s.status = LoadStatus::skipped;
        s.reason = skip_reason(fs);
        scripts_.push_back(std::move(s));
        continue;
      }
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

PluginHost::PluginHost(Context& ctx)
    : PluginHost(ctx.fs, ctx.runner,
                 PluginPolicy{ctx.no_plugins, ctx.run_root_plugins, !ctx.ignore_refused_hooks}) {
  if (ctx.root_code_noted || ctx.output.verbosity == Verbosity::quiet) return;
  if (std::string note = skipped_notice(); !note.empty()) {
    std::fprintf(ctx.output.err, "exliar: note: %s\n", note.c_str());
    ctx.root_code_noted = true;
  }
}

PluginHost::~PluginHost() = default;

size_t PluginHost::skipped_count() const {
  size_t n = 0;
  for (const auto& r : records_) n += r.status == LoadStatus::skipped;
  for (const auto& s : scripts_) n += s.status == LoadStatus::skipped;
  return n;
}

std::string PluginHost::skipped_notice() const {
  size_t plugins = 0, scripts = 0;
  for (const auto& r : records_) plugins += r.status == LoadStatus::skipped;
  for (const auto& s : scripts_) scripts += s.status == LoadStatus::skipped;
  if (plugins + scripts == 0) return "";
  return fmt::format(
      "{} plugin(s) and {} hook script(s) under {} were not loaded or run: they are that "
      "root's code and would run on this host (`exliar --root {} plugins` lists them; "
      "--run-root-plugins runs them)",
      plugins, scripts, fs_.root(), fs_.root());
}

std::vector<std::string> PluginHost::take_warnings() { return std::exchange(warnings_, {}); }
std::vector<HookLog> PluginHost::take_log() { return std::exchange(log_, {}); }

bool PluginHost::respawn() {
  std::vector<Loaded*> alive;
  std::vector<std::string> paths;
  for (auto& l : loaded_)
    if (!l->crashed) {
      alive.push_back(l.get());
      paths.push_back(l->host_path);
    }
  if (alive.empty()) return false;
  std::vector<PluginLoad> loads;
  std::string crash;
  if (proc_->p.start(paths, loads, crash, plugin_timeout) != paths.size()) {
    warnings_.push_back("plugins could not be loaded again after a crash: the plugin " + crash);
    for (auto* l : alive) l->crashed = true;
    return false;
  }
  for (size_t i = 0; i < alive.size(); ++i) alive[i]->child_index = i;
  // The new process has fresh plugin state: give it the on_init the old one had.
  if (initialized_)
    for (auto* l : alive)
      if (l->provides("on_init"))
        (void)proc_->p.call({{"plugin", l->child_index}, {"hook", "on_init"}, {"root", fs_.root()}},
                            plugin_timeout);
  return true;
}

Result<nlohmann::json> PluginHost::call(Loaded& l, const char* hook, nlohmann::json request) {
  if (!proc_->p.alive() && !respawn())
    return fail(fmt::format("plugin {}: {} not called: the plugin process could not be started",
                            l.name, hook));
  request["plugin"] = l.child_index;
  request["hook"] = hook;
  auto r = proc_->p.call(request, plugin_timeout);
  if (r) return r;
  l.crashed = true;
  return fail(
      fmt::format("plugin {} {} in {}; it is not called again", l.name, r.error().message, hook));
}

void PluginHost::on_init() {
  if (initialized_) return;
  initialized_ = true;
  std::string root = fs_.root();
  for (auto& l : loaded_) {
    if (l->crashed || !l->provides("on_init")) continue;
    auto r = call(*l, "on_init", {{"root", root}});
    if (!r) {
      log_.push_back({"on_init", l->name, -1, r.error().message});
      warnings_.push_back(r.error().message);
      continue;
    }
    int rc = r->value("rc", -1);
    std::string err = r->value("err", "");
    log_.push_back({"on_init", l->name, rc, err});
    if (rc != 0)
      warnings_.push_back(fmt::format("plugin {}: on_init failed ({}): {}", l->name, rc, err));
  }
  if (auto r = run_scripts("on_init", hook_json("on_init", {{"root", root}})); !r)
    warnings_.push_back(r.error().describe());
}

void PluginHost::on_device_detect(Inventory& inv) {
  on_init();
  for (auto& d : inv.devices) {
    nlohmann::json facts = facts_json(device_facts(d, inv.find_gpu(d.address) != nullptr, true));
    for (auto& l : loaded_) {
      if (l->crashed || !l->provides("on_device_detect")) continue;
      auto r = call(*l, "on_device_detect", {{"device", facts}, {"name", l->name}});
      if (!r) {
        warnings_.push_back(r.error().message);
        continue;
      }
      int rc = r->value("rc", -1);
      if (auto a = r->find("annotations"); a != r->end() && a->is_object())
        for (const auto& [k, v] : a->items())
          if (v.is_string() && k.starts_with(l->name + "."))
            d.annotations[k] = v.get<std::string>();
      if (rc != 0)
        warnings_.push_back(fmt::format("plugin {}: on_device_detect({}) failed ({}): {}", l->name,
                                        d.address.str(), rc, r->value("err", "")));
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
  nlohmann::json facts = bind_facts_json(bind_facts(e));
  for (auto& l : loaded_) {
    if (l->crashed || !l->provides(hook)) continue;
    auto r = call(*l, hook, {{"bind", facts}});
    std::string msg;
    if (!r) {
      log_.push_back({hook, l->name, -1, r.error().message});
      msg = veto ? r.error().message + "; a plugin that cannot answer vetoes the bind"
                 : r.error().message;
    } else {
      int rc = r->value("rc", -1);
      std::string err = r->value("err", "");
      log_.push_back({hook, l->name, rc, err});
      if (rc == 0) continue;
      msg = fmt::format("plugin {} {} ({}): {}", l->name,
                        veto ? "vetoed the bind" : std::string(hook) + " failed", rc,
                        err.empty() ? "no reason given" : err);
    }
    if (veto) return fail(msg);
    warnings_.push_back(msg);
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
