#include "exporters/remote_write/queue_sender.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "common/log.h"
#include "common/thread_name.h"
#include "exporters/remote_write/durable_queue.h"
#include "exporters/remote_write/send_shard.h"
#include "exporters/remote_write/sender_metrics.h"

namespace crmscope::remote_write {

namespace {

using Clock = std::chrono::steady_clock;

// What a decoded record may grow to; Append wrote it, so this only guards against a damaged file.
constexpr size_t kMaxDecodedRecordBytes = size_t{1} << 30;
// How often appended records are fsync'ed: the power-loss window (kill -9 loses nothing).
constexpr auto kSyncInterval = std::chrono::seconds(1);

// The records read from the queue whose samples are still being sent, oldest first, and how far
// each shard has delivered its shares. The queue may only be committed up to the end of the
// oldest record not wholly delivered, since shards finish out of reading order; the shards'
// own positions let a restart skip the shares they had delivered beyond it.
class DeliveryTracker {
 public:
  using CommitFunction = std::function<void(QueuePosition, const std::vector<QueuePosition>&)>;

  DeliveryTracker(std::vector<QueuePosition> lanes, CommitFunction commit)
      : lanes_(std::move(lanes)), commit_(std::move(commit)) {}

  // Registers a record before any of its shares can be acknowledged.
  void Add(uint64_t seq, QueuePosition end, uint64_t units) {
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_.empty()) first_seq_ = seq;
    pending_.push_back({end, units});
    if (Advance()) commit_(delivered_, lanes_);
  }
  void Ack(size_t lane, const Acknowledgements& acks, const QueuePosition* through) {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [seq, units] : acks) pending_[seq - first_seq_].outstanding -= units;
    bool lane_moved = through && *through > lanes_[lane];
    if (lane_moved) lanes_[lane] = *through;
    // Committed under the lock, so checkpoints are written in the order of the states they hold.
    if (Advance() || lane_moved) commit_(delivered_, lanes_);
  }

 private:
  struct Entry {
    QueuePosition end;
    uint64_t outstanding;
  };
  bool Advance() {
    bool advanced = false;
    while (!pending_.empty() && pending_.front().outstanding == 0) {
      delivered_ = pending_.front().end;
      pending_.pop_front();
      ++first_seq_;
      advanced = true;
    }
    return advanced;
  }
  std::mutex mu_;
  std::deque<Entry> pending_;
  uint64_t first_seq_ = 0;
  QueuePosition delivered_;
  std::vector<QueuePosition> lanes_;
  CommitFunction commit_;
};

}  // namespace

std::string DefaultRemoteName(std::string_view url) {
  uint64_t hash = 14695981039346656037ULL;  // FNV-1a: stable across runs and builds
  for (unsigned char c : url) hash = (hash ^ c) * 1099511628211ULL;
  char name[16];
  std::snprintf(name, sizeof name, "rw-%06llx", static_cast<unsigned long long>(hash & 0xffffff));
  return name;
}

namespace {

std::string Validate(const QueueSenderConfig& c) {
  if (c.url.empty()) return "url is required";
  if (c.queue_dir.empty()) return "no queue directory";
  if (c.max_shards < 1) return "max_shards must be at least 1";
  if (c.min_shards < 1 || c.min_shards > c.max_shards) return "min_shards must be in [1, max_shards]";
  if (c.capacity < 1) return "capacity must be at least 1";
  if (c.max_samples_per_send < 1) return "max_samples_per_send must be at least 1";
  if (c.batch_send_deadline_ms <= 0) return "batch_send_deadline must be positive";
  if (c.min_backoff_ms <= 0 || c.max_backoff_ms < c.min_backoff_ms) {
    return "backoff must satisfy 0 < min_backoff <= max_backoff";
  }
  if (c.timeout_ms <= 0) return "remote_timeout must be positive";
  return {};
}

bool SortedLabels(const Labels& labels) {
  return std::is_sorted(labels.begin(), labels.end(),
                        [](const Label& a, const Label& b) { return a.name < b.name; });
}

// The batch as it goes on disk: external labels added where the series lacks them, sorted.
// Returns null when the batch can go as it is.
std::unique_ptr<WriteRequest> Relabelled(const WriteRequest& batch, const Labels& external) {
  bool needed = !external.empty();
  for (size_t i = 0; i < batch.series.size() && !needed; ++i) needed = !SortedLabels(batch.series[i].labels);
  if (!needed) return nullptr;
  auto out = std::make_unique<WriteRequest>(batch);
  for (TimeSeries& series : out->series) {
    size_t own = series.labels.size();
    for (const Label& label : external) {
      bool present = false;
      for (size_t i = 0; i < own && !present; ++i) present = series.labels[i].name == label.name;
      if (!present) series.labels.push_back(label);
    }
    if (!SortedLabels(series.labels)) SortLabels(series.labels);
  }
  return out;
}

}  // namespace

struct QueueSender::Impl {
  QueueSenderConfig config;
  std::unique_ptr<SenderMetrics> metrics;
  std::unique_ptr<DurableQueue> queue;
  std::vector<QueuePosition> lanes_at_open;  // per shard: its shares up to here were delivered
  std::unique_ptr<DeliveryTracker> tracker;
  std::atomic<bool> closed{false};
  std::atomic<bool> abort{false};
  std::mutex drain_mu;
  std::condition_variable drained;
  std::vector<std::unique_ptr<SendShard>> shards;
  std::thread reader;
  std::mutex sync_mu;
  std::condition_variable sync_stop;
  std::thread syncer;

  void Commit(QueuePosition delivered, const std::vector<QueuePosition>& lanes) {
    std::string error;
    if (!queue->Commit(delivered, lanes, &error)) {
      log::Error("Cannot persist the remote write queue position",
                 {{"remote_name", config.name}, {"err", error}});
    }
    metrics->queue_bytes->Set(static_cast<double>(queue->pending_bytes()));
    std::lock_guard<std::mutex> lock(drain_mu);
    drained.notify_all();
  }
  void Sync() {
    std::string error;
    if (!queue->Sync(&error)) {
      log::Error("Cannot sync the remote write queue", {{"remote_name", config.name}, {"err", error}});
    }
  }
  bool Dispatch(const QueueRecord& raw, uint64_t seq);
  void ReadLoop();
  void SyncLoop();
};

// Splits a record among the shards by series, so each series is always sent by the same one.
bool QueueSender::Impl::Dispatch(const QueueRecord& raw, uint64_t seq) {
  auto record = std::make_shared<QueuedRecord>();
  record->seq = seq;
  std::string error;
  if (!IndexRecord(raw.payload, kMaxDecodedRecordBytes, record.get(), &error)) {
    log::Error("Undecodable record in the remote write queue, skipping it",
               {{"remote_name", config.name}, {"err", error}});
    metrics->samples_dropped->Increment(raw.samples);
    tracker->Add(seq, raw.end, 0);
    return true;
  }
  std::vector<ShardWork> parts(shards.size());
  for (uint32_t i = 0; i < record->series.size(); ++i) {
    const QueuedRecord::Series& s = record->series[i];
    ShardWork& part = parts[s.hash % parts.size()];
    part.series.push_back(i);
    part.samples += s.sample_end - s.sample_begin;
  }
  const size_t metadata = record->metadata.size();
  parts[0].metadata = metadata > 0;
  uint64_t units = 0;
  for (size_t k = 0; k < parts.size(); ++k) {
    // Delivered before the last restart, after what the queue's main position says.
    if (k < lanes_at_open.size() && raw.end <= lanes_at_open[k]) parts[k] = ShardWork();
    units += parts[k].samples + (parts[k].metadata ? metadata : 0);
  }
  tracker->Add(seq, raw.end, units);
  for (size_t k = 0; k < parts.size(); ++k) {
    if (parts[k].series.empty() && !parts[k].metadata) continue;
    parts[k].record = record;
    parts[k].end = raw.end;
    if (!shards[k]->Push(std::move(parts[k]))) return false;
  }
  return true;
}

void QueueSender::Impl::ReadLoop() {
  uint64_t seq = 0;
  QueueRecord raw;
  while (!abort.load()) {
    if (!queue->Read(&raw)) {
      queue->WaitReadable(Clock::now() + std::chrono::seconds(60));
      continue;
    }
    if (!Dispatch(raw, seq++)) break;
  }
}

// On its own thread: the reader may wait on a full shard for as long as an outage lasts.
void QueueSender::Impl::SyncLoop() {
  std::unique_lock<std::mutex> lock(sync_mu);
  while (!sync_stop.wait_for(lock, kSyncInterval, [&] { return abort.load(); })) {
    lock.unlock();
    Sync();
    lock.lock();
  }
}

QueueSender::QueueSender(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

std::unique_ptr<QueueSender> QueueSender::Open(const QueueSenderConfig& config,
                                               prometheus::Registry* registry,
                                               std::string_view metric_prefix, std::string* error) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  QueueSenderConfig& c = impl->config;
  if (c.name.empty()) c.name = DefaultRemoteName(c.url);
  if (std::string problem = Validate(c); !problem.empty()) {
    *error = "remote write " + c.name + ": " + problem;
    return nullptr;
  }
  impl->metrics = std::make_unique<SenderMetrics>(registry, metric_prefix, c.name, c.url);
  impl->queue = DurableQueue::Open({.dir = c.queue_dir, .max_bytes = c.max_bytes}, error);
  if (!impl->queue) return nullptr;
  uint64_t bytes = impl->queue->pending_bytes();
  impl->metrics->queue_bytes->Set(static_cast<double>(bytes));
  if (bytes > 0) {
    log::Info("Resuming remote write queue",
              {{"remote_name", c.name}, {"url", c.url}, {"queue_bytes", std::to_string(bytes)}});
  }
  Impl* s = impl.get();
  // Shares are assigned by hash modulo the shard count: another count makes other shares.
  std::vector<QueuePosition> lanes = s->queue->lanes_at_open();
  if (lanes.size() == static_cast<size_t>(c.max_shards)) {
    s->lanes_at_open = lanes;
  } else {
    lanes.assign(c.max_shards, s->queue->committed());
  }
  s->tracker = std::make_unique<DeliveryTracker>(
      std::move(lanes),
      [s](QueuePosition delivered, const std::vector<QueuePosition>& l) { s->Commit(delivered, l); });
  for (int i = 0; i < c.max_shards; ++i) {
    auto ack = [s, i](const Acknowledgements& acks, const QueuePosition* through) {
      s->tracker->Ack(i, acks, through);
    };
    s->shards.push_back(
        std::make_unique<SendShard>(i, s->config, s->metrics.get(), ack, &s->abort));
  }
  s->reader = std::thread([s] {
    SetCurrentThreadName("rw-read");
    s->ReadLoop();
  });
  s->syncer = std::thread([s] {
    SetCurrentThreadName("rw-sync");
    s->SyncLoop();
  });
  return std::unique_ptr<QueueSender>(new QueueSender(std::move(impl)));
}

QueueSender::~QueueSender() { Close(std::chrono::milliseconds(0)); }

bool QueueSender::Append(const WriteRequest& batch, std::string* error) {
  Impl& s = *impl_;
  if (s.closed.load()) {
    *error = "remote write " + s.config.name + " is closed";
    return false;
  }
  std::unique_ptr<WriteRequest> relabelled = Relabelled(batch, s.config.external_labels);
  const WriteRequest& request = relabelled ? *relabelled : batch;
  size_t samples = 0;
  for (const TimeSeries& series : request.series) samples += series.samples.size();
  if (samples == 0 && request.metadata.empty()) return true;
  DurableQueue::Dropped dropped;
  if (!s.queue->Append(Encode(request), static_cast<uint32_t>(samples),
                       static_cast<uint32_t>(request.metadata.size()), &dropped, error)) {
    return false;
  }
  if (dropped.segments > 0) {
    s.metrics->samples_dropped->Increment(static_cast<double>(dropped.samples));
    log::Warn("Remote write queue full, dropped its oldest samples",
              {{"remote_name", s.config.name}, {"url", s.config.url},
               {"max_bytes", std::to_string(s.config.max_bytes)},
               {"segments", std::to_string(dropped.segments)},
               {"samples", std::to_string(dropped.samples)}});
  }
  s.metrics->queue_bytes->Set(static_cast<double>(s.queue->pending_bytes()));
  return true;
}

void QueueSender::Close(std::chrono::milliseconds flush_deadline) {
  Impl& s = *impl_;
  if (s.closed.exchange(true)) return;
  for (auto& shard : s.shards) shard->Flush();
  {
    std::unique_lock<std::mutex> lock(s.drain_mu);
    s.drained.wait_until(lock, Clock::now() + flush_deadline, [&] { return s.queue->drained(); });
  }
  {
    std::lock_guard<std::mutex> lock(s.sync_mu);
    s.abort.store(true);
    s.sync_stop.notify_all();
  }
  s.queue->Wake();
  for (auto& shard : s.shards) shard->Wake();
  s.reader.join();
  s.syncer.join();
  s.shards.clear();
  s.Sync();
  if (!s.queue->drained()) {
    log::Info("Remote write queue kept for the next start",
              {{"remote_name", s.config.name},
               {"queue_bytes", std::to_string(s.queue->pending_bytes())}});
  }
}

QueueSender::Stats QueueSender::stats() const {
  const SenderMetrics& m = *impl_->metrics;
  Stats stats;
  stats.samples_sent = static_cast<uint64_t>(m.samples_sent->Value());
  stats.samples_failed = static_cast<uint64_t>(m.samples_failed->Value());
  stats.samples_retried = static_cast<uint64_t>(m.samples_retried->Value());
  stats.samples_dropped = static_cast<uint64_t>(m.samples_dropped->Value());
  stats.queue_bytes = impl_->queue->pending_bytes();
  return stats;
}

const QueueSenderConfig& QueueSender::config() const { return impl_->config; }

}  // namespace crmscope::remote_write
