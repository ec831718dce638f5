// Request parameters of Prometheus's HTTP API, parsed as Prometheus 2.42 parses them: form values
// from the query string and from a form-encoded POST body, times as RFC 3339 or Unix seconds
// (absent: Prometheus's minimum and maximum time), and limit.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "collector/api/api_response.h"
#include "exporters/http/http_server.h"
#include "common/label_matcher.h"
#include "common/sample.h"

namespace crmscope::api {

// The HTTP layer lives in exporters/http, shared with the agent.
using http::HttpHandler;
using http::HttpRequest;
using http::HttpResponse;
using http::HttpServer;

// timestamp.FromTime(minTime) and (maxTime) of Prometheus's API: the range a request without
// start/end covers, and the strings Prometheus's own clients send for them.
inline constexpr TimestampMs kMinApiTime = -9223309901257974000LL;
inline constexpr TimestampMs kMaxApiTime = 9223309901257974999LL;
inline constexpr std::string_view kMinApiTimeText = "-292273086-05-16T16:47:06Z";
inline constexpr std::string_view kMaxApiTimeText = "292277025-08-18T07:12:54.999999999Z";

// The largest form-encoded body read, as Go's http.Request.ParseForm caps it.
inline constexpr size_t kMaxFormBodyBytes = 10 << 20;

class FormValues {
 public:
  // Body values come before query-string values, so a body value wins in Get(), as in Go.
  // A malformed pair is skipped and remembered in parse_error() ("invalid URL escape \"%zz\"").
  static FormValues FromRequest(HttpRequest& request);
  static FormValues FromQueryString(std::string_view query);

  std::string_view Get(std::string_view name) const;  // the first value, "" when absent
  std::vector<std::string_view> GetAll(std::string_view name) const;
  const std::string& parse_error() const { return parse_error_; }

 private:
  void AddEncoded(std::string_view encoded);
  std::vector<std::pair<std::string, std::string>> values_;
  std::string parse_error_;
};

// Decodes application/x-www-form-urlencoded text ('+' is a space); false on a bad %-escape,
// which *bad_escape then shows (at most 3 characters, as Go reports it).
bool DecodeFormComponent(std::string_view in, std::string* out,
                         std::string_view* bad_escape = nullptr);

// The time in `name`, or `default_time` when absent; errors worded as Prometheus's
// ("invalid parameter \"start\": Invalid time value for 'start': cannot parse ...").
bool ParseTimeParam(const FormValues& form, std::string_view name, TimestampMs default_time,
                    TimestampMs* out, ApiError* error);
// Prometheus's parseTime: Unix seconds (float) first, then RFC 3339.
bool ParseApiTimeValue(std::string_view text, TimestampMs* out);

// `limit` as later Prometheus versions take it (2.42 has none): absent or 0 means no limit; a
// truncated answer carries the warning kTruncatedWarning.
inline constexpr std::string_view kTruncatedWarning = "results truncated due to limit";
bool ParseLimitParam(const FormValues& form, size_t* limit, ApiError* error);

}  // namespace crmscope::api
