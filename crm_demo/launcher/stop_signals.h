// SIGINT, SIGTERM, SIGHUP and SIGCHLD received synchronously: blocked for the whole process (so
// they queue instead of interrupting anything) and taken with sigtimedwait from the main loop,
// which then stops the stack in order. Children get an empty mask back before they exec.
#pragma once

#include <signal.h>

#include <chrono>

namespace crmscope::launcher {

class StopSignals {
 public:
  StopSignals();   // before any thread starts, so every thread inherits the mask
  ~StopSignals();  // restores the mask it found
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // The next of the four to arrive within `timeout`, or 0 when none did.
  int Wait(std::chrono::milliseconds timeout);
  // SIGINT, SIGTERM or SIGHUP once one has arrived, else 0.
  int stop_signal() const { return stop_signal_; }

 private:
  sigset_t watched_;
  sigset_t previous_;
  int stop_signal_ = 0;
};

}  // namespace crmscope::launcher
