// The head: for one series, the samples not yet written to a block in SQLite. New samples go to an
// open XOR chunk; it is cut (closed) at kSamplesPerChunk samples or when the next sample falls in
// the next block window, so every chunk belongs to exactly one block. Closed chunks are immutable
// and shared with readers by pointer. Not thread-safe: the storage lock guards every HeadSeries.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collector/storage/xor_chunk.h"
#include "common/sample.h"

namespace crmscope::storage {

// Blocks partition time into fixed windows: chunks are stored per (block, series, first
// timestamp), and retention drops whole blocks, as Prometheus drops whole 2h blocks.
inline constexpr int64_t kBlockMs = 2LL * 3600 * 1000;
inline int64_t BlockOf(TimestampMs t) {
  return t >= 0 ? t / kBlockMs : -((-t + kBlockMs - 1) / kBlockMs);
}

struct ChunkRef {
  TimestampMs min_t = 0;
  TimestampMs max_t = 0;
  std::shared_ptr<const std::string> bytes;  // XOR chunk bytes
};

enum class AppendOutcome {
  kAppended,
  kAppendedOutOfOrder,  // inside the out-of-order window
  kDuplicate,           // identical to a stored sample: accepted, stored once
  kOutOfOrder,
  kDuplicateTimestamp,  // same timestamp, other value
};

class HeadSeries {
 public:
  static constexpr TimestampMs kNone = std::numeric_limits<TimestampMs>::min();

  AppendOutcome Append(TimestampMs t, double v, int64_t ooo_window_ms);

  TimestampMs max_t() const { return max_t_; }     // newest in-order sample, kNone if none
  TimestampMs min_t() const;                      // oldest sample in the head, kNone if none
  bool empty() const { return !open_ && closed_.empty() && ooo_.empty(); }
  size_t num_chunks() const { return closed_.size() + (open_ ? 1 : 0); }
  size_t num_samples() const;

  // Chunks overlapping [mint, maxt]: closed ones shared, the open one and out-of-order samples
  // encoded into fresh copies. Sorted by min_t.
  std::vector<ChunkRef> Snapshot(TimestampMs mint, TimestampMs maxt) const;

  // The chunks of blocks ending at or before block_end, out-of-order samples included (encoded
  // into chunks). The open chunk is cut first when it lies wholly before block_end.
  std::vector<ChunkRef> ChunksBefore(TimestampMs block_end);
  // After those chunks are durable in a block: drops them from the head.
  void DropBefore(TimestampMs block_end);

  // Checkpoint form: every chunk and out-of-order sample, restorable by Restore().
  std::string Serialize() const;
  bool Restore(std::string_view bytes);

 private:
  bool FindSample(TimestampMs t, double* v) const;
  void CutOpen();

  std::vector<ChunkRef> closed_;
  std::optional<XorChunk> open_;
  std::vector<Sample> ooo_;  // out-of-order samples, sorted by t
  TimestampMs max_t_ = kNone;
  double last_v_ = 0;
};

}  // namespace crmscope::storage
