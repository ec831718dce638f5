// The on-disk queue in front of one remote-write endpoint: what was appended survives an outage of
// the endpoint and a restart of the process, and is read back in the order it was appended.
//
// Layout: a directory of segment files (00000001.seg, 00000002.seg, ...) holding records, each
//   u32 payload length | u32 samples | u32 metadata entries | u32 CRC-32 of the rest | payload
// (little-endian), and a file "checkpoint", replaced by atomic rename, naming the position up to
// which everything was delivered and, for each reading lane (a sender shard, which delivers its
// share of each record in order), the position up to which that lane delivered its share. A
// restart reads on from the first position; the reader skips a lane's share of a record at or
// before that lane's position, so only what was in flight when the process died is sent again.
//
// Durability: Append() returns after write(2), so a record survives kill -9 (the page cache
// outlives the process). A segment is fsync'ed when it is rolled and, by the sender, every second:
// a power loss loses at most the last second of appends and may leave the checkpoint stale (that
// only means resending). A torn record at the end of the last segment is cut off at start-up.
//
// Bound: the segments never hold more than max_bytes. To append past it, the oldest segments are
// deleted whether delivered or not (newest data is worth more to a monitoring system); the samples
// in them that had not been read yet are reported as dropped.
//
// Thread-safe: any thread may Append; one reader thread calls Read; Commit from any thread.
#pragma once

#include <chrono>
#include <compare>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace crmscope::remote_write {

// A record boundary: a byte offset in a segment.
struct QueuePosition {
  uint64_t segment = 0;
  uint64_t offset = 0;
  auto operator<=>(const QueuePosition&) const = default;
};

struct QueueRecord {
  std::string payload;
  uint32_t samples = 0;
  uint32_t metadata = 0;
  QueuePosition end;  // just past this record: commit it once the record is delivered
};

class DurableQueue {
 public:
  struct Options {
    std::string dir;
    uint64_t max_bytes = 256ULL << 20;
    uint64_t segment_bytes = 0;  // 0: max_bytes / 16, within [4 KiB, 64 MiB]
  };
  // What making room for an append deleted.
  struct Dropped {
    uint64_t segments = 0;
    uint64_t samples = 0;   // not yet read, so never to be delivered
    uint64_t metadata = 0;
  };

  // Creates the directory if needed, resumes from the checkpoint, cuts off a torn tail.
  static std::unique_ptr<DurableQueue> Open(const Options& options, std::string* error);
  ~DurableQueue();
  DurableQueue(const DurableQueue&) = delete;
  DurableQueue& operator=(const DurableQueue&) = delete;

  // Fails (appending nothing) on an I/O error or a record larger than max_bytes.
  bool Append(std::string_view payload, uint32_t samples, uint32_t metadata, Dropped* dropped,
              std::string* error);

  // The next unread record, or false when the reader has caught up. A record whose checksum
  // does not match ends its segment: the rest of it is skipped and counted in corrupt_bytes().
  bool Read(QueueRecord* record);
  // Waits until Read() may return a record, Wake() is called, or `deadline` passes.
  void WaitReadable(std::chrono::steady_clock::time_point deadline);
  void Wake();

  // Everything before `delivered` is done with, and lane i delivered its shares up to lanes[i]:
  // persists both and deletes the segments wholly before `delivered`. A `delivered` behind the
  // last committed one is ignored.
  bool Commit(QueuePosition delivered, const std::vector<QueuePosition>& lanes, std::string* error);
  // Makes the appended records of the open segment survive a power loss.
  bool Sync(std::string* error);

  uint64_t bytes() const;          // on disk
  uint64_t pending_bytes() const;  // of records not yet committed
  uint64_t corrupt_bytes() const;
  QueuePosition committed() const;
  // The lanes of the checkpoint found by Open (empty when it had none).
  const std::vector<QueuePosition>& lanes_at_open() const { return lanes_at_open_; }
  bool caught_up() const;  // nothing left to Read()
  bool drained() const;    // everything appended was committed

 private:
  struct Segment;
  struct Files;
  explicit DurableQueue(const Options& options);
  bool Load(std::string* error);
  bool ScanSegment(uint64_t id, uint64_t read_up_to, std::string* error);
  bool Roll(std::string* error);
  void DropOldest(Dropped* dropped);
  Segment* FindSegment(uint64_t id);

  Options options_;
  mutable std::mutex mu_;
  std::condition_variable readable_;
  std::deque<Segment> segments_;  // oldest first; the last one is being appended to
  std::unique_ptr<Files> files_;
  uint64_t bytes_ = 0;
  uint64_t corrupt_bytes_ = 0;
  QueuePosition read_;
  bool woken_ = false;
  bool unsynced_ = false;
  mutable std::mutex commit_mu_;  // one checkpoint write at a time, in position order
  QueuePosition committed_;
  std::vector<QueuePosition> committed_lanes_;
  std::vector<QueuePosition> lanes_at_open_;
};

}  // namespace crmscope::remote_write
