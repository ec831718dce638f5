// Runs every configured source at its interval and ships what each collection produced.
//
// One thread per source: sources block (an HTTP scrape waits up to its timeout, a log source
// reads what arrived), and a slow one must not delay the others' ticks. Ticks are on a fixed
// grid from the start (start + k × interval), not "interval after the last one finished", so a
// series' samples stay evenly spaced; a collection that overruns skips the ticks it missed, as
// Prometheus's scrape loop does.
#pragma once

#include <prometheus/registry.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/core/derived_exposition.h"
#include "agent/sources/source.h"

namespace crmscope::agent {

struct ScheduledSource {
  std::unique_ptr<Source> source;
  int64_t interval_ms = 0;
};

// Where a collection's batch goes: every remote-write queue of the agent. Called from the
// sources' threads, concurrently.
using BatchConsumer = std::function<void(const remote_write::WriteRequest& batch)>;

// Injected so tests drive time: the wall clock in milliseconds.
using WallClock = std::function<TimestampMs()>;

class CollectionLoop {
 public:
  // With `keep_latest`, the latest collection of each source is kept for
  // AppendLatestExposition (global.expose_series); without, each batch is freed once shipped.
  CollectionLoop(std::vector<ScheduledSource> sources, BatchConsumer consumer,
                 prometheus::Registry& registry, WallClock clock, bool keep_latest = true);
  ~CollectionLoop();  // stops and joins
  CollectionLoop(const CollectionLoop&) = delete;
  CollectionLoop& operator=(const CollectionLoop&) = delete;

  void Start();
  void Stop();

  // Collects every source once, now, on the calling thread (tests, and one-shot runs).
  void CollectAllOnce();

  // The latest collection of every source, in configuration order, for the agent's /metrics.
  void AppendLatestExposition(std::string* out) const;

 private:
  struct Slot;
  void Run(Slot& slot);
  void CollectOnce(Slot& slot, TimestampMs now);

  std::vector<std::unique_ptr<Slot>> slots_;
  BatchConsumer consumer_;
  WallClock clock_;
  bool keep_latest_;
  mutable std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace crmscope::agent
