#include "exporters/remote_write/send_shard.h"

#include <prometheus/counter.h>
#include <prometheus/histogram.h>

#include <snappy.h>

#include <algorithm>
#include <random>

#include "common/log.h"
#include "common/thread_name.h"

namespace crmscope::remote_write {

namespace {

using Clock = std::chrono::steady_clock;

// Somewhere in [backoff/2, backoff]: shards and agents that failed together do not all retry in
// the same instant, while the wait still grows with the backoff.
std::chrono::milliseconds Jittered(int64_t backoff_ms) {
  thread_local std::minstd_rand random(std::random_device{}());
  int64_t half = backoff_ms / 2;
  std::uniform_int_distribution<int64_t> extra(0, backoff_ms - half);
  return std::chrono::milliseconds(half + extra(random));
}

void AddAck(Acknowledgements& acks, uint64_t seq, uint64_t units) {
  if (!acks.empty() && acks.back().first == seq) {
    acks.back().second += units;
  } else {
    acks.emplace_back(seq, units);
  }
}

}  // namespace

SendShard::SendShard(int index, const QueueSenderConfig& config, SenderMetrics* metrics,
                     AckFunction ack, const std::atomic<bool>* abort)
    : config_(config),
      metrics_(metrics),
      ack_(std::move(ack)),
      abort_(abort),
      client_(config, abort),
      thread_([this, index] {
        SetCurrentThreadName("rw-shard-" + std::to_string(index));
        Run();
      }) {}

SendShard::~SendShard() {
  Wake();
  thread_.join();
}

bool SendShard::Push(ShardWork work) {
  std::unique_lock<std::mutex> lock(mu_);
  space_.wait(lock, [&] {
    size_t limit = static_cast<size_t>(failing_ ? config_.max_samples_per_send : config_.capacity);
    return abort_->load() || input_samples_ < limit;
  });
  if (abort_->load()) return false;
  input_samples_ += work.samples;
  input_.push_back(std::move(work));
  work_.notify_one();
  return true;
}

void SendShard::Flush() {
  std::lock_guard<std::mutex> lock(mu_);
  flush_ = true;
  work_.notify_one();
}

void SendShard::Wake() {
  std::lock_guard<std::mutex> lock(mu_);
  work_.notify_all();
  space_.notify_all();
}

void SendShard::Run() {
  const auto deadline = std::chrono::milliseconds(config_.batch_send_deadline_ms);
  const size_t max_samples = static_cast<size_t>(config_.max_samples_per_send);
  std::unique_lock<std::mutex> lock(mu_);
  while (!abort_->load()) {
    TakeIntoBatch();
    bool pending = batch_samples_ + batch_metadata_ > 0;
    if (pending && (batch_samples_ >= max_samples || flush_ ||
                    Clock::now() >= batch_started_ + deadline)) {
      lock.unlock();
      SendBatch();
      lock.lock();
      continue;
    }
    if (pending) {
      work_.wait_until(lock, batch_started_ + deadline);
    } else {
      work_.wait(lock);
    }
  }
}

SendShard::BatchSeries& SendShard::SeriesSlot(const QueuedRecord::Series& series) {
  auto [it, inserted] = slot_of_.try_emplace(series.hash, batch_used_);
  if (!inserted && batch_series_[it->second].label_fields == series.label_fields) {
    return batch_series_[it->second];
  }
  // New in this batch (or, rarely, a hash collision: then the series gets a slot of its own).
  if (batch_used_ == batch_series_.size()) batch_series_.emplace_back();
  BatchSeries& slot = batch_series_[batch_used_++];
  slot.label_fields.assign(series.label_fields);
  slot.samples.clear();
  return slot;
}

void SendShard::TakeIntoBatch() {
  const size_t max_samples = static_cast<size_t>(config_.max_samples_per_send);
  bool was_empty = batch_samples_ + batch_metadata_ == 0;
  bool took = false;
  while (!input_.empty() && batch_samples_ < max_samples) {
    ShardWork& work = input_.front();
    const QueuedRecord& record = *work.record;
    if (work.metadata) {
      for (std::string_view field : record.metadata) batch_metadata_fields_.append(field);
      batch_metadata_ += record.metadata.size();
      AddAck(acks_, record.seq, record.metadata.size());
      work.metadata = false;
      took = true;
    }
    while (work.next_series < work.series.size() && batch_samples_ < max_samples) {
      const QueuedRecord::Series& s = record.series[work.series[work.next_series]];
      size_t total = s.sample_end - s.sample_begin;
      size_t take = std::min(total - work.next_sample, max_samples - batch_samples_);
      if (take > 0) {
        BatchSeries& slot = SeriesSlot(s);
        const Sample* from = record.samples.data() + s.sample_begin + work.next_sample;
        slot.samples.insert(slot.samples.end(), from, from + take);
        batch_samples_ += take;
        input_samples_ -= take;
        AddAck(acks_, record.seq, take);
        took = true;
      }
      work.next_sample += take;
      if (work.next_sample == total) {
        ++work.next_series;
        work.next_sample = 0;
      }
    }
    if (work.next_series < work.series.size()) break;  // batch full
    completes_share_ = true;
    completed_through_ = work.end;
    input_.pop_front();
  }
  if (took) {
    if (was_empty) batch_started_ = Clock::now();
    space_.notify_all();
  }
}

bool SendShard::SleepUnlessAborted(std::chrono::milliseconds delay) {
  std::unique_lock<std::mutex> lock(mu_);
  return !work_.wait_for(lock, delay, [&] { return abort_->load(); });
}

void SendShard::SendBatch() {
  wire_.clear();
  for (size_t i = 0; i < batch_used_; ++i) {
    const BatchSeries& s = batch_series_[i];
    AppendSeriesField(s.label_fields, s.samples.data(), s.samples.size(), &wire_);
  }
  wire_.append(batch_metadata_fields_);
  body_.clear();
  snappy::Compress(wire_.data(), wire_.size(), &body_);
  double samples = static_cast<double>(batch_samples_);
  int64_t backoff_ms = config_.min_backoff_ms;
  for (int attempt = 1;; ++attempt) {
    auto started = Clock::now();
    WriteOutcome outcome = client_.Post(body_);
    metrics_->send_duration->Observe(std::chrono::duration<double>(Clock::now() - started).count());
    if (outcome.verdict == WriteOutcome::Verdict::kSent) {
      metrics_->samples_sent->Increment(samples);
      metrics_->sent_bytes->Increment(static_cast<double>(body_.size()));
      if (attempt > 1) {
        log::Info("Remote write batch delivered after retries",
                  {{"remote_name", config_.name}, {"attempts", std::to_string(attempt)}});
      }
      break;
    }
    if (abort_->load()) return;  // not acknowledged: it stays queued for the next start
    std::string status = std::to_string(outcome.status);
    if (outcome.verdict == WriteOutcome::Verdict::kDrop) {
      metrics_->samples_failed->Increment(samples);
      log::Error("non-recoverable error, dropping batch",
                 {{"remote_name", config_.name}, {"url", config_.url}, {"status", status},
                  {"samples", std::to_string(batch_samples_)}, {"err", outcome.error}});
      break;
    }
    metrics_->samples_retried->Increment(samples);
    std::chrono::milliseconds delay = outcome.retry_after_ms >= 0
                                          ? std::chrono::milliseconds(outcome.retry_after_ms)
                                          : Jittered(backoff_ms);
    backoff_ms = std::min(backoff_ms * 2, config_.max_backoff_ms);
    // One line per batch that starts failing, not one per attempt through a long outage.
    if (attempt == 1) {
      SetFailing(true);
      log::Warn("Failed to send batch, retrying",
                {{"remote_name", config_.name}, {"url", config_.url}, {"status", status},
                 {"retry_in", std::to_string(delay.count()) + "ms"}, {"err", outcome.error}});
    }
    if (!SleepUnlessAborted(delay)) return;
  }
  SetFailing(false);
  ack_(acks_, completes_share_ ? &completed_through_ : nullptr);
  ClearBatch();
}

void SendShard::SetFailing(bool failing) {
  std::lock_guard<std::mutex> lock(mu_);
  if (failing_ == failing) return;
  failing_ = failing;
  if (!failing) space_.notify_all();
}

void SendShard::ClearBatch() {
  batch_used_ = 0;
  batch_metadata_fields_.clear();
  slot_of_.clear();
  acks_.clear();
  completes_share_ = false;
  batch_samples_ = 0;
  batch_metadata_ = 0;
}

}  // namespace crmscope::remote_write
