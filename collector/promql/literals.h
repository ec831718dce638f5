// Values of PromQL literal tokens, with the semantics and error texts of the Go functions
// Prometheus uses for them (strconv.ParseInt/ParseFloat, model.ParseDuration, its Unquote).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace crmscope::promql {

// A NUMBER token: integers first as Go's ParseInt with base 0 (so 0x1f is 31 and 010 is 8),
// then as a float ("1e3", ".5", "Inf", "NaN"). On failure *error is Go's text, e.g.
// `strconv.ParseFloat: parsing "1e400": value out of range`.
std::optional<double> ParseNumberLiteral(std::string_view text, std::string* error);

// A DURATION token in milliseconds ("1h30m"), or nullopt with *error set to Prometheus's
// message. Durations must fit in Go's time.Duration (about 292 years).
std::optional<int64_t> ParsePromDuration(std::string_view text, std::string* error);

// The value of a STRING token the lexer accepted (quotes included): Go escapes for '' and "",
// none for ``.
std::string UnquoteString(std::string_view token);

// Whether `seconds` may follow @: finite and within int64.
bool TimestampInRange(double seconds);
int64_t SecondsToMs(double seconds);

}  // namespace crmscope::promql
