// Time and duration parsing shared by flags, config files and the HTTP API, with Prometheus's
// syntax so values can be copied between the two.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/sample.h"

namespace crmscope {

TimestampMs NowMs();

// Prometheus durations: one or more of <int><unit> in decreasing order, units ms s m h d w y
// ("1h30m", "15d", "500ms"). Returns false and sets *error on bad input.
bool ParseDuration(std::string_view text, int64_t* ms, std::string* error);
std::string FormatDuration(int64_t ms);  // "1h30m", "0s"

// A time as the Prometheus HTTP API accepts it: RFC 3339 ("2026-11-27T09:00:00.5Z") or Unix
// seconds with an optional fraction ("1732698000.5"). Result in milliseconds.
bool ParseApiTime(std::string_view text, TimestampMs* ms, std::string* error);

// Byte sizes as Prometheus's --storage.tsdb.retention.size takes them: "512MB", "10GB", "1TB"
// (powers of 1024, units B KB MB GB TB PB EB).
bool ParseByteSize(std::string_view text, int64_t* bytes, std::string* error);

}  // namespace crmscope
