#include "host/runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

extern char** environ;

namespace exliar {

namespace {

struct Pipe {
  int r = -1, w = -1;
  bool open() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return false;
    r = fds[0];
    w = fds[1];
    return true;
  }
  static void close(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  ~Pipe() {
    close(r);
    close(w);
  }
};

}  // namespace

namespace {

/// A descriptor that becomes readable when pid exits (pidfd_open, Linux 5.3), or -1 on
/// older kernels, where the loop below falls back to short polls.
int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  return -1;
#endif
}

void keep(std::string& into, size_t& dropped, const char* buf, size_t n, size_t cap) {
  size_t room = cap == 0 ? n : (into.size() < cap ? cap - into.size() : 0);
  size_t take = std::min(room, n);
  into.append(buf, take);
  dropped += n - take;
}

}  // namespace

Result<CommandResult> ProcessRunner::run(const std::vector<std::string>& argv,
                                         const RunOptions& opts) {
  if (argv.empty()) return fail("empty command");
  Pipe in, out, err;
  if (!in.open() || !out.open() || !err.open()) return fail("cannot create pipes", "", errno);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in.r, 0);
  posix_spawn_file_actions_adddup2(&fa, out.w, 1);
  posix_spawn_file_actions_adddup2(&fa, err.w, 2);
  // A process group of its own, so a timeout kills the command and everything it
  // started (setpgid(2); a child that calls setsid() itself still escapes).
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // exliar ignores SIGPIPE (main.cpp); an ignored signal stays ignored across exec, so
  // give the command the default back: its own pipelines expect to die of it.
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setsigdefault(&attr, &defaults);

  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> envs;
  for (char** e = environ; *e; ++e) envs.emplace_back(*e);
  for (const auto& e : opts.env) envs.push_back(e);
  std::vector<char*> envp;
  for (auto& e : envs) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, args[0], &fa, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return fail("cannot run " + argv[0], "", rc);
  Pipe::close(in.r);
  Pipe::close(out.w);
  Pipe::close(err.w);
  int pidfd = open_pidfd(pid);

  // Feed stdin and drain stdout/stderr together so neither side blocks on a full pipe
  // (a command that exits early makes writes fail with EPIPE, not kill exliar).
  ::signal(SIGPIPE, SIG_IGN);
  ::fcntl(in.w, F_SETFL, O_NONBLOCK);
  ::fcntl(out.r, F_SETFL, O_NONBLOCK);
  ::fcntl(err.r, F_SETFL, O_NONBLOCK);
  size_t in_off = 0;
  if (opts.input.empty()) Pipe::close(in.w);
  CommandResult res;
  int status = 0;
  bool exited = false;
  auto deadline = std::chrono::steady_clock::now() + opts.timeout;
  auto read_some = [&](int& fd) {
    char buf[8192];
    ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) return r;
    if (r <= 0) {
      Pipe::close(fd);
      return r;
    }
    if (fd == out.r)
      keep(res.out, res.out_dropped, buf, static_cast<size_t>(r), opts.max_output);
    else
      keep(res.err, res.err_dropped, buf, static_cast<size_t>(r), opts.max_output);
    return r;
  };
  for (;;) {
    pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid || (w < 0 && errno != EINTR)) {
      exited = true;
      break;
    }
    int wait_ms = pidfd >= 0 ? -1 : 20;
    if (opts.timeout.count() > 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        ::kill(-pid, SIGKILL);
        ::kill(pid, SIGKILL);
        res.timed_out = true;
        break;
      }
      int l = static_cast<int>(left.count());
      wait_ms = wait_ms < 0 ? l : std::min(wait_ms, l);
    }
    pollfd fds[4];
    int n = 0;
    if (out.r >= 0) fds[n++] = {out.r, POLLIN, 0};
    if (err.r >= 0) fds[n++] = {err.r, POLLIN, 0};
    if (in.w >= 0) fds[n++] = {in.w, POLLOUT, 0};
    if (pidfd >= 0) fds[n++] = {pidfd, POLLIN, 0};
    int pr = ::poll(fds, static_cast<nfds_t>(n), wait_ms);
    if (pr < 0 && errno != EINTR) break;
    for (int i = 0; i < n && pr > 0; ++i) {
      if (!fds[i].revents || fds[i].fd == pidfd) continue;
      if (fds[i].fd == in.w) {
        ssize_t wr = ::write(in.w, opts.input.data() + in_off, opts.input.size() - in_off);
        if (wr > 0) in_off += static_cast<size_t>(wr);
        if (wr < 0 && errno != EAGAIN) in_off = opts.input.size();
        if (in_off >= opts.input.size()) Pipe::close(in.w);
        continue;
      }
      read_some(fds[i].fd == out.r ? out.r : err.r);
    }
  }
  if (!exited) {
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  // What the command wrote before it exited is still in the pipes: take it, but do not
  // wait for writers it left behind (a background child keeps the pipe open).
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
  while ((out.r >= 0 || err.r >= 0) && std::chrono::steady_clock::now() < until) {
    bool any = false;
    for (int* fd : {&out.r, &err.r})
      if (*fd >= 0 && read_some(*fd) > 0) any = true;
    if (!any) break;
  }
  if (pidfd >= 0) ::close(pidfd);
  if (WIFEXITED(status))
    res.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    res.exit_code = 128 + WTERMSIG(status);
  return res;
}

Result<CommandResult> RecordingRunner::run(const std::vector<std::string>& argv,
                                           const RunOptions& opts) {
  int index = static_cast<int>(calls.size());
  calls.push_back({argv, opts});
  if (fail_from >= 0 && index >= fail_from)
    return fail("injected failure starting " + (argv.empty() ? std::string() : argv[0]));
  if (static_cast<size_t>(index) < answers.size()) return answers[static_cast<size_t>(index)];
  return CommandResult{};
}

std::string shell_quote(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    bool plain = !a.empty() && a.find_first_not_of(
                                   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "0123456789-_./=:,+@%") == std::string::npos;
    if (plain) {
      out += a;
      continue;
    }
    out += '\'';
    for (char c : a) {
      if (c == '\'')
        out += "'\\''";
      else
        out += c;
    }
    out += '\'';
  }
  return out;
}

}  // namespace exliar
