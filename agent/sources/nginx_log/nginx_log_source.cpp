#include "agent/sources/nginx_log/nginx_log_source.h"

#include <utility>

namespace crmscope::agent {

namespace {

std::unique_ptr<NginxLogSource> MakeSource(const NginxLogConfig& config,
                                           nginx_log::LogTailer::Start start) {
  nginx_log::LogFormat format;
  nginx_log::RouteTemplater templater;
  std::string error;
  if (!nginx_log::LogFormat::Compile(config.log_format, &format, &error) ||
      !templater.AddRules(config.route_rules, &error)) {
    return nullptr;
  }
  return std::make_unique<NginxLogSource>(config, std::move(format), std::move(templater), start);
}

}  // namespace

class NginxLogSource::LineCounter final : public nginx_log::LineConsumer {
 public:
  explicit LineCounter(NginxLogSource& source) : source_(source) {}
  void Line(std::string_view line) override {
    std::string_view reason;
    if (source_.metrics_.AddLine(line, &reason)) {
      ++parsed;
    } else {
      ++rejected;
    }
  }
  uint64_t parsed = 0, rejected = 0;

 private:
  NginxLogSource& source_;
};

NginxLogSource::NginxLogSource(const NginxLogConfig& config, nginx_log::LogFormat format,
                               nginx_log::RouteTemplater templater,
                               nginx_log::LogTailer::Start start)
    : name_("nginx_log:" + config.path),
      tailer_(config.path, start),
      metrics_(std::move(format), std::move(templater),
               {config.request_buckets, config.upstream_buckets, config.max_routes}) {}

void NginxLogSource::Collect(TimestampMs /*now: every sample takes the collection's time*/,
                             SampleSink& sink) {
  LineCounter counter(*this);
  tailer_.Poll(counter, kMaxBytesPerCollect);
  lines_parsed_.fetch_add(counter.parsed, std::memory_order_relaxed);
  lines_rejected_.fetch_add(counter.rejected, std::memory_order_relaxed);
  metrics_.Emit(sink);
}

std::unique_ptr<NginxLogSource> MakeNginxLogSource(const NginxLogConfig& config) {
  return MakeSource(config, nginx_log::LogTailer::Start::kAtEnd);
}

std::unique_ptr<NginxLogSource> MakeNginxLogSourceFromStart(const NginxLogConfig& config) {
  return MakeSource(config, nginx_log::LogTailer::Start::kAtBeginning);
}

}  // namespace crmscope::agent
