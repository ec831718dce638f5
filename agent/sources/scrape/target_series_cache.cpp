#include "agent/sources/scrape/target_series_cache.h"

#include <algorithm>

#include "agent/sources/scrape/label_edit.h"

namespace crmscope::agent {

namespace {

constexpr std::string_view kExportedPrefix = "exported_";

bool Exposes(std::span<const LabelView> exposed, std::string_view name) {
  return std::any_of(exposed.begin(), exposed.end(),
                     [&](const LabelView& l) { return l.name == name; });
}

// Prometheus 2.42's resolveConflictingExposedLabels: shortest names first, each prefixed with
// "exported_" until the name is used by no exposed label, target label or earlier rename.
void KeepConflictsAsExported(std::vector<Label>& conflicts, std::span<const LabelView> exposed,
                             const Labels& target, Labels& out) {
  // Prometheus stable-sorts by length conflicts it collected in target-label (name) order; the
  // target labels are sorted here too, so that is (length, name) order. (std::stable_sort's
  // temporary buffer also trips GCC 12's ASan with a false new/free mismatch.)
  std::sort(conflicts.begin(), conflicts.end(), [](const Label& a, const Label& b) {
    return a.name.size() != b.name.size() ? a.name.size() < b.name.size() : a.name < b.name;
  });
  for (size_t i = 0; i < conflicts.size(); ++i) {
    std::string name = conflicts[i].name;
    auto taken = [&](const std::string& n) {
      if (Exposes(exposed, n) || HasLabel(target, n)) return true;
      for (size_t j = 0; j < i; ++j) {
        if (conflicts[j].name == n) return true;
      }
      return false;
    };
    do {
      name.insert(0, kExportedPrefix);
    } while (taken(name));
    conflicts[i].name = std::move(name);
  }
  for (const Label& l : conflicts) SetLabel(out, l.name, l.value);
}

}  // namespace

bool LabelSample(std::string_view metric_name, std::span<const LabelView> exposed,
                 const SampleLabeling& labeling, Labels* out) {
  out->clear();
  out->push_back({std::string(kMetricNameLabel), std::string(metric_name)});
  for (const LabelView& l : exposed) out->push_back({std::string(l.name), std::string(l.value)});
  SortLabels(*out);
  if (labeling.honor_labels) {
    for (const Label& t : labeling.target_labels) {
      if (!Exposes(exposed, t.name)) SetLabel(*out, t.name, t.value);
    }
  } else {
    std::vector<Label> conflicts;
    for (const Label& t : labeling.target_labels) {
      std::string_view exposed_value = GetLabel(*out, t.name);
      if (!exposed_value.empty()) conflicts.push_back({t.name, std::string(exposed_value)});
      SetLabel(*out, t.name, t.value);
    }
    if (!conflicts.empty()) {
      KeepConflictsAsExported(conflicts, exposed, labeling.target_labels, *out);
    }
  }
  std::erase_if(*out, [](const Label& l) { return l.value.empty(); });
  return labeling.relabeler == nullptr || labeling.relabeler->Process(*out);
}

TargetSeriesCache::TargetSeriesCache(SampleLabeling labeling) : labeling_(std::move(labeling)) {}

AppendCounts TargetSeriesCache::Append(std::string_view body, ExpositionFormat format,
                                       TimestampMs now, SampleSink& sink, std::string* error) {
  ++scrape_;
  AppendCounts counts;
  pending_.clear();
  family_count_ = 0;
  if (!ParseBody(body, format, &counts, error)) {
    // As Prometheus rolls the scrape back: nothing of it is kept, though its report still
    // counts what was read before the error (2.42 reports scraped=2 and post-relabelling=2 for
    // "a 1\nb 2\nc\n").
    MarkStale(now, sink);
    return counts;
  }
  for (size_t i = 0; i < family_count_; ++i) {
    const Family& f = families_[i];
    sink.Describe(f.name, f.kind, f.help, f.unit);
  }
  Commit(now, sink);
  return counts;
}

void TargetSeriesCache::AppendFailure(TimestampMs now, SampleSink& sink) {
  ++scrape_;
  MarkStale(now, sink);
}

bool TargetSeriesCache::ParseBody(std::string_view body, ExpositionFormat format,
                                  AppendCounts* counts, std::string* error) {
  parser_.Reset(body, format);
  while (true) {
    ExpositionParser::Entry kind = parser_.Next();
    if (kind == ExpositionParser::Entry::kEnd) return true;
    if (kind == ExpositionParser::Entry::kError) {
      *error = parser_.error();
      return false;
    }
    if (kind != ExpositionParser::Entry::kSample) {
      NoteMetadata(kind);
      continue;
    }
    ++counts->scraped;
    Entry* entry = EntryFor(parser_.series(), counts, error);
    if (entry == nullptr) return false;
    if (entry->labels.empty()) continue;  // dropped by relabelling
    bool has_t = labeling_.honor_timestamps && parser_.has_timestamp();
    Tracked* tracked = nullptr;
    // As Prometheus, only samples stamped at scrape time are tracked for staleness.
    if (!has_t) {
      tracked = &tracked_[entry->hash];
      // The same series twice in one scrape: Prometheus keeps the first.
      if (tracked->in_pass == scrape_) continue;
      tracked->in_pass = scrape_;
    }
    pending_.push_back({&entry->labels, tracked, parser_.value(),
                        has_t ? parser_.timestamp() : 0, has_t});
    ++counts->post_relabel;
  }
}

TargetSeriesCache::Entry* TargetSeriesCache::EntryFor(std::string_view series,
                                                      AppendCounts* counts, std::string* error) {
  auto found = by_text_.find(series);
  if (found != by_text_.end()) {
    found->second.last_seen = scrape_;
    return &found->second;
  }
  Entry entry;
  entry.last_seen = scrape_;
  if (LabelSample(parser_.metric_name(), parser_.labels(), labeling_, &entry.labels) &&
      !entry.labels.empty()) {
    std::string invalid = ValidateLabels(entry.labels);
    if (!invalid.empty()) {
      *error = "line " + std::to_string(parser_.line_number()) + ": " + invalid;
      return nullptr;
    }
    entry.hash = HashLabels(entry.labels);
    ++counts->series_added;
  } else {
    entry.labels.clear();
  }
  return &by_text_.emplace(std::string(series), std::move(entry)).first->second;
}

void TargetSeriesCache::NoteMetadata(ExpositionParser::Entry kind) {
  std::string_view name = parser_.family();
  if (family_count_ == 0 || families_[family_count_ - 1].name != name) {
    if (family_count_ == families_.size()) families_.emplace_back();
    Family& f = families_[family_count_++];
    f.name.assign(name);
    f.help.clear();
    f.unit.clear();
    f.kind = MetricKind::kUnknown;
  }
  Family& f = families_[family_count_ - 1];
  if (kind == ExpositionParser::Entry::kHelp) f.help.assign(parser_.text());
  if (kind == ExpositionParser::Entry::kUnit) f.unit.assign(parser_.text());
  if (kind == ExpositionParser::Entry::kType) f.kind = parser_.kind();
}

void TargetSeriesCache::Commit(TimestampMs now, SampleSink& sink) {
  for (const Pending& p : pending_) {
    if (p.has_t) {
      sink.AddAt(*p.labels, p.t, p.value);
      continue;
    }
    sink.Add(*p.labels, p.value);
    p.tracked->committed = scrape_;
    p.tracked->labels = p.labels;
  }
  MarkStale(now, sink);
  // As Prometheus after a successful scrape: forget what this scrape did not expose.
  std::erase_if(by_text_, [&](const auto& item) { return item.second.last_seen != scrape_; });
}

void TargetSeriesCache::MarkStale(TimestampMs now, SampleSink& sink) {
  for (const auto& [hash, tracked] : tracked_) {
    if (tracked.committed + 1 == scrape_ && tracked.labels != nullptr) {
      sink.AddAt(*tracked.labels, now, StaleNaN());
    }
  }
  std::erase_if(tracked_, [&](const auto& item) { return item.second.committed != scrape_; });
}

}  // namespace crmscope::agent
