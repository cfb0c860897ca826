#include <fmt/format.h>

#include <algorithm>

#include "boot/grub.h"
#include "boot/region.h"
#include "host/text.h"

namespace exliar::boot {

namespace {

bool managed_name(std::string_view n) {
  return n == kGrubLinux || n == kGrubDefault || n == "GRUB_ENABLE_BLSCFG" ||
         n == "GRUB_DISABLE_RECOVERY";
}

tl::unexpected<Error> with_path(Error e, const std::string& path) {
  if (e.path.empty()) e.path = path;
  return tl::unexpected(std::move(e));
}

bool has_token(const std::vector<std::string>& words, std::string_view param) {
  std::string want = normalize_token(param);
  return std::any_of(words.begin(), words.end(),
                     [&](const auto& w) { return normalize_token(w) == want; });
}

bool has_key(const std::vector<std::string>& words, std::string_view key) {
  std::string k = normalize_key(key);
  return std::any_of(words.begin(), words.end(), [&](const auto& w) {
    return normalize_key(std::string_view(w).substr(0, w.find('='))) == k;
  });
}

/// Items of a list key present in the effective (last) token of that key.
bool list_has_items(const std::vector<std::string>& words, std::string_view key,
                    std::string_view items, bool want_all) {
  std::string k = normalize_key(key);
  std::vector<std::string_view> have;
  for (const auto& w : words) {
    size_t eq = w.find('=');
    if (eq != std::string::npos && normalize_key(std::string_view(w).substr(0, eq)) == k) {
      auto parts = split(std::string_view(w).substr(eq + 1), ',');
      have.insert(have.end(), parts.begin(), parts.end());
    }
  }
  bool all = true, any = false;
  for (auto item : split(items, ',')) {
    if (item.empty()) continue;
    bool found = std::find(have.begin(), have.end(), item) != have.end();
    all = all && found;
    any = any || found;
  }
  return want_all ? all : any;
}

Status verify(const std::vector<GrubSource>& sources, const std::vector<ParamEdit>& edits,
              bool bls) {
  auto ev = evaluate_grub(sources);
  if (!ev) return tl::unexpected(ev.error());
  auto words = grub_words(*ev, kGrubLinux);
  if (!bls)
    for (auto& w : grub_words(*ev, kGrubDefault)) words.push_back(std::move(w));
  for (const auto& e : edits) {
    size_t eq = e.param.find('=');
    std::string_view key = std::string_view(e.param).substr(0, eq);
    bool list = eq != std::string::npos && eq + 1 < e.param.size() && is_list_key(key);
    bool ok;
    if (e.op == ParamEdit::Op::add)
      ok = list ? list_has_items(words, key, e.param.substr(eq + 1), true)
                : has_token(words, e.param);
    else if (eq != std::string::npos && eq + 1 == e.param.size())
      ok = !has_key(words, key);
    else
      ok = !has_token(words, e.param) &&
           !(list && list_has_items(words, key, e.param.substr(eq + 1), false));
    if (!ok)
      return fail(
          fmt::format(
              "after the edit the GRUB command line still does not {} '{}': it comes from a "
              "variable or assignment exliar does not edit; change it by hand",
              e.op == ParamEdit::Op::add ? "contain" : "drop", e.param),
          sources.empty() ? "" : sources[0].path);
  }
  return {};
}

}  // namespace

Result<GrubEval> evaluate_grub(const std::vector<GrubSource>& sources) {
  GrubEval ev;
  for (size_t s = 0; s < sources.size(); ++s) {
    auto f = parse_shell_file(sources[s].text);
    if (!f) return with_path(f.error(), sources[s].path);
    ev.files.push_back(std::move(*f));
    const auto& as = ev.files.back().assignments;
    for (size_t i = 0; i < as.size(); ++i) {
      ev.history[as[i].name].push_back({s, i});
      auto v = expand_value(sources[s].text, as[i], ev.env);
      if (v) {
        ev.env[as[i].name] = std::move(*v);
      } else if (managed_name(as[i].name)) {
        Error e = v.error();
        e.message = fmt::format("{} cannot be read: {}", as[i].name, e.message);
        return with_path(e, sources[s].path);
      } else {
        ev.env.erase(as[i].name);  // unknown from here on; a managed reference fails
      }
    }
  }
  for (auto name : {kGrubLinux, kGrubDefault}) {
    auto it = ev.env.find(std::string(name));
    if (it == ev.env.end()) continue;
    if (auto c = Cmdline::parse(it->second); !c) {
      auto ref = ev.history[std::string(name)].back();
      Error e = c.error();
      e.message = fmt::format("{}: {}", name, e.message);
      e.line = ev.at(ref).line;
      return with_path(e, sources[ref.source].path);
    }
  }
  return ev;
}

std::vector<std::string> grub_words(const GrubEval& ev, std::string_view name) {
  auto it = ev.env.find(std::string(name));
  if (it == ev.env.end()) return {};
  return kernel_words(it->second);
}

std::vector<GrubEval::Ref> grub_chain(const GrubSource* sources, const GrubEval& ev,
                                      std::string_view name) {
  std::vector<GrubEval::Ref> out;
  auto it = ev.history.find(std::string(name));
  if (it == ev.history.end()) return out;
  for (size_t i = it->second.size(); i-- > 0;) {
    auto ref = it->second[i];
    out.push_back(ref);
    auto names = referenced_names(sources[ref.source].text, ev.at(ref));
    if (std::find(names.begin(), names.end(), name) == names.end()) break;
  }
  return out;
}

Result<std::vector<ParamEdit>> edit_grub(std::vector<GrubSource>& sources,
                                         const std::vector<ParamEdit>& edits, bool bls) {
  std::vector<ParamEdit> applied;
  if (sources.empty()) return fail("no GRUB configuration file to edit");
  for (const auto& e : edits) {
    if (auto st = check_param(e.param); !st) return tl::unexpected(st.error());
    auto ev = evaluate_grub(sources);
    if (!ev) return tl::unexpected(ev.error());
    bool changed = false;
    auto edit_at = [&](GrubEval::Ref ref) -> Result<bool> {
      const ShellAssignment& a = ev->at(ref);
      auto& src = sources[ref.source];
      if (!a.unsupported.empty()) return fail(a.name + ": " + a.unsupported, src.path, 0, a.line);
      CmdRegion r{a.region_begin, a.region_end, a.line, a.quoting};
      auto res = edit_region(src.text, r, e);
      if (!res) return with_path(res.error(), src.path);
      return *res;
    };
    if (e.op == ParamEdit::Op::remove) {
      for (auto name : {kGrubDefault, kGrubLinux}) {
        ev = evaluate_grub(sources);
        if (!ev) return tl::unexpected(ev.error());
        for (auto ref : grub_chain(sources.data(), *ev, name)) {  // last first: offsets stay valid
          auto r = edit_at(ref);
          if (!r) return tl::unexpected(r.error());
          changed = changed || *r;
        }
      }
    } else {
      size_t eq = e.param.find('=');
      std::string_view key = std::string_view(e.param).substr(0, eq);
      bool list = eq != std::string::npos && is_list_key(key);
      auto lin = grub_words(*ev, kGrubLinux), def = grub_words(*ev, kGrubDefault);
      std::vector<std::string> all = lin;
      if (!bls) all.insert(all.end(), def.begin(), def.end());
      if (!list && has_token(all, e.param)) continue;
      std::string var(kGrubDefault), linux(kGrubLinux);
      if (bls)
        var = linux;
      else if (list && has_key(def, key))
        var = kGrubDefault;
      else if (list && has_key(lin, key))
        var = linux;
      else if (!ev->history.count(var) && ev->history.count(linux))
        var = linux;
      auto h = ev->history.find(var);
      if (h == ev->history.end()) {
        auto c = Cmdline::parse("", Quoting::shell_double);
        (void)c->add(e.param);
        sources[0].text = append_line(sources[0].text, var + "=\"" + c->raw() + "\"");
        changed = true;
      } else {
        auto ref = h->second.back();
        const ShellAssignment& a = ev->at(ref);
        auto& src = sources[ref.source];
        if (a.unsupported.empty() && a.quoting == Quoting::shell_bare) {
          // An unquoted value cannot hold a second word: quote it first.
          std::string word = src.text.substr(a.word_begin, a.word_end - a.word_begin);
          if (word.find_first_of("$\\") != std::string::npos)
            return fail(a.name + ": unquoted value with $ or \\; put it in double quotes first",
                        src.path, 0, a.line);
          src.text.replace(a.word_begin, word.size(), "\"" + word + "\"");
          ev = evaluate_grub(sources);
          if (!ev) return tl::unexpected(ev.error());
        }
        auto r = edit_at(ev->history[var].back());
        if (!r) return tl::unexpected(r.error());
        changed = *r;
      }
    }
    if (changed) applied.push_back(e);
  }
  if (auto st = verify(sources, edits, bls); !st) return tl::unexpected(st.error());
  return applied;
}

}  // namespace exliar::boot
