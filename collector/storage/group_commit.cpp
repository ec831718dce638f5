#include "collector/storage/group_commit.h"

#include <chrono>

#include "collector/storage/chunk.h"
#include "collector/storage/varint.h"

namespace crmscope::storage {

struct GroupCommit::Statements {
  std::unique_ptr<SqliteStatement> begin, commit, rollback;
  std::unique_ptr<SqliteStatement> insert_symbol, insert_series, insert_wal;
  std::unique_ptr<SqliteStatement> upsert_metadata, insert_chunk, clear_head, insert_head;
  std::unique_ptr<SqliteStatement> trim_wal, set_meta, drop_blocks, drop_series, put_postings, drop_postings;
  std::unique_ptr<SqliteStatement> insert_block, drop_block_rows, update_range, vacuum;
};

GroupCommit::GroupCommit(std::unique_ptr<SqliteDb> db, uint64_t first_seq, CommitObserver observer)
    : db_(std::move(db)), observer_(std::move(observer)), next_seq_(first_seq) {
  statements_ready_ = Prepare(&init_error_);
  thread_ = std::thread([this] { Run(); });
}

GroupCommit::~GroupCommit() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  queued_cv_.notify_all();
  thread_.join();
}

bool GroupCommit::Prepare(std::string* error) {
  stmts_ = std::make_unique<Statements>();
  auto& s = *stmts_;
  struct Item {
    std::unique_ptr<SqliteStatement>* stmt;
    const char* sql;
  };
  const Item items[] = {
      {&s.begin, "BEGIN IMMEDIATE"},
      {&s.commit, "COMMIT"},
      {&s.rollback, "ROLLBACK"},
      {&s.insert_symbol, "INSERT OR IGNORE INTO symbols(id, value) VALUES (?, ?)"},
      {&s.insert_series, "INSERT OR REPLACE INTO series(id, labels) VALUES (?, ?)"},
      {&s.insert_wal, "INSERT INTO wal(seq, data) VALUES (?, ?)"},
      {&s.upsert_metadata,
       "INSERT OR REPLACE INTO metadata(family, type, help, unit) VALUES (?, ?, ?, ?)"},
      {&s.insert_chunk,
       "INSERT INTO chunks(block, series, min_t, max_t, encoding, data) VALUES (?, ?, ?, ?, ?, ?)"},
      {&s.clear_head, "DELETE FROM head_chunks"},
      {&s.insert_head, "INSERT INTO head_chunks(part, data) VALUES (?, ?)"},
      {&s.trim_wal, "DELETE FROM wal WHERE seq <= ?"},
      {&s.set_meta, "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)"},
      {&s.drop_blocks, "DELETE FROM chunks WHERE block < ?"},
      {&s.drop_series, "DELETE FROM series WHERE id = ?"},
      {&s.put_postings, "INSERT OR REPLACE INTO postings(name, value, ids) VALUES (?, ?, ?)"},
      {&s.drop_postings, "DELETE FROM postings WHERE name = ? AND value = ?"},
      {&s.insert_block,
       "INSERT INTO blocks(id, chunks) VALUES (?, 1) ON CONFLICT(id) DO UPDATE SET chunks = chunks + 1"},
      {&s.drop_block_rows, "DELETE FROM blocks WHERE id < ?"},
      {&s.update_range,
       "UPDATE series SET min_t = min(coalesce(min_t, ?2), ?2), max_t = max(coalesce(max_t, ?3), ?3) "
       "WHERE id = ?1"},
      {&s.vacuum, "PRAGMA incremental_vacuum"},
  };
  for (const Item& item : items) {
    *item.stmt = db_->Prepare(item.sql, error);
    if (!*item.stmt) return false;
  }
  return true;
}

std::shared_ptr<CommitJob> GroupCommit::Enqueue(std::unique_ptr<CommitJob> job) {
  std::shared_ptr<CommitJob> shared(std::move(job));
  {
    std::lock_guard<std::mutex> lock(mu_);
    shared->seq = next_seq_++;
    queue_.push_back(shared);
  }
  queued_cv_.notify_one();
  return shared;
}

bool GroupCommit::Wait(const std::shared_ptr<CommitJob>& job, std::string* error) {
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock, [&] { return job->done; });
  if (!job->ok && error) *error = job->error;
  return job->ok;
}

uint64_t GroupCommit::last_seq() const {
  std::lock_guard<std::mutex> lock(mu_);
  return next_seq_ - 1;
}

void GroupCommit::Run() {
  while (true) {
    std::deque<std::shared_ptr<CommitJob>> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      queued_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      batch.swap(queue_);
    }
    auto start = std::chrono::steady_clock::now();
    std::string error;
    bool ok = statements_ready_;
    if (!ok) error = init_error_;
    if (ok) ok = stmts_->begin->Run(&error);
    for (size_t i = 0; ok && i < batch.size(); ++i) ok = Apply(*batch[i], &error);
    if (ok) ok = stmts_->commit->Run(&error);
    if (!ok && statements_ready_) stmts_->rollback->Run(nullptr);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (observer_) observer_(seconds, batch.size(), ok);
    if (ok) {
      for (auto& job : batch) {
        if (job->after_commit) job->after_commit();
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& job : batch) {
        job->done = true;
        job->ok = ok;
        if (!ok) job->error = error;
      }
    }
    done_cv_.notify_all();
  }
}

bool GroupCommit::Apply(CommitJob& job, std::string* error) {
  auto& s = *stmts_;
  for (const auto& [id, value] : job.symbols) {
    s.insert_symbol->BindInt(1, id);
    s.insert_symbol->BindText(2, value);
    if (!s.insert_symbol->Run(error)) return false;
  }
  for (const auto& [ref, pairs] : job.series) {
    std::string labels;
    for (const SymbolPair& p : pairs) {
      PutUvarint(labels, p.name);
      PutUvarint(labels, p.value);
    }
    s.insert_series->BindInt(1, static_cast<int64_t>(ref));
    s.insert_series->BindBlob(2, labels);
    if (!s.insert_series->Run(error)) return false;
  }
  if (!job.wal.empty()) {
    s.insert_wal->BindInt(1, static_cast<int64_t>(job.seq));
    s.insert_wal->BindBlob(2, job.wal);
    if (!s.insert_wal->Run(error)) return false;
  }
  for (const auto& [family, type, help, unit] : job.metadata) {
    s.upsert_metadata->BindText(1, family);
    s.upsert_metadata->BindText(2, type);
    s.upsert_metadata->BindText(3, help);
    s.upsert_metadata->BindText(4, unit);
    if (!s.upsert_metadata->Run(error)) return false;
  }
  if (job.checkpoint) {
    for (const auto& [ref, chunk] : job.block_chunks) {
      s.insert_chunk->BindInt(1, BlockOf(chunk.min_t));
      s.insert_chunk->BindInt(2, static_cast<int64_t>(ref));
      s.insert_chunk->BindInt(3, chunk.min_t);
      s.insert_chunk->BindInt(4, chunk.max_t);
      s.insert_chunk->BindInt(5, static_cast<int>(ChunkEncoding::kXor));
      s.insert_chunk->BindBlob(6, *chunk.bytes);
      if (!s.insert_chunk->Run(error)) return false;
      s.insert_block->BindInt(1, BlockOf(chunk.min_t));
      if (!s.insert_block->Run(error)) return false;
    }
    for (const auto& [ref, min_t, max_t] : job.series_ranges) {
      s.update_range->BindInt(1, static_cast<int64_t>(ref));
      s.update_range->BindInt(2, min_t);
      s.update_range->BindInt(3, max_t);
      if (!s.update_range->Run(error)) return false;
    }
    if (!s.clear_head->Run(error)) return false;
    for (size_t part = 0; part < job.head_parts.size(); ++part) {
      s.insert_head->BindInt(1, static_cast<int64_t>(part));
      s.insert_head->BindBlob(2, job.head_parts[part]);
      if (!s.insert_head->Run(error)) return false;
    }
    // Every row queued before this job is now covered by the blocks and the head just written.
    s.trim_wal->BindInt(1, static_cast<int64_t>(job.seq) - 1);
    if (!s.trim_wal->Run(error)) return false;
    for (const auto& [name, value, ids] : job.postings) {
      auto& stmt = ids.empty() ? s.drop_postings : s.put_postings;
      stmt->BindInt(1, name);
      stmt->BindInt(2, value);
      if (!ids.empty()) stmt->BindBlob(3, ids);
      if (!stmt->Run(error)) return false;
    }
    s.set_meta->BindText(1, "min_valid_time");
    s.set_meta->BindInt(2, job.min_valid_time);
    if (!s.set_meta->Run(error)) return false;
    s.set_meta->BindText(1, "postings_through");
    s.set_meta->BindInt(2, static_cast<int64_t>(job.postings_through));
    if (!s.set_meta->Run(error)) return false;
  }
  if (job.retention) {
    s.drop_blocks->BindInt(1, job.drop_blocks_before);
    if (!s.drop_blocks->Run(error)) return false;
    s.drop_block_rows->BindInt(1, job.drop_blocks_before);
    if (!s.drop_block_rows->Run(error)) return false;
    // Their postings are rewritten at the next checkpoint; until then start-up prunes them.
    for (SeriesRef ref : job.drop_series) {
      s.drop_series->BindInt(1, static_cast<int64_t>(ref));
      if (!s.drop_series->Run(error)) return false;
    }
    while (s.vacuum->Step()) {
    }
    s.vacuum->Reset();
  }
  return true;
}

}  // namespace crmscope::storage
