#include <doctest/doctest.h>

#include <cmath>

#include "common/label_matcher.h"
#include "common/labels.h"
#include "common/sample.h"
#include "common/time.h"

using namespace crmscope;

TEST_CASE("labels: validation follows the remote-write spec") {
  Labels ok{{"__name__", "http_requests_total"}, {"code", "200"}, {"route", "/api/customers/{id}"}};
  CHECK(ValidateLabels(ok).empty());
  Labels bad_metric{{"__name__", "1abc"}};
  CHECK(ValidateLabels(bad_metric) == "invalid metric name \"1abc\"");
  Labels colon_name{{"__name__", "job:rate5m"}, {"a:b", "x"}};
  CHECK(ValidateLabels(colon_name) == "invalid label name \"a:b\"");
  Labels dup{{"__name__", "m"}, {"a", "1"}, {"a", "2"}};
  CHECK(ValidateLabels(dup) == "duplicate label name \"a\"");
  Labels no_name{{"a", "1"}};
  CHECK(ValidateLabels(no_name) == "missing metric name (__name__ label)");
  Labels bad_utf8{{"__name__", "m"}, {"a", std::string("\xff\xfe")}};
  CHECK(ValidateLabels(bad_utf8) == "invalid UTF-8 in value of label \"a\"");
  Labels empty_name{{"", "x"}, {"__name__", "m"}};
  CHECK(ValidateLabels(empty_name) == "empty label name");
  CHECK(IsValidUtf8("grüße ✓ 😀"));
  CHECK_FALSE(IsValidUtf8("\xc0\xaf"));  // overlong '/'
  CHECK_FALSE(IsValidUtf8("\xed\xa0\x80"));  // surrogate
}

TEST_CASE("labels: text form and stable hash") {
  Labels l{{"route", "/a\"b"}, {"__name__", "up"}, {"job", "crm"}};
  SortLabels(l);
  CHECK(LabelsToString(l) == "up{job=\"crm\", route=\"/a\\\"b\"}");
  Labels a{{"a", "bc"}}, b{{"ab", "c"}};
  CHECK(HashLabels(a) != HashLabels(b));
  CHECK(HashLabels(a) == HashLabels(Labels{{"a", "bc"}}));
}

TEST_CASE("matchers: regexes are fully anchored RE2") {
  std::string err;
  auto m = LabelMatcher::Make(LabelMatcher::Type::kRegexMatch, "job", "crm", &err);
  REQUIRE(m);
  CHECK(m->Matches("crm"));
  CHECK_FALSE(m->Matches("crm-node"));
  CHECK_FALSE(m->MatchesEmpty());
  CHECK(m->SetMatches() == std::vector<std::string>{"crm"});
  auto alt = LabelMatcher::Make(LabelMatcher::Type::kRegexMatch, "code", "5..|4..", &err);
  REQUIRE(alt);
  CHECK(alt->Matches("503"));
  CHECK(alt->SetMatches().empty());
  auto nre = LabelMatcher::Make(LabelMatcher::Type::kRegexNoMatch, "x", ".*", &err);
  REQUIRE(nre);
  CHECK_FALSE(nre->Matches(""));
  auto ne = LabelMatcher::Make(LabelMatcher::Type::kNotEqual, "x", "", &err);
  CHECK(ne->Matches("a"));
  CHECK_FALSE(ne->MatchesEmpty());
  auto bad = LabelMatcher::Make(LabelMatcher::Type::kRegexMatch, "x", "(foo", &err);
  CHECK(bad == nullptr);
  CHECK(err.find("error parsing regexp: missing closing )") == 0);
  // Valid once wrapped in (?:...), but Prometheus rejects it alone.
  CHECK(LabelMatcher::Make(LabelMatcher::Type::kRegexMatch, "x", "x)|(y", &err) == nullptr);
  CHECK(err == "error parsing regexp: unexpected ): `x)|(y`");
  CHECK(alt->ToString() == "code=~\"5..|4..\"");
}

TEST_CASE("time: Prometheus durations") {
  int64_t ms = 0;
  std::string err;
  CHECK(ParseDuration("1h30m", &ms, &err));
  CHECK(ms == 5400000);
  CHECK(ParseDuration("15d", &ms, &err));
  CHECK(ms == 15LL * 86400000);
  CHECK(ParseDuration("1m500ms", &ms, &err));
  CHECK(ms == 60500);
  CHECK(ParseDuration("0", &ms, &err));
  CHECK(ms == 0);
  CHECK_FALSE(ParseDuration("30m1h", &ms, &err));
  CHECK(err == "not a valid duration string: \"30m1h\"");
  CHECK_FALSE(ParseDuration("", &ms, &err));
  CHECK_FALSE(ParseDuration("5", &ms, &err));
  CHECK_FALSE(ParseDuration("1.5h", &ms, &err));
  CHECK(FormatDuration(5400000) == "1h30m");
  CHECK(FormatDuration(0) == "0s");
  CHECK(FormatDuration(15LL * 86400000) == "15d");
  CHECK(FormatDuration(14LL * 86400000) == "2w");
  CHECK(FormatDuration(366LL * 86400000) == "366d");
}

TEST_CASE("time: API timestamps in unix seconds and RFC 3339") {
  TimestampMs ms = 0;
  std::string err;
  CHECK(ParseApiTime("1700000000.123", &ms, &err));
  CHECK(ms == 1700000000123);
  CHECK(ParseApiTime("2023-11-14T22:13:20.5Z", &ms, &err));
  CHECK(ms == 1700000000500);
  CHECK(ParseApiTime("2023-11-14T23:13:20+01:00", &ms, &err));
  CHECK(ms == 1700000000000);
  CHECK(ParseApiTime("-1.5", &ms, &err));
  CHECK(ms == -1500);
  CHECK(ParseApiTime("9999999999999999999999", &ms, &err));
  CHECK(ms == INT64_MAX);
  CHECK_FALSE(ParseApiTime(" 1", &ms, &err));
  CHECK_FALSE(ParseApiTime("yesterday", &ms, &err));
  CHECK(err == "cannot parse \"yesterday\" to a valid timestamp");
}

TEST_CASE("time: byte sizes") {
  int64_t b = 0;
  std::string err;
  CHECK(ParseByteSize("512MB", &b, &err));
  CHECK(b == 512LL << 20);
  CHECK(ParseByteSize("10GiB", &b, &err));
  CHECK(b == 10LL << 30);
  CHECK_FALSE(ParseByteSize("10 apples", &b, &err));
}

TEST_CASE("samples: stale NaN is one particular NaN") {
  CHECK(IsStaleNaN(StaleNaN()));
  CHECK_FALSE(IsStaleNaN(std::nan("")));
  CHECK(std::isnan(StaleNaN()));
  CHECK_FALSE(SameValueBits(0.0, -0.0));
  CHECK(SameValueBits(StaleNaN(), StaleNaN()));
}
