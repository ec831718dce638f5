#include "crm_demo/node/api_input.h"

#include <civetweb.h>

#include <charconv>
#include <ctime>
#include <nlohmann/json.hpp>

#include "crm_demo/node/seed.h"

namespace crmscope::crm {

ApiReply JsonError(int status, std::string_view message) {
  return ApiReply{status, nlohmann::json{{"error", message}}.dump()};
}

bool ParseId(std::string_view text, int64_t* id) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *id);
  return ec == std::errc() && end == text.data() + text.size() && *id > 0;
}

Param QueryParam(std::string_view query_string, const char* name, std::string* value) {
  if (query_string.empty()) return Param::kAbsent;
  char buf[kMaxParamBytes + 1];
  int n = mg_get_var(query_string.data(), query_string.size(), name, buf, sizeof buf);
  if (n == -2) return Param::kTooLong;
  if (n < 0) return Param::kAbsent;
  value->assign(buf, static_cast<size_t>(n));
  return Param::kPresent;
}

bool ParseLimit(std::string_view query_string, int64_t fallback, int64_t max, int64_t* limit,
                std::string* error) {
  std::string text;
  Param found = QueryParam(query_string, "limit", &text);
  if (found == Param::kAbsent) {
    *limit = fallback;
    return true;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *limit);
  if (found == Param::kTooLong || ec != std::errc() || end != text.data() + text.size() ||
      *limit < 1 || *limit > max) {
    *error = "limit must be an integer from 1 to " + std::to_string(max);
    return false;
  }
  return true;
}

bool ParseJsonObject(std::string_view body, nlohmann::json* object, std::string* error) {
  *object = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (object->is_discarded() || !object->is_object()) {
    *error = "the body must be a JSON object";
    return false;
  }
  return true;
}

Field IntField(const nlohmann::json& object, const char* key, int64_t min, int64_t max,
               int64_t* value, std::string* error) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return Field::kAbsent;
  bool integral = it->is_number_integer() || it->is_number_unsigned();
  if (integral && it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(max)) {
    integral = false;
  }
  if (!integral || it->get<int64_t>() < min || it->get<int64_t>() > max) {
    *error = std::string(key) + " must be an integer from " + std::to_string(min) + " to " +
             std::to_string(max);
    return Field::kInvalid;
  }
  *value = it->get<int64_t>();
  return Field::kPresent;
}

Field StringField(const nlohmann::json& object, const char* key,
                  std::span<const std::string_view> allowed, size_t max_bytes, std::string* value,
                  std::string* error) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return Field::kAbsent;
  bool ok = it->is_string();
  if (ok) *value = it->get<std::string>();
  if (ok && !allowed.empty()) {
    ok = false;
    for (std::string_view a : allowed) ok = ok || *value == a;
  }
  if (ok && allowed.empty()) ok = !value->empty() && value->size() <= max_bytes;
  if (!ok) {
    *error = std::string(key) + " must be ";
    if (allowed.empty()) {
      *error += "a string of 1 to " + std::to_string(max_bytes) + " bytes";
    } else {
      *error += "one of";
      for (std::string_view a : allowed) *error += " " + std::string(a);
    }
    return Field::kInvalid;
  }
  return Field::kPresent;
}

std::string NowTimestamp() { return FormatTimestamp(static_cast<int64_t>(std::time(nullptr))); }

}  // namespace crmscope::crm
