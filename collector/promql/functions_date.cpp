// The date functions (year(), hour(), ...): each sample's value read as Unix seconds, in UTC.
// Prometheus converts the value to Go's int64 and asks Go's time package, so this mirrors both:
// the conversion truncates toward zero and gives the minimum int64 for NaN, infinities and values
// out of range (as Go does on amd64), and the calendar is computed on Go's unsigned "absolute"
// seconds, so even those extreme values yield the same fields Prometheus reports.
#include <cstdint>
#include <limits>

#include "collector/promql/functions_impl.h"

namespace crmscope::promql {

namespace {

constexpr uint64_t kSecondsPerDay = 86400;
constexpr uint64_t kDaysPer400Years = 365 * 400 + 97;
constexpr uint64_t kDaysPer100Years = 365 * 100 + 24;
constexpr uint64_t kDaysPer4Years = 365 * 4 + 1;
// Go's absolute time starts at year -292277022399 (a multiple of 400 years before year 1).
constexpr int64_t kAbsoluteZeroYear = -292277022399;
// Seconds from the absolute zero to the Unix epoch, as Go's unixToInternal + internalToAbsolute.
constexpr int64_t kUnixToAbsolute = 62135596800LL + 9223371966579724800LL;

struct CivilTime {
  int64_t year = 0;
  int month = 0;  // 1..12
  int day = 0;    // 1..31
  int year_day = 0;  // 1..366
  int weekday = 0;   // 0 is Sunday
  int hour = 0;
  int minute = 0;
};

int64_t GoFloatToInt64(double v) {
  // Go on amd64 converts with CVTTSD2SI, which yields the "integer indefinite" value.
  if (!(v >= -9223372036854775808.0 && v < 9223372036854775808.0)) {
    return std::numeric_limits<int64_t>::min();
  }
  return static_cast<int64_t>(v);
}

bool IsLeap(int64_t year) { return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0); }

CivilTime CivilFromUnixSeconds(int64_t unix_seconds) {
  // Wrapping unsigned arithmetic, exactly as Go's uint64(sec + unixToAbsolute).
  uint64_t abs = static_cast<uint64_t>(unix_seconds) + static_cast<uint64_t>(kUnixToAbsolute);
  CivilTime c;
  uint64_t secs_of_day = abs % kSecondsPerDay;
  c.hour = static_cast<int>(secs_of_day / 3600);
  c.minute = static_cast<int>(secs_of_day % 3600 / 60);
  // The absolute zero is a Monday.
  c.weekday = static_cast<int>(((abs + kSecondsPerDay) % (7 * kSecondsPerDay)) / kSecondsPerDay);

  uint64_t d = abs / kSecondsPerDay;
  uint64_t y = 400 * (d / kDaysPer400Years);
  d %= kDaysPer400Years;
  // The last century of a 400-year cycle and the last year of a 4-year cycle are one day
  // longer, so a quotient of 4 on their last day is cut back to 3.
  uint64_t n = d / kDaysPer100Years;
  n -= n >> 2;
  y += 100 * n;
  d -= kDaysPer100Years * n;
  n = d / kDaysPer4Years;
  y += 4 * n;
  d -= kDaysPer4Years * n;
  n = d / 365;
  n -= n >> 2;
  y += n;
  d -= 365 * n;

  c.year = static_cast<int64_t>(y) + kAbsoluteZeroYear;
  c.year_day = static_cast<int>(d) + 1;
  int day = static_cast<int>(d);  // 0-based day of the year
  if (IsLeap(c.year)) {
    if (day == 31 + 29 - 1) {
      c.month = 2;
      c.day = 29;
      return c;
    }
    if (day > 31 + 29 - 1) --day;
  }
  static constexpr int kDaysBefore[] = {0,   31,  59,  90,  120, 151, 181,
                                        212, 243, 273, 304, 334, 365};
  int month = 0;
  while (day >= kDaysBefore[month + 1]) ++month;
  c.month = month + 1;
  c.day = day - kDaysBefore[month] + 1;
  return c;
}

int DaysInMonth(const CivilTime& c) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return c.month == 2 && IsLeap(c.year) ? 29 : kDays[c.month - 1];
}

// Without an argument a date function reads the step's time (vector(time())), as in Prometheus.
template <double (*F)(const CivilTime&)>
Value DateFunction(const FunctionCallContext& ctx, std::string*) {
  if (ctx.args.empty()) {
    return Vector{{Labels{}, ctx.ts_ms, F(CivilFromUnixSeconds(ctx.ts_ms / 1000))}};
  }
  const Vector& in = VectorArg(ctx, 0);
  Vector out;
  out.reserve(in.size());
  for (const VectorElement& e : in) {
    out.push_back({DropMetricName(e.metric), ctx.ts_ms,
                   F(CivilFromUnixSeconds(GoFloatToInt64(e.v)))});
  }
  return out;
}

double Year(const CivilTime& c) { return static_cast<double>(c.year); }
double Month(const CivilTime& c) { return c.month; }
double DayOfMonth(const CivilTime& c) { return c.day; }
double DayOfYear(const CivilTime& c) { return c.year_day; }
double DayOfWeek(const CivilTime& c) { return c.weekday; }
double Hour(const CivilTime& c) { return c.hour; }
double Minute(const CivilTime& c) { return c.minute; }
double DaysInMonthValue(const CivilTime& c) { return DaysInMonth(c); }

}  // namespace

const FunctionImplEntry kDateFunctions[] = {
    {"year", DateFunction<Year>},
    {"month", DateFunction<Month>},
    {"day_of_month", DateFunction<DayOfMonth>},
    {"day_of_year", DateFunction<DayOfYear>},
    {"day_of_week", DateFunction<DayOfWeek>},
    {"days_in_month", DateFunction<DaysInMonthValue>},
    {"hour", DateFunction<Hour>},
    {"minute", DateFunction<Minute>},
    {"", nullptr},
};

}  // namespace crmscope::promql
