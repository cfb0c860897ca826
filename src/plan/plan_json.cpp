#include "plan/plan_json.h"

#include <sys/stat.h>

#include <array>

#include "plan/plan_check.h"

namespace exliar {

using ojson = nlohmann::ordered_json;
using json = nlohmann::json;

namespace {

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

ojson strings(const std::vector<std::string>& v) {
  ojson a = ojson::array();
  for (const auto& s : v) a.push_back(s);
  return a;
}

// Field readers: each names the field it could not read.
struct Reader {
  const json& j;
  std::string where;
  std::string ctx;

  tl::unexpected<Error> bad(const std::string& field, const std::string& what) const {
    return fail("invalid plan: " + ctx + (ctx.empty() ? "" : ".") + field + " " + what, where);
  }
  Result<std::string> str(const std::string& f, bool required = true) const {
    if (!j.contains(f)) {
      if (required) return bad(f, "is missing");
      return std::string();
    }
    if (!j[f].is_string()) return bad(f, "must be a string");
    return j[f].get<std::string>();
  }
  Result<bool> boolean(const std::string& f) const {
    if (!j.contains(f)) return false;
    if (!j[f].is_boolean()) return bad(f, "must be true or false");
    return j[f].get<bool>();
  }
  Result<std::vector<std::string>> list(const std::string& f) const {
    std::vector<std::string> out;
    if (!j.contains(f)) return out;
    if (!j[f].is_array()) return bad(f, "must be an array of strings");
    for (const auto& e : j[f]) {
      if (!e.is_string()) return bad(f, "must be an array of strings");
      out.push_back(e.get<std::string>());
    }
    return out;
  }
  Result<std::optional<std::string>> bytes(const std::string& f) const {
    if (!j.contains(f) || j[f].is_null()) return std::optional<std::string>();
    auto b = bytes_from_json(j[f], f);
    if (!b) return bad(f, "must be a string, null or {\"base64\": ...}");
    return std::optional<std::string>(std::move(*b));
  }
};

constexpr const char* kPathRule = "must be an absolute path without NUL, \".\", \"..\" or \"//\"";

#define TRY_ASSIGN(var, expr)                           \
  auto var##_r = (expr);                                \
  if (!var##_r) return tl::unexpected(var##_r.error()); \
  auto var = std::move(*var##_r)

Result<Intent> intent_from(const json& j, const std::string& where) {
  if (!j.is_object()) return fail("invalid plan: intent must be an object", where);
  Reader r{j, where, "intent"};
  Intent in;
  TRY_ASSIGN(command, r.str("command"));
  TRY_ASSIGN(gpu, r.str("gpu", false));
  TRY_ASSIGN(bind, r.str("bind_mode", false));
  TRY_ASSIGN(acs, r.boolean("acs_override"));
  TRY_ASSIGN(noinit, r.boolean("no_initramfs"));
  TRY_ASSIGN(extra, r.list("extra_params"));
  TRY_ASSIGN(params, r.list("params"));
  TRY_ASSIGN(rom, r.str("rom", false));
  in.command = command;
  in.gpu = gpu;
  in.bind_mode = bind;
  in.acs_override = acs;
  in.no_initramfs = noinit;
  in.extra_params = extra;
  in.params = params;
  in.rom = rom;
  return in;
}

Result<Step> step_from(const json& j, const std::string& where, size_t index) {
  std::string ctx = "steps[" + std::to_string(index) + "]";
  if (!j.is_object()) return fail("invalid plan: " + ctx + " must be an object", where);
  Reader r{j, where, ctx};
  Step s;
  TRY_ASSIGN(kind, r.str("kind"));
  TRY_ASSIGN(reason, r.str("reason", false));
  TRY_ASSIGN(source, r.str("source", false));
  s.reason = reason;
  s.source = source;
  if (kind == "edit") {
    EditFile e;
    TRY_ASSIGN(path, r.str("path"));
    TRY_ASSIGN(before, r.bytes("before"));
    TRY_ASSIGN(after, r.bytes("after"));
    e.path = path;
    e.before = before;
    e.after = after;
    if (j.contains("mode")) {
      if (!j["mode"].is_string()) return r.bad("mode", "must be an octal string such as \"0644\"");
      auto m = j["mode"].get<std::string>();
      if (m.empty() || m.size() > 5 || m.find_first_not_of("01234567") != std::string::npos)
        return r.bad("mode", "must be an octal string such as \"0644\"");
      e.mode = static_cast<mode_t>(std::stoul(m, nullptr, 8));
      // A created file gets this mode: a plan must not make a setuid program or a file any
      // user may rewrite (what exliar writes is read at boot by root).
      if (e.mode & (S_ISUID | S_ISGID | S_ISVTX | S_IWOTH) || e.mode > 07777)
        return r.bad("mode", "\"" + m +
                                 "\" is refused: no setuid, setgid, sticky or world-writable files "
                                 "(use e.g. \"0644\" or \"0755\")");
    }
    if (!plain_absolute_path(e.path)) return r.bad("path", kPathRule);
    if (!e.before && !e.after) return r.bad("after", "and before cannot both be null");
    s.action = std::move(e);
  } else if (kind == "command") {
    RunCommand c;
    TRY_ASSIGN(argv, r.list("argv"));
    TRY_ASSIGN(why, r.str("why", false));
    TRY_ASSIGN(undo, r.list("undo_argv"));
    if (argv.empty()) return r.bad("argv", "must not be empty");
    c.argv = argv;
    c.why = why;
    c.undo_argv = undo;
    s.action = std::move(c);
  } else if (kind == "sysfs") {
    WriteSysfs w;
    TRY_ASSIGN(path, r.str("path"));
    TRY_ASSIGN(value, r.str("value"));
    w.path = path;
    w.value = value;
    if (j.contains("undo_path") && !j["undo_path"].is_null()) {
      TRY_ASSIGN(up, r.str("undo_path"));
      w.undo_path = up;
    }
    if (j.contains("undo_value") && !j["undo_value"].is_null()) {
      TRY_ASSIGN(uv, r.str("undo_value"));
      w.undo_value = uv;
    }
    if (!plain_absolute_path(w.path)) return r.bad("path", kPathRule);
    if (w.undo_path && !plain_absolute_path(*w.undo_path)) return r.bad("undo_path", kPathRule);
    s.action = std::move(w);
  } else {
    return r.bad("kind", "must be \"edit\", \"command\" or \"sysfs\" (found \"" + kind + "\")");
  }
  return s;
}

}  // namespace

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : 9;
    if (n == 9 || i + n >= s.size() + (n == 0 ? 1 : 0)) return false;
    for (size_t k = 1; k <= n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    auto c1 = n > 0 ? static_cast<unsigned char>(s[i + 1]) : 0;
    if (n == 1 && c < 0xc2) return false;  // overlong
    if (n == 2 && ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 >= 0xa0))) return false;
    if (n == 3 && ((c == 0xf0 && c1 < 0x90) || c > 0xf4 || (c == 0xf4 && c1 >= 0x90))) return false;
    i += n + 1;
  }
  return true;
}

std::string base64_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                 (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += i + 1 < in.size() ? kB64[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Result<std::string> base64_decode(std::string_view in) {
  std::array<int, 256> val{};
  val.fill(-1);
  for (int k = 0; k < 64; ++k) val[static_cast<unsigned char>(kB64[k])] = k;
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  size_t pad = 0;
  for (char ch : in) {
    if (ch == '=') {
      ++pad;
      continue;
    }
    int v = val[static_cast<unsigned char>(ch)];
    if (v < 0 || pad > 0) return fail("invalid base64 data");
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  if (pad > 2 || (in.size() % 4) != 0) return fail("invalid base64 data");
  return out;
}

ojson bytes_to_json(std::string_view bytes) {
  if (valid_utf8(bytes)) return ojson(std::string(bytes));
  ojson o = ojson::object();
  o["base64"] = base64_encode(bytes);
  return o;
}

Result<std::string> bytes_from_json(const json& j, const std::string& field) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_object() && j.size() == 1 && j.contains("base64") && j["base64"].is_string())
    return base64_decode(j["base64"].get<std::string>());
  return fail(field + " must be a string or {\"base64\": ...}");
}

ojson intent_to_json(const Intent& in) {
  ojson j;
  j["command"] = in.command;
  j["gpu"] = in.gpu;
  j["bind_mode"] = in.bind_mode;
  j["acs_override"] = in.acs_override;
  j["no_initramfs"] = in.no_initramfs;
  j["extra_params"] = strings(in.extra_params);
  j["params"] = strings(in.params);
  j["rom"] = in.rom;
  return j;
}

ojson step_to_json(const Step& s) {
  ojson j;
  if (const auto* e = std::get_if<EditFile>(&s.action)) {
    j["kind"] = "edit";
    j["path"] = e->path;
    j["before"] = e->before ? bytes_to_json(*e->before) : ojson(nullptr);
    j["after"] = e->after ? bytes_to_json(*e->after) : ojson(nullptr);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(e->mode & 07777));
    j["mode"] = mode;
  } else if (const auto* c = std::get_if<RunCommand>(&s.action)) {
    j["kind"] = "command";
    j["argv"] = strings(c->argv);
    j["why"] = c->why;
    j["undo_argv"] = strings(c->undo_argv);
  } else if (const auto* w = std::get_if<WriteSysfs>(&s.action)) {
    j["kind"] = "sysfs";
    j["path"] = w->path;
    j["value"] = w->value;
    j["undo_path"] = w->undo_path ? ojson(*w->undo_path) : ojson(nullptr);
    j["undo_value"] = w->undo_value ? ojson(*w->undo_value) : ojson(nullptr);
  }
  j["reason"] = s.reason;
  j["source"] = s.source;
  return j;
}

ojson plan_to_json(const Plan& plan) {
  ojson j;
  j["schema_version"] = kPlanSchemaVersion;
  j["intent"] = intent_to_json(plan.intent);
  ojson steps = ojson::array();
  for (const auto& s : plan.steps) steps.push_back(step_to_json(s));
  j["steps"] = std::move(steps);
  j["warnings"] = strings(plan.warnings);
  j["expect_cmdline"] = strings(plan.expect_cmdline);
  j["expect_vfio"] = strings(plan.expect_vfio);
  return j;
}

Result<Plan> plan_from_json(const json& j, const std::string& where) {
  if (!j.is_object()) return fail("invalid plan: the document must be a JSON object", where);
  if (!j.contains("schema_version") || !j["schema_version"].is_number_integer())
    return fail("invalid plan: schema_version is missing", where);
  // Compared as a JSON number, not through get<int>(): 4294967297 must not read as 1.
  if (j["schema_version"] != json(kPlanSchemaVersion))
    return fail("unsupported plan schema_version " + j["schema_version"].dump() +
                    " (this exliar reads " + std::to_string(kPlanSchemaVersion) + ")",
                where);
  Plan plan;
  if (!j.contains("intent")) return fail("invalid plan: intent is missing", where);
  TRY_ASSIGN(intent, intent_from(j["intent"], where));
  plan.intent = std::move(intent);
  if (!j.contains("steps") || !j["steps"].is_array())
    return fail("invalid plan: steps must be an array", where);
  size_t i = 0;
  for (const auto& s : j["steps"]) {
    TRY_ASSIGN(step, step_from(s, where, i++));
    plan.steps.push_back(std::move(step));
  }
  Reader r{j, where, ""};
  TRY_ASSIGN(warnings, r.list("warnings"));
  TRY_ASSIGN(cmdline, r.list("expect_cmdline"));
  TRY_ASSIGN(vfio, r.list("expect_vfio"));
  plan.warnings = warnings;
  plan.expect_cmdline = cmdline;
  plan.expect_vfio = vfio;
  return plan;
}

Result<Plan> parse_plan(std::string_view text, const std::string& where) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) {
    // Re-parse with exceptions to learn where the syntax error is.
    try {
      json again = json::parse(text);
      (void)again;
    } catch (const json::parse_error& e) {
      size_t line = 1;
      for (size_t k = 0; k < e.byte && k < text.size(); ++k)
        if (text[k] == '\n') ++line;
      return fail("not valid JSON: " + std::string(e.what()), where, 0, static_cast<int>(line));
    } catch (const json::exception& e) {  // e.g. out_of_range 406: number overflow
      return fail("not valid JSON: " + std::string(e.what()), where);
    }
    return fail("not valid JSON", where);
  }
  return plan_from_json(j, where);
}

}  // namespace exliar
