#include "crm_demo/node/fault_spec.h"

#include <array>
#include <utility>

#include "crm_demo/node/schema.h"

namespace crmscope::crm {

namespace {

using nlohmann::json;

constexpr std::array<std::pair<FaultType, std::string_view>, 8> kTypes = {{
    {FaultType::kLatency, "latency"},
    {FaultType::kErrors, "errors"},
    {FaultType::kCpuBurn, "cpu_burn"},
    {FaultType::kDropIndex, "drop_index"},
    {FaultType::kCacheOff, "cache_off"},
    {FaultType::kCacheCapacity, "cache_capacity"},
    {FaultType::kDbLock, "db_lock"},
    {FaultType::kSlowStart, "slow_start"},
}};

// A number param in [min, max]; `required` or else `fallback` when absent.
bool NumberParam(const json& params, const char* key, double min, double max, bool required,
                 double fallback, double* out, std::string* error) {
  auto it = params.find(key);
  if (it == params.end() || it->is_null()) {
    if (required) *error = std::string("params.") + key + " is required";
    *out = fallback;
    return !required;
  }
  if (!it->is_number() || it->get<double>() < min || it->get<double>() > max) {
    *error = std::string("params.") + key + " must be a number from " + json(min).dump() + " to " +
             json(max).dump();
    return false;
  }
  *out = it->get<double>();
  return true;
}

bool ParseParams(const json& p, const instrumentation::RouteTable& routes, FaultSpec* f,
                 std::string* error) {
  switch (f->type) {
    case FaultType::kLatency: {
      if (!NumberParam(p, "ms", 0, 60000, true, 0, &f->ms, error) ||
          !NumberParam(p, "jitter_ms", 0, 60000, false, 0, &f->jitter_ms, error)) {
        return false;
      }
      auto route = p.find("route");
      if (route == p.end() || route->is_null()) return true;
      size_t id = route->is_string() ? routes.FindTemplate(route->get<std::string>())
                                     : routes.other_template();
      if (id == routes.other_template()) {
        *error =
            "params.route must be one of the node's route templates, such as "
            "/api/customers/{id}";
        return false;
      }
      f->route_template = id;
      return true;
    }
    case FaultType::kErrors:
      return NumberParam(p, "rate", 0, 1, true, 0, &f->rate, error);
    case FaultType::kCpuBurn:
      return NumberParam(p, "ms", 0, 10000, true, 0, &f->ms, error);
    case FaultType::kDropIndex: {
      auto index = p.find("index");
      if (index == p.end() || !index->is_string() ||
          FindCrmIndex(index->get<std::string>()) == nullptr) {
        *error = "params.index must be one of " + CrmIndexNames();
        return false;
      }
      f->index = index->get<std::string>();
      return true;
    }
    case FaultType::kCacheOff:
      return true;
    case FaultType::kCacheCapacity: {
      double entries = 0;
      if (!NumberParam(p, "entries", 0, 1e9, true, 0, &entries, error)) return false;
      f->entries = static_cast<int64_t>(entries);
      return true;
    }
    case FaultType::kDbLock:
      return NumberParam(p, "share", 0, 1, true, 0, &f->share, error);
    case FaultType::kSlowStart:
      return NumberParam(p, "s", 0.001, 86400, true, 0, &f->ramp_s, error) &&
             NumberParam(p, "ms", 0, 60000, false, 1000, &f->ms, error);
  }
  return false;
}

}  // namespace

std::string_view FaultTypeName(FaultType type) {
  for (const auto& [t, name] : kTypes) {
    if (t == type) return name;
  }
  return "unknown";
}

bool ParseFaultSpec(std::string_view body, const instrumentation::RouteTable& routes, FaultSpec* f,
                    std::string* error) {
  json input = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (input.is_discarded() || !input.is_object()) {
    *error = "the body must be a JSON object {\"type\", \"params\", \"duration_s\"}";
    return false;
  }
  auto type = input.find("type");
  bool known = false;
  for (const auto& [t, name] : kTypes) {
    if (type != input.end() && type->is_string() && type->get<std::string>() == name) {
      f->type = t;
      known = true;
    }
  }
  if (!known) {
    *error = "type must be one of";
    for (const auto& entry : kTypes) *error += " " + std::string(entry.second);
    return false;
  }
  auto params = input.find("params");
  if (params != input.end() && !params->is_null() && !params->is_object()) {
    *error = "params must be an object";
    return false;
  }
  if (params != input.end() && params->is_object()) f->params = *params;
  if (!ParseParams(f->params, routes, f, error)) return false;

  auto duration = input.find("duration_s");
  bool has_duration = duration != input.end() && !duration->is_null();
  if (!has_duration && f->type == FaultType::kSlowStart) {
    f->duration_s = f->ramp_s;
  } else if (!has_duration || !duration->is_number() || duration->get<double>() <= 0 ||
             duration->get<double>() > 86400) {
    *error = "duration_s must be a number of seconds, more than 0 and at most 86400";
    return false;
  } else {
    f->duration_s = duration->get<double>();
  }
  return true;
}

}  // namespace crmscope::crm
