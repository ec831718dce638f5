#include "collector/remote/newest_forwarded.h"

#include <algorithm>

namespace crmscope::collector {

size_t NewestForwarded::KeepNewer(uint64_t series_hash, Sample* samples, size_t n) {
  Stripe& stripe = stripes_[series_hash % stripes_.size()];
  std::lock_guard<std::mutex> lock(stripe.mu);
  auto [it, inserted] = stripe.newest.try_emplace(series_hash, INT64_MIN);
  TimestampMs newest = it->second;
  size_t kept = 0;
  for (size_t i = 0; i < n; ++i) {
    if (samples[i].t <= newest) continue;
    newest = samples[i].t;
    samples[kept++] = samples[i];
  }
  it->second = newest;
  stripe.max_t = std::max(stripe.max_t, newest);
  if (inserted) PruneIfGrown(stripe);
  return kept;
}

// Amortised: a stripe is swept only when it has doubled since its last sweep.
void NewestForwarded::PruneIfGrown(Stripe& stripe) {
  if (stripe.newest.size() < std::max<size_t>(1024, 2 * stripe.size_after_prune)) return;
  TimestampMs horizon = stripe.max_t - kForgetAfterMs;
  std::erase_if(stripe.newest, [horizon](const auto& entry) { return entry.second < horizon; });
  stripe.size_after_prune = stripe.newest.size();
}

size_t NewestForwarded::size() const {
  size_t total = 0;
  for (const Stripe& stripe : stripes_) {
    std::lock_guard<std::mutex> lock(stripe.mu);
    total += stripe.newest.size();
  }
  return total;
}

}  // namespace crmscope::collector
