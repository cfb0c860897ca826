#include "plugin/process.h"

#include <dlfcn.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>

#include "exliar/plugin.h"
#include "plugin/views.h"

namespace exliar {

namespace {

constexpr std::uint32_t kMaxMessage = 4u << 20;
/// The err buffer handed to callbacks (plugin.h: "at most err_size bytes, NUL included").
constexpr size_t kErrBytes = 512;
/// plugin.h: name is a short identifier; longer is not a name but garbage.
constexpr size_t kMaxNameBytes = 128;

using Clock = std::chrono::steady_clock;

bool write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool send_json(int fd, const nlohmann::json& j) {
  // Plugin strings need not be UTF-8: replace rather than throw.
  std::string body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::uint32_t len = static_cast<std::uint32_t>(body.size());
  char head[4];
  std::memcpy(head, &len, 4);
  return write_all(fd, head, 4) && write_all(fd, body.data(), body.size());
}

/// Reads exactly n bytes; 0 = ok, 1 = EOF/error, 2 = timeout. deadline = nullopt: block.
int read_exact(int fd, char* p, size_t n, std::optional<Clock::time_point> deadline) {
  while (n > 0) {
    int wait_ms = -1;
    if (deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now());
      if (left.count() <= 0) return 2;
      wait_ms = static_cast<int>(left.count());
    }
    pollfd pfd{fd, POLLIN, 0};
    int pr = ::poll(&pfd, 1, wait_ms);
    if (pr < 0 && errno == EINTR) continue;
    if (pr < 0) return 1;
    if (pr == 0) return 2;
    ssize_t r = ::read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return 1;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return 0;
}

/// 0 ok, 1 EOF/error, 2 timeout, 3 garbage.
int read_json(int fd, nlohmann::json& out, std::optional<Clock::time_point> deadline) {
  char head[4];
  if (int rc = read_exact(fd, head, 4, deadline)) return rc;
  std::uint32_t len;
  std::memcpy(&len, head, 4);
  if (len > kMaxMessage) return 3;
  std::string body(len, '\0');
  if (int rc = read_exact(fd, body.data(), len, deadline)) return rc;
  try {
    out = nlohmann::json::parse(body);
  } catch (const nlohmann::json::exception&) {
    return 3;
  }
  return 0;
}

// ---- the child ---------------------------------------------------------------------

/// A callback the plugin's struct is long enough to hold (struct_size says how long the
/// plugin's struct is; fields past it do not exist for that plugin).
template <class Fn>
Fn callback(const exliar_plugin_v1* api, Fn exliar_plugin_v1::*field, size_t offset) {
  if (api->struct_size < offset + sizeof(Fn)) return nullptr;
  return api->*field;
}
#define EXLIAR_CB(api, f) callback(api, &exliar_plugin_v1::f, offsetof(exliar_plugin_v1, f))

nlohmann::json load_one(const std::string& path, const exliar_plugin_v1*& api) {
  nlohmann::json r = {{"loaded", false},
                      {"refused", false},
                      {"abi", 0},
                      {"name", ""},
                      {"version", ""},
                      {"reason", ""},
                      {"hooks", nlohmann::json::array()}};
  // RTLD_LOCAL: plugins cannot see each other's symbols; RTLD_NOW: fail at load, not later.
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    r["reason"] = bounded_string(::dlerror(), 4096);
    return r;
  }
  ::dlerror();
  auto entry = reinterpret_cast<exliar_plugin_v1_fn>(::dlsym(handle, EXLIAR_PLUGIN_V1_SYMBOL));
  if (!entry) {
    const char* e = ::dlerror();
    r["reason"] = e ? bounded_string(e, 4096) : "no exliar_plugin_v1 symbol";
    return r;
  }
  const exliar_plugin_v1* p = entry();
  if (!p) {
    r["reason"] = "exliar_plugin_v1() returned NULL";
    return r;
  }
  // The version is the first field: read it before anything else.
  r["abi"] = p->abi_version;
  if (p->abi_version != EXLIAR_PLUGIN_ABI_VERSION) {
    r["refused"] = true;
    r["reason"] = fmt::format("ABI version {} is not supported (this exliar speaks {})",
                              p->abi_version, EXLIAR_PLUGIN_ABI_VERSION);
    return r;
  }
  if (p->struct_size < offsetof(exliar_plugin_v1, on_init)) {
    r["reason"] = fmt::format("struct_size {} is too small for a v1 plugin", p->struct_size);
    return r;
  }
  if (p->name && ::strnlen(p->name, kMaxNameBytes + 1) > kMaxNameBytes) {
    r["reason"] = fmt::format("plugin name is longer than {} bytes", kMaxNameBytes);
    return r;
  }
  r["name"] = bounded_string(p->name, kMaxNameBytes);
  r["version"] = bounded_string(p->version, kMaxNameBytes);
  if (r["name"].get<std::string>().empty()) {
    r["reason"] = "plugin has no name";
    return r;
  }
  auto& hooks = r["hooks"];
  if (EXLIAR_CB(p, on_init)) hooks.push_back("on_init");
  if (EXLIAR_CB(p, on_device_detect)) hooks.push_back("on_device_detect");
  if (EXLIAR_CB(p, on_pre_vfio_bind)) hooks.push_back("on_pre_vfio_bind");
  if (EXLIAR_CB(p, on_post_vfio_bind)) hooks.push_back("on_post_vfio_bind");
  if (EXLIAR_CB(p, on_cleanup)) hooks.push_back("on_cleanup");
  r["loaded"] = true;
  api = p;
  return r;
}

nlohmann::json serve(const std::vector<const exliar_plugin_v1*>& apis, const nlohmann::json& q) {
  size_t i = q.at("plugin").get<size_t>();
  const exliar_plugin_v1* p = i < apis.size() ? apis[i] : nullptr;
  if (!p) return {{"rc", -1}, {"err", "no such plugin"}};
  std::string hook = q.at("hook").get<std::string>();
  // Zeroed, and read back at most kErrBytes - 1 far: a plugin that fills the buffer
  // without a terminator cannot make exliar read past it.
  char err[kErrBytes];
  std::memset(err, 0, sizeof err);
  int rc = 0;
  nlohmann::json reply;
  if (hook == "on_init") {
    if (auto fn = EXLIAR_CB(p, on_init))
      rc = fn(q.at("root").get<std::string>().c_str(), err, sizeof err);
  } else if (hook == "on_device_detect") {
    DeviceView view(facts_from_json(q.at("device")));
    std::map<std::string, std::string> notes;
    Annotator ann(notes, q.at("name").get<std::string>());
    if (auto fn = EXLIAR_CB(p, on_device_detect)) rc = fn(&view.c, &ann.c, err, sizeof err);
    reply["annotations"] = notes;
  } else {
    BindView view(bind_facts_from_json(q.at("bind")));
    using Fn = int (*)(const exliar_bind_view*, char*, size_t);
    Fn fn = hook == "on_pre_vfio_bind"    ? EXLIAR_CB(p, on_pre_vfio_bind)
            : hook == "on_post_vfio_bind" ? EXLIAR_CB(p, on_post_vfio_bind)
            : hook == "on_cleanup"        ? EXLIAR_CB(p, on_cleanup)
                                          : nullptr;
    if (fn) rc = fn(&view.c, err, sizeof err);
  }
  reply["rc"] = rc;
  reply["err"] = bounded_string(err, sizeof err - 1);
  return reply;
}

[[noreturn]] void child_main(int sock, const std::vector<std::string>& paths) {
  // A plugin printing on stdout must not corrupt `--json` output: stdout goes to stderr.
  ::dup2(STDERR_FILENO, STDOUT_FILENO);
  // Keep only stdio and the socket: the child must not hold the journal lock or any
  // other descriptor of the transaction.
  if (sock != 3) {
    ::dup2(sock, 3);
    sock = 3;
  }
  ::close_range(4, ~0U, 0);
  std::vector<const exliar_plugin_v1*> apis;
  for (const auto& p : paths) {
    const exliar_plugin_v1* api = nullptr;
    auto r = load_one(p, api);
    apis.push_back(api);
    if (!send_json(sock, r)) ::_exit(0);
  }
  for (;;) {
    nlohmann::json q;
    if (read_json(sock, q, std::nullopt) != 0) ::_exit(0);
    nlohmann::json reply;
    try {
      reply = serve(apis, q);
    } catch (const nlohmann::json::exception& e) {
      reply = {{"rc", -1}, {"err", std::string("bad request: ") + e.what()}};
    }
    if (!send_json(sock, reply)) ::_exit(0);
  }
}

}  // namespace

std::string describe_wait_status(int status) {
  if (WIFSIGNALED(status))
    return fmt::format("signal {} ({})", WTERMSIG(status), ::strsignal(WTERMSIG(status)));
  if (WIFEXITED(status)) return fmt::format("exit status {}", WEXITSTATUS(status));
  return "unknown wait status";
}

PluginProcess::~PluginProcess() { stop(); }

void PluginProcess::stop() {
  if (pid_ > 0) (void)reap(true);
}

std::string PluginProcess::reap(bool kill_it) {
  if (sock_ >= 0) ::close(sock_);
  sock_ = -1;
  if (pid_ <= 0) return "not running";
  if (kill_it) ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  return describe_wait_status(status);
}

size_t PluginProcess::start(const std::vector<std::string>& host_paths,
                            std::vector<PluginLoad>& loads, std::string& crash,
                            std::chrono::milliseconds timeout) {
  stop();
  loads.clear();
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    crash = fmt::format("cannot create a socket for the plugin process: {}", std::strerror(errno));
    return 0;
  }
  // Buffered output would otherwise be written twice, once by each process.
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) {
    crash = fmt::format("cannot fork the plugin process: {}", std::strerror(errno));
    ::close(sv[0]);
    ::close(sv[1]);
    return 0;
  }
  if (pid == 0) {
    ::close(sv[0]);
    child_main(sv[1], host_paths);
  }
  ::close(sv[1]);
  sock_ = sv[0];
  pid_ = pid;
  for (size_t i = 0; i < host_paths.size(); ++i) {
    auto r = receive(timeout);
    if (!r) {
      crash = r.error().message;
      return i;
    }
    PluginLoad l;
    try {
      l.loaded = r->at("loaded").get<bool>();
      l.refused = r->at("refused").get<bool>();
      l.abi = r->at("abi").get<unsigned>();
      l.name = r->at("name").get<std::string>();
      l.version = r->at("version").get<std::string>();
      l.reason = r->at("reason").get<std::string>();
      l.hooks = r->at("hooks").get<std::vector<std::string>>();
    } catch (const nlohmann::json::exception& e) {
      crash = std::string("the plugin process answered garbage: ") + e.what();
      (void)reap(true);
      return i;
    }
    loads.push_back(std::move(l));
  }
  return host_paths.size();
}

Result<nlohmann::json> PluginProcess::receive(std::chrono::milliseconds timeout) {
  if (sock_ < 0) return fail("the plugin process is not running");
  nlohmann::json out;
  int rc = read_json(sock_, out, Clock::now() + timeout);
  if (rc == 0) return out;
  if (rc == 2) {
    (void)reap(true);
    return fail(fmt::format("did not answer within {} s and was killed",
                            static_cast<double>(timeout.count()) / 1000.0));
  }
  if (rc == 3) {
    (void)reap(true);
    return fail("the plugin process answered garbage and was killed");
  }
  return fail("crashed: " + reap(true));
}

Result<nlohmann::json> PluginProcess::call(const nlohmann::json& request,
                                           std::chrono::milliseconds timeout) {
  if (sock_ < 0) return fail("the plugin process is not running");
  if (!send_json(sock_, request)) return fail("crashed: " + reap(true));
  return receive(timeout);
}

}  // namespace exliar
