#include "crm_demo/launcher/fault_plan.h"

#include <array>
#include <charconv>
#include <utility>

#include "common/time.h"

namespace crmscope::launcher {

namespace {

using nlohmann::json;

const std::array<std::pair<std::string_view, json>, 8>& DefaultParams() {
  static const std::array<std::pair<std::string_view, json>, 8> defaults = {{
      {"latency", {{"ms", 200}}},
      {"errors", {{"rate", 0.2}}},
      {"cpu_burn", {{"ms", 20}}},
      {"drop_index", {{"index", "idx_orders_customer_id"}}},
      {"cache_off", json::object()},
      {"cache_capacity", {{"entries", 100}}},
      {"db_lock", {{"share", 0.5}}},
      {"slow_start", {{"s", 30}}},
  }};
  return defaults;
}

json ParamValue(std::string_view text) {
  double number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec == std::errc() && end == text.data() + text.size()) return number;
  return std::string(text);
}

// "{ms=200,route=/api/customers/{id}}" at the start of `text`: the parameters, and how many
// characters they took. Braces nest, because route templates contain them.
bool ParseParamBlock(std::string_view text, json* params, size_t* consumed, std::string* error) {
  int depth = 0;
  size_t close = std::string_view::npos;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '{') ++depth;
    if (text[i] == '}' && --depth == 0) {
      close = i;
      break;
    }
  }
  if (close == std::string_view::npos) {
    *error = "unclosed '{'";
    return false;
  }
  *consumed = close + 1;
  std::string_view body = text.substr(1, close - 1);
  while (!body.empty()) {
    // A comma inside a nested brace is part of the value.
    size_t end = 0;
    for (int nested = 0; end < body.size() && (body[end] != ',' || nested > 0); ++end) {
      nested += body[end] == '{' ? 1 : body[end] == '}' ? -1 : 0;
    }
    std::string_view pair = body.substr(0, end);
    body.remove_prefix(end == body.size() ? end : end + 1);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      *error = "parameter '" + std::string(pair) + "' is not KEY=VALUE";
      return false;
    }
    (*params)[std::string(pair.substr(0, eq))] = ParamValue(pair.substr(eq + 1));
  }
  return true;
}

bool ParseTimes(std::string_view text, PlannedFault* fault, std::string* error) {
  size_t plus = text.find('+');
  std::string_view start = text.substr(0, plus);
  if (!start.empty()) {
    if (start[0] != '@') {
      *error = "expected @START or +DURATION after the type, got '" + std::string(text) + "'";
      return false;
    }
    if (!ParseDuration(start.substr(1), &fault->start_ms, error)) return false;
  }
  if (plus != std::string_view::npos) {
    if (!ParseDuration(text.substr(plus + 1), &fault->duration_ms, error)) return false;
    if (fault->duration_ms <= 0) {
      *error = "the duration must be above 0";
      return false;
    }
  }
  return true;
}

}  // namespace

bool ParseFaultFlag(std::string_view flag, PlannedFault* fault, std::string* error) {
  auto fail = [&](const std::string& why) {
    *error = "--fault " + std::string(flag) + ": " + why;
    return false;
  };
  *fault = PlannedFault{};
  fault->flag = flag;
  size_t colon = flag.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return fail("expected NODE:TYPE[{KEY=VALUE,...}][@START][+DURATION]");
  }
  fault->node = flag.substr(0, colon);
  std::string_view rest = flag.substr(colon + 1);
  size_t type_end = rest.find_first_of("{@+");
  fault->type = rest.substr(0, type_end);
  const json* defaults = nullptr;
  std::string known;
  for (const auto& [type, params] : DefaultParams()) {
    if (type == fault->type) defaults = &params;
    known += (known.empty() ? "" : ", ") + std::string(type);
  }
  if (defaults == nullptr) return fail("unknown fault type '" + fault->type + "'; one of " + known);
  fault->params = *defaults;
  rest.remove_prefix(type_end == std::string_view::npos ? rest.size() : type_end);
  if (!rest.empty() && rest[0] == '{') {
    size_t consumed = 0;
    std::string why;
    if (!ParseParamBlock(rest, &fault->params, &consumed, &why)) return fail(why);
    rest.remove_prefix(consumed);
  }
  std::string why;
  if (!ParseTimes(rest, fault, &why)) return fail(why);
  return true;
}

std::string FaultRequestBody(const PlannedFault& fault, int64_t duration_ms) {
  return json{{"type", fault.type},
              {"params", fault.params},
              {"duration_s", static_cast<double>(duration_ms) / 1000.0}}
      .dump();
}

}  // namespace crmscope::launcher
