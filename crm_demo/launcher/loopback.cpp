#include "crm_demo/launcher/loopback.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include <cerrno>

#include "crm_demo/launcher/unique_fd.h"

namespace crmscope::launcher {

namespace {

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return addr;
}

bool WaitFor(int fd, short events, std::chrono::milliseconds timeout) {
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, static_cast<int>(timeout.count())) == 1 && (p.revents & events);
}

}  // namespace

bool PickFreePorts(int count, std::vector<int>* ports, std::string* error) {
  std::vector<UniqueFd> held;
  for (int i = 0; i < count; ++i) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr = Loopback(0);
    socklen_t len = sizeof addr;
    if (!fd.valid() || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      *error = std::string("cannot pick a free port: ") + ::strerror(errno);
      return false;
    }
    ports->push_back(ntohs(addr.sin_port));
    held.push_back(std::move(fd));
  }
  return true;
}

bool RedisAnswersPing(int port, std::chrono::milliseconds timeout) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  sockaddr_in addr = Loopback(port);
  if (!fd.valid()) return false;
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 &&
      (errno != EINPROGRESS || !WaitFor(fd.get(), POLLOUT, timeout))) {
    return false;
  }
  int so_error = 0;
  socklen_t len = sizeof so_error;
  ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &so_error, &len);
  static constexpr char kPing[] = "PING\r\n";
  if (so_error != 0 ||
      ::send(fd.get(), kPing, sizeof kPing - 1, MSG_NOSIGNAL) != sizeof kPing - 1) {
    return false;
  }
  char reply[16] = {};
  if (!WaitFor(fd.get(), POLLIN, timeout)) return false;
  ssize_t n = ::recv(fd.get(), reply, sizeof reply - 1, 0);
  return n >= 5 && ::strncmp(reply, "+PONG", 5) == 0;
}

}  // namespace crmscope::launcher
