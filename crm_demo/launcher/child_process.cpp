#include "crm_demo/launcher/child_process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "crm_demo/launcher/unique_fd.h"

namespace crmscope::launcher {

namespace {

// The executable for `program`: itself when it names a path, else the first match on PATH.
// Resolved before fork because only async-signal-safe calls may run between fork and exec.
std::string ResolveExecutable(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = dirs.substr(start, end - start) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return program;
}

// Runs in the forked child: async-signal-safe calls only. Never returns.
[[noreturn]] void ExecChild(pid_t launcher, int stdin_fd, int log_fd, int report_fd,
                            const char* executable, char* const* argv) {
  ::setpgid(0, 0);
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  // The launcher may have died between fork and prctl; then nobody would ever signal us.
  if (::getppid() != launcher) ::_exit(127);
  ::dup2(stdin_fd, STDIN_FILENO);
  ::dup2(log_fd, STDOUT_FILENO);
  ::dup2(log_fd, STDERR_FILENO);
  // Signal dispositions set to "ignore" and the blocked mask survive exec; the launcher blocks
  // SIGINT/SIGTERM/SIGHUP/SIGCHLD to wait for them, and its children must not inherit that.
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::signal(SIGPIPE, SIG_DFL);
  ::execv(executable, argv);
  int err = errno;
  ssize_t ignored = ::write(report_fd, &err, sizeof err);
  (void)ignored;
  ::_exit(127);
}

}  // namespace

std::unique_ptr<ChildProcess> ChildProcess::Spawn(std::string name,
                                                  const std::vector<std::string>& argv,
                                                  const std::string& log_path, std::string* error) {
  if (argv.empty()) {
    *error = name + ": empty command";
    return nullptr;
  }
  UniqueFd log_fd(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  UniqueFd null_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  int pipe_fds[2];
  if (!log_fd.valid() || !null_fd.valid() || ::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    *error = name + ": cannot open " + log_path + ": " + ::strerror(errno);
    return nullptr;
  }
  UniqueFd report_read(pipe_fds[0]), report_write(pipe_fds[1]);
  std::string executable = ResolveExecutable(argv[0]);
  std::vector<char*> c_argv;
  for (const std::string& arg : argv) c_argv.push_back(const_cast<char*>(arg.c_str()));
  c_argv.push_back(nullptr);

  pid_t launcher = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    *error = name + ": fork: " + ::strerror(errno);
    return nullptr;
  }
  if (pid == 0) {
    ExecChild(launcher, null_fd.get(), log_fd.get(), report_write.get(), executable.c_str(),
              c_argv.data());
  }
  // Also from this side, so a signal to the group cannot race the child's own setpgid.
  ::setpgid(pid, pid);
  report_write.Reset();
  std::unique_ptr<ChildProcess> child(new ChildProcess(std::move(name), log_path, pid));
  int exec_errno = 0;
  ssize_t n;
  do {
    n = ::read(report_read.get(), &exec_errno, sizeof exec_errno);
  } while (n < 0 && errno == EINTR);
  if (n > 0) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    child->wait_status_ = status;
    *error = child->name_ + ": cannot run " + executable + ": " + ::strerror(exec_errno);
    return nullptr;
  }
  return child;
}

ChildProcess::~ChildProcess() {
  if (running()) {
    SignalGroup(SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

bool ChildProcess::SignalGroup(int signal) const { return ::kill(-pid_, signal) == 0; }

bool ChildProcess::Reap() {
  if (!running()) return true;
  int status = 0;
  pid_t got;
  do {
    got = ::waitpid(pid_, &status, WNOHANG);
  } while (got < 0 && errno == EINTR);
  if (got == pid_) wait_status_ = status;
  return !running();
}

std::string ChildProcess::DescribeExit() const {
  if (running()) return "";
  int status = *wait_status_;
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const char* abbrev = ::sigabbrev_np(WTERMSIG(status));
    return std::string("was killed by SIG") + (abbrev ? abbrev : std::to_string(WTERMSIG(status)));
  }
  return "stopped";
}

bool ChildProcess::ExitedCleanly() const {
  return !running() && WIFEXITED(*wait_status_) && WEXITSTATUS(*wait_status_) == 0;
}

bool ProcessGroupAlive(pid_t pgid) {
  // kill(-pgid, 0) would also count zombies: members already dead whose new parent (init) has
  // not reaped them yet. /proc/<pid>/stat tells the state: "pid (comm) S ppid pgrp ...".
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    std::ifstream stat(entry.path() / "stat");
    std::string text;
    if (!std::getline(stat, text)) continue;
    size_t comm_end = text.rfind(')');
    if (comm_end == std::string::npos) continue;
    std::istringstream fields(text.substr(comm_end + 1));
    char state = 0;
    long ppid = 0, pgrp = 0;
    if (fields >> state >> ppid >> pgrp && pgrp == pgid && state != 'Z' && state != 'X') {
      return true;
    }
  }
  return false;
}

std::vector<std::string> StopChildren(const std::vector<ChildProcess*>& children, int signal,
                                      std::chrono::milliseconds grace) {
  for (ChildProcess* child : children) {
    if (!child->Reap()) child->SignalGroup(signal);
  }
  auto deadline = std::chrono::steady_clock::now() + grace;
  auto all_reaped = [&] {
    bool all = true;
    for (ChildProcess* child : children) all = child->Reap() && all;
    return all;
  };
  while (!all_reaped() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::vector<std::string> killed;
  for (ChildProcess* child : children) {
    if (child->running()) {
      killed.push_back(child->name());
      child->SignalGroup(SIGKILL);
      while (!child->Reap()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    // A worker that outlived its leader (nginx's, if the master was killed) is still ours.
    if (ProcessGroupAlive(child->pid())) child->SignalGroup(SIGKILL);
  }
  // SIGKILL takes effect asynchronously; return once nothing of the groups runs any more.
  auto kill_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (ChildProcess* child : children) {
    while (ProcessGroupAlive(child->pid()) && std::chrono::steady_clock::now() < kill_deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  return killed;
}

}  // namespace crmscope::launcher
