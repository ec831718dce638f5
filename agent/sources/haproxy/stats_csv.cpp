#include "agent/sources/haproxy/stats_csv.h"

namespace crmscope::agent {

size_t SplitCsvRecord(std::string_view text, std::vector<std::string_view>* fields) {
  fields->clear();
  size_t p = 0;
  for (;;) {
    size_t start = p;
    std::string_view field;
    if (p < text.size() && text[p] == '"') {
      ++p;
      while (p < text.size() && !(text[p] == '"' && (p + 1 >= text.size() || text[p + 1] != '"'))) {
        p += text[p] == '"' ? 2 : 1;  // a doubled quote is one quote of data
      }
      field = text.substr(start + 1, p - start - 1);
      if (p < text.size()) ++p;  // the closing quote
      while (p < text.size() && text[p] != ',' && text[p] != '\n') ++p;
    } else {
      while (p < text.size() && text[p] != ',' && text[p] != '\n') ++p;
      field = text.substr(start, p - start);
      if (!field.empty() && field.back() == '\r') field.remove_suffix(1);
    }
    fields->push_back(field);
    if (p >= text.size()) return p;
    if (text[p] == '\n') return p + 1;
    ++p;  // the comma
  }
}

bool StatsCsv::Reset(std::string_view text, std::string* error) {
  if (!text.starts_with("# ")) {
    *error = "not HAProxy stats CSV (no \"# pxname,...\" header)";
    return false;
  }
  text.remove_prefix(2);
  size_t used = SplitCsvRecord(text, &names_);
  header_ = text.substr(0, used);
  // HAProxy ends every line with a comma, which leaves an empty last name.
  while (!names_.empty() && names_.back().empty()) names_.pop_back();
  if (names_.size() < 2 || names_[0] != "pxname" || names_[1] != "svname") {
    *error = "not HAProxy stats CSV (the header does not start with pxname,svname)";
    return false;
  }
  rest_ = text.substr(used);
  fields_.clear();
  return true;
}

int StatsCsv::Column(std::string_view name) const {
  for (size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == name) return static_cast<int>(i);
  }
  return -1;
}

bool StatsCsv::NextRow() {
  while (!rest_.empty()) {
    size_t used = SplitCsvRecord(rest_, &fields_);
    std::string_view line = rest_.substr(0, used);
    rest_.remove_prefix(used);
    if (line.find_first_not_of("\r\n") != std::string_view::npos) return true;
  }
  fields_.clear();
  return false;
}

std::string_view StatsCsv::Field(int column) const {
  if (column < 0 || static_cast<size_t>(column) >= fields_.size()) return {};
  return fields_[static_cast<size_t>(column)];
}

}  // namespace crmscope::agent
