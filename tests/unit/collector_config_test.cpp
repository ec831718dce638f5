#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "collector/config.h"

using namespace crmscope::collector;

namespace {

std::string ParseError(const std::string& yaml) {
  Config config;
  std::string error;
  CHECK_FALSE(ParseConfig(yaml, "crmscope.yml", &config, &error));
  return error;
}

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "crmscope-config-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

bool Flags_(std::vector<const char*> args, Flags* flags, FlagAction* action, std::string* error) {
  args.insert(args.begin(), "crmscope-collector");
  return ParseFlags(static_cast<int>(args.size()), args.data(), flags, action, error);
}

}  // namespace

TEST_CASE("config: a full file sets every field") {
  Config config;
  std::string error;
  REQUIRE(ParseConfig(R"(
remote_write_receiver:
  bearer_tokens: [ "secret1", "secret2" ]
limits:
  max_body_bytes: 1048576
  max_series: 5000
  max_labels_per_series: 12
  max_label_name_length: 64
  max_label_value_length: 256
)",
                      "crmscope.yml", &config, &error));
  CHECK(error.empty());
  CHECK(config.remote_write_receiver.bearer_tokens ==
        std::vector<std::string>{"secret1", "secret2"});
  CHECK(config.limits.max_body_bytes == 1048576);
  CHECK(config.limits.max_series == 5000);
  CHECK(config.limits.max_labels_per_series == 12);
  CHECK(config.limits.max_label_name_length == 64);
  CHECK(config.limits.max_label_value_length == 256);
}

TEST_CASE("config: an empty file or empty sections keep the defaults") {
  for (const char* yaml : {"", "# nothing\n", "limits:\nremote_write_receiver:\n"}) {
    Config config;
    std::string error;
    REQUIRE(ParseConfig(yaml, "c.yml", &config, &error));
    CHECK(config.limits.max_body_bytes == 32 << 20);
    CHECK(config.limits.max_labels_per_series == 30);
    CHECK(config.limits.max_label_name_length == 1024);
    CHECK(config.limits.max_label_value_length == 4096);
    CHECK(config.limits.max_series == 0);
    CHECK(config.remote_write_receiver.bearer_tokens.empty());
  }
}

TEST_CASE("config: max_body_bytes also takes Prometheus size units") {
  Config config;
  std::string error;
  REQUIRE(ParseConfig("limits:\n  max_body_bytes: 4MB\n", "c.yml", &config, &error));
  CHECK(config.limits.max_body_bytes == 4 << 20);
}

TEST_CASE("config: errors name file and line and column") {
  CHECK(ParseError("limits:\n  max_series: 10\nbogus: 1\n") ==
        "crmscope.yml:3:1: unknown key \"bogus\" in the top level");
  CHECK(ParseError("limits:\n  max_series: 10\n  max_seris: 3\n") ==
        "crmscope.yml:3:3: unknown key \"max_seris\" in limits");
  CHECK(ParseError("limits:\n  max_series: lots\n") ==
        "crmscope.yml:2:15: max_series: \"lots\" is not a non-negative integer");
  CHECK(ParseError("limits:\n  max_labels_per_series: -1\n") ==
        "crmscope.yml:2:26: max_labels_per_series: \"-1\" is not a non-negative integer");
  CHECK(ParseError("limits:\n  max_body_bytes: 0\n") ==
        "crmscope.yml:2:19: max_body_bytes must be greater than 0");
  CHECK(ParseError("limits:\n  max_body_bytes: 12XB\n") ==
        "crmscope.yml:2:19: max_body_bytes: not a valid byte size: \"12XB\" (e.g. 512MB, 10GB)");
  CHECK(ParseError("limits: [1, 2]\n") == "crmscope.yml:1:9: limits must be a mapping");
  CHECK(ParseError("limits:\n  max_series: [1]\n") ==
        "crmscope.yml:2:15: max_series must be a single value");
  CHECK(ParseError("remote_write_receiver:\n  bearer_tokens: secret\n") ==
        "crmscope.yml:2:18: bearer_tokens must be a list of strings");
  CHECK(ParseError("remote_write_receiver:\n  bearer_tokens: [\"\"]\n") ==
        "crmscope.yml:2:19: a bearer token must not be empty");
  CHECK(ParseError("limits:\n  max_series: 1\n  max_series: 2\n") ==
        "crmscope.yml:3:3: duplicate key \"max_series\"");
  CHECK(ParseError("- just\n- a list\n") == "crmscope.yml:1:1: the top level must be a mapping");
}

TEST_CASE("config: YAML syntax errors carry the position yaml-cpp found") {
  std::string error = ParseError("limits:\n  max_series: [1, 2\n");
  CHECK(error.rfind("crmscope.yml:", 0) == 0);
  CHECK(error.find(":3:") != std::string::npos);  // at the end of input, after line 2
  error = ParseError("limits:\n\tmax_series: 1\n");
  CHECK(error.rfind("crmscope.yml:2:", 0) == 0);
}

TEST_CASE("config: bearer_token_file is read relative to the config file and trimmed") {
  TempDir dir;
  std::ofstream(dir.path / "token") << "  s3cret\n";
  std::ofstream(dir.path / "empty") << "\n";
  std::ofstream(dir.path / "c.yml") << "remote_write_receiver:\n  bearer_token_file: token\n";
  Config config;
  std::string error;
  REQUIRE(LoadConfigFile((dir.path / "c.yml").string(), &config, &error));
  CHECK(config.remote_write_receiver.bearer_tokens == std::vector<std::string>{"s3cret"});

  std::string file = (dir.path / "c.yml").string();
  std::ofstream(dir.path / "c.yml") << "remote_write_receiver:\n  bearer_token_file: empty\n";
  CHECK_FALSE(LoadConfigFile(file, &config, &error));
  CHECK(error == file + ":2:22: bearer_token_file " + (dir.path / "empty").string() + " is empty");
  std::ofstream(dir.path / "c.yml") << "remote_write_receiver:\n  bearer_token_file: missing\n";
  CHECK_FALSE(LoadConfigFile(file, &config, &error));
  CHECK(error == file + ":2:22: cannot read bearer_token_file " + (dir.path / "missing").string());
  std::ofstream(dir.path / "c.yml")
      << "remote_write_receiver:\n  bearer_tokens: [a]\n  bearer_token_file: token\n";
  CHECK_FALSE(LoadConfigFile(file, &config, &error));
  CHECK(error == file + ":3:22: at most one of bearer_tokens and bearer_token_file may be set");
  CHECK_FALSE(LoadConfigFile((dir.path / "nope.yml").string(), &config, &error));
  CHECK(error == (dir.path / "nope.yml").string() + ": cannot open config file");
}

TEST_CASE("flags: defaults and --flag=value and --flag value") {
  Flags flags;
  FlagAction action;
  std::string error;
  REQUIRE(Flags_({}, &flags, &action, &error));
  CHECK(action == FlagAction::kRun);
  CHECK(flags.listen_address == "127.0.0.1:9300");
  CHECK(flags.retention_ms == 15LL * 24 * 3600 * 1000);
  CHECK(flags.max_body_bytes == -1);
  CHECK_FALSE(flags.fsync);

  REQUIRE(Flags_({"--web.listen-address=127.0.0.1:9400", "--storage.path", "/tmp/x",
                  "--storage.retention.time=2h30m", "--storage.retention.size", "10GB",
                  "--storage.out-of-order-window=5m", "--storage.fsync", "--config.file=c.yml",
                  "--web.max-body-bytes=1048576", "--log.level=debug"},
                 &flags, &action, &error));
  CHECK(flags.listen_address == "127.0.0.1:9400");
  CHECK(flags.storage_path == "/tmp/x");
  CHECK(flags.retention_ms == (2 * 60 + 30) * 60 * 1000LL);
  CHECK(flags.retention_bytes == 10LL << 30);
  CHECK(flags.out_of_order_window_ms == 5 * 60 * 1000);
  CHECK(flags.fsync);
  CHECK(flags.config_file == "c.yml");
  CHECK(flags.max_body_bytes == 1048576);
  CHECK(flags.log_level == "debug");

  REQUIRE(Flags_({"--no-storage.fsync", "--web.max-body-bytes", "2MB"}, &flags, &action, &error));
  CHECK_FALSE(flags.fsync);
  CHECK(flags.max_body_bytes == 2 << 20);
  REQUIRE(Flags_({"--storage.fsync=true"}, &flags, &action, &error));
  CHECK(flags.fsync);
}

TEST_CASE("flags: --help and --version and errors worded as kingpin's") {
  Flags flags;
  FlagAction action;
  std::string error;
  REQUIRE(Flags_({"--storage.path=x", "--help"}, &flags, &action, &error));
  CHECK(action == FlagAction::kHelp);
  REQUIRE(Flags_({"--version"}, &flags, &action, &error));
  CHECK(action == FlagAction::kVersion);
  std::string usage = FlagsUsage("crmscope-collector");
  CHECK(usage.find("--web.listen-address=\"127.0.0.1:9300\"") != std::string::npos);
  CHECK(usage.find("--[no-]storage.fsync") != std::string::npos);

  CHECK_FALSE(Flags_({"--storage.tsdb.path=x"}, &flags, &action, &error));
  CHECK(error == "unknown long flag '--storage.tsdb.path'");
  CHECK_FALSE(Flags_({"--web.listen-address"}, &flags, &action, &error));
  CHECK(error == "expected argument for flag '--web.listen-address'");
  CHECK_FALSE(Flags_({"--storage.retention.time=15days"}, &flags, &action, &error));
  CHECK(error ==
        "invalid value \"15days\" for flag '--storage.retention.time': "
        "not a valid duration string: \"15days\"");
  CHECK_FALSE(Flags_({"--log.level=loud"}, &flags, &action, &error));
  CHECK(error.find("--log.level") != std::string::npos);
  CHECK_FALSE(Flags_({"stray"}, &flags, &action, &error));
  CHECK(error == "unexpected stray");
  CHECK_FALSE(Flags_({"--no-web.listen-address"}, &flags, &action, &error));
  CHECK(error == "unknown long flag '--no-web.listen-address'");
}
