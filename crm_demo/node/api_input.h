// Reading and refusing request input: ids in paths, query parameters, JSON bodies. Every refusal
// is a 400 whose JSON body says what was wrong, so a client can fix its request.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>
#include <string_view>

namespace crmscope::crm {

// What a CRM route answers: a status and a JSON body.
struct ApiReply {
  int status = 200;
  std::string body;
};

ApiReply JsonError(int status, std::string_view message);  // {"error": message}

// A positive decimal id, the whole of `text`.
bool ParseId(std::string_view text, int64_t* id);

// The URL-decoded value of `name` in a query string ("" for "name="). Values are bounded: no
// name, status or limit the CRM stores comes near kMaxParamBytes.
inline constexpr size_t kMaxParamBytes = 511;
enum class Param { kAbsent, kPresent, kTooLong };
Param QueryParam(std::string_view query_string, const char* name, std::string* value);

// ?limit=N in [1, max], `fallback` when absent. False with *error when present but invalid.
bool ParseLimit(std::string_view query_string, int64_t fallback, int64_t max, int64_t* limit,
                std::string* error);

// A JSON request body that must be an object. False with *error otherwise.
bool ParseJsonObject(std::string_view body, nlohmann::json* object, std::string* error);

// Field readers for a JSON object: kAbsent when the key is missing (or null), kInvalid when it
// has the wrong type or is out of range; *error names the field.
enum class Field { kAbsent, kPresent, kInvalid };
Field IntField(const nlohmann::json& object, const char* key, int64_t min, int64_t max,
               int64_t* value, std::string* error);
// A string from `allowed` (when not empty) or of 1..max_bytes bytes.
Field StringField(const nlohmann::json& object, const char* key,
                  std::span<const std::string_view> allowed, size_t max_bytes, std::string* value,
                  std::string* error);

// The current time as the tables store it.
std::string NowTimestamp();

}  // namespace crmscope::crm
