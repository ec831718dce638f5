// Text formats of Go's fmt and strconv packages. Prometheus prints numbers, strings and
// characters in queries and in error messages through them, and a client comparing our
// output with Prometheus's sees every difference, so they are reproduced here.
#pragma once

#include <string>
#include <string_view>

namespace crmscope::promql {

std::string GoQuote(std::string_view s);  // strconv.Quote: "a\n\"b\""
std::string GoQuoteRune(int r);           // %q of a rune: 'a', '\n'
std::string GoUnicodeRune(int r);         // %#U: U+0071 'q'
std::string GoFloat(double v);            // %v of a float64: 1e+06, 0.5, +Inf, NaN
std::string GoFixed(double v, int decimals);  // %.Nf: 1.500000, +Inf

// Decodes one UTF-8 code point at s[*pos] and advances *pos; invalid bytes decode as U+FFFD
// with width 1, as Go's utf8.DecodeRuneInString does.
int DecodeRune(std::string_view s, size_t* pos);
void AppendRune(std::string* out, int r);

}  // namespace crmscope::promql
