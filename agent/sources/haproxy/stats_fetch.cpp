#include "agent/sources/haproxy/stats_fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

namespace crmscope::agent {

namespace {

// A proxy with thousands of servers writes a few MB; more than this is not a stats CSV.
constexpr size_t kMaxCsvBytes = 64u << 20;

size_t AppendBody(char* data, size_t size, size_t n, void* out) {
  auto* body = static_cast<std::string*>(out);
  if (body->size() + size * n > kMaxCsvBytes) return 0;  // aborts the transfer
  body->append(data, size * n);
  return size * n;
}

struct CurlEasyFree {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};

class HttpStatsFetcher final : public StatsFetcher {
 public:
  HttpStatsFetcher(const std::string& url, int64_t timeout_ms)
      : url_(url), timeout_ms_(timeout_ms), curl_(curl_easy_init()) {}

  bool Fetch(std::string* csv, std::string* error) override {
    if (!curl_) {
      *error = "curl_easy_init failed";
      return false;
    }
    csv->clear();
    CURL* curl = curl_.get();
    curl_easy_setopt(curl, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, csv);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms_));
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "crmscope-agent");
    curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // the CSV compresses 10:1
    CURLcode code = curl_easy_perform(curl);
    if (code != CURLE_OK) {
      *error = curl_easy_strerror(code);
      return false;
    }
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
      *error = "HTTP status " + std::to_string(status);
      return false;
    }
    return true;
  }

 private:
  std::string url_;
  int64_t timeout_ms_;
  std::unique_ptr<CURL, CurlEasyFree> curl_;
};

class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

using Clock = std::chrono::steady_clock;

// Waits for `events` on `fd` until `deadline`; false on timeout or error.
bool WaitFor(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, events, 0};
    int n = poll(&p, 1, static_cast<int>(left.count()));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}

class SocketStatsFetcher final : public StatsFetcher {
 public:
  SocketStatsFetcher(const std::string& path, int64_t timeout_ms)
      : path_(path), timeout_ms_(timeout_ms) {}

  bool Fetch(std::string* csv, std::string* error) override {
    csv->clear();
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms_);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path_.size() >= sizeof addr.sun_path) {
      *error = "socket path too long";
      return false;
    }
    std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
    UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (fd.get() < 0) return Failed("socket", error);
    if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
      if (errno != EAGAIN && errno != EINPROGRESS) return Failed("connect", error);
      if (!WaitFor(fd.get(), POLLOUT, deadline)) return TimedOut(error);
    }
    constexpr std::string_view kCommand = "show stat\n";
    size_t sent = 0;
    while (sent < kCommand.size()) {
      ssize_t n = send(fd.get(), kCommand.data() + sent, kCommand.size() - sent, MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<size_t>(n);
      } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        return Failed("send", error);
      } else if (!WaitFor(fd.get(), POLLOUT, deadline)) {
        return TimedOut(error);
      }
    }
    char buf[65536];
    for (;;) {
      ssize_t n = recv(fd.get(), buf, sizeof buf, 0);
      if (n == 0) return true;
      if (n > 0) {
        if (csv->size() + static_cast<size_t>(n) > kMaxCsvBytes) {
          *error = "answer larger than 64 MiB";
          return false;
        }
        csv->append(buf, static_cast<size_t>(n));
      } else if (errno != EAGAIN && errno != EINTR) {
        return Failed("recv", error);
      } else if (!WaitFor(fd.get(), POLLIN, deadline)) {
        return TimedOut(error);
      }
    }
  }

 private:
  static bool Failed(const char* call, std::string* error) {
    *error = std::string(call) + ": " + std::strerror(errno);
    return false;
  }
  bool TimedOut(std::string* error) const {
    *error = "no answer within " + std::to_string(timeout_ms_) + " ms";
    return false;
  }

  std::string path_;
  int64_t timeout_ms_;
};

}  // namespace

std::unique_ptr<StatsFetcher> MakeHttpStatsFetcher(const std::string& url, int64_t timeout_ms) {
  return std::make_unique<HttpStatsFetcher>(url, timeout_ms);
}

std::unique_ptr<StatsFetcher> MakeSocketStatsFetcher(const std::string& path, int64_t timeout_ms) {
  return std::make_unique<SocketStatsFetcher>(path, timeout_ms);
}

}  // namespace crmscope::agent
