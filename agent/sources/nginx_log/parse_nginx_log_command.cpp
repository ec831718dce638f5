#include "agent/sources/nginx_log/parse_nginx_log_command.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "agent/sources/nginx_log/field_values.h"
#include "agent/sources/nginx_log/log_tailer.h"
#include "agent/sources/nginx_log/proxy_metrics.h"
#include "agent/sources/nginx_log/text_exposition_sink.h"

namespace crmscope::agent {

namespace {

using nginx_log::LogFormat;
using nginx_log::ProxyMetrics;
using nginx_log::ProxyMetricsOptions;
using nginx_log::RouteRule;
using nginx_log::RouteTemplater;

constexpr std::string_view kUsage =
    "usage: crmscope-agent parse-nginx-log --log-format FORMAT [--route-rule REGEX=TEMPLATE ...]\n"
    "           [--request-buckets B1,B2,...] [--upstream-buckets B1,B2,...] [--max-routes N]\n"
    "           FILE|-\n";

struct Flags {
  std::string log_format, file;
  std::vector<RouteRule> route_rules;
  ProxyMetricsOptions options;
};

bool ParseBucketList(std::string_view text, std::vector<double>* out) {
  out->clear();
  while (!text.empty()) {
    size_t comma = text.find(',');
    double bound = 0;
    if (!nginx_log::ParseDecimal(text.substr(0, comma), &bound) ||
        (!out->empty() && bound <= out->back())) {
      return false;
    }
    out->push_back(bound);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return !out->empty();
}

// One flag and its value, given as "--flag value" or "--flag=value".
bool TakeValue(std::string_view arg, std::string_view flag, int* i, int argc, char** argv,
               std::string* value) {
  if (arg == flag) {
    if (*i + 1 >= argc) return false;
    *value = argv[++*i];
    return true;
  }
  if (arg.size() > flag.size() && arg.starts_with(flag) && arg[flag.size()] == '=') {
    *value = std::string(arg.substr(flag.size() + 1));
    return true;
  }
  return false;
}

// Returns "" when the flags are usable, else what is wrong.
std::string ParseFlags(int argc, char** argv, Flags* flags) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string value;
    if (TakeValue(arg, "--log-format", &i, argc, argv, &value)) {
      flags->log_format = value;
    } else if (TakeValue(arg, "--route-rule", &i, argc, argv, &value)) {
      RouteRule rule;
      std::string error;
      if (!nginx_log::ParseRouteRuleFlag(value, &rule, &error)) return error;
      flags->route_rules.push_back(std::move(rule));
    } else if (TakeValue(arg, "--request-buckets", &i, argc, argv, &value)) {
      if (!ParseBucketList(value, &flags->options.request_buckets)) return "bad --request-buckets";
    } else if (TakeValue(arg, "--upstream-buckets", &i, argc, argv, &value)) {
      if (!ParseBucketList(value, &flags->options.upstream_buckets))
        return "bad --upstream-buckets";
    } else if (TakeValue(arg, "--max-routes", &i, argc, argv, &value)) {
      uint64_t n = 0;
      if (!nginx_log::ParseUnsigned(value, &n) || n == 0) return "bad --max-routes";
      flags->options.max_routes = n;
    } else if (arg.starts_with("--") || (arg.starts_with("-") && arg != "-")) {
      return "unknown or incomplete flag " + std::string(arg);
    } else if (flags->file.empty()) {
      flags->file = arg;
    } else {
      return "more than one FILE";
    }
  }
  if (flags->log_format.empty()) return "--log-format is required";
  if (flags->file.empty()) return "FILE is required (- for stdin)";
  return "";
}

// Feeds the file's lines to the metrics, numbering them for the messages on stderr.
class Replay final : public nginx_log::LineConsumer {
 public:
  Replay(std::string_view file, ProxyMetrics& metrics) : file_(file), metrics_(metrics) {}
  void Line(std::string_view line) override {
    ++line_number_;
    std::string_view reason;
    if (metrics_.AddLine(line, &reason)) {
      ++parsed_;
      return;
    }
    ++rejected_;
    constexpr size_t kShown = 200;
    std::fprintf(stderr, "%.*s:%llu: %.*s: %.*s%s\n", static_cast<int>(file_.size()), file_.data(),
                 static_cast<unsigned long long>(line_number_), static_cast<int>(reason.size()),
                 reason.data(), static_cast<int>(std::min(line.size(), kShown)), line.data(),
                 line.size() > kShown ? "..." : "");
  }
  uint64_t parsed() const { return parsed_; }
  uint64_t rejected() const { return rejected_; }

 private:
  std::string_view file_;
  ProxyMetrics& metrics_;
  uint64_t line_number_ = 0, parsed_ = 0, rejected_ = 0;
};

// Reads `fd` to its end, splitting lines; a last line without a newline still counts.
bool ReadLines(int fd, nginx_log::LineConsumer& consumer) {
  std::vector<char> buffer(1 << 20);
  std::string partial;
  while (true) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) break;
    const char* p = buffer.data();
    const char* end = p + n;
    while (p < end) {
      const char* newline =
          static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
      if (newline == nullptr) {
        partial.append(p, end);
        break;
      }
      if (partial.empty()) {
        consumer.Line(std::string_view(p, static_cast<size_t>(newline - p)));
      } else {
        partial.append(p, newline);
        consumer.Line(partial);
        partial.clear();
      }
      p = newline + 1;
    }
  }
  if (!partial.empty()) consumer.Line(partial);
  return true;
}

}  // namespace

int RunParseNginxLog(int argc, char** argv) {
  Flags flags;
  std::string error = ParseFlags(argc, argv, &flags);
  LogFormat format;
  RouteTemplater templater;
  if (error.empty()) LogFormat::Compile(flags.log_format, &format, &error);
  if (error.empty()) templater.AddRules(flags.route_rules, &error);
  if (!error.empty()) {
    std::fprintf(stderr, "parse-nginx-log: %s\n%.*s", error.c_str(),
                 static_cast<int>(kUsage.size()), kUsage.data());
    return 2;
  }
  bool from_stdin = flags.file == "-";
  nginx_log::FileDescriptor file(from_stdin ? -1
                                            : ::open(flags.file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!from_stdin && !file.valid()) {
    std::fprintf(stderr, "parse-nginx-log: %s: %s\n", flags.file.c_str(), std::strerror(errno));
    return 1;
  }
  ProxyMetrics metrics(std::move(format), std::move(templater), flags.options);
  std::string_view name = from_stdin ? std::string_view("-") : std::string_view(flags.file);
  Replay replay(name, metrics);
  if (!ReadLines(from_stdin ? STDIN_FILENO : file.get(), replay)) {
    std::fprintf(stderr, "parse-nginx-log: %s: %s\n", flags.file.c_str(), std::strerror(errno));
    return 1;
  }
  nginx_log::TextExpositionSink sink;
  metrics.Emit(sink);
  std::fwrite(sink.text().data(), 1, sink.text().size(), stdout);
  std::fflush(stdout);
  std::fprintf(stderr, "%.*s: %llu lines parsed, %llu rejected\n", static_cast<int>(name.size()),
               name.data(), static_cast<unsigned long long>(replay.parsed()),
               static_cast<unsigned long long>(replay.rejected()));
  return 0;
}

}  // namespace crmscope::agent
