#include "crm_demo/launcher/stop_signals.h"

#include <errno.h>
#include <time.h>

namespace crmscope::launcher {

StopSignals::StopSignals() {
  sigemptyset(&watched_);
  sigaddset(&watched_, SIGINT);
  sigaddset(&watched_, SIGTERM);
  sigaddset(&watched_, SIGHUP);  // the terminal closed: stop as cleanly as for Ctrl-C
  sigaddset(&watched_, SIGCHLD);
  pthread_sigmask(SIG_BLOCK, &watched_, &previous_);
}

StopSignals::~StopSignals() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }

int StopSignals::Wait(std::chrono::milliseconds timeout) {
  if (timeout.count() < 0) timeout = std::chrono::milliseconds(0);
  timespec ts{static_cast<time_t>(timeout.count() / 1000),
              static_cast<long>(timeout.count() % 1000) * 1'000'000};
  int signal;
  do {
    signal = sigtimedwait(&watched_, nullptr, &ts);
  } while (signal < 0 && errno == EINTR);
  if (signal < 0) return 0;
  if (signal != SIGCHLD) stop_signal_ = signal;
  return signal;
}

}  // namespace crmscope::launcher
