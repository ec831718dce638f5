// The collector's time-series database: series identities and their inverted index, samples in
// compressed chunks, all in one SQLite database under --storage.path.
//
// Everything above storage (the HTTP API, PromQL, rules, analysis) meets it at two seams, as in
// Prometheus's storage package: an Appender to write a batch of samples and commit it durably, and
// a Querier to select series by label matchers and read their samples in a time range.
//
// Writes: recent samples live in an in-memory head (one open chunk per series). Each committed
// batch is first written to a write-ahead table in SQLite (group commit: concurrent batches share
// one transaction); full chunks are cut from the head into the chunks table; a periodic checkpoint
// stores the open head chunks and trims the write-ahead table. After a crash the head is rebuilt
// from the checkpoint and the write-ahead rows after it, so a committed batch is never lost and no
// sample is read twice.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/label_matcher.h"
#include "common/labels.h"
#include "common/sample.h"

namespace prometheus { class Registry; }

namespace crmscope::storage {

// The stable id of a series: assigned on first sight of its label set, kept across restarts.
using SeriesRef = uint64_t;

struct Options {
  std::string path;                              // directory holding crmscope.db
  int64_t retention_ms = 15LL * 24 * 3600 * 1000;  // --storage.retention.time; 0 keeps forever
  int64_t retention_bytes = 0;                   // --storage.retention.size; 0 = no limit
  int64_t out_of_order_window_ms = 0;            // as Prometheus's out_of_order_time_window
  bool fsync = false;  // true: every commit reaches the disk (survives power loss, not just kill -9)
  int64_t checkpoint_interval_ms = 5 * 60 * 1000;
  int64_t retention_interval_ms = 60 * 1000;  // how often retention runs
  size_t max_series = 0;                      // 0 = no limit; new series past it are rejected
  std::shared_ptr<prometheus::Registry> registry;  // where storage registers its own metrics
};

enum class RejectReason : int {
  kOutOfOrder = 0,         // older than the series' newest sample (and outside the OOO window)
  kDuplicateTimestamp,     // same timestamp as a stored sample, different value
  kTooOld,                 // older than the retention horizon
  kInvalidLabels,          // label set breaks the remote-write spec
  kSeriesLimit,            // a new series past max_series
};
inline constexpr int kNumRejectReasons = 5;
std::string_view RejectReasonName(RejectReason reason);  // "out_of_order", "duplicate_timestamp", ...

// What a batch did, for the HTTP answer and for metrics.
struct AppendStats {
  struct SeriesRejection {
    std::string series;  // the label set in Prometheus's text form
    RejectReason reason;
    size_t count = 0;
    std::string detail;  // e.g. the first offending timestamp, or which label is invalid
  };
  static constexpr size_t kMaxReportedSeries = 10;

  size_t accepted = 0;    // new samples stored
  size_t duplicates = 0;  // identical resends of stored samples: accepted, stored once
  size_t new_series = 0;
  std::array<size_t, kNumRejectReasons> rejected{};
  std::vector<SeriesRejection> rejections;  // the first kMaxReportedSeries rejected series
  size_t rejected_total() const;
};

class Storage;
class SqliteDb;

// Collects one batch (typically one remote-write request). Not thread-safe; one per request.
// The label and sample memory handed to Append must stay valid until Commit returns.
class Appender {
 public:
  explicit Appender(Storage* storage);
  ~Appender();
  Appender(const Appender&) = delete;
  Appender& operator=(const Appender&) = delete;

  void Append(const LabelView* labels, size_t num_labels, const Sample* samples, size_t num_samples);

  // Validates and appends every buffered sample, then waits until the batch is durable. Samples
  // that fail validation are counted in stats() and do not stop the others. Returns false only on
  // a storage failure worth retrying (I/O); then nothing of the batch is acknowledged.
  bool Commit(std::string* error);
  const AppendStats& stats() const { return stats_; }

 private:
  struct Pending {
    const LabelView* labels;
    size_t num_labels;
    const Sample* samples;
    size_t num_samples;
  };
  Storage* storage_;
  std::vector<Pending> pending_;
  AppendStats stats_;
};

// Iterates one series' samples in [mint, maxt], loading one chunk at a time.
class SampleIterator {
 public:
  virtual ~SampleIterator() = default;
  virtual bool Next() = 0;
  // Moves to the first sample with t >= target, never backwards.
  virtual bool Seek(TimestampMs target) = 0;
  virtual Sample At() const = 0;
};

struct SeriesEntry {
  SeriesRef ref;
  Labels labels;
};

struct MetricMetadata {
  std::string type;  // "counter", "gauge", "histogram", "summary", "unknown", ...
  std::string help;
  std::string unit;
};

// A read view over [mint, maxt]. Cheap to create; use from one thread. Sample iterators must
// not outlive the querier that made them.
class Querier {
 public:
  Querier(const Storage* storage, TimestampMs mint, TimestampMs maxt);
  ~Querier();
  Querier(Querier&&) noexcept;
  Querier& operator=(Querier&&) = delete;

  // Series matching every matcher with at least one sample in [mint, maxt], sorted by labels.
  // An equality matcher narrows through the index before any regex is tried.
  std::vector<SeriesEntry> Select(const Matchers& matchers) const;
  std::unique_ptr<SampleIterator> Samples(SeriesRef ref) const;
  // Sorted, distinct; with matchers, only over the series they select.
  std::vector<std::string> LabelNames(const Matchers& matchers) const;
  std::vector<std::string> LabelValues(std::string_view name, const Matchers& matchers) const;

  TimestampMs mint() const { return mint_; }
  TimestampMs maxt() const { return maxt_; }

 private:
  const Storage* storage_;
  TimestampMs mint_, maxt_;
  mutable std::unique_ptr<SqliteDb> conn_;  // pooled read connection, taken on first use
};

struct StorageStats {
  size_t series = 0;          // series known (index size)
  size_t active_series = 0;   // series with an open head chunk
  size_t head_chunks = 0;
  size_t chunks = 0;          // chunks in SQLite
  int64_t db_bytes = 0;       // size of the SQLite files on disk
  TimestampMs min_time = 0, max_time = 0;
};

class Storage {
 public:
  // Opens (creating if needed) the database in options.path and recovers the head. Returns nullptr
  // with *error set when the directory or database cannot be used.
  static std::unique_ptr<Storage> Open(Options options, std::string* error);
  ~Storage();  // checkpoints the head and closes cleanly
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  Querier NewQuerier(TimestampMs mint, TimestampMs maxt) const { return Querier(this, mint, maxt); }

  // Metric metadata, keyed by metric family name; the newest write wins.
  void PutMetadata(const std::string& family, const MetricMetadata& metadata);
  std::vector<std::pair<std::string, MetricMetadata>> Metadata(std::string_view family,
                                                                size_t limit) const;

  StorageStats Stats() const;
  // Runs retention now (it also runs every retention_interval_ms); for tests and operators.
  void ApplyRetention();
  // Writes a checkpoint now (it also runs every checkpoint_interval_ms).
  bool Checkpoint(std::string* error);

  struct Impl;
 private:
  friend class Appender;
  friend class Querier;
  explicit Storage(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace crmscope::storage
