#include "collector/storage/storage.h"

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "collector/storage/storage_impl.h"
#include "collector/storage/varint.h"
#include "collector/storage/wal_record.h"

namespace crmscope::storage {

namespace {

// auto_vacuum must be chosen before the first table exists; INCREMENTAL lets retention hand freed
// pages back to the file system without rewriting the whole file (VACUUM).
constexpr const char* kSchema = R"sql(
PRAGMA auto_vacuum = INCREMENTAL;
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value);
CREATE TABLE IF NOT EXISTS symbols(id INTEGER PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS series(id INTEGER PRIMARY KEY, labels BLOB NOT NULL, min_t INTEGER, max_t INTEGER);
CREATE TABLE IF NOT EXISTS postings(name INTEGER, value INTEGER, ids BLOB NOT NULL,
  PRIMARY KEY(name, value));
CREATE TABLE IF NOT EXISTS blocks(id INTEGER PRIMARY KEY, chunks INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS chunks(block INTEGER, series INTEGER, min_t INTEGER, max_t INTEGER NOT NULL,
  encoding INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY(block, series, min_t)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS wal(seq INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS head_chunks(part INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS metadata(family TEXT PRIMARY KEY, type TEXT, help TEXT, unit TEXT);
)sql";

// A block is written once the head's newest sample is half a block past its end, as Prometheus
// compacts its head when it spans 1.5 block ranges: late samples get that long to arrive.
constexpr int64_t kBlockGraceMs = kBlockMs / 2;
// The head checkpoint packs many series into each row: one row per series (about a kilobyte each)
// left a fifth of the file as slack inside pages (dbstat on bench/ingest data); rows of this size
// spill into overflow pages that are full but for the last.
constexpr size_t kHeadPartBytes = 256 << 10;
// Past this many write-ahead bytes a checkpoint runs early, bounding restart replay time.
constexpr uint64_t kCheckpointWalBytes = 64ULL << 20;

int64_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? st.st_size : 0;
}

void RegisterMetrics(prometheus::Registry& r, StorageMetrics* m) {
  m->commit_seconds = &prometheus::BuildHistogram()
                           .Name("crmscope_storage_commit_duration_seconds")
                           .Help("Time to make one group of appends durable in SQLite.")
                           .Register(r)
                           .Add({}, prometheus::Histogram::BucketBoundaries{
                                        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5});
  auto& commits = prometheus::BuildCounter()
                      .Name("crmscope_storage_commits_total")
                      .Help("Group commits to SQLite, by result.")
                      .Register(r);
  m->commits = &commits.Add({{"result", "success"}});
  m->commit_failures = &commits.Add({{"result", "failure"}});
  m->checkpoints = &prometheus::BuildCounter()
                        .Name("crmscope_storage_checkpoints_total")
                        .Help("Checkpoints of the head written to SQLite.")
                        .Register(r)
                        .Add({});
  m->blocks_written = &prometheus::BuildCounter()
                           .Name("crmscope_storage_block_chunks_written_total")
                           .Help("Chunks moved from the head into blocks.")
                           .Register(r)
                           .Add({});
  m->retention_blocks_dropped = &prometheus::BuildCounter()
                                     .Name("crmscope_storage_retention_blocks_dropped_total")
                                     .Help("Blocks deleted by time or size retention.")
                                     .Register(r)
                                     .Add({});
  auto& samples = prometheus::BuildCounter()
                      .Name("crmscope_storage_samples_appended_total")
                      .Help("Samples offered to storage, by outcome.")
                      .Register(r);
  m->appended = &samples.Add({{"outcome", "accepted"}});
  m->duplicates = &samples.Add({{"outcome", "duplicate"}});
  auto& rejected = prometheus::BuildCounter()
                       .Name("crmscope_storage_samples_rejected_total")
                       .Help("Samples storage refused, by reason.")
                       .Register(r);
  for (int i = 0; i < kNumRejectReasons; ++i) {
    m->rejected[i] = &rejected.Add({{"reason", std::string(RejectReasonName(static_cast<RejectReason>(i)))}});
  }
}

}  // namespace

std::string_view RejectReasonName(RejectReason reason) {
  switch (reason) {
    case RejectReason::kOutOfOrder: return "out_of_order";
    case RejectReason::kDuplicateTimestamp: return "duplicate_timestamp";
    case RejectReason::kTooOld: return "too_old";
    case RejectReason::kInvalidLabels: return "invalid_labels";
    case RejectReason::kSeriesLimit: return "series_limit";
  }
  return "unknown";
}

size_t AppendStats::rejected_total() const {
  size_t n = 0;
  for (size_t r : rejected) n += r;
  return n;
}

std::unique_ptr<SqliteDb> ReadConnectionPool::Acquire(std::string* error) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      auto db = std::move(idle_.back());
      idle_.pop_back();
      return db;
    }
  }
  return SqliteDb::Open(path_, /*read_only=*/true, error);
}

void ReadConnectionPool::Release(std::unique_ptr<SqliteDb> db) {
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.size() < 16) idle_.push_back(std::move(db));
}

HeadSeries& Storage::Impl::HeadFor(SeriesRef ref) {
  if (head.size() <= ref) head.resize(ref + 1);
  if (!head[ref]) head[ref] = std::make_unique<HeadSeries>();
  return *head[ref];
}

Storage::Storage(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

namespace {

bool LoadIndex(SqliteDb& db, Storage::Impl& s, std::string* error) {
  auto symbols = db.Prepare("SELECT id, value FROM symbols ORDER BY id", error);
  if (!symbols) return false;
  while (symbols->Step()) {
    bool added;
    SymbolId id = s.index.symbols().Intern(symbols->ColumnText(1), &added);
    if (id != static_cast<SymbolId>(symbols->ColumnInt(0))) {
      *error = "storage: symbol table is not dense; the database is corrupt";
      return false;
    }
  }
  SeriesRef postings_through = 0;
  auto through = db.Prepare("SELECT value FROM meta WHERE key = 'postings_through'", error);
  if (!through) return false;
  if (through->Step()) postings_through = static_cast<SeriesRef>(through->ColumnInt(0));
  auto postings = db.Prepare("SELECT name, value, ids FROM postings", error);
  if (!postings) return false;
  while (postings->Step()) {
    if (!s.index.LoadPostings(static_cast<SymbolId>(postings->ColumnInt(0)),
                              static_cast<SymbolId>(postings->ColumnInt(1)), postings->ColumnBlob(2))) {
      *error = "storage: a postings list is corrupt";
      return false;
    }
  }
  auto series = db.Prepare("SELECT id, labels, coalesce(min_t, 0), coalesce(max_t, ?) FROM series", error);
  if (!series) return false;
  series->BindInt(1, HeadSeries::kNone);
  while (series->Step()) {
    SeriesRef ref = static_cast<SeriesRef>(series->ColumnInt(0));
    std::string_view blob = series->ColumnBlob(1);
    std::vector<SymbolPair> pairs;
    uint64_t name, value;
    while (!blob.empty()) {
      if (!GetUvarint(blob, &name) || !GetUvarint(blob, &value) ||
          name >= s.index.symbols().size() || value >= s.index.symbols().size()) {
        *error = "storage: series " + std::to_string(ref) + " has corrupt labels";
        return false;
      }
      pairs.push_back({static_cast<SymbolId>(name), static_cast<SymbolId>(value)});
    }
    // Series newer than the last checkpoint are not in the persisted postings yet.
    s.index.Restore(ref, std::move(pairs), ref > postings_through);
    if (s.disk_max_t.size() <= ref) s.disk_max_t.resize(ref + 1, HeadSeries::kNone);
    TimestampMs max_t = series->ColumnInt(3);
    s.disk_max_t[ref] = max_t;
    if (max_t != HeadSeries::kNone) {
      TimestampMs min_t = series->ColumnInt(2);
      if (s.min_time == HeadSeries::kNone || min_t < s.min_time) s.min_time = min_t;
      s.max_time = std::max(s.max_time, max_t);
    }
  }
  s.index.PrunePostings();
  auto blocks = db.Prepare("SELECT id, chunks FROM blocks", error);
  if (!blocks) return false;
  while (blocks->Step()) s.blocks[blocks->ColumnInt(0)] = blocks->ColumnInt(1);
  auto meta = db.Prepare("SELECT value FROM meta WHERE key = 'min_valid_time'", error);
  if (!meta) return false;
  if (meta->Step()) s.min_valid_time = meta->ColumnInt(0);
  auto md = db.Prepare("SELECT family, type, help, unit FROM metadata", error);
  if (!md) return false;
  while (md->Step()) {
    s.metadata[std::string(md->ColumnText(0))] = {std::string(md->ColumnText(1)),
                                                  std::string(md->ColumnText(2)),
                                                  std::string(md->ColumnText(3))};
  }
  return symbols->ok() && series->ok();
}

// The on-disk layout's version, in SQLite's user_version. A database of another layout is refused
// with a message, never half-read.
constexpr int64_t kSchemaVersion = 1;

bool CheckSchemaVersion(SqliteDb& db, const std::string& path, std::string* error) {
  auto version = db.Prepare("PRAGMA user_version", error);
  auto tables = db.Prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table'", error);
  if (!version || !tables || !version->Step() || !tables->Step()) return false;
  if (tables->ColumnInt(0) == 0) {
    return db.Exec("PRAGMA user_version = " + std::to_string(kSchemaVersion), error);
  }
  if (version->ColumnInt(0) != kSchemaVersion) {
    *error = "storage: " + path + " has on-disk layout version " + std::to_string(version->ColumnInt(0)) +
             ", this collector reads version " + std::to_string(kSchemaVersion) +
             " (written by a development build before layouts were versioned); move it aside to start afresh";
    return false;
  }
  return true;
}

void NoteSampleTime(Storage::Impl& s, TimestampMs t) {
  if (s.min_time == HeadSeries::kNone || t < s.min_time) s.min_time = t;
  if (t > s.max_time) s.max_time = t;
}

// Rebuilds the head: the last checkpoint, then every write-ahead row after it, in order.
bool RecoverHead(SqliteDb& db, Storage::Impl& s, uint64_t* next_seq, std::string* error) {
  auto head = db.Prepare("SELECT data FROM head_chunks ORDER BY part", error);
  if (!head) return false;
  while (head->Step()) {
    std::string_view part = head->ColumnBlob(0);
    while (!part.empty()) {
      uint64_t ref;
      std::string_view bytes;
      if (!GetUvarint(part, &ref) || !GetBytes(part, &bytes)) {
        *error = "storage: the head checkpoint is corrupt";
        return false;
      }
      if (!s.index.Contains(ref)) continue;
      HeadSeries& hs = s.HeadFor(ref);
      if (!hs.Restore(bytes)) {
        *error = "storage: checkpoint of series " + std::to_string(ref) + " is corrupt";
        return false;
      }
      if (hs.min_t() != HeadSeries::kNone) NoteSampleTime(s, hs.min_t());
      if (hs.max_t() != HeadSeries::kNone) NoteSampleTime(s, hs.max_t());
    }
  }
  auto wal = db.Prepare("SELECT seq, data FROM wal ORDER BY seq", error);
  if (!wal) return false;
  *next_seq = 1;
  while (wal->Step()) {
    *next_seq = static_cast<uint64_t>(wal->ColumnInt(0)) + 1;
    bool ok = ForEachWalSample(wal->ColumnBlob(1), [&](SeriesRef ref, Sample smp) {
      if (!s.index.Contains(ref)) return;
      AppendOutcome o = s.HeadFor(ref).Append(smp.t, smp.v, s.options.out_of_order_window_ms);
      if (o == AppendOutcome::kAppended || o == AppendOutcome::kAppendedOutOfOrder) NoteSampleTime(s, smp.t);
    });
    if (!ok) {
      *error = "storage: write-ahead row " + std::to_string(*next_seq - 1) + " is corrupt";
      return false;
    }
    s.wal_bytes_since_checkpoint += wal->ColumnBlob(1).size();
  }
  return wal->ok();
}

}  // namespace

std::unique_ptr<Storage> Storage::Open(Options options, std::string* error) {
  std::error_code ec;
  std::filesystem::create_directories(options.path, ec);
  if (ec) {
    *error = "storage: cannot create " + options.path + ": " + ec.message();
    return nullptr;
  }
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->db_path = (std::filesystem::path(impl->options.path) / "crmscope.db").string();
  auto db = SqliteDb::Open(impl->db_path, false, error);
  if (!db || !CheckSchemaVersion(*db, impl->db_path, error) || !db->Exec(kSchema, error)) return nullptr;
  // NORMAL in WAL mode survives a crash of this process (the OS holds the written pages);
  // FULL also survives power loss, at an fsync per group commit.
  if (!db->Exec(impl->options.fsync ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL", error)) {
    return nullptr;
  }
  if (!LoadIndex(*db, *impl, error)) return nullptr;
  uint64_t next_seq = 1;
  if (!RecoverHead(*db, *impl, &next_seq, error)) return nullptr;

  if (!impl->options.registry) impl->options.registry = std::make_shared<prometheus::Registry>();
  RegisterMetrics(*impl->options.registry, &impl->metrics);
  StorageMetrics* m = &impl->metrics;
  impl->writer = std::make_unique<GroupCommit>(std::move(db), next_seq, [m](double seconds, size_t, bool ok) {
    m->commit_seconds->Observe(seconds);
    (ok ? m->commits : m->commit_failures)->Increment();
  });
  if (!impl->writer->ok()) {
    *error = impl->writer->error();
    return nullptr;
  }
  impl->readers = std::make_unique<ReadConnectionPool>(impl->db_path);
  Impl* raw = impl.get();
  impl->maintenance = std::thread([raw] { raw->MaintenanceLoop(); });
  return std::unique_ptr<Storage>(new Storage(std::move(impl)));
}

Storage::~Storage() {
  {
    std::lock_guard<std::mutex> lock(impl_->maintenance_mu);
    impl_->stopping = true;
  }
  impl_->maintenance_cv.notify_all();
  impl_->maintenance.join();
  // A clean shutdown leaves no write-ahead rows: restart then only loads the checkpoint.
  std::string error;
  if (!impl_->RunCheckpoint(HeadSeries::kNone, &error)) {
    fprintf(stderr, "level=error msg=\"final checkpoint failed\" err=\"%s\"\n", error.c_str());
  }
  impl_->writer.reset();
  impl_->readers.reset();
  if (auto db = SqliteDb::Open(impl_->db_path, false, &error)) {
    db->Exec("PRAGMA incremental_vacuum; PRAGMA wal_checkpoint(TRUNCATE);", &error);
  }
}

std::unique_ptr<CommitJob> Storage::Impl::MakeCheckpointJob(TimestampMs flush_until) {
  auto job = std::make_unique<CommitJob>();
  job->checkpoint = true;
  std::unique_lock<std::shared_mutex> lock(mu);
  bool flush = flush_until != HeadSeries::kNone && flush_until > min_valid_time;
  for (SeriesRef ref = 0; ref < head.size(); ++ref) {
    if (!head[ref]) continue;
    HeadSeries& hs = *head[ref];
    if (flush) {
      std::vector<ChunkRef> chunks = hs.ChunksBefore(flush_until);
      if (!chunks.empty()) {
        TimestampMs lo = chunks.front().min_t, hi = chunks.front().max_t;
        for (ChunkRef& c : chunks) {
          lo = std::min(lo, c.min_t);
          hi = std::max(hi, c.max_t);
          pending_block_chunks[ref].push_back(c);
          job->block_chunks.emplace_back(ref, std::move(c));
        }
        job->series_ranges.emplace_back(ref, lo, hi);
        hs.DropBefore(flush_until);
      }
    }
    if (hs.empty()) {
      head[ref].reset();
      continue;
    }
    if (job->head_parts.empty() || job->head_parts.back().size() >= kHeadPartBytes) job->head_parts.emplace_back();
    std::string& part = job->head_parts.back();
    std::string bytes = hs.Serialize();
    PutUvarint(part, ref);
    PutUvarint(part, bytes.size());
    part += bytes;
  }
  if (flush) min_valid_time = flush_until;
  job->min_valid_time = min_valid_time;
  job->postings = index.TakeDirtyPostings();
  job->postings_through = index.max_ref();
  // Inserting in key order appends to the b-tree, which keeps its pages full.
  std::sort(job->block_chunks.begin(), job->block_chunks.end(), [](const auto& a, const auto& b) {
    int64_t ba = BlockOf(a.second.min_t), bb = BlockOf(b.second.min_t);
    if (ba != bb) return ba < bb;
    if (a.first != b.first) return a.first < b.first;
    return a.second.min_t < b.second.min_t;
  });
  return job;
}

bool Storage::Impl::RunCheckpoint(TimestampMs flush_until, std::string* error) {
  std::unique_ptr<CommitJob> job = MakeCheckpointJob(flush_until);
  size_t flushed = job->block_chunks.size();
  std::vector<std::tuple<SeriesRef, TimestampMs, TimestampMs>> ranges = job->series_ranges;
  std::map<int64_t, int64_t> new_blocks;  // block -> chunks added
  for (const auto& [ref, c] : job->block_chunks) ++new_blocks[BlockOf(c.min_t)];
  job->after_commit = [this, ranges = std::move(ranges), new_blocks = std::move(new_blocks)] {
    std::unique_lock<std::shared_mutex> lock(mu);
    for (const auto& [ref, lo, hi] : ranges) {
      if (disk_max_t.size() <= ref) disk_max_t.resize(ref + 1, HeadSeries::kNone);
      disk_max_t[ref] = std::max(disk_max_t[ref], hi);
      pending_block_chunks.erase(ref);
    }
    for (const auto& [block, n] : new_blocks) blocks[block] += n;
  };
  uint64_t wal_before = wal_bytes_since_checkpoint.load();
  auto shared = writer->Enqueue(std::move(job));
  if (!writer->Wait(shared, error)) {
    std::unique_lock<std::shared_mutex> lock(mu);
    write_failed = true;
    return false;
  }
  wal_bytes_since_checkpoint -= std::min(wal_before, wal_bytes_since_checkpoint.load());
  metrics.checkpoints->Increment();
  metrics.blocks_written->Increment(static_cast<double>(flushed));
  return true;
}

void Storage::Impl::FlushCompletedBlocks() {
  TimestampMs flush_until;
  {
    std::shared_lock<std::shared_mutex> lock(mu);
    if (max_time == HeadSeries::kNone) return;
    flush_until = BlockOf(max_time - kBlockGraceMs) * kBlockMs;
    if (min_valid_time != HeadSeries::kNone && flush_until <= min_valid_time) return;
    if (min_time != HeadSeries::kNone && flush_until <= BlockOf(min_time) * kBlockMs) return;
  }
  std::string error;
  if (!RunCheckpoint(flush_until, &error)) {
    fprintf(stderr, "level=error msg=\"writing block failed\" err=\"%s\"\n", error.c_str());
  }
}

void Storage::Impl::MaintenanceLoop() {
  using Clock = std::chrono::steady_clock;
  auto last_checkpoint = Clock::now();
  auto last_retention = Clock::now();
  std::unique_lock<std::mutex> lock(maintenance_mu);
  while (!stopping) {
    maintenance_cv.wait_for(lock, std::chrono::seconds(1));
    if (stopping) break;
    lock.unlock();
    FlushCompletedBlocks();
    auto now = Clock::now();
    uint64_t wal = wal_bytes_since_checkpoint.load();
    if (wal >= kCheckpointWalBytes ||
        (wal > 0 && now - last_checkpoint >= std::chrono::milliseconds(options.checkpoint_interval_ms))) {
      std::string error;
      if (!RunCheckpoint(HeadSeries::kNone, &error)) {
        fprintf(stderr, "level=error msg=\"checkpoint failed\" err=\"%s\"\n", error.c_str());
      }
      last_checkpoint = now;
    }
    if (now - last_retention >= std::chrono::milliseconds(options.retention_interval_ms)) {
      ApplyRetention();
      last_retention = now;
    }
    lock.lock();
  }
}

void Storage::ApplyRetention() { impl_->ApplyRetention(); }

void Storage::Impl::ApplyRetention() {
  Impl& s = *this;
  auto job = std::make_unique<CommitJob>();
  job->retention = true;
  std::vector<SeriesRef> dropped;
  int64_t dropped_blocks = 0;
  {
    std::unique_lock<std::shared_mutex> lock(s.mu);
    if (s.blocks.empty()) return;
    int64_t oldest = s.blocks.begin()->first;
    int64_t drop_before = oldest;  // nothing below the oldest block
    if (s.options.retention_ms > 0 && s.max_time != HeadSeries::kNone) {
      drop_before = std::max(drop_before, BlockOf(s.max_time - s.options.retention_ms));
    }
    if (s.options.retention_bytes > 0) {
      int64_t size = FileSize(s.db_path) + FileSize(s.db_path + "-wal");
      auto it = s.blocks.begin();
      // One block per pass: the next pass measures the file again after the pages are freed.
      if (size > s.options.retention_bytes && std::next(it) != s.blocks.end()) {
        drop_before = std::max(drop_before, it->first + 1);
      }
    }
    if (drop_before <= oldest) return;
    job->drop_blocks_before = drop_before;
    TimestampMs horizon = drop_before * kBlockMs;
    for (SeriesRef ref = 1; ref <= s.index.max_ref(); ++ref) {
      if (!s.index.Contains(ref)) continue;
      bool in_head = ref < s.head.size() && s.head[ref] && !s.head[ref]->empty();
      TimestampMs disk = ref < s.disk_max_t.size() ? s.disk_max_t[ref] : HeadSeries::kNone;
      if (!in_head && disk < horizon) {
        job->drop_series.push_back(ref);
        dropped.push_back(ref);
      }
    }
    for (auto it = s.blocks.begin(); it != s.blocks.end() && it->first < drop_before; ++dropped_blocks) {
      it = s.blocks.erase(it);
    }
    for (SeriesRef ref : dropped) {
      s.index.Remove(ref);
      if (ref < s.disk_max_t.size()) s.disk_max_t[ref] = HeadSeries::kNone;
    }
    if (s.min_time != HeadSeries::kNone) s.min_time = std::max(s.min_time, horizon);
    if (s.min_valid_time == HeadSeries::kNone || s.min_valid_time < horizon) s.min_valid_time = horizon;
  }
  auto shared = s.writer->Enqueue(std::move(job));
  std::string error;
  if (!s.writer->Wait(shared, &error)) {
    fprintf(stderr, "level=error msg=\"retention failed\" err=\"%s\"\n", error.c_str());
    return;
  }
  s.metrics.retention_blocks_dropped->Increment(static_cast<double>(dropped_blocks));
}

bool Storage::Checkpoint(std::string* error) { return impl_->RunCheckpoint(HeadSeries::kNone, error); }

void Storage::PutMetadata(const std::string& family, const MetricMetadata& md) {
  {
    std::lock_guard<std::mutex> lock(impl_->metadata_mu);
    auto it = impl_->metadata.find(family);
    if (it != impl_->metadata.end() && it->second.type == md.type && it->second.help == md.help &&
        it->second.unit == md.unit) {
      return;  // senders repeat metadata every minute; only changes are written
    }
    impl_->metadata[family] = md;
  }
  auto job = std::make_unique<CommitJob>();
  job->metadata.emplace_back(family, md.type, md.help, md.unit);
  impl_->writer->Enqueue(std::move(job));
}

std::vector<std::pair<std::string, MetricMetadata>> Storage::Metadata(std::string_view family,
                                                                      size_t limit) const {
  std::vector<std::pair<std::string, MetricMetadata>> out;
  std::lock_guard<std::mutex> lock(impl_->metadata_mu);
  for (const auto& [name, md] : impl_->metadata) {
    if (!family.empty() && name != family) continue;
    if (limit > 0 && out.size() >= limit) break;
    out.emplace_back(name, md);
  }
  return out;
}

StorageStats Storage::Stats() const {
  StorageStats st;
  {
    std::shared_lock<std::shared_mutex> lock(impl_->mu);
    st.series = impl_->index.size();
    for (const auto& hs : impl_->head) {
      if (!hs || hs->empty()) continue;
      ++st.active_series;
      st.head_chunks += hs->num_chunks();
    }
    st.min_time = impl_->min_time;
    st.max_time = impl_->max_time;
    for (const auto& [block, n] : impl_->blocks) st.chunks += static_cast<size_t>(n);
  }
  st.db_bytes = FileSize(impl_->db_path) + FileSize(impl_->db_path + "-wal");
  return st;
}

}  // namespace crmscope::storage
