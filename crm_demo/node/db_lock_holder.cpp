#include "crm_demo/node/db_lock_holder.h"

#include <chrono>

#include "crm_demo/node/deterministic_random.h"
#include "common/log.h"
#include "crm_demo/node/sqlite_handles.h"

namespace crmscope::crm {

namespace {
// Periods vary around 100 ms: with a fixed period, a waiting writer's busy-handler sleeps
// (which settle at 100 ms) can fall into step with it and miss every free window until
// busy_timeout.
constexpr double kMinPeriodMs = 50, kMaxPeriodMs = 150;
}  // namespace

void DbLockHolder::SetShare(double share) {
  if (share > 0) {
    std::lock_guard<std::mutex> lock(mu_);
    share_ = share > 1 ? 1 : share;
    if (!thread_.joinable()) {
      stop_ = false;
      thread_ = std::thread([this] { Run(); });
    }
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    share_ = 0;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool DbLockHolder::WaitStopped(double ms) {
  std::unique_lock<std::mutex> lock(mu_);
  wake_.wait_for(lock, std::chrono::duration<double, std::milli>(ms), [this] { return stop_; });
  return stop_;
}

void DbLockHolder::Run() {
  std::string error;
  SqliteDb db = OpenCrmDatabase(db_path_, /*create=*/false, &error);
  if (!db) {
    log::Error("cannot open the database to hold its lock", {{"err", error}});
    return;
  }
  SplitMix64 rng(reinterpret_cast<uintptr_t>(this));
  for (;;) {
    double share;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
      share = share_;
    }
    double period = kMinPeriodMs + (kMaxPeriodMs - kMinPeriodMs) * rng.Unit();
    // BEGIN IMMEDIATE waits (busy_timeout) for a writer already inside; the hold starts after.
    bool held = Exec(db.get(), "BEGIN IMMEDIATE", &error);
    bool stopped = WaitStopped(share * period);
    if (held) Exec(db.get(), "COMMIT", &error);
    if (stopped || (share < 1 && WaitStopped((1 - share) * period))) return;
  }
}

}  // namespace crmscope::crm
