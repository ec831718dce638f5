// The agent's configuration file: sections, defaults, and errors that name file, line and column.
#include <doctest/doctest.h>

#include <string>

#include "agent/core/agent_config.h"

using crmscope::agent::AgentConfig;
using crmscope::agent::ParseAgentConfig;

namespace {

std::string ErrorOf(const std::string& text) {
  AgentConfig config;
  std::string error;
  CHECK_FALSE(ParseAgentConfig(text, "agent.yml", &config, &error));
  return error;
}

}  // namespace

TEST_CASE("agent config: global interval and external labels reach sources and queues") {
  AgentConfig config;
  std::string error;
  REQUIRE_MESSAGE(ParseAgentConfig(R"(
remote_write:
  - url: http://127.0.0.1:9300/api/v1/write
    name: collector
sources:
  stub_status:
    - url: http://127.0.0.1:8080/stub_status
    - url: http://127.0.0.1:8081/stub_status
      interval: 5s
global:
  interval: 2s
  external_labels: {host: crm1, dc: eu}
)",
                                  "agent.yml", &config, &error),
                  error);
  CHECK(config.interval_ms == 2000);
  REQUIRE(config.sources.size() == 2);
  CHECK(config.sources[0].interval_ms == 2000);  // global, although global came last
  CHECK(config.sources[1].interval_ms == 5000);
  REQUIRE(config.remote_write.size() == 1);
  CHECK(config.remote_write[0].name == "collector");
  REQUIRE(config.remote_write[0].external_labels.size() == 2);
  CHECK(config.remote_write[0].external_labels[0].name == "dc");  // sorted
  CHECK(config.remote_write[0].external_labels[1].value == "crm1");
  CHECK_FALSE(config.expose_series);
}

TEST_CASE("agent config: an empty file is an agent with no sources") {
  AgentConfig config;
  std::string error;
  CHECK(ParseAgentConfig("", "agent.yml", &config, &error));
  CHECK(config.sources.empty());
  CHECK(config.remote_write.empty());
}

TEST_CASE("agent config: errors name the file, line and column") {
  CHECK(ErrorOf("global:\n  intervall: 1s\n") == "agent.yml:2:3: unknown key \"intervall\" in global");
  CHECK(ErrorOf("sources:\n  nginx_logs: []\n") == "agent.yml:2:3: unknown source kind \"nginx_logs\"");
  CHECK(ErrorOf("global:\n  interval: soon\n").starts_with("agent.yml:2:13: global.interval: "));
  CHECK(ErrorOf("global:\n  external_labels: {__x: y}\n") ==
        "agent.yml:2:21: invalid external label name \"__x\"");
  CHECK(ErrorOf("sources:\n  stub_status: {url: x}\n") ==
        "agent.yml:2:16: sources.stub_status must be a list");
  CHECK(ErrorOf("remotewrite: []\n") == "agent.yml:1:1: unknown key \"remotewrite\"");
  CHECK(ErrorOf("global: [\n").starts_with("agent.yml:"));  // YAML syntax, with its position
  std::string dup = ErrorOf(
      "remote_write:\n  - url: http://a/api/v1/write\n    name: x\n"
      "  - url: http://b/api/v1/write\n    name: x\n");
  CHECK(dup == "agent.yml:4:5: duplicate remote_write name \"x\"");
}
