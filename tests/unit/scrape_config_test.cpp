// The `scrape:` list items: Prometheus's scrape_config keys, defaults and refusals.
#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include "agent/sources/scrape/scrape_source.h"

namespace crmscope::agent {
namespace {

std::string ParseError(const std::string& yaml) {
  ScrapeConfig config;
  std::string error;
  CHECK_MESSAGE(!ParseScrapeConfig(YAML::Load(yaml), &config, &error), yaml);
  return error;
}

TEST_CASE("Every key, as in a Prometheus scrape_config") {
  const char* yaml = R"(
job_name: crm-node
scrape_interval: 15s
scrape_timeout: 1500ms
metrics_path: /custom/metrics
scheme: https
params: {module: [http_2xx, tcp], target: [x]}
honor_labels: true
honor_timestamps: false
bearer_token: s3cret
static_configs:
  - targets: ['127.0.0.1:9100', 'node2:9100']
    labels: {node: n1, zone: eu}
  - targets: ['node3']
metric_relabel_configs:
  - source_labels: [__name__]
    regex: 'go_.*'
    action: drop
)";
  ScrapeConfig c;
  std::string error;
  REQUIRE_MESSAGE(ParseScrapeConfig(YAML::Load(yaml), &c, &error), error);
  CHECK(c.job_name == "crm-node");
  CHECK(c.interval_ms == 15000);
  CHECK(c.timeout_ms == 1500);
  CHECK(EffectiveScrapeTimeoutMs(c) == 1500);
  CHECK(c.metrics_path == "/custom/metrics");
  CHECK(c.scheme == "https");
  REQUIRE(c.params.size() == 2);
  CHECK(c.params[0].first == "module");
  CHECK(c.params[0].second == std::vector<std::string>{"http_2xx", "tcp"});
  CHECK(c.honor_labels);
  CHECK(!c.honor_timestamps);
  CHECK(c.bearer_token == "s3cret");
  REQUIRE(c.static_configs.size() == 2);
  CHECK(c.static_configs[0].targets == std::vector<std::string>{"127.0.0.1:9100", "node2:9100"});
  CHECK(c.static_configs[0].labels == Labels{{"node", "n1"}, {"zone", "eu"}});
  CHECK(c.static_configs[1].targets == std::vector<std::string>{"node3"});
  REQUIRE(c.metric_relabel_configs.size() == 1);
  CHECK(c.metric_relabel_configs[0].action == RelabelAction::kDrop);
  CHECK(MakeScrapeSource(c) != nullptr);
}

TEST_CASE("Defaults are Prometheus's") {
  ScrapeConfig c;
  std::string error;
  REQUIRE(ParseScrapeConfig(YAML::Load("{job_name: j, static_configs: [{targets: ['h:1']}]}"), &c,
                            &error));
  CHECK(c.interval_ms == 0);  // the agent's global interval
  CHECK(c.metrics_path == "/metrics");
  CHECK(c.scheme == "http");
  CHECK(!c.honor_labels);
  CHECK(c.honor_timestamps);
  CHECK(EffectiveScrapeTimeoutMs(c) == 10000);
  c.interval_ms = 1000;  // a timeout never outlasts a shorter interval
  CHECK(EffectiveScrapeTimeoutMs(c) == 1000);
  c.interval_ms = 60000;
  CHECK(EffectiveScrapeTimeoutMs(c) == 10000);
  auto source = MakeScrapeSource(c);
  REQUIRE(source != nullptr);
  CHECK(source->name() == "scrape:j");
  std::vector<ScrapeTargetHealth> health = source->TargetHealth();
  REQUIRE(health.size() == 1);
  CHECK(health[0].url == "http://h:1/metrics");
  CHECK(health[0].instance == "h:1");
}

TEST_CASE("Refusals name the place in the file") {
  CHECK(ParseError("job_name: j\nscrape_intervall: 1s\n") ==
        "2:1: unknown key \"scrape_intervall\" in scrape config");
  CHECK(ParseError("scrape_interval: 1s\n") == "1:1: job_name is empty");
  CHECK(ParseError("job_name: j\nscrape_interval: 1s\nscrape_timeout: 2s\n") ==
        "3:17: scrape timeout greater than scrape interval for scrape config with job name \"j\"");
  CHECK(ParseError("job_name: j\nscrape_interval: 1x\n") ==
        "2:18: scrape_interval: not a valid duration string: \"1x\"");
  CHECK(ParseError("job_name: j\nstatic_configs: [{targets: ['http://h:1/metrics']}]\n") ==
        "2:29: \"http://h:1/metrics\" is not a valid hostname");
  CHECK(ParseError("job_name: j\nstatic_configs: [{targets: [h], labels: {1x: a}}]\n") ==
        "2:42: \"1x\" is not a valid label name");
  CHECK(ParseError("job_name: j\nstatic_configs: [{targets: [h], labels: {__address__: a}}]\n") ==
        "2:42: label names starting with \"__\" are reserved");
  CHECK(ParseError("job_name: j\nstatic_configs: [{target: [h]}]\n") ==
        "2:19: unknown key \"target\" in static_configs item");
  CHECK(ParseError("job_name: j\nhonor_labels: yes please\n") ==
        "2:15: honor_labels: \"yes please\" is not true or false");
  CHECK(ParseError("job_name: j\nscheme: ftp\n") ==
        "2:9: scheme must be \"http\" or \"https\", not \"ftp\"");
  CHECK(ParseError("job_name: j\nmetrics_path: metrics\n") == "2:15: metrics_path must start with /");
  CHECK(ParseError("job_name: j\nbearer_token: a\nbearer_token_file: /f\n") ==
        "1:1: at most one of bearer_token & bearer_token_file must be configured");
  CHECK(ParseError("job_name: j\nmetric_relabel_configs:\n  - action: hashmod\n    target_label: x\n") ==
        "3:5: relabel configuration for hashmod requires non-zero modulus");
  CHECK(ParseError("job_name: j\njob_name: k\n") == "2:1: duplicate key \"job_name\"");
}

TEST_CASE("A hand-built invalid config makes no source") {
  ScrapeConfig c;
  c.job_name = "j";
  c.static_configs.push_back({{"h:1"}, {}});
  c.metric_relabel_configs.push_back({});
  c.metric_relabel_configs[0].regex = "(";
  c.metric_relabel_configs[0].target_label = "x";
  CHECK(MakeScrapeSource(c) == nullptr);
  c.metric_relabel_configs.clear();
  c.static_configs[0].targets = {"h/x"};
  CHECK(MakeScrapeSource(c) == nullptr);
}

}  // namespace
}  // namespace crmscope::agent
