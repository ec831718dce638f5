// Command-line flags as Prometheus takes them (kingpin): "--name=value" or "--name value",
// every flag known in advance, "--help" prints them. Typed getters validate and name the flag
// in their errors, so `crm-node serve --threads=x` says which flag is wrong.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace crmscope {

struct FlagSpec {
  std::string name;  // without the dashes: "web.listen-address"
  std::string default_value;
  std::string help;
};

class Flags {
 public:
  explicit Flags(std::vector<FlagSpec> specs) : specs_(std::move(specs)) {}

  // Parses args (the arguments after the subcommand). False with *error for an unknown flag,
  // a flag without a value, or a positional argument.
  bool Parse(const std::vector<std::string>& args, std::string* error);
  bool help_requested() const { return help_; }
  std::string Usage(std::string_view command) const;

  bool is_set(std::string_view name) const { return values_.count(std::string(name)) > 0; }
  // The value given, or the flag's default.
  const std::string& Get(std::string_view name) const;
  bool GetInt(std::string_view name, int64_t min, int64_t max, int64_t* out,
              std::string* error) const;
  // A Prometheus duration ("60s", "1m30s", "0s").
  bool GetDurationMs(std::string_view name, int64_t* out, std::string* error) const;

 private:
  const FlagSpec* Find(std::string_view name) const;

  std::vector<FlagSpec> specs_;
  std::map<std::string, std::string> values_;
  bool help_ = false;
};

}  // namespace crmscope
