#include "dynamic/session.h"

#include <nlohmann/json.hpp>

#include "host/paths.h"

namespace exliar::dynamic {

std::string session_path(std::string_view vm) {
  return path_join(paths::kRunExliar, "vm-" + std::string(vm) + ".json");
}

std::string format_session(const Session& s) {
  nlohmann::ordered_json j;
  j["schema_version"] = 1;
  j["vm"] = s.vm;
  j["gpu"] = s.gpu.str();
  j["mode"] = s.single_gpu ? "single-gpu" : "secondary";
  j["since"] = s.since;
  j["state"] = s.state;
  j["prepare_seconds"] = s.prepare_seconds;
  j["steps"] = nlohmann::ordered_json::array();
  for (const auto& st : s.steps)
    j["steps"].push_back({{"kind", st.kind},
                          {"target", st.target},
                          {"detail", st.detail},
                          {"status", st.status},
                          {"note", st.note}});
  return j.dump(2) + "\n";
}

Result<Session> parse_session(std::string_view text, std::string_view path) {
  std::string where(path);
  try {
    auto j = nlohmann::json::parse(text);
    Session s;
    if (j.at("schema_version").get<int>() != 1) return fail("schema_version must be 1", where);
    s.vm = j.at("vm").get<std::string>();
    auto g = parse_pci_address(j.at("gpu").get<std::string>());
    if (!g) return fail("\"gpu\" is not a PCI address", where);
    s.gpu = *g;
    s.single_gpu = j.at("mode").get<std::string>() == "single-gpu";
    s.since = j.at("since").get<std::string>();
    s.state = j.at("state").get<std::string>();
    s.prepare_seconds = j.value("prepare_seconds", 0.0);
    for (const auto& st : j.at("steps"))
      s.steps.push_back({st.at("kind").get<std::string>(), st.at("target").get<std::string>(),
                         st.at("detail").get<std::string>(), st.at("status").get<std::string>(),
                         st.value("note", "")});
    return s;
  } catch (const nlohmann::json::exception& e) {
    return fail(std::string("unreadable exliar VM state (") + e.what() +
                    "); the steps it recorded must be undone by hand",
                where);
  }
}

Result<std::vector<Session>> list_sessions(const Fs& fs) {
  std::vector<Session> out;
  if (!fs.is_dir(paths::kRunExliar)) return out;
  auto names = fs.list_dir(paths::kRunExliar);
  if (!names) return tl::unexpected(names.error());
  for (const auto& n : *names) {
    if (n.rfind("vm-", 0) != 0 || n.size() < 9 || n.substr(n.size() - 5) != ".json") continue;
    std::string p = path_join(paths::kRunExliar, n);
    auto t = fs.read_file(p);
    if (!t) return tl::unexpected(t.error());
    auto s = parse_session(*t, fs.display(p));
    if (!s) return tl::unexpected(s.error());
    out.push_back(std::move(*s));
  }
  return out;
}

}  // namespace exliar::dynamic
