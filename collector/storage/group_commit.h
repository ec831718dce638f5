// The single writer of the SQLite database. Appends hand it a CommitJob (under the head lock, so
// jobs are queued in the order their samples entered the head); one thread writes every queued job
// in one transaction and wakes their waiters together. Concurrent requests thus share one commit
// (group commit), which keeps durability cheap.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "collector/storage/head.h"
#include "collector/storage/series_index.h"
#include "collector/storage/sqlite_db.h"

namespace crmscope::storage {

struct MetricMetadata;

// Everything one job writes; fields left empty are skipped. Applied in the order declared.
struct CommitJob {
  std::vector<std::pair<SymbolId, std::string>> symbols;
  std::vector<std::pair<SeriesRef, std::vector<SymbolPair>>> series;
  std::string wal;  // a WalRecordBuilder record; stored under this job's sequence number
  std::vector<std::tuple<std::string, std::string, std::string, std::string>> metadata;  // family,type,help,unit

  // A checkpoint: chunks moved from the head into blocks, the head's remaining content, and the
  // write-ahead rows it makes redundant (every row queued before this job).
  bool checkpoint = false;
  std::vector<std::pair<SeriesRef, ChunkRef>> block_chunks;
  // The head, packed: each part repeats (uvarint ref, uvarint length, HeadSeries::Serialize()).
  std::vector<std::string> head_parts;
  std::vector<std::tuple<SeriesRef, TimestampMs, TimestampMs>> series_ranges;  // block time span
  std::vector<std::tuple<SymbolId, SymbolId, std::string>> postings;  // changed lists; "" = gone
  SeriesRef postings_through = 0;  // the lists cover every series up to this ref
  int64_t min_valid_time = 0;

  // Retention: blocks before this id are deleted, and these series with them.
  bool retention = false;  // also returns freed pages to the file system
  int64_t drop_blocks_before = 0;
  std::vector<SeriesRef> drop_series;

  std::function<void()> after_commit;  // runs on the writer thread once the job is durable

  // Set by the writer.
  uint64_t seq = 0;
  bool done = false;
  bool ok = false;
  std::string error;
};

class GroupCommit {
 public:
  using CommitObserver = std::function<void(double seconds, size_t jobs, bool ok)>;
  // Takes over `db`; the writer thread starts at once.
  // Sequence numbers continue from first_seq (one past the newest write-ahead row on disk).
  GroupCommit(std::unique_ptr<SqliteDb> db, uint64_t first_seq, CommitObserver observer);
  ~GroupCommit();  // writes what is queued, then stops
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  bool ok() const { return statements_ready_; }
  const std::string& error() const { return init_error_; }

  std::shared_ptr<CommitJob> Enqueue(std::unique_ptr<CommitJob> job);
  // Blocks until the job is durable (true) or failed (false, *error set).
  bool Wait(const std::shared_ptr<CommitJob>& job, std::string* error);

  uint64_t last_seq() const;

 private:
  void Run();
  bool Apply(CommitJob& job, std::string* error);
  bool Prepare(std::string* error);

  std::unique_ptr<SqliteDb> db_;
  CommitObserver observer_;
  struct Statements;
  std::unique_ptr<Statements> stmts_;
  bool statements_ready_ = false;
  std::string init_error_;

  mutable std::mutex mu_;
  std::condition_variable queued_cv_;
  std::condition_variable done_cv_;
  std::deque<std::shared_ptr<CommitJob>> queue_;
  uint64_t next_seq_ = 1;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace crmscope::storage
