// A write-ahead record: the samples one group of appends accepted, stored as one row of the
// `wal` table before the append is acknowledged. Replaying the rows after the last checkpoint
// rebuilds the head exactly. Layout, repeated per series:
//   uvarint series ref, uvarint sample count, then per sample zigzag varint (t - previous t,
//   the first relative to 0) and the value's 8 raw bytes (bit-exact: stale markers, -0, NaN).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "collector/storage/series_index.h"
#include "common/sample.h"

namespace crmscope::storage {

class WalRecordBuilder {
 public:
  void Add(SeriesRef ref, TimestampMs t, double v);
  // The finished record; the builder is empty afterwards.
  std::string Finish();
  bool empty() const { return out_.empty() && pending_.empty(); }

 private:
  void FlushSeries();
  std::string out_;
  SeriesRef ref_ = 0;
  std::vector<Sample> pending_;
};

// Calls fn(ref, sample) for every sample in order; false on a corrupt record.
bool ForEachWalSample(std::string_view record, const std::function<void(SeriesRef, Sample)>& fn);

}  // namespace crmscope::storage
