#include "agent/core/collection_loop.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include <chrono>

#include "common/log.h"
#include "common/thread_name.h"

namespace crmscope::agent {

struct CollectionLoop::Slot {
  ScheduledSource scheduled;
  std::string name;
  prometheus::Counter* collections = nullptr;
  prometheus::Counter* samples = nullptr;
  prometheus::Gauge* duration = nullptr;
  prometheus::Counter* targets_up = nullptr;    // up / probe_success samples equal to 1
  prometheus::Counter* targets_down = nullptr;  // ... equal to 0
  FamilyCatalog catalog;                         // touched by the slot's own thread only
  LatestCollection latest;                       // guarded by CollectionLoop::mu_
};

CollectionLoop::CollectionLoop(std::vector<ScheduledSource> sources, BatchConsumer consumer,
                               prometheus::Registry& registry, WallClock clock,
                               bool keep_latest)
    : consumer_(std::move(consumer)), clock_(std::move(clock)), keep_latest_(keep_latest) {
  auto& collections = prometheus::BuildCounter()
                          .Name("crmscope_agent_collections_total")
                          .Help("Collections run, per source.")
                          .Register(registry);
  auto& samples = prometheus::BuildCounter()
                      .Name("crmscope_agent_samples_read_total")
                      .Help("Samples the sources produced, before shipping.")
                      .Register(registry);
  auto& duration = prometheus::BuildGauge()
                       .Name("crmscope_agent_collection_duration_seconds")
                       .Help("How long the source's latest collection took.")
                       .Register(registry);
  auto& outcomes = prometheus::BuildCounter()
                       .Name("crmscope_agent_target_checks_total")
                       .Help("Scrapes (up) and probes (probe_success) by outcome, per source.")
                       .Register(registry);
  for (ScheduledSource& s : sources) {
    auto slot = std::make_unique<Slot>();
    slot->name = std::string(s.source->name());
    slot->scheduled = std::move(s);
    slot->collections = &collections.Add({{"source", slot->name}});
    slot->samples = &samples.Add({{"source", slot->name}});
    slot->duration = &duration.Add({{"source", slot->name}});
    slot->targets_up = &outcomes.Add({{"source", slot->name}, {"outcome", "success"}});
    slot->targets_down = &outcomes.Add({{"source", slot->name}, {"outcome", "failure"}});
    slots_.push_back(std::move(slot));
  }
}

CollectionLoop::~CollectionLoop() { Stop(); }

void CollectionLoop::Start() {
  for (auto& slot : slots_) {
    threads_.emplace_back([this, s = slot.get()] {
      // "src:nginx_log", "src:host": the source's kind, before the ':' that starts its target.
      SetCurrentThreadName("src:" + s->name.substr(0, s->name.find(':')));
      Run(*s);
    });
  }
}

void CollectionLoop::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

void CollectionLoop::CollectAllOnce() {
  for (auto& slot : slots_) CollectOnce(*slot, clock_());
}

void CollectionLoop::Run(Slot& slot) {
  const int64_t interval = slot.scheduled.interval_ms;
  TimestampMs next = clock_();
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    lock.unlock();
    CollectOnce(slot, next);
    TimestampMs now = clock_();
    next += interval;
    if (next <= now) next += ((now - next) / interval + 1) * interval;  // skip missed ticks
    lock.lock();
    stop_cv_.wait_for(lock, std::chrono::milliseconds(next - now), [this] { return stopping_; });
  }
}

void CollectionLoop::CollectOnce(Slot& slot, TimestampMs now) {
  BatchSink sink(now, &slot.catalog);
  auto started = std::chrono::steady_clock::now();
  slot.scheduled.source->Collect(now, sink);
  slot.duration->Set(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  slot.collections->Increment();
  slot.samples->Increment(static_cast<double>(sink.samples()));
  remote_write::WriteRequest batch = sink.Take();
  for (const remote_write::TimeSeries& series : batch.series) {
    std::string_view name = MetricName(series.labels);
    if ((name == "up" || name == "probe_success") && !series.samples.empty()) {
      double v = series.samples.back().v;
      if (v == 1) slot.targets_up->Increment();
      if (v == 0) slot.targets_down->Increment();
    }
  }
  if (!batch.series.empty() || !batch.metadata.empty()) consumer_(batch);
  if (!keep_latest_) return;
  std::lock_guard<std::mutex> lock(mu_);
  slot.latest.batch = std::move(batch);
  slot.latest.catalog = slot.catalog;
}

void CollectionLoop::AppendLatestExposition(std::string* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<const LatestCollection*> latest;
  for (const auto& slot : slots_) latest.push_back(&slot->latest);
  AppendExposition(latest, out);
}

}  // namespace crmscope::agent
