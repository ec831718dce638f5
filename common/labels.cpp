#include "common/labels.h"

#include <algorithm>

namespace crmscope {

void SortLabels(Labels& labels) {
  std::sort(labels.begin(), labels.end(),
            [](const Label& a, const Label& b) { return a.name < b.name; });
}

Labels LabelsFromViews(const LabelView* begin, const LabelView* end) {
  Labels out;
  out.reserve(static_cast<size_t>(end - begin));
  for (const LabelView* l = begin; l != end; ++l) {
    out.push_back({std::string(l->name), std::string(l->value)});
  }
  SortLabels(out);
  return out;
}

std::string_view GetLabel(const Labels& labels, std::string_view name) {
  for (const Label& l : labels) {
    if (l.name == name) return l.value;
  }
  return {};
}

namespace {

// Go's strconv.Quote for the printable-UTF-8 case Prometheus label values take.
void AppendQuoted(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: out.push_back(c);
    }
  }
  out.push_back('"');
}

}  // namespace

std::string LabelsToString(const Labels& labels) {
  std::string out(MetricName(labels));
  out.push_back('{');
  bool first = true;
  for (const Label& l : labels) {
    if (l.name == kMetricNameLabel) continue;
    if (!first) out += ", ";
    first = false;
    out += l.name;
    out.push_back('=');
    AppendQuoted(out, l.value);
  }
  out.push_back('}');
  return out;
}

bool IsValidMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool IsValidLabelName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    unsigned char c = *p;
    if (c < 0x80) { ++p; continue; }
    int n;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) { n = 1; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { n = 2; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { n = 3; cp = c & 0x07; }
    else return false;
    if (end - p <= n) return false;
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid UTF-8, as Go decides.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    p += n + 1;
  }
  return true;
}

std::string ValidateLabels(const Labels& labels) {
  std::vector<LabelView> views;
  views.reserve(labels.size());
  for (const Label& l : labels) views.push_back({l.name, l.value});
  return ValidateLabels(views.data(), views.size());
}

std::string ValidateLabels(const LabelView* labels, size_t n) {
  // Built by append: g++ 12 reports a false -Wrestrict on chained operator+ here.
  auto quoted = [](std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    out.push_back('"');
    out.append(s);
    out.push_back('"');
    return out;
  };
  bool has_name = false;
  for (size_t i = 0; i < n; ++i) {
    const LabelView& l = labels[i];
    if (l.name.empty()) return "empty label name";
    if (i > 0 && labels[i - 1].name == l.name) return "duplicate label name " + quoted(l.name);
    if (l.name == kMetricNameLabel) {
      if (!IsValidMetricName(l.value)) return "invalid metric name " + quoted(l.value);
      has_name = true;
      continue;
    }
    if (!IsValidLabelName(l.name)) return "invalid label name " + quoted(l.name);
    if (!IsValidUtf8(l.value)) return "invalid UTF-8 in value of label " + quoted(l.name);
  }
  if (!has_name) return "missing metric name (__name__ label)";
  return {};
}

uint64_t HashLabels(const Labels& labels) {
  // FNV-1a over name, 0xff, value, 0xff: the separator byte cannot occur in valid UTF-8, so
  // {a="bc"} and {ab="c"} hash apart. Stable across runs, unlike std::hash.
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) { h ^= c; h *= 1099511628211ULL; }
    h ^= 0xff; h *= 1099511628211ULL;
  };
  for (const Label& l : labels) { mix(l.name); mix(l.value); }
  return h;
}

}  // namespace crmscope
