// Relabelling with Prometheus's semantics. The first case uses Prometheus 2.42 as the oracle: it
// scraped python_client_0.16.txt with the rules of tests/data/exposition/relabel_rules.yml, and
// what it stored (read back through /federate) must be what our rules make of the same samples.
#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "agent/sources/scrape/exposition_parser.h"
#include "agent/sources/scrape/md5.h"
#include "agent/sources/scrape/relabel.h"
#include "agent/sources/scrape/target_series_cache.h"

namespace crmscope::agent {
namespace {

std::string DataPath(const std::string& name) {
  return std::string(CRMSCOPE_SOURCE_DIR) + "/tests/data/exposition/" + name;
}

std::string ReadData(const std::string& name) {
  std::ifstream in(DataPath(name));
  REQUIRE_MESSAGE(in.good(), "missing test data " << name);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

std::unique_ptr<const Relabeler> RelabelerFromYaml(const std::string& yaml) {
  std::vector<RelabelConfig> configs;
  std::string error;
  REQUIRE_MESSAGE(ParseRelabelConfigs(YAML::Load(yaml), &configs, &error), error);
  auto relabeler = Relabeler::Make(configs, &error);
  REQUIRE_MESSAGE(relabeler != nullptr, error);
  return relabeler;
}

std::string ParseError(const std::string& yaml) {
  std::vector<RelabelConfig> configs;
  std::string error;
  CHECK_MESSAGE(!ParseRelabelConfigs(YAML::Load(yaml), &configs, &error), yaml);
  return error;
}

// The label set after `rules`, or "dropped".
std::string Apply(const std::string& rules, Labels labels) {
  SortLabels(labels);
  auto relabeler = RelabelerFromYaml(rules);
  if (!relabeler->Process(labels)) return "dropped";
  return LabelsToString(labels);
}

using SeriesValues = std::map<std::string, double>;

SeriesValues Federated(const std::string& job) {
  std::string body = ReadData("prometheus_2.42_relabel_federate.txt");
  ExpositionParser p(body, ExpositionFormat::kText004);
  SeriesValues out;
  ExpositionParser::Entry e;
  while ((e = p.Next()) != ExpositionParser::Entry::kEnd) {
    REQUIRE(e != ExpositionParser::Entry::kError);
    if (e != ExpositionParser::Entry::kSample) continue;
    std::string_view name = p.metric_name();
    if (name == "up" || name.starts_with("scrape_")) continue;  // Prometheus's report series
    Labels labels{{std::string(kMetricNameLabel), std::string(name)}};
    for (const LabelView& l : p.labels()) labels.push_back({std::string(l.name), std::string(l.value)});
    SortLabels(labels);
    if (GetLabel(labels, "job") == job) out[LabelsToString(labels)] = p.value();
  }
  return out;
}

SeriesValues Relabelled(const std::string& job, const YAML::Node& rules) {
  std::vector<RelabelConfig> configs;
  std::string error;
  REQUIRE_MESSAGE(ParseRelabelConfigs(rules, &configs, &error), error);
  auto relabeler = Relabeler::Make(configs, &error);
  REQUIRE(relabeler != nullptr);
  SampleLabeling labeling{{{"instance", "127.0.0.1:19318"}, {"job", job}}, false, true,
                          relabeler.get()};
  std::string body = ReadData("python_client_0.16.txt");
  ExpositionParser p(body, ExpositionFormat::kText004);
  SeriesValues out;
  ExpositionParser::Entry e;
  while ((e = p.Next()) != ExpositionParser::Entry::kEnd) {
    REQUIRE(e != ExpositionParser::Entry::kError);
    if (e != ExpositionParser::Entry::kSample) continue;
    Labels labels;
    if (LabelSample(p.metric_name(), p.labels(), labeling, &labels)) {
      out[LabelsToString(labels)] = p.value();
    }
  }
  return out;
}

void CheckSame(const SeriesValues& ours, const SeriesValues& prometheus) {
  for (const auto& [series, value] : prometheus) {
    REQUIRE_MESSAGE(ours.count(series) == 1, "Prometheus has " << series);
    double v = ours.at(series);
    CHECK_MESSAGE(((std::isnan(v) && std::isnan(value)) || v == value), series);
  }
  for (const auto& [series, value] : ours) {
    CHECK_MESSAGE(prometheus.count(series) == 1, "we have " << series << " and Prometheus not");
  }
}

TEST_CASE("Prometheus 2.42 as the oracle: the same series from the same rules") {
  YAML::Node rules = YAML::LoadFile(DataPath("relabel_rules.yml"));
  SeriesValues prometheus_a = Federated("relabel_a");
  SeriesValues prometheus_b = Federated("relabel_b");
  // Prometheus's scrape_samples_post_metric_relabeling for the two jobs.
  CHECK(prometheus_a.size() == 32);
  CHECK(prometheus_b.size() == 5);
  CheckSame(Relabelled("relabel_a", rules["metric_relabel_configs"]), prometheus_a);
  CheckSame(Relabelled("relabel_b", rules["metric_relabel_configs_b"]), prometheus_b);
}

TEST_CASE("MD5 as RFC 1321 and hashmod as Prometheus computes it") {
  auto hex = [](std::string_view s) {
    std::string out;
    for (uint8_t b : Md5(s)) {
      const char* digits = "0123456789abcdef";
      out += digits[b >> 4];
      out += digits[b & 15];
    }
    return out;
  };
  CHECK(hex("") == "d41d8cd98f00b204e9800998ecf8427e");
  CHECK(hex("abc") == "900150983cd24fb0d6963f7d28e17f72");
  CHECK(hex(std::string(55, 'a')) == "ef1772b6dff9a122358552954ad0df65");  // one padding block
  CHECK(hex(std::string(56, 'a')) == "3b0c8ac703f828b04c6c197006d17218");  // two
  CHECK(hex(std::string(64, 'a')) == "014842d480b571495a4a0363793f7367");
  CHECK(hex(std::string(119, 'a')) == "8a7bd0732ed6a28ce75f6dabc90e1613");
  const std::string rule = "- {source_labels: [__name__], target_label: shard, modulus: 1000, action: hashmod}";
  CHECK(Apply(rule, {{"__name__", "crm_in_flight"}}) == "crm_in_flight{shard=\"782\"}");
  CHECK(Apply(rule, {{"__name__", "abc"}}) == "abc{shard=\"458\"}");
  // An absent source label hashes the empty string.
  CHECK(Apply("- {source_labels: [x], target_label: shard, modulus: 1000, action: hashmod}",
              {{"__name__", "m"}}) == "m{shard=\"958\"}");
}

TEST_CASE("replace: defaults, anchoring, empty results and invalid targets") {
  Labels base{{"__name__", "m"}, {"a", "foo"}, {"b", "bar"}, {"old", "x"}};
  // Defaults: regex (.*), replacement $1, separator ";".
  CHECK(Apply("- {source_labels: [a, b], target_label: c}", base) ==
        "m{a=\"foo\", b=\"bar\", c=\"foo;bar\", old=\"x\"}");
  // Anchored: "fo" does not match "foo", so nothing is replaced.
  CHECK(Apply("- {source_labels: [a], regex: fo, target_label: c, replacement: y}", base) ==
        "m{a=\"foo\", b=\"bar\", old=\"x\"}");
  CHECK(Apply("- {source_labels: [a], regex: 'f(o+)', target_label: c}", base) ==
        "m{a=\"foo\", b=\"bar\", c=\"oo\", old=\"x\"}");
  // An empty result removes the target; so does an absent source with the defaults.
  CHECK(Apply("- {source_labels: [a], target_label: old, replacement: ''}", base) ==
        "m{a=\"foo\", b=\"bar\"}");
  CHECK(Apply("- {source_labels: [missing], target_label: old}", base) ==
        "m{a=\"foo\", b=\"bar\"}");
  // A target expanding to an invalid name ("9x") is skipped.
  CHECK(Apply("- {source_labels: [a], regex: '(.*)', target_label: '${1}', replacement: v}",
              {{"__name__", "m"}, {"a", "9x"}}) == "m{a=\"9x\"}");
  CHECK(Apply("- {source_labels: [a], regex: '(.*)', target_label: 'l_$1', replacement: v}",
              {{"__name__", "m"}, {"a", "9x"}}) == "m{a=\"9x\", l_9x=\"v\"}");
  // Separator and a literal replacement.
  CHECK(Apply("- {source_labels: [a, b], separator: '-', regex: 'foo-(.*)', target_label: c, "
              "replacement: 'is $1'}", base) ==
        "m{a=\"foo\", b=\"bar\", c=\"is bar\", old=\"x\"}");
  // The metric name can be rewritten.
  CHECK(Apply("- {source_labels: [__name__], regex: 'm', target_label: __name__, "
              "replacement: renamed}", base) ==
        "renamed{a=\"foo\", b=\"bar\", old=\"x\"}");
}

TEST_CASE("Replacement templates expand as Go's regexp.Expand") {
  struct Case {
    const char* regex;
    const char* value;
    const char* replacement;
    const char* expected;
  };
  const Case cases[] = {
      {"(a)(b)?", "a", "[$1][$2]", "[a][]"},
      {"(a)(b)?", "a", "$2x${1}", "a"},  // $2x names the group "2x": nothing
      {"(?P<host>[^:]+):(?P<port>\\d+)", "h:9", "$host-${port}", "h-9"},
      {"(.*)", "v", "$$1", "$1"},
      {"(.*)", "v", "cost $", "cost $"},
      {"(.*)", "v", "${1", "${1"},
      {"(.*)", "v", "$01|$10|${0}", "||v"},
      {"(.*)", "v", "$0$1", "vv"},
  };
  for (const Case& c : cases) {
    std::string rule = std::string("- source_labels: [a]\n  regex: '") + c.regex +
                       "'\n  target_label: out\n  replacement: '" + c.replacement + "'\n";
    CHECK_MESSAGE(Apply(rule, {{"__name__", "m"}, {"a", c.value}}) ==
                      "m{a=\"" + std::string(c.value) + "\", out=\"" + c.expected + "\"}",
                  rule);
  }
}

TEST_CASE("keep, drop, keepequal, dropequal") {
  Labels base{{"__name__", "crm_requests_total"}, {"a", "1"}, {"b", "1"}, {"c", "2"}};
  CHECK(Apply("- {source_labels: [__name__], regex: crm_requests, action: keep}", base) ==
        "dropped");  // anchored: a prefix is no match
  CHECK(Apply("- {source_labels: [__name__], regex: 'crm_.*', action: keep}", base) != "dropped");
  CHECK(Apply("- {source_labels: [__name__], regex: 'crm_.*', action: drop}", base) == "dropped");
  CHECK(Apply("- {source_labels: [__name__], regex: '.*_total', action: DROP}", base) == "dropped");
  CHECK(Apply("- {source_labels: [missing], regex: '', action: keep}", base) != "dropped");
  CHECK(Apply("- {source_labels: [a], target_label: b, action: keepequal}", base) != "dropped");
  CHECK(Apply("- {source_labels: [a], target_label: c, action: keepequal}", base) == "dropped");
  CHECK(Apply("- {source_labels: [a], target_label: b, action: dropequal}", base) == "dropped");
  // Rules run in order, each on the result of the previous one.
  CHECK(Apply("- {source_labels: [c], target_label: a}\n"
              "- {source_labels: [a], regex: '2', action: drop}", base) == "dropped");
}

TEST_CASE("labelmap, labeldrop, labelkeep, lowercase, uppercase") {
  Labels base{{"__name__", "m"}, {"__meta_zone", "eu"}, {"pod_name", "p1"}, {"Env", "Prod"}};
  CHECK(Apply("- {regex: '__meta_(.+)', action: labelmap}", base) ==
        "m{Env=\"Prod\", __meta_zone=\"eu\", pod_name=\"p1\", zone=\"eu\"}");
  CHECK(Apply("- {regex: '(pod)_(name)', replacement: '${2}_$1', action: labelmap}", base) ==
        "m{Env=\"Prod\", __meta_zone=\"eu\", name_pod=\"p1\", pod_name=\"p1\"}");
  CHECK(Apply("- {regex: '__meta_.*|Env', action: labeldrop}", base) == "m{pod_name=\"p1\"}");
  CHECK(Apply("- {regex: 'pod', action: labeldrop}", base) ==  // anchored
        "m{Env=\"Prod\", __meta_zone=\"eu\", pod_name=\"p1\"}");
  CHECK(Apply("- {regex: '__name__|pod_.*', action: labelkeep}", base) == "m{pod_name=\"p1\"}");
  CHECK(Apply("- {source_labels: [Env], target_label: env, action: lowercase}", base) ==
        "m{Env=\"Prod\", __meta_zone=\"eu\", env=\"prod\", pod_name=\"p1\"}");
  CHECK(Apply("- {source_labels: [Env, pod_name], target_label: Env, action: uppercase}", base) ==
        "m{Env=\"PROD;P1\", __meta_zone=\"eu\", pod_name=\"p1\"}");
}

TEST_CASE("Invalid configs are refused with Prometheus's words and the place in the file") {
  CHECK(ParseError("- action: hashmod\n  target_label: x\n") ==
        "1:3: relabel configuration for hashmod requires non-zero modulus");
  CHECK(ParseError("- source_labels: [a]\n") ==
        "1:3: relabel configuration for replace action requires 'target_label' value");
  CHECK(ParseError("- {source_labels: [a], target_label: 1x}") ==
        "1:3: \"1x\" is invalid 'target_label' for replace action");
  CHECK(ParseError("- {source_labels: [a], target_label: 'a-$1'}") ==
        "1:3: \"a-$1\" is invalid 'target_label' for replace action");
  CHECK(ParseError("- {regex: a, action: labeldrop, source_labels: []}") ==
        "1:3: labeldrop action requires only 'regex', and no other fields");
  CHECK(ParseError("- {regex: a, action: labelkeep, replacement: x}") ==
        "1:3: labelkeep action requires only 'regex', and no other fields");
  CHECK(ParseError("- {source_labels: [a], target_label: b, action: keepequal, regex: x}") ==
        "1:3: keepequal action requires only 'source_labels' and `target_label`, and no other "
        "fields");
  CHECK(ParseError("- {source_labels: [a], target_label: b, action: lowercase, replacement: x}") ==
        "1:3: 'replacement' can not be set for lowercase action");
  CHECK(ParseError("- {regex: a, action: labelmap, replacement: '1$1'}") ==
        "1:3: \"1$1\" is invalid 'replacement' for labelmap action");
  CHECK(ParseError("- source_labels: [a]\n  action: fold\n") ==
        "2:11: unknown relabel action \"fold\"");
  CHECK(ParseError("- source_labels: [a]\n  regexp: x\n") ==
        "2:3: unknown key \"regexp\" in relabel config");
  CHECK(ParseError("- source_labels: [1a]\n  action: keep\n") ==
        "1:3: \"1a\" is not a valid label name");
  CHECK(ParseError("- source_labels: [a]\n  action: keep\n  regex: '(x'\n").starts_with(
      "3:10: error parsing regexp: missing closing ): "));
  CHECK(ParseError("- {source_labels: [a], action: keep, modulus: -1}") ==
        "1:47: modulus: \"-1\" is not a non-negative integer");
  CHECK(ParseError("{a: b}") == "1:1: relabel configs must be a list");
}

TEST_CASE("An empty regex matches only the empty string, as Prometheus's null regex") {
  CHECK(Apply("- {source_labels: [a], regex: , action: keep}", {{"__name__", "m"}, {"a", "x"}}) ==
        "dropped");
  CHECK(Apply("- {source_labels: [a], regex: , action: keep}", {{"__name__", "m"}}) == "m{}");
}

}  // namespace
}  // namespace crmscope::agent
