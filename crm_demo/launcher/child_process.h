// A process the launcher started: its own process group (so a signal to the group reaches the
// workers it forks, as nginx does, and the terminal's Ctrl-C reaches only the launcher, which
// then stops the children in order), stdout and stderr appended to a log file, and SIGTERM as
// its parent-death signal so even a SIGKILLed launcher leaves no orphan behind.
//
// Not thread-safe: spawn, signal and reap from the launcher's main thread. The parent-death
// signal fires when the *thread* that forked exits, another reason to keep to that one thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace crmscope::launcher {

class ChildProcess {
 public:
  // Starts argv[0] (an absolute path, or a name looked up on PATH) with `argv`, output appended
  // to `log_path`. Null with *error when it cannot be started: a failed exec is reported here,
  // not as an early exit, because the child tells the parent through a close-on-exec pipe.
  static std::unique_ptr<ChildProcess> Spawn(std::string name, const std::vector<std::string>& argv,
                                             const std::string& log_path, std::string* error);
  // Kills the group with SIGKILL if it is still running: the last line of defence.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  const std::string& name() const { return name_; }
  const std::string& log_path() const { return log_path_; }
  pid_t pid() const { return pid_; }  // also the process group id
  bool running() const { return !wait_status_.has_value(); }

  // Sends `signal` to the whole process group; false once the group is gone.
  bool SignalGroup(int signal) const;
  // Collects the exit status if the child has exited; true when it has (now or earlier).
  bool Reap();
  // "exited with status 1" / "was killed by SIGKILL"; empty while running.
  std::string DescribeExit() const;
  bool ExitedCleanly() const;  // exit status 0

 private:
  ChildProcess(std::string name, std::string log_path, pid_t pid)
      : name_(std::move(name)), log_path_(std::move(log_path)), pid_(pid) {}

  std::string name_;
  std::string log_path_;
  pid_t pid_;
  std::optional<int> wait_status_;
};

// Stops children: `signal` (SIGTERM, or SIGINT for a program that reports on Ctrl-C) to every
// group at once, then SIGKILL to the groups still alive after `grace`. Reaps every child, then
// kills any group member that outlived its leader (an nginx worker whose master was killed).
// Returns the names of the children that needed SIGKILL.
std::vector<std::string> StopChildren(const std::vector<ChildProcess*>& children, int signal,
                                      std::chrono::milliseconds grace);

// True while any process is still in process group `pgid` (a worker whose leader has exited).
bool ProcessGroupAlive(pid_t pgid);

}  // namespace crmscope::launcher
