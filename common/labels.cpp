#include "common/labels.h"

#include <algorithm>
#include <cstring>

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

namespace {

inline uint64_t Mix(uint64_t h, uint64_t w) {
  h ^= w * 0x9E3779B97F4A7C15ULL;
  h = ((h << 31) | (h >> 33)) * 0xBF58476D1CE4E5B9ULL;
  return h;
}

// Eight bytes a step: interning hashes every label of every incoming series, and a byte-at-a-time
// hash showed up at 6% of ingest time. The length goes into the last word, so {a="bc"} and
// {ab="c"} differ.
uint64_t HashString(uint64_t h, std::string_view s) {
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = Mix(h, w);
  }
  uint64_t tail = 0;
  // Guarded: an empty view may have a null data(), which memcpy must not get even for 0 bytes.
  if (i < s.size()) std::memcpy(&tail, s.data() + i, s.size() - i);
  return Mix(h, tail ^ (static_cast<uint64_t>(s.size()) << 56));
}

}  // namespace

uint64_t HashLabels(const LabelView* labels, size_t n) {
  uint64_t h = 0x2545F4914F6CDD1DULL;
  for (size_t i = 0; i < n; ++i) {
    h = HashString(h, labels[i].name);
    h = HashString(h, labels[i].value);
  }
  h ^= h >> 29;
  h *= 0x94D049BB133111EBULL;
  return h ^ (h >> 32);
}

uint64_t HashLabels(const Labels& labels) {
  std::vector<LabelView> views;
  views.reserve(labels.size());
  for (const Label& l : labels) views.push_back({l.name, l.value});
  return HashLabels(views.data(), views.size());
}

}  // namespace crmscope
