#include "agent/core/agent_runtime.h"

#include <prometheus/registry.h>

#include <filesystem>

#include "agent/core/agent_config.h"
#include "agent/core/collection_loop.h"
#include "agent/sources/nginx_log/nginx_log_source.h"
#include "common/log.h"
#include "exporters/http/http_server.h"
#include "exporters/instrumentation/process_collector.h"
#include "exporters/instrumentation/text_exposition.h"

namespace crmscope::agent {

namespace {

TimestampMs WallClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Line counts of the access-log sources, read at scrape time.
class LogLineCollector : public prometheus::Collectable {
 public:
  explicit LogLineCollector(std::vector<const NginxLogSource*> sources)
      : sources_(std::move(sources)) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    prometheus::MetricFamily parsed{"crmscope_agent_log_lines_parsed_total",
                                    "Access-log lines parsed into series.",
                                    prometheus::MetricType::Counter, {}};
    prometheus::MetricFamily rejected{"crmscope_agent_log_lines_rejected_total",
                                      "Access-log lines that did not match the log_format.",
                                      prometheus::MetricType::Counter, {}};
    for (const NginxLogSource* s : sources_) {
      prometheus::ClientMetric metric;
      metric.label = {{"source", std::string(s->name())}};
      metric.counter.value = static_cast<double>(s->lines_parsed());
      parsed.metric.push_back(metric);
      metric.counter.value = static_cast<double>(s->lines_rejected());
      rejected.metric.push_back(metric);
    }
    return {parsed, rejected};
  }

 private:
  std::vector<const NginxLogSource*> sources_;
};

}  // namespace

struct AgentRuntime::State {
  AgentConfig config;
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  std::shared_ptr<instrumentation::ProcessCollector> process =
      std::make_shared<instrumentation::ProcessCollector>();
  std::shared_ptr<LogLineCollector> log_lines;
  instrumentation::MetricsEndpoint metrics;
  std::vector<std::unique_ptr<remote_write::QueueSender>> senders;
  std::unique_ptr<CollectionLoop> loop;
  std::unique_ptr<http::HttpServer> server;
  bool stopped = false;

  void Ship(const remote_write::WriteRequest& batch) {
    for (auto& sender : senders) {
      std::string error;
      // A failed append (disk full, say) loses this batch for this endpoint only; the queue's
      // own metrics count what it refused and the log says why.
      if (!sender->Append(batch, &error)) {
        log::Error("Queueing a batch failed",
                   {{"remote_name", sender->config().name}, {"err", error}});
      }
    }
  }

  http::HttpResponse Handle(http::HttpRequest& request) {
    if (request.path() == "/metrics") {
      http::HttpResponse response;
      response.content_type = std::string(instrumentation::kTextExpositionContentType);
      response.body = metrics.Serialize();
      if (config.expose_series) loop->AppendLatestExposition(&response.body);
      return response;
    }
    if (request.path() == "/-/healthy" || request.path() == "/-/ready") {
      return http::HttpResponse::Text(200, "crmscope-agent is Healthy.");
    }
    return http::HttpResponse::Text(404, "404 page not found");
  }
};

AgentRuntime::AgentRuntime(std::unique_ptr<State> state) : state_(std::move(state)) {}

AgentRuntime::~AgentRuntime() { Stop(std::chrono::milliseconds(0)); }

std::unique_ptr<AgentRuntime> AgentRuntime::Start(const Options& options, std::string* error) {
  auto state = std::make_unique<State>();
  if (!LoadAgentConfig(options.config_file, &state->config, error)) return nullptr;
  for (auto& sender_config : state->config.remote_write) {
    if (sender_config.queue_dir.empty()) {
      sender_config.queue_dir =
          (std::filesystem::path(options.storage_path) / "queue" / sender_config.name).string();
    }
    auto sender = remote_write::QueueSender::Open(sender_config, state->registry.get(),
                                                  "crmscope_agent", error);
    if (sender == nullptr) return nullptr;
    state->senders.push_back(std::move(sender));
  }
  State* s = state.get();
  state->log_lines = std::make_shared<LogLineCollector>(state->config.log_sources);
  state->loop = std::make_unique<CollectionLoop>(
      std::move(state->config.sources),
      [s](const remote_write::WriteRequest& batch) { s->Ship(batch); }, *state->registry,
      WallClockMs, state->config.expose_series);
  state->metrics.Register(state->registry);
  state->metrics.Register(state->process);
  state->metrics.Register(state->log_lines);

  http::HttpServer::Options http_options;
  http_options.listen_address = options.listen_address;
  http_options.num_threads = 4;
  state->server = http::HttpServer::Start(
      http_options, [s](http::HttpRequest& request) { return s->Handle(request); }, error);
  if (state->server == nullptr) return nullptr;
  state->loop->Start();
  // The bound port in the address, as crm-node logs it: the launcher reads it from there.
  std::string host = options.listen_address.substr(0, options.listen_address.rfind(':'));
  log::Info("Listening",
            {{"address", (host.empty() ? "0.0.0.0" : host) + ":" +
                             std::to_string(state->server->port())}});
  return std::unique_ptr<AgentRuntime>(new AgentRuntime(std::move(state)));
}

int AgentRuntime::port() const { return state_->server->port(); }

void AgentRuntime::Stop(std::chrono::milliseconds flush) {
  if (state_ == nullptr || state_->stopped) return;
  state_->stopped = true;
  state_->loop->Stop();
  for (auto& sender : state_->senders) sender->Close(flush);
  state_->server.reset();
}

}  // namespace crmscope::agent
