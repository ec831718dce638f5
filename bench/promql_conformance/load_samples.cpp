// load_samples: sends the samples of an OpenMetrics text file to a remote-write URL, so that a
// server receives exactly the samples `promtool tsdb create-blocks-from openmetrics` puts into
// Prometheus's blocks from the same file. Prints "series=N samples=N requests=N" when done.
//
// The file must list each series' samples in time order (the generators here write whole scrapes
// in time order). It is read as a stream: samples accumulate per series until a batch holds
// --batch-samples, then go out as one request, so memory stays bounded whatever the file's size and
// every series' samples reach the server in order, as a remote-write shard sends them.
//
// Lines: `name{label="value",...} value timestamp` with the timestamp in seconds (up to
// millisecond precision, as promtool reads them); "# ..." lines and blank lines are skipped. The
// value StaleNaN stands for Prometheus's stale marker, which text cannot express otherwise.
//
// usage: load_samples --url URL --file FILE [--batch-samples N]
#include <curl/curl.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/labels.h"
#include "common/sample.h"
#include "exporters/remote_write/codec.h"

namespace {

using crmscope::Label;
using crmscope::Labels;
using crmscope::Sample;

struct CurlEasyDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct CurlListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

size_t KeepBody(char* data, size_t size, size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  if (body->size() < 4096) body->append(data, size * count);
  return size * count;
}

// One keep-alive connection that posts remote-write bodies.
class RemoteWriteClient {
 public:
  explicit RemoteWriteClient(const std::string& url) : curl_(curl_easy_init()) {
    curl_slist* raw = nullptr;
    for (const char* h : {"Content-Type: application/x-protobuf", "Content-Encoding: snappy",
                          "X-Prometheus-Remote-Write-Version: 0.1.0",
                          "User-Agent: crmscope-load-samples", "Expect:"}) {
      raw = curl_slist_append(raw, h);
    }
    headers_.reset(raw);
    curl_easy_setopt(curl_.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_.get(), CURLOPT_HTTPHEADER, headers_.get());
    curl_easy_setopt(curl_.get(), CURLOPT_WRITEFUNCTION, &KeepBody);
    curl_easy_setopt(curl_.get(), CURLOPT_WRITEDATA, &response_);
    curl_easy_setopt(curl_.get(), CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(curl_.get(), CURLOPT_NOSIGNAL, 1L);
  }

  // False, with *error set, unless the server answered 2xx.
  bool Post(const std::string& body, std::string* error) {
    response_.clear();
    curl_easy_setopt(curl_.get(), CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl_.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    const CURLcode code = curl_easy_perform(curl_.get());
    long status = 0;
    curl_easy_getinfo(curl_.get(), CURLINFO_RESPONSE_CODE, &status);
    if (code != CURLE_OK) {
      *error = curl_easy_strerror(code);
      return false;
    }
    if (status / 100 != 2) {
      *error = "HTTP " + std::to_string(status) + ": " + response_;
      return false;
    }
    return true;
  }

 private:
  std::unique_ptr<CURL, CurlEasyDeleter> curl_;
  std::unique_ptr<curl_slist, CurlListDeleter> headers_;
  std::string response_;
};

// Parses `name{a="b",...}` (or a bare name) from the start of *rest, Go-style escapes in values.
bool ParseSeries(std::string_view* rest, Labels* labels) {
  const std::string_view line = *rest;
  size_t i = line.find_first_of("{ ");
  if (i == std::string_view::npos || i == 0) return false;
  labels->push_back({std::string(crmscope::kMetricNameLabel), std::string(line.substr(0, i))});
  if (line[i] == '{') {
    ++i;
    while (i < line.size() && line[i] != '}') {
      const size_t eq = line.find("=\"", i);
      if (eq == std::string_view::npos) return false;
      Label label{std::string(line.substr(i, eq - i)), ""};
      for (i = eq + 2; i < line.size() && line[i] != '"'; ++i) {
        if (line[i] == '\\' && i + 1 < line.size()) {
          ++i;
          label.value.push_back(line[i] == 'n' ? '\n' : line[i]);
        } else {
          label.value.push_back(line[i]);
        }
      }
      if (i >= line.size()) return false;
      labels->push_back(std::move(label));
      ++i;  // closing quote
      if (i < line.size() && line[i] == ',') ++i;
    }
    if (i >= line.size()) return false;
    ++i;  // closing brace
  }
  *rest = line.substr(i);
  crmscope::SortLabels(*labels);
  return true;
}

bool ParseValue(std::string_view text, double* value) {
  if (text == "StaleNaN") *value = crmscope::StaleNaN();
  else if (text == "NaN") *value = std::numeric_limits<double>::quiet_NaN();
  else if (text == "+Inf" || text == "Inf") *value = std::numeric_limits<double>::infinity();
  else if (text == "-Inf") *value = -std::numeric_limits<double>::infinity();
  else {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *value);
    return ec == std::errc() && end == text.data() + text.size();
  }
  return true;
}

// Seconds with up to three decimals, to milliseconds without a detour through a double.
bool ParseTimestampMs(std::string_view text, int64_t* ms) {
  const size_t dot = text.find('.');
  int64_t seconds = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + std::min(dot, text.size()), seconds);
  if (ec != std::errc() || end != text.data() + std::min(dot, text.size())) return false;
  int64_t millis = 0;
  if (dot != std::string_view::npos) {
    const std::string_view fraction = text.substr(dot + 1);
    if (fraction.empty() || fraction.size() > 3) return false;
    for (size_t k = 0; k < 3; ++k) {
      const char c = k < fraction.size() ? fraction[k] : '0';
      if (c < '0' || c > '9') return false;
      millis = millis * 10 + (c - '0');
    }
  }
  *ms = seconds * 1000 + (seconds < 0 ? -millis : millis);
  return true;
}

// Series seen so far (labels parsed once per distinct series text) and the current batch.
class BatchedLoader {
 public:
  BatchedLoader(RemoteWriteClient* client, size_t batch_samples)
      : client_(client), batch_samples_(batch_samples) {}

  bool AddLine(std::string_view line, std::string* error) {
    const size_t space = line.rfind('}') != std::string_view::npos ? line.rfind('}') + 1
                                                                    : line.find(' ');
    const std::string_view key = line.substr(0, space);
    auto [it, inserted] = ids_.try_emplace(std::string(key), labels_.size());
    if (inserted) {
      Labels labels;
      std::string_view rest = line;
      if (!ParseSeries(&rest, &labels)) return Fail(line, "bad series", error);
      labels_.push_back(std::move(labels));
      pending_.emplace_back();
    }
    const std::string_view fields = line.substr(space);
    const size_t value_begin = fields.find_first_not_of(' ');
    const size_t value_end = fields.find(' ', value_begin);
    if (value_begin == std::string_view::npos || value_end == std::string_view::npos) {
      return Fail(line, "expected a value and a timestamp", error);
    }
    Sample sample;
    if (!ParseValue(fields.substr(value_begin, value_end - value_begin), &sample.v)) {
      return Fail(line, "bad value", error);
    }
    std::string_view timestamp = fields.substr(value_end + 1);
    while (!timestamp.empty() && (timestamp.back() == ' ' || timestamp.back() == '\r')) {
      timestamp.remove_suffix(1);
    }
    if (!ParseTimestampMs(timestamp, &sample.t)) return Fail(line, "bad timestamp", error);
    std::vector<Sample>& samples = pending_[it->second];
    if (samples.empty()) touched_.push_back(it->second);
    samples.push_back(sample);
    if (++batched_ >= batch_samples_) return Flush(error);
    return true;
  }

  bool Flush(std::string* error) {
    if (batched_ == 0) return true;
    crmscope::remote_write::WriteRequest request;
    request.series.reserve(touched_.size());
    for (size_t id : touched_) {
      request.series.push_back({labels_[id], std::move(pending_[id])});
      pending_[id].clear();
    }
    if (!client_->Post(crmscope::remote_write::Encode(request), error)) return false;
    samples_ += batched_;
    requests_ += 1;
    batched_ = 0;
    touched_.clear();
    return true;
  }

  size_t series() const { return labels_.size(); }
  size_t samples() const { return samples_; }
  size_t requests() const { return requests_; }

 private:
  static bool Fail(std::string_view line, const char* what, std::string* error) {
    *error = std::string(what) + " in line: " + std::string(line.substr(0, 200));
    return false;
  }

  RemoteWriteClient* client_;
  size_t batch_samples_;
  std::unordered_map<std::string, size_t> ids_;
  std::vector<Labels> labels_;
  std::vector<std::vector<Sample>> pending_;  // by series id
  std::vector<size_t> touched_;               // ids with pending samples, in first-seen order
  size_t batched_ = 0, samples_ = 0, requests_ = 0;
};

// Streams the file into batches; false with *error set on a bad line or a refused request.
bool LoadFile(std::istream& in, const std::string& url, size_t batch_samples, std::string* error) {
  RemoteWriteClient client(url);
  BatchedLoader loader(&client, batch_samples);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (!loader.AddLine(line, error)) return false;
  }
  if (!loader.Flush(error)) return false;
  std::printf("series=%zu samples=%zu requests=%zu\n", loader.series(), loader.samples(),
              loader.requests());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string url, file;
  size_t batch_samples = 50'000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (flag == "--url") url = argv[i + 1];
    else if (flag == "--file") file = argv[i + 1];
    else if (flag == "--batch-samples") batch_samples = std::strtoull(argv[i + 1], nullptr, 10);
    else url.clear();
  }
  if (url.empty() || file.empty() || batch_samples == 0 || argc % 2 == 0) {
    std::fputs("usage: load_samples --url URL --file FILE [--batch-samples N]\n", stderr);
    return 2;
  }
  std::ifstream in(file);
  if (!in) {
    std::fprintf(stderr, "load_samples: cannot read %s\n", file.c_str());
    return 1;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  std::string error;
  const bool ok = LoadFile(in, url, batch_samples, &error);
  curl_global_cleanup();
  if (!ok) {
    std::fprintf(stderr, "load_samples: %s\n", error.c_str());
    return 1;
  }
  return 0;
}
