// For tests that run crmscope's binaries as child processes on loopback: a free port, a plain
// HTTP/1.1 request, and a child in its own process group that is always reaped.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

namespace crmscope::testing {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

inline int FreeLoopbackPort() {
  Fd fd(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  return ntohs(addr.sin_port);
}

// One request per connection; returns the status code (0 when the connection failed or nothing
// answered within 5 s) and, when `response_body` is given, the body.
inline int HttpRequest(int port, const std::string& method, const std::string& path,
                       const std::string& body = "", std::string* response_body = nullptr) {
  Fd fd(::socket(AF_INET, SOCK_STREAM, 0));
  if (fd.get() < 0) return 0;
  timeval timeout{5, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return 0;
  std::string request =
      method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (method == "POST") {
    request += "Content-Type: application/x-protobuf\r\nContent-Encoding: snappy\r\n"
               "X-Prometheus-Remote-Write-Version: 0.1.0\r\n";
  }
  request += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  for (size_t sent = 0; sent < request.size();) {
    const ssize_t n = ::send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return 0;
    sent += static_cast<size_t>(n);
  }
  std::string answer;
  char buffer[4096];
  for (ssize_t n; (n = ::recv(fd.get(), buffer, sizeof buffer, 0)) > 0;) answer.append(buffer, n);
  if (answer.size() < 12 || answer.compare(0, 5, "HTTP/") != 0) return 0;
  if (response_body != nullptr) {
    size_t end = answer.find("\r\n\r\n");
    *response_body = end == std::string::npos ? "" : answer.substr(end + 4);
  }
  return std::atoi(answer.c_str() + answer.find(' ') + 1);
}

// A binary run as a child in its own process group, its output appended to `log_path`. The
// destructor kills the group with SIGKILL if the test did not stop it.
class ChildProcess {
 public:
  ChildProcess(const std::string& binary, const std::vector<std::string>& args,
               const std::string& log_path) {
    std::vector<std::string> argv_storage = {binary};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& arg : argv_storage) argv.push_back(arg.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::setpgid(0, 0);
      const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (log_fd >= 0) {
        ::dup2(log_fd, 1);
        ::dup2(log_fd, 2);
      }
      ::execv(binary.c_str(), argv.data());
      ::_exit(127);
    }
    ::setpgid(pid_, pid_);  // also from the parent, so a kill right after fork finds the group
  }
  ~ChildProcess() {
    if (pid_ > 0) Kill(SIGKILL);
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool Exited() const { return pid_ <= 0 || ::waitpid(pid_, nullptr, WNOHANG) == pid_; }

  // Polls GET `path` on `port` until it answers 200; false when the child exits or time is up.
  bool WaitHttpOk(int port, const std::string& path, std::chrono::seconds deadline) const {
    const auto end = Clock::now() + deadline;
    while (Clock::now() < end) {
      if (HttpRequest(port, "GET", path) == 200) return true;
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return false;  // exited: it will never be
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  // Sends `signal` to the process group and waits (bounded) for the exit; returns the wait status.
  int Kill(int signal) {
    ::kill(-pid_, signal);
    int status = -1;
    const auto end = Clock::now() + 20s;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (Clock::now() > end) {
        ::kill(-pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        status = -1;
        break;
      }
      std::this_thread::sleep_for(10ms);
    }
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
};

}  // namespace crmscope::testing
