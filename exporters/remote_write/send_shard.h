// One shard of a sender: a thread with its own connection that takes the series routed to it,
// batches their samples (max_samples_per_send, batch_send_deadline) and sends each batch until it
// is delivered or can never be. Batches go one at a time, so a series' samples arrive in order.
// Internal to the sender.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "exporters/remote_write/codec.h"
#include "exporters/remote_write/durable_queue.h"
#include "exporters/remote_write/queue_sender.h"
#include "exporters/remote_write/queued_record.h"
#include "exporters/remote_write/sender_metrics.h"
#include "exporters/remote_write/write_client.h"

namespace crmscope::remote_write {

// The part of one record that goes to one shard.
struct ShardWork {
  std::shared_ptr<const QueuedRecord> record;  // read once, shared by the shards sending it
  std::vector<uint32_t> series;                 // indices into record->series
  bool metadata = false;                              // carries the record's metadata entries
  size_t samples = 0;
  QueuePosition end;  // the record's end in the queue
  // How far batching has taken it.
  size_t next_series = 0;
  size_t next_sample = 0;
};

// (record seq, samples + metadata entries of it) now delivered or given up on.
using Acknowledgements = std::vector<std::pair<uint64_t, uint64_t>>;
// Called once per batch done with. `through`, when set, is the end of the last record whose share
// for this shard is now wholly done (shares are done in queue order).
using AckFunction = std::function<void(const Acknowledgements&, const QueuePosition* through)>;

class SendShard {
 public:
  // `index` names the thread ("rw-shard-<index>").
  SendShard(int index, const QueueSenderConfig& config, SenderMetrics* metrics, AckFunction ack,
            const std::atomic<bool>* abort);
  ~SendShard();  // the owner sets *abort (or calls Finish and waits) first, then Wake()
  SendShard(const SendShard&) = delete;
  SendShard& operator=(const SendShard&) = delete;

  // Waits while the shard already buffers `capacity` samples (max_samples_per_send while its
  // endpoint fails: the queue on disk is the buffer then); false once aborted.
  bool Push(ShardWork work);
  // From now on a partial batch is sent at once instead of waiting for its deadline.
  void Flush();
  // Wakes the thread, e.g. to notice *abort.
  void Wake();

 private:
  void Run();
  void TakeIntoBatch();  // with mu_ held
  struct BatchSeries {
    std::string label_fields;  // as on the wire, copied from the record
    std::vector<Sample> samples;
  };
  BatchSeries& SeriesSlot(const QueuedRecord::Series& series);
  void SendBatch();
  void ClearBatch();
  void SetFailing(bool failing);
  bool SleepUnlessAborted(std::chrono::milliseconds delay);

  const QueueSenderConfig& config_;
  SenderMetrics* metrics_;
  AckFunction ack_;
  const std::atomic<bool>* abort_;
  WriteClient client_;

  std::mutex mu_;
  std::condition_variable work_;   // input arrived, flush, abort
  std::condition_variable space_;  // input drained below capacity
  std::deque<ShardWork> input_;
  size_t input_samples_ = 0;
  bool flush_ = false;
  bool failing_ = false;  // the batch in hand is being retried

  // The batch being built and sent; only the shard's thread touches it. A series' samples from
  // several records share one slot; slots past batch_used_ are kept for their allocations.
  std::vector<BatchSeries> batch_series_;
  size_t batch_used_ = 0;
  std::string batch_metadata_fields_;  // the records' metadata fields, as on the wire
  std::unordered_map<uint64_t, size_t> slot_of_;
  size_t batch_samples_ = 0;
  size_t batch_metadata_ = 0;
  std::chrono::steady_clock::time_point batch_started_;
  Acknowledgements acks_;
  bool completes_share_ = false;  // the batch holds the last of at least one record's share
  QueuePosition completed_through_;
  std::string wire_;  // the batch as an uncompressed WriteRequest
  std::string body_;  // ... snappy-compressed

  std::thread thread_;  // last: starts once the rest is built
};

}  // namespace crmscope::remote_write
