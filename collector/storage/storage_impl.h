// Private to collector/storage: the state behind Storage, shared by storage.cpp (lifecycle,
// recovery, checkpoints, retention), appender.cpp and querier.cpp.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "collector/storage/group_commit.h"
#include "collector/storage/head.h"
#include "collector/storage/series_index.h"
#include "collector/storage/sqlite_db.h"
#include "collector/storage/storage.h"

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
}  // namespace prometheus

namespace crmscope::storage {

struct StorageMetrics {
  prometheus::Histogram* commit_seconds = nullptr;
  prometheus::Counter* commits = nullptr;
  prometheus::Counter* commit_failures = nullptr;
  prometheus::Counter* checkpoints = nullptr;
  prometheus::Counter* blocks_written = nullptr;
  prometheus::Counter* retention_blocks_dropped = nullptr;
  prometheus::Counter* appended = nullptr;
  prometheus::Counter* duplicates = nullptr;
  std::array<prometheus::Counter*, kNumRejectReasons> rejected{};
};

// Read connections are pooled: SQLite connections are single-threaded, and opening one per query
// would cost more than the query.
class ReadConnectionPool {
 public:
  explicit ReadConnectionPool(std::string path) : path_(std::move(path)) {}
  std::unique_ptr<SqliteDb> Acquire(std::string* error);
  void Release(std::unique_ptr<SqliteDb> db);

 private:
  std::string path_;
  std::mutex mu_;
  std::vector<std::unique_ptr<SqliteDb>> idle_;
};

struct Storage::Impl {
  Options options;
  std::string db_path;

  // Guards index, head, blocks, min/max time. Appends take it exclusively, readers shared.
  mutable std::shared_mutex mu;
  SeriesIndex index;
  std::vector<std::unique_ptr<HeadSeries>> head;  // by SeriesRef; null where the head is empty
  std::map<int64_t, int64_t> blocks;              // block id -> chunks it holds in SQLite
  std::vector<TimestampMs> disk_max_t;           // by SeriesRef: newest sample in a block
  // Chunks taken from the head for a block whose commit is under way: readers still see them.
  std::unordered_map<SeriesRef, std::vector<ChunkRef>> pending_block_chunks;
  bool write_failed = false;  // after a failed commit the head may hold undurable samples
  TimestampMs min_time = HeadSeries::kNone;
  TimestampMs max_time = HeadSeries::kNone;
  TimestampMs min_valid_time = HeadSeries::kNone;  // older samples belong to written blocks

  mutable std::mutex metadata_mu;
  std::map<std::string, MetricMetadata> metadata;

  std::unique_ptr<GroupCommit> writer;
  std::unique_ptr<ReadConnectionPool> readers;
  std::atomic<uint64_t> wal_bytes_since_checkpoint{0};
  StorageMetrics metrics;

  std::mutex maintenance_mu;
  std::condition_variable maintenance_cv;
  bool stopping = false;
  std::thread maintenance;

  HeadSeries& HeadFor(SeriesRef ref);
  // Builds a checkpoint job under the exclusive lock; flushes blocks ending at or before
  // flush_until (HeadSeries::kNone for none).
  std::unique_ptr<CommitJob> MakeCheckpointJob(TimestampMs flush_until);
  bool RunCheckpoint(TimestampMs flush_until, std::string* error);
  void MaintenanceLoop();
  void FlushCompletedBlocks();
  void ApplyRetention();
};

}  // namespace crmscope::storage
