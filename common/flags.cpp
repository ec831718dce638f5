#include "common/flags.h"

#include <charconv>
#include <stdexcept>

#include "common/time.h"

namespace crmscope {

const FlagSpec* Flags::Find(std::string_view name) const {
  for (const FlagSpec& spec : specs_) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

bool Flags::Parse(const std::vector<std::string>& args, std::string* error) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "-h" || arg == "--help") {
      help_ = true;
      continue;
    }
    if (arg.substr(0, 2) != "--") {
      *error = "unexpected argument " + std::string(arg);
      return false;
    }
    arg.remove_prefix(2);
    size_t eq = arg.find('=');
    std::string name(arg.substr(0, eq));
    if (Find(name) == nullptr) {
      *error = "unknown flag --" + name;
      return false;
    }
    if (eq != std::string_view::npos) {
      values_[name] = std::string(arg.substr(eq + 1));
    } else if (i + 1 < args.size()) {
      values_[name] = args[++i];
    } else {
      *error = "flag --" + name + " needs a value";
      return false;
    }
  }
  return true;
}

std::string Flags::Usage(std::string_view command) const {
  std::string out = "usage: crm-node " + std::string(command) + " [flags]\n\nflags:\n";
  for (const FlagSpec& spec : specs_) {
    out += "  --" + spec.name + "\n      " + spec.help;
    if (!spec.default_value.empty()) out += " (default " + spec.default_value + ")";
    out += "\n";
  }
  return out;
}

const std::string& Flags::Get(std::string_view name) const {
  auto it = values_.find(std::string(name));
  if (it != values_.end()) return it->second;
  const FlagSpec* spec = Find(name);
  if (spec == nullptr) throw std::logic_error("undeclared flag " + std::string(name));
  return spec->default_value;
}

bool Flags::GetInt(std::string_view name, int64_t min, int64_t max, int64_t* out,
                   std::string* error) const {
  const std::string& text = Get(name);
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    *error = "--" + std::string(name) + "=" + text + ": want an integer in [" +
             std::to_string(min) + ", " + std::to_string(max) + "]";
    return false;
  }
  *out = value;
  return true;
}

bool Flags::GetDurationMs(std::string_view name, int64_t* out, std::string* error) const {
  std::string why;
  if (!ParseDuration(Get(name), out, &why)) {
    *error = "--" + std::string(name) + ": " + why;
    return false;
  }
  return true;
}

}  // namespace crmscope
