// What the scrape of one target keeps between scrapes, as Prometheus's scrapeCache does: the
// final label set of every series keyed by its text as exposed (so a steady target costs a hash
// lookup per sample, no label parsing, relabelling or allocation), and which series the last
// scrape had, to write a stale marker once for each that disappears.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "agent/sources/scrape/exposition_parser.h"
#include "agent/sources/scrape/relabel.h"
#include "agent/sources/source.h"
#include "common/labels.h"

namespace crmscope::agent {

// How a scraped sample is labelled: Prometheus's mutateSampleLabels.
struct SampleLabeling {
  Labels target_labels;  // job, instance and static labels, sorted
  bool honor_labels = false;
  bool honor_timestamps = true;
  const Relabeler* relabeler = nullptr;  // metric_relabel_configs; null for none
};

// The final labels of a sample named `metric_name` exposing `exposed`: the target's labels
// added (on a conflict, the exposed label kept under exported_<name> unless honor_labels keeps
// it as it is), then relabelled. False when relabelling drops the series.
bool LabelSample(std::string_view metric_name, std::span<const LabelView> exposed,
                 const SampleLabeling& labeling, Labels* out);

// The counts Prometheus reports in scrape_samples_scraped, scrape_samples_post_metric_relabeling
// and scrape_series_added.
struct AppendCounts {
  size_t scraped = 0;
  size_t post_relabel = 0;
  size_t series_added = 0;
};

class TargetSeriesCache {
 public:
  explicit TargetSeriesCache(SampleLabeling labeling);

  // Parses `body`; when it is valid, adds its metadata and samples to `sink`, stamped `now`
  // unless a sample carries a timestamp and honor_timestamps is set, then a stale NaN for each
  // series the previous scrape had and this one lacks. When it is not, adds nothing of it,
  // marks the previous scrape's series stale (as Prometheus appends an empty scrape then) and
  // sets *error ("line N: "); the counts are then those of the lines before the error.
  AppendCounts Append(std::string_view body, ExpositionFormat format, TimestampMs now,
                      SampleSink& sink, std::string* error);
  // The target did not answer: every series of the previous scrape goes stale.
  void AppendFailure(TimestampMs now, SampleSink& sink);

  size_t cached_series() const { return by_text_.size(); }

 private:
  struct Entry {
    Labels labels;      // empty when dropped by relabelling
    uint64_t hash = 0;  // HashLabels(labels)
    uint64_t last_seen = 0;
  };
  // A series (final label set) and the scrapes that last had it, for staleness.
  struct Tracked {
    const Labels* labels = nullptr;  // those of an Entry seen in the last committed scrape
    uint64_t committed = 0;
    uint64_t in_pass = 0;
  };
  struct Pending {
    const Labels* labels;
    Tracked* tracked;  // null for a sample with its own timestamp
    double value;
    TimestampMs t;
    bool has_t;
  };
  struct Family {
    std::string name, help, unit;
    MetricKind kind = MetricKind::kUnknown;
  };
  struct TextHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  bool ParseBody(std::string_view body, ExpositionFormat format, AppendCounts* counts,
                 std::string* error);
  Entry* EntryFor(std::string_view series, AppendCounts* counts, std::string* error);
  void NoteMetadata(ExpositionParser::Entry entry);
  void Commit(TimestampMs now, SampleSink& sink);
  void MarkStale(TimestampMs now, SampleSink& sink);

  SampleLabeling labeling_;
  ExpositionParser parser_;
  std::unordered_map<std::string, Entry, TextHash, std::equal_to<>> by_text_;
  std::unordered_map<uint64_t, Tracked> tracked_;
  uint64_t scrape_ = 0;  // number of the scrape under way, from 1
  std::vector<Pending> pending_;
  std::vector<Family> families_;
  size_t family_count_ = 0;
  Labels scratch_labels_;
};

}  // namespace crmscope::agent
