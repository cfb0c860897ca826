#include "host/runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

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
  int rc = ::posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return fail("cannot run " + argv[0], "", rc);
  Pipe::close(in.r);
  Pipe::close(out.w);
  Pipe::close(err.w);

  // Feed stdin and drain stdout/stderr together so neither side blocks on a full pipe.
  ::signal(SIGPIPE, SIG_IGN);
  ::fcntl(in.w, F_SETFL, O_NONBLOCK);
  size_t in_off = 0;
  if (opts.input.empty()) Pipe::close(in.w);
  CommandResult res;
  auto deadline = std::chrono::steady_clock::now() + opts.timeout;
  while (out.r >= 0 || err.r >= 0) {
    pollfd fds[3];
    int n = 0;
    if (out.r >= 0) fds[n++] = {out.r, POLLIN, 0};
    if (err.r >= 0) fds[n++] = {err.r, POLLIN, 0};
    if (in.w >= 0) fds[n++] = {in.w, POLLOUT, 0};
    int wait_ms = -1;
    if (opts.timeout.count() > 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      wait_ms = left.count() > 0 ? static_cast<int>(left.count()) : 0;
      if (wait_ms == 0) {
        ::kill(pid, SIGKILL);
        res.timed_out = true;
        break;
      }
    }
    int pr = ::poll(fds, static_cast<nfds_t>(n), wait_ms);
    if (pr < 0 && errno != EINTR) break;
    for (int i = 0; i < n; ++i) {
      if (!fds[i].revents) continue;
      if (fds[i].fd == in.w) {
        ssize_t w = ::write(in.w, opts.input.data() + in_off, opts.input.size() - in_off);
        if (w > 0) in_off += static_cast<size_t>(w);
        if (w < 0 && errno != EAGAIN) in_off = opts.input.size();
        if (in_off >= opts.input.size()) Pipe::close(in.w);
        continue;
      }
      char buf[8192];
      ssize_t r = ::read(fds[i].fd, buf, sizeof buf);
      if (r <= 0) {
        if (r < 0 && errno == EINTR) continue;
        if (fds[i].fd == out.r)
          Pipe::close(out.r);
        else
          Pipe::close(err.r);
        continue;
      }
      (fds[i].fd == out.r ? res.out : res.err).append(buf, static_cast<size_t>(r));
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
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
