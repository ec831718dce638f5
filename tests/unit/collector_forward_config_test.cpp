// The collector config's global.external_labels and remote_write sections.
#include <doctest/doctest.h>

#include <string>

#include "collector/config.h"

using namespace crmscope;

namespace {

std::string ErrorFor(const std::string& yaml) {
  collector::Config config;
  std::string error;
  CHECK_FALSE(collector::ParseConfig(yaml, "/etc/crmscope/collector.yml", &config, &error));
  return error;
}

}  // namespace

TEST_CASE("remote_write items take Prometheus's keys and the global external labels") {
  collector::Config config;
  std::string error;
  REQUIRE_MESSAGE(collector::ParseConfig(R"(
remote_write:
  - url: http://prometheus:9090/api/v1/write
    name: central
    queue_config: {max_shards: 2, max_samples_per_send: 500, batch_send_deadline: 1s}
  - url: http://mimir:8080/api/v1/push
    headers: {X-Scope-OrgID: crm}
    queue: {max_bytes: 64MB}
global:
  external_labels: {region: eu, collector: c1}
)",
                                         "/etc/crmscope/collector.yml", &config, &error),
                  error);
  REQUIRE(config.remote_write.size() == 2);
  const auto& central = config.remote_write[0];
  CHECK(central.name == "central");
  CHECK(central.max_shards == 2);
  CHECK(central.max_samples_per_send == 500);
  CHECK(central.batch_send_deadline_ms == 1000);
  CHECK(central.queue_dir.empty());  // the collector puts it under --storage.path/forward
  const Labels expected = {{"collector", "c1"}, {"region", "eu"}};
  CHECK(central.external_labels == expected);  // global comes after remote_write in the file
  const auto& mimir = config.remote_write[1];
  CHECK(mimir.name.rfind("rw-", 0) == 0);
  CHECK(mimir.name.size() == 9);
  CHECK(mimir.max_bytes == 64ULL << 20);
  CHECK(mimir.external_labels == expected);
}

TEST_CASE("remote_write mistakes are reported with file, line and column") {
  CHECK(ErrorFor("remote_write:\n  - url: http://a/w\n    queue_confg: {}\n") ==
        "/etc/crmscope/collector.yml:3:5: unknown key \"queue_confg\" in remote_write");
  CHECK(ErrorFor("remote_write:\n  - url: http://a/w\n    name: x\n  - url: http://b/w\n    name: x\n") ==
        "/etc/crmscope/collector.yml:4:5: duplicate remote_write name \"x\"");
  CHECK(ErrorFor("remote_write: {url: http://a/w}\n") ==
        "/etc/crmscope/collector.yml:1:15: remote_write must be a list");
  CHECK(ErrorFor("global:\n  external_labels: {bad-name: x}\n") ==
        "/etc/crmscope/collector.yml:2:21: \"bad-name\" is not a valid label name");
  CHECK(ErrorFor("global:\n  scrape_interval: 1s\n") ==
        "/etc/crmscope/collector.yml:2:3: unknown key \"scrape_interval\" in global");
}
