#include "collector/api/metadata_handler.h"

#include <algorithm>
#include <charconv>
#include <limits>

#include "collector/storage/storage.h"

namespace crmscope::api {

HttpResponse HandleMetadata(const FormValues& form, const storage::Storage& storage) {
  int64_t limit = -1;
  if (std::string_view text = form.Get("limit"); !text.empty()) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), limit);
    if (ec != std::errc() || end != text.data() + text.size()) {
      return ErrorResponse({ErrorType::kBadData, "limit must be a number"});
    }
  }
  std::vector<std::pair<std::string, storage::MetricMetadata>> entries;
  if (limit != 0) {
    size_t max_entries =
        limit < 0 ? std::numeric_limits<size_t>::max() : static_cast<size_t>(limit);
    entries = storage.Metadata(form.Get("metric"), max_entries);
  }
  // Go marshals a map with its keys sorted.
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string data = "{";
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& [family, metadata] = entries[i];
    if (i > 0) data += ',';
    AppendJsonString(family, &data);
    data += R"(:[{"type":)";
    AppendJsonString(metadata.type, &data);
    data += R"(,"help":)";
    AppendJsonString(metadata.help, &data);
    data += R"(,"unit":)";
    AppendJsonString(metadata.unit, &data);
    data += "}]";
  }
  data += '}';
  return SuccessResponse(data);
}

}  // namespace crmscope::api
