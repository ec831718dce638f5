// The example configuration shipped in agent/ must stay loadable as the code changes, and say
// what its comments say it does.
#include <doctest/doctest.h>

#include "agent/core/agent_config.h"

TEST_CASE("agent/agent.example.yml loads, with every source and the collector endpoint") {
  crmscope::agent::AgentConfig config;
  std::string error;
  REQUIRE_MESSAGE(crmscope::agent::LoadAgentConfig(CRMSCOPE_SOURCE_DIR "/agent/agent.example.yml",
                                                   &config, &error),
                  error);
  CHECK(config.interval_ms == 15'000);
  REQUIRE(config.external_labels.size() == 1);
  CHECK(config.external_labels[0].value == "eu1");
  // nginx_log, stub_status, haproxy, scrape (one job), probes, host.
  REQUIRE(config.sources.size() == 6);
  CHECK(config.log_sources.size() == 1);
  CHECK(config.sources[0].interval_ms == 1'000);
  REQUIRE(config.remote_write.size() == 1);
  CHECK(config.remote_write[0].name == "collector");
  CHECK(config.remote_write[0].url == "http://127.0.0.1:9300/api/v1/write");
  CHECK(config.remote_write[0].max_bytes == 256ull << 20);
}
