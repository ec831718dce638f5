// The log_format compiler and line matcher of the nginx_log source, and the readers of the values
// nginx writes (numbers, upstream lists, Server-Timing).
#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "agent/sources/nginx_log/field_values.h"
#include "agent/sources/nginx_log/log_format.h"
#include "crm_demo/launcher/access_log.h"

using namespace crmscope::agent::nginx_log;
using V = LogVariable;

namespace {

LogFormat Compiled(std::string_view text) {
  LogFormat format;
  std::string error;
  bool ok = LogFormat::Compile(text, &format, &error);
  INFO(error);
  REQUIRE(ok);
  return format;
}

std::string CompileError(std::string_view text) {
  LogFormat format;
  std::string error;
  CHECK_FALSE(LogFormat::Compile(text, &format, &error));
  return error;
}

std::vector<std::string_view> Attempts(std::string_view list) {
  std::vector<std::string_view> out;
  AttemptCursor cursor(list);
  std::string_view item;
  while (cursor.Next(&item)) out.push_back(item);
  return out;
}

constexpr std::string_view kCombined =
    "log_format combined '$remote_addr - $remote_user [$time_local] '\n"
    "                    '\"$request\" $status $body_bytes_sent '\n"
    "                    '\"$http_referer\" \"$http_user_agent\"';";

}  // namespace

TEST_CASE("the demo's log_format directive compiles with every one of its variables") {
  LogFormat format = Compiled(crmscope::launcher::AccessLogFormatDirective());
  std::vector<std::string> names = format.VariableNames();
  REQUIRE(names.size() == crmscope::launcher::kAccessLogFields.size());
  for (size_t i = 0; i < names.size(); ++i) {
    CHECK(names[i] == crmscope::launcher::kAccessLogFields[i]);
  }
  for (V v : {V::kMsec, V::kRequestMethod, V::kUri, V::kStatus, V::kRequestTime, V::kUpstreamAddr,
              V::kUpstreamStatus, V::kUpstreamConnectTime, V::kUpstreamHeaderTime,
              V::kUpstreamResponseTime, V::kBodyBytesSent, V::kUpstreamHttpServerTiming}) {
    CHECK(format.Has(v));
  }
  CHECK_FALSE(format.Has(V::kRequest));
  CHECK_FALSE(format.Has(V::kBytesSent));
}

TEST_CASE("a demo line with a retry yields each raw value") {
  LogFormat format = Compiled(crmscope::launcher::AccessLogFormatDirective());
  std::string line =
      "1732698000.123\tGET\t/api/customers/42\t200\t0.310\t127.0.0.1:4001, 127.0.0.1:4002\t"
      "502, 200\t0.001, 0.000\t-, 0.300\t0.002, 0.301\t1532\tcache;dur=0.012, db;dur=0.310";
  LogFields f;
  REQUIRE(format.Match(line, &f));
  CHECK(f[V::kMsec] == "1732698000.123");
  CHECK(f[V::kRequestMethod] == "GET");
  CHECK(f[V::kUri] == "/api/customers/42");
  CHECK(f[V::kStatus] == "200");
  CHECK(f[V::kRequestTime] == "0.310");
  CHECK(f[V::kUpstreamAddr] == "127.0.0.1:4001, 127.0.0.1:4002");
  CHECK(f[V::kUpstreamStatus] == "502, 200");
  CHECK(f[V::kUpstreamConnectTime] == "0.001, 0.000");
  CHECK(f[V::kUpstreamHeaderTime] == "-, 0.300");
  CHECK(f[V::kUpstreamResponseTime] == "0.002, 0.301");
  CHECK(f[V::kBodyBytesSent] == "1532");
  CHECK(f[V::kUpstreamHttpServerTiming] == "cache;dur=0.012, db;dur=0.310");
}

TEST_CASE("demo lines with a field missing, one too many, or nothing at all do not match") {
  LogFormat format = Compiled(crmscope::launcher::AccessLogFormatDirective());
  LogFields f;
  std::string good = "1.000\tGET\t/\t200\t0.001\t-\t-\t-\t-\t-\t0\t-";
  CHECK(format.Match(good, &f));
  CHECK(f[V::kUpstreamAddr] == "-");
  CHECK_FALSE(format.Match("1.000\tGET\t/\t200\t0.001\t-\t-\t-\t-\t-\t0", &f));
  // A thirteenth field would run into the last value, which then holds a TAB nginx escapes.
  CHECK_FALSE(format.Match(good + "\textra", &f));
  CHECK_FALSE(format.Match("", &f));
  CHECK_FALSE(format.Match("garbage without any tab", &f));
}

TEST_CASE("the combined format: quoted fields, brackets, and method and path from $request") {
  LogFormat format = Compiled(kCombined);
  CHECK(format.Has(V::kRequest));
  CHECK(format.Has(V::kStatus));
  LogFields f;
  std::string line =
      "10.1.2.3 - - [27/Nov/2024:10:00:00 +0000] \"GET /api/tickets?status=open HTTP/1.1\" 200 "
      "5120 \"-\" \"Mozilla/5.0 (X11; Linux x86_64) \\x22quoted\\x22\"";
  REQUIRE(format.Match(line, &f));
  CHECK(f[V::kRequest] == "GET /api/tickets?status=open HTTP/1.1");
  CHECK(f[V::kStatus] == "200");
  CHECK(f[V::kBodyBytesSent] == "5120");
  CHECK_FALSE(format.Match(line.substr(0, line.size() - 1), &f));  // closing quote missing
  CHECK_FALSE(format.Match(
      "10.1.2.3 [27/Nov/2024:10:00:00 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"-\"", &f));
}

TEST_CASE("space-separated $upstream_* lists keep their \", \" and \" : \" separators") {
  LogFormat format =
      Compiled("$status $upstream_addr $upstream_status $upstream_response_time $request_time");
  LogFields f;
  REQUIRE(
      format.Match("200 10.0.0.1:80, 10.0.0.2:80 : 10.0.1.1:80 502, 504 : 200 "
                   "0.010, 0.020 : 0.030 0.065",
                   &f));
  CHECK(f[V::kUpstreamAddr] == "10.0.0.1:80, 10.0.0.2:80 : 10.0.1.1:80");
  CHECK(f[V::kUpstreamStatus] == "502, 504 : 200");
  CHECK(f[V::kUpstreamResponseTime] == "0.010, 0.020 : 0.030");
  CHECK(f[V::kRequestTime] == "0.065");
  REQUIRE(format.Match("404 - - - 0.000", &f));
  CHECK(f[V::kUpstreamAddr] == "-");
}

TEST_CASE("${name} braces, literals glued to variables, and a bare quoted format") {
  LogFormat format = Compiled("'rt=${request_time}s st=$status'");
  LogFields f;
  REQUIRE(format.Match("rt=0.250s st=503", &f));
  CHECK(f[V::kRequestTime] == "0.250");
  CHECK(f[V::kStatus] == "503");
  CHECK_FALSE(format.Match("rt=0.250 st=503", &f));
  // Unquoted, nginx.conf's \t still means TAB, as in a YAML single-quoted string.
  LogFormat tabbed = Compiled("$status\\t$request_time");
  REQUIRE(tabbed.Match("200\t0.001", &f));
  CHECK(f[V::kRequestTime] == "0.001");
}

TEST_CASE("formats that cannot be parsed unambiguously are refused with a reason") {
  CHECK(CompileError("$status$request_time").find("nothing between") != std::string::npos);
  CHECK(CompileError("status $ x").find("invalid variable name") != std::string::npos);
  CHECK(CompileError("${status x").find("invalid variable name") != std::string::npos);
  CHECK(CompileError("log_format main '$status").find("unterminated") != std::string::npos);
  CHECK(CompileError("log_format main escape=xml '$status';").find("escape=xml") !=
        std::string::npos);
  CHECK(CompileError("no variables here").find("no variable") != std::string::npos);
  CHECK(CompileError("").find("empty") != std::string::npos);
}

TEST_CASE("nginx's default escaping (\\xHH) and escape=json are undone") {
  std::string scratch;
  CHECK(UnescapeLogValue("/plain/path", LogEscape::kDefault, &scratch) == "/plain/path");
  CHECK(UnescapeLogValue("a\\x22b\\x5Cc\\x09d\\xD0\\x9F", LogEscape::kDefault, &scratch) ==
        "a\"b\\c\td\xD0\x9F");
  CHECK(UnescapeLogValue("odd\\xZZ\\", LogEscape::kDefault, &scratch) == "odd\\xZZ\\");
  CHECK(UnescapeLogValue("a\\\"b\\\\c\\n\\u0001", LogEscape::kJson, &scratch) ==
        std::string("a\"b\\c\n\x01"));
  CHECK(UnescapeLogValue("a\\x22", LogEscape::kNone, &scratch) == "a\\x22");
}

TEST_CASE("with escape=json a quote after a backslash is data, not the closing quote") {
  LogFormat format =
      Compiled("log_format j escape=json '{\"uri\":\"$uri\",' '\"status\":\"$status\"}';");
  CHECK(format.escape() == LogEscape::kJson);
  LogFields f;
  REQUIRE(format.Match(R"({"uri":"/a\"b\\","status":"404"})", &f));
  CHECK(f[V::kUri] == R"(/a\"b\\)");
  CHECK(f[V::kStatus] == "404");
  LogFormat spaced = Compiled("log_format j escape=json '\"$uri\" $status';");
  REQUIRE(spaced.Match(R"("/a\" b" 404)", &f));
  CHECK(f[V::kUri] == R"(/a\" b)");
  CHECK(f[V::kStatus] == "404");
}

TEST_CASE("numbers as nginx prints them") {
  double d = 0;
  CHECK(ParseDecimal("0.123", &d));
  CHECK(d == 0.123);
  CHECK(ParseDecimal("1732698000.123", &d));
  CHECK(d == 1732698000.123);
  CHECK(ParseDecimal("12.345", &d));
  CHECK(d == 12.345);
  CHECK(ParseDecimal("512", &d));
  CHECK(d == 512);
  CHECK(ParseDecimal("12345678901234567.5", &d));  // past 15 digits: the exact slow path
  CHECK(d == 12345678901234567.5);
  for (std::string_view bad : {"", "-", ".", "1.2.3", "-1", "1e3", " 1"}) {
    INFO(bad);
    CHECK_FALSE(ParseDecimal(bad, &d));
  }
  int status = 0;
  CHECK(ParseStatus("499", &status));
  CHECK(status == 499);
  CHECK_FALSE(ParseStatus("20", &status));
  CHECK_FALSE(ParseStatus("2000", &status));
  CHECK_FALSE(ParseStatus("-", &status));
  CHECK_FALSE(ParseStatus("099", &status));
}

TEST_CASE("upstream lists: attempts, groups, '-' items and the final server") {
  CHECK(Attempts("10.0.0.1:80") == std::vector<std::string_view>{"10.0.0.1:80"});
  CHECK(Attempts("10.0.0.1:80, 10.0.0.2:80") ==
        std::vector<std::string_view>{"10.0.0.1:80", "10.0.0.2:80"});
  CHECK(Attempts("a:1, b:2 : unix:/tmp/s") ==
        std::vector<std::string_view>{"a:1", "b:2", "unix:/tmp/s"});
  CHECK(Attempts("-, 0.300") == std::vector<std::string_view>{"-", "0.300"});
  CHECK(Attempts("-").empty());
  CHECK(Attempts("").empty());
  CHECK(LastAttempt("10.0.0.1:80, 10.0.0.2:80") == "10.0.0.2:80");
  CHECK(LastAttempt("a : b") == "b");
  CHECK(LastAttempt("[::1]:8080") == "[::1]:8080");
  CHECK(LastAttempt("crm_nodes") == "crm_nodes");
  CHECK(LastAttempt("-").empty());
}

TEST_CASE("Server-Timing: dur in milliseconds per named metric") {
  std::vector<std::pair<std::string, double>> stages;
  ForEachServerTimingStage(
      "cache;dur=0.012, db;dur=1.532, miss, total;desc=\"a,b\";dur=\"2\", bad;dur=x",
      [&](std::string_view name, double seconds) { stages.emplace_back(name, seconds); });
  REQUIRE(stages.size() == 3);
  CHECK(stages[0].first == "cache");
  CHECK(stages[0].second == doctest::Approx(0.000012));
  CHECK(stages[1].first == "db");
  CHECK(stages[1].second == doctest::Approx(0.001532));
  CHECK(stages[2].first == "total");
  CHECK(stages[2].second == doctest::Approx(0.002));
}

TEST_CASE("request methods are a closed set") {
  CHECK(kMethodLabels[MethodIndex("GET")] == "GET");
  CHECK(kMethodLabels[MethodIndex("PATCH")] == "PATCH");
  CHECK(kMethodLabels[MethodIndex("get")] == "other");
  CHECK(kMethodLabels[MethodIndex("\\x16\\x03\\x01")] == "other");
  CHECK(MethodIndex("-") == 0);
}
