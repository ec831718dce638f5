// The faults active on this node, their effects on each request, and the side effects that
// outlive a request (a dropped index, the held write lock, a shrunken cache), undone when the
// fault runs out.
//
// Side effects are reconciled, not toggled: after every change the wanted state (which indexes
// are dropped, the largest lock share, the smallest cache capacity) is computed from the faults
// still active and applied, so overlapping faults end correctly. Applying may take a while
// (recreating an index on 500k orders); it runs under its own mutex, never the one requests
// take, so requests go on meanwhile.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "crm_demo/node/cache/customer_cache.h"
#include "crm_demo/node/db_lock_holder.h"
#include "crm_demo/node/fault_spec.h"

namespace crmscope::crm {

// What the active faults do to one request.
struct FaultEffects {
  double delay_ms = 0;  // latency (jitter drawn) and slow_start, summed
  double cpu_burn_ms = 0;
  double error_rate = 0;  // chance the request is answered 500
  bool cache_off = false;
};

class FaultInjector {
 public:
  // `cache` may be null (--cache=off); it must outlive the injector.
  FaultInjector(std::string db_path, CustomerCache* cache);
  // Ends every active fault: indexes recreated, lock released, capacity restored.
  ~FaultInjector();
  FaultInjector(const FaultInjector&) = delete;
  FaultInjector& operator=(const FaultInjector&) = delete;

  // Starts a fault; false with *error (for a 409/500) when its side effect cannot be applied.
  bool Add(const FaultSpec& spec, int64_t* id, std::string* error);
  nlohmann::json List() const;  // {"faults": [{id, type, params, duration_s, remaining_s}]}
  size_t Clear();               // ends all now; returns how many were active

  // The effects on a request to `template_id`; `unit` draws uniform [0, 1) for the jitter.
  // Cheap when no fault is active (one atomic load).
  template <typename Unit>
  FaultEffects EffectsFor(size_t template_id, Unit&& unit) const {
    if (active_count_.load(std::memory_order_acquire) == 0) return {};
    return Compute(template_id, unit());
  }

 private:
  using Clock = std::chrono::steady_clock;
  struct Active {
    int64_t id;
    FaultSpec spec;
    Clock::time_point started, ends;
  };

  FaultEffects Compute(size_t template_id, double jitter_unit) const;
  void Reap();  // the expiry thread
  void RemoveExpiredAndApply();
  // Brings indexes, lock and capacity in line with `faults`; requires apply_mu_.
  bool Reconcile(const std::vector<Active>& faults, std::string* error);

  const std::string db_path_;
  CustomerCache* const cache_;
  const size_t normal_capacity_;
  DbLockHolder lock_holder_;

  std::mutex apply_mu_;                    // serializes side effects; taken before mu_
  std::set<std::string> dropped_indexes_;  // guarded by apply_mu_
  bool capacity_changed_ = false;          // guarded by apply_mu_

  mutable std::mutex mu_;  // the active list; requests take it briefly
  std::vector<Active> active_;
  int64_t next_id_ = 1;
  std::atomic<size_t> active_count_{0};
  bool stopping_ = false;
  std::condition_variable changed_;
  std::thread reaper_;
};

}  // namespace crmscope::crm
