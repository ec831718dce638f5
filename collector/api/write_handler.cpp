#include "collector/api/write_handler.h"

#include <memory>

#include "common/ascii_case.h"
#include "common/log.h"
#include "collector/api/metrics_handler.h"
#include "collector/storage/storage.h"
#include "exporters/remote_write/codec.h"

namespace crmscope::api {

namespace {

// Per-thread buffers reused across requests (CivetWeb's threads are a fixed pool); a request
// larger than this does not keep its buffers, so idle threads do not hold on to big batches.
constexpr size_t kMaxRetainedBytes = 8 << 20;

struct RequestBuffers {
  std::string body;
  remote_write::DecodedRequest decoded;
};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Compares every byte whatever the first difference, so the time taken says nothing about how
// much of a guessed token was right.
bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  size_t n = std::max(a.size(), b.size());
  unsigned diff = a.size() != b.size();
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= x ^ y;
  }
  return diff == 0;
}

HttpResponse BadRequest(std::string_view reason) { return HttpResponse::Text(400, reason); }

// The receiver's own limits, checked before the storage sees a series; "" when within them.
std::string CheckLimits(const WriteLimits& limits, const LabelView* labels, size_t n) {
  if (limits.max_labels_per_series > 0 && n > limits.max_labels_per_series) {
    return "series has " + std::to_string(n) + " labels, limit is " +
           std::to_string(limits.max_labels_per_series);
  }
  for (size_t i = 0; i < n; ++i) {
    if (limits.max_label_name_length > 0 && labels[i].name.size() > limits.max_label_name_length) {
      return "label name of " + std::to_string(labels[i].name.size()) + " bytes, limit is " +
             std::to_string(limits.max_label_name_length);
    }
    if (limits.max_label_value_length > 0 &&
        labels[i].value.size() > limits.max_label_value_length) {
      return "value of label \"" + std::string(labels[i].name) + "\" has " +
             std::to_string(labels[i].value.size()) + " bytes, limit is " +
             std::to_string(limits.max_label_value_length);
    }
  }
  return {};
}

// Adds the storage's outcome to what the receiver itself rejected; the receiver's rejections
// were found first, so they lead the list of reported series.
void MergeStorageStats(const storage::AppendStats& from, storage::AppendStats* into) {
  into->accepted += from.accepted;
  into->duplicates += from.duplicates;
  into->new_series += from.new_series;
  for (int i = 0; i < storage::kNumRejectReasons; ++i) into->rejected[i] += from.rejected[i];
  for (const auto& rejection : from.rejections) {
    if (into->rejections.size() >= storage::AppendStats::kMaxReportedSeries) break;
    into->rejections.push_back(rejection);
  }
}

}  // namespace

std::string DescribeRejections(const storage::AppendStats& stats, size_t total_samples) {
  std::string out = std::to_string(stats.rejected_total()) + " of " +
                    std::to_string(total_samples) + " samples rejected:";
  bool first_reason = true;
  for (int i = 0; i < storage::kNumRejectReasons; ++i) {
    if (stats.rejected[i] == 0) continue;
    out += first_reason ? " " : ", ";
    first_reason = false;
    out += storage::RejectReasonName(static_cast<storage::RejectReason>(i));
    out += '=' + std::to_string(stats.rejected[i]);
  }
  if (!stats.rejections.empty()) {
    const auto& first = stats.rejections.front();
    out += " (first: " + first.series;
    if (!first.detail.empty()) out += " " + first.detail;
    out += ')';
  }
  // The answer is one line: a label value may hold a newline.
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

WriteHandler::WriteHandler(WriteLimits limits, std::vector<std::string> bearer_tokens,
                           ApiMetrics* metrics, IngestListener* listener)
    : limits_(limits),
      bearer_tokens_(std::move(bearer_tokens)),
      metrics_(metrics),
      listener_(listener) {}

bool WriteHandler::Authorized(const HttpRequest& request) const {
  if (bearer_tokens_.empty()) return true;
  std::string_view header = Trim(request.Header("Authorization"));
  constexpr std::string_view kScheme = "Bearer ";
  if (header.size() < kScheme.size() || !EqualsIgnoreCase(header.substr(0, 7), kScheme)) {
    return false;
  }
  std::string_view token = Trim(header.substr(kScheme.size()));
  bool match = false;
  for (const std::string& expected : bearer_tokens_) match |= ConstantTimeEquals(token, expected);
  return match;
}

HttpResponse WriteHandler::Handle(HttpRequest& request, storage::Storage& storage) const {
  if (!Authorized(request)) {
    HttpResponse response = HttpResponse::Text(401, "unauthorized: missing or wrong bearer token");
    response.headers.emplace_back("WWW-Authenticate", "Bearer");
    return response;
  }
  std::string_view content_type = request.Header("Content-Type");
  if (!EqualsIgnoreCase(Trim(content_type.substr(0, content_type.find(';'))),
                        remote_write::kContentType)) {
    return HttpResponse::Text(415, "unsupported Content-Type \"" + std::string(content_type) +
                                       "\", remote write 1.0 needs application/x-protobuf");
  }
  std::string_view encoding = request.Header("Content-Encoding");
  if (!EqualsIgnoreCase(Trim(encoding), remote_write::kContentEncoding)) {
    return HttpResponse::Text(415, "unsupported Content-Encoding \"" + std::string(encoding) +
                                       "\", remote write 1.0 needs snappy");
  }

  thread_local std::unique_ptr<RequestBuffers> buffers;
  if (!buffers) buffers = std::make_unique<RequestBuffers>();
  size_t max_body = static_cast<size_t>(limits_.max_body_bytes);
  switch (request.ReadBody(max_body, &buffers->body)) {
    case HttpRequest::BodyStatus::kOk:
      break;
    case HttpRequest::BodyStatus::kTooLarge:
      buffers.reset();
      return HttpResponse::Text(413,
                                "request body larger than " + std::to_string(max_body) + " bytes");
    case HttpRequest::BodyStatus::kReadError:
      buffers.reset();
      return BadRequest("cannot read request body");
  }
  std::string error;
  remote_write::DecodedRequest& decoded = buffers->decoded;
  if (!remote_write::Decode(buffers->body, max_body * kMaxDecodedBytesPerBodyByte, &decoded,
                            &error)) {
    log::Warn("Error decoding remote write request", {{"err", error}});
    return BadRequest(error);
  }

  storage::AppendStats stats;
  storage::Appender appender(&storage);
  size_t total_samples = 0;
  thread_local std::vector<uint32_t> appended_series;
  appended_series.clear();
  for (const auto& series : decoded.series()) {
    const LabelView* labels = decoded.labels().data() + series.label_begin;
    size_t num_labels = series.label_end - series.label_begin;
    const Sample* samples = decoded.samples().data() + series.sample_begin;
    size_t num_samples = series.sample_end - series.sample_begin;
    total_samples += num_samples;
    std::string problem = CheckLimits(limits_, labels, num_labels);
    if (problem.empty()) {
      appender.Append(labels, num_labels, samples, num_samples);
      appended_series.push_back(static_cast<uint32_t>(&series - decoded.series().data()));
      continue;
    }
    stats.rejected[static_cast<int>(storage::RejectReason::kInvalidLabels)] += num_samples;
    if (stats.rejections.size() < storage::AppendStats::kMaxReportedSeries) {
      stats.rejections.push_back({LabelsToString(LabelsFromViews(labels, labels + num_labels)),
                                  storage::RejectReason::kInvalidLabels, num_samples, problem});
    }
  }
  for (const auto& m : decoded.metadata()) {
    storage.PutMetadata(m.family,
                        {std::string(remote_write::MetricTypeName(m.type)), m.help, m.unit});
  }
  if (!appender.Commit(&error)) {
    log::Error("Error appending remote write", {{"err", error}});
    return HttpResponse::Text(503, "storage failure, retry later: " + error);
  }
  if (listener_) listener_->Ingested(decoded, appended_series, appender.stats());
  MergeStorageStats(appender.stats(), &stats);
  metrics_->CountIngest(stats);
  if (decoded.uncompressed_bytes() > kMaxRetainedBytes) buffers.reset();

  if (stats.rejected_total() > 0) {
    std::string description = DescribeRejections(stats, total_samples);
    log::Debug("remote write samples rejected", {{"err", description}});
    return BadRequest(description);
  }
  HttpResponse response;
  response.status = 204;
  return response;
}

}  // namespace crmscope::api
