#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <optional>

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

namespace {

/// Commands after which nothing is known: they run other code or stop the sourcing.
bool dynamic_command(std::string_view w) {
  return w == "." || w == "source" || w == "eval" || w == "exec" || w == "exit" || w == "return";
}

constexpr std::string_view kManaged[] = {kGrubLinux, kGrubDefault, "GRUB_ENABLE_BLSCFG",
                                         "GRUB_DISABLE_RECOVERY"};

/// A managed variable this word may assign or unset: its bare name (`unset NAME`,
/// `read NAME`, `for NAME in`), NAME=... (`local`, `declare`) or ${NAME=...}/${NAME:=...}.
std::optional<std::string_view> touches_managed(std::string_view w) {
  for (auto m : kManaged)
    if (w == m || (w.starts_with(m) && w.substr(m.size()).starts_with("="))) return m;
  return std::nullopt;
}

/// ${NAME=...} / ${NAME:=...} of a managed NAME inside a word: an assignment too.
std::optional<std::string_view> assigns_in_expansion(std::string_view w) {
  for (auto m : kManaged)
    for (auto form :
         {std::string("{") + std::string(m) + "=", std::string("{") + std::string(m) + ":="})
      if (w.find(form) != std::string_view::npos) return m;
  return std::nullopt;
}

/// Checks one command of a sourced file; unset of other names forgets them.
Status check_command(const ShellCommand& c, ShellEnv& env) {
  const std::string& cmd = c.words.front();
  if (dynamic_command(cmd))
    return fail(fmt::format("`{}` runs other shell code (or stops reading the file): exliar "
                            "cannot tell what {} and {} are after it. Put the kernel "
                            "parameters in this file directly, or edit them by hand",
                            join(c.words, " "), kGrubLinux, kGrubDefault),
                "", 0, c.line);
  for (size_t i = 0; i < c.words.size(); ++i) {
    auto m = touches_managed(c.words[i]);
    if (!m) m = assigns_in_expansion(c.words[i]);
    if (m)
      return fail(fmt::format("`{}` may change {}: exliar cannot tell its value from here on; "
                              "edit the GRUB command line by hand",
                              join(c.words, " "), *m),
                  "", 0, c.line);
    if (cmd == "unset" && i > 0) env.erase(c.words[i]);
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
    const auto& cmds = ev.files.back().commands;
    // Assignments and commands in file order (by line; a command after the assignments of
    // its line, which is where `NAME=value; cmd` puts it).
    size_t ci = 0;
    auto commands_before = [&](int line) -> Status {
      for (; ci < cmds.size() && cmds[ci].line < line; ++ci)
        if (auto st = check_command(cmds[ci], ev.env); !st)
          return with_path(st.error(), sources[s].path);
      return {};
    };
    for (size_t i = 0; i < as.size(); ++i) {
      if (auto st = commands_before(as[i].line); !st) return tl::unexpected(st.error());
      std::string_view word(sources[s].text.data() + as[i].word_begin,
                            as[i].word_end - as[i].word_begin);
      if (auto m = assigns_in_expansion(word))
        return with_path(Error{fmt::format("{}'s value assigns {} (${{{}=...}}): exliar cannot "
                                           "tell its value; edit it by hand",
                                           as[i].name, *m, *m),
                               "", 0, as[i].line},
                         sources[s].path);
      if (!as[i].uncertain.empty()) {
        if (managed_name(as[i].name))
          return with_path(Error{fmt::format("{} is assigned here, but {}: exliar cannot tell "
                                             "whether this value takes effect. Assign it on a "
                                             "line of its own, or edit it by hand",
                                             as[i].name, as[i].uncertain),
                                 "", 0, as[i].line},
                           sources[s].path);
        ev.env.erase(as[i].name);  // unknown from here on; a managed reference fails
        continue;
      }
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
    if (auto st = commands_before(std::numeric_limits<int>::max()); !st)
      return tl::unexpected(st.error());
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

Status check_grub_param(std::string_view param) {
  if (auto st = check_param(param); !st) return st;
  // grub-mkconfig copies the value into grub.cfg's `linux` line, which is GRUB script:
  // "Words are separated by metacharacters ... { } | & $ ; < >", '#' starts a comment and
  // '\' quotes (GRUB manual, "Shell-like scripting"). /etc/default/grub itself is sh, where
  // $ and ` expand inside the double quotes. Such a character would cut or change the line.
  size_t bad = param.find_first_of("{}|&$;<>#\\`");
  if (bad != std::string_view::npos)
    return fail(fmt::format(
        "the parameter '{}' contains '{}', which GRUB's script language (grub.cfg) or the "
        "shell reading /etc/default/grub would not pass on literally: it cannot go on the GRUB "
        "command line",
        param, param[bad]));
  return {};
}

Result<std::vector<ParamEdit>> edit_grub(std::vector<GrubSource>& sources,
                                         const std::vector<ParamEdit>& edits, bool bls) {
  std::vector<ParamEdit> applied;
  if (sources.empty()) return fail("no GRUB configuration file to edit");
  // Every parameter first: a bad one is blamed, not the file it would have broken.
  for (const auto& e : edits)
    if (e.op == ParamEdit::Op::add)
      if (auto st = check_grub_param(e.param); !st) return tl::unexpected(st.error());
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
