// Functions that rewrite labels — label_replace, label_join — and absent().
#include "collector/promql/functions_labels.h"

#include <re2/re2.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "collector/promql/functions_impl.h"

namespace crmscope::promql {

namespace {

// Sets or removes `name` in sorted `labels`; an empty value removes, as Prometheus's builder.
void SetLabel(Labels& labels, const std::string& name, std::string value) {
  auto it = std::lower_bound(labels.begin(), labels.end(), name,
                             [](const Label& l, const std::string& n) { return l.name < n; });
  bool present = it != labels.end() && it->name == name;
  if (value.empty()) {
    if (present) labels.erase(it);
  } else if (present) {
    it->value = std::move(value);
  } else {
    labels.insert(it, Label{name, std::move(value)});
  }
}

bool IsWordByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Reads a group reference after '$' the way Go's Regexp.Expand does: `name` or `{name}`, the
// name being the longest run of word characters; a name of digits (without a leading zero,
// below 1e8) is a group number. Returns the bytes consumed, 0 when malformed.
size_t ParseGroupRef(std::string_view s, std::string_view* name, int* number) {
  size_t i = 0;
  bool brace = !s.empty() && s[0] == '{';
  if (brace) ++i;
  size_t start = i;
  while (i < s.size() && IsWordByte(s[i])) ++i;
  if (i == start) return 0;
  *name = s.substr(start, i - start);
  if (brace) {
    if (i >= s.size() || s[i] != '}') return 0;
    ++i;
  }
  *number = 0;
  for (char c : *name) {
    if (c < '0' || c > '9' || *number >= 100000000) {
      *number = -1;
      break;
    }
    *number = *number * 10 + (c - '0');
  }
  if (name->size() > 1 && (*name)[0] == '0') *number = -1;
  return i;
}

// Go's Regexp.ExpandString: $1, ${1}, $name, ${name}; $$ is a '$'; a malformed reference is
// copied as text; a group that did not take part in the match expands to nothing.
std::string ExpandTemplate(const re2::RE2& re, std::string_view tmpl,
                           const std::vector<re2::StringPiece>& groups) {
  std::string out;
  while (!tmpl.empty()) {
    size_t dollar = tmpl.find('$');
    if (dollar == std::string_view::npos) break;
    out.append(tmpl.substr(0, dollar));
    tmpl.remove_prefix(dollar + 1);
    if (!tmpl.empty() && tmpl[0] == '$') {
      out.push_back('$');
      tmpl.remove_prefix(1);
      continue;
    }
    std::string_view name;
    int number = -1;
    size_t used = ParseGroupRef(tmpl, &name, &number);
    if (used == 0) {
      out.push_back('$');
      continue;
    }
    tmpl.remove_prefix(used);
    if (number < 0) {
      const auto& named = re.NamedCapturingGroups();
      auto it = named.find(std::string(name));
      if (it == named.end()) continue;
      number = it->second;
    }
    if (static_cast<size_t>(number) < groups.size() && groups[number].data() != nullptr) {
      out.append(groups[number].data(), groups[number].size());
    }
  }
  out.append(tmpl);
  return out;
}

// Compiling per step would dominate a long range query, so each thread keeps the last pattern.
std::shared_ptr<const re2::RE2> CompileAnchored(const std::string& pattern) {
  thread_local std::string cached_pattern;
  thread_local std::shared_ptr<const re2::RE2> cached;
  if (cached && cached_pattern == pattern) return cached;
  re2::RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_shared<const re2::RE2>("^(?:" + pattern + ")$", options);
  if (!re->ok()) return nullptr;
  cached_pattern = pattern;
  cached = re;
  return re;
}

Value LabelReplace(const FunctionCallContext& ctx, std::string* error) {
  const std::string& dst = StringArg(ctx, 1);
  const std::string& replacement = StringArg(ctx, 2);
  const std::string& src = StringArg(ctx, 3);
  const std::string& pattern = StringArg(ctx, 4);
  std::shared_ptr<const re2::RE2> re = CompileAnchored(pattern);
  if (re == nullptr) {
    *error = "invalid regular expression in label_replace(): " + pattern;
    return {};
  }
  if (!IsValidLabelName(dst)) {
    *error = "invalid destination label name in label_replace(): " + dst;
    return {};
  }
  const Vector& in = VectorArg(ctx, 0);
  Vector out;
  out.reserve(in.size());
  std::vector<re2::StringPiece> groups(re->NumberOfCapturingGroups() + 1);
  for (const VectorElement& e : in) {
    VectorElement r{e.metric, ctx.ts_ms, e.v};
    std::string_view value = GetLabel(e.metric, src);
    re2::StringPiece text(value.data(), value.size());
    if (re->Match(text, 0, text.size(), re2::RE2::UNANCHORED, groups.data(),
                  static_cast<int>(groups.size()))) {
      SetLabel(r.metric, dst, ExpandTemplate(*re, replacement, groups));
    }
    out.push_back(std::move(r));
  }
  return out;
}

Value LabelJoin(const FunctionCallContext& ctx, std::string* error) {
  const std::string& dst = StringArg(ctx, 1);
  const std::string& separator = StringArg(ctx, 2);
  std::vector<std::string_view> sources;
  for (size_t i = 3; i < ctx.args.size(); ++i) {
    const std::string& src = StringArg(ctx, i);
    if (!IsValidLabelName(src)) {
      *error = "invalid source label name in label_join(): " + src;
      return {};
    }
    sources.push_back(src);
  }
  if (!IsValidLabelName(dst)) {
    *error = "invalid destination label name in label_join(): " + dst;
    return {};
  }
  const Vector& in = VectorArg(ctx, 0);
  Vector out;
  out.reserve(in.size());
  for (const VectorElement& e : in) {
    std::string joined;
    for (size_t i = 0; i < sources.size(); ++i) {
      if (i > 0) joined += separator;
      joined += GetLabel(e.metric, sources[i]);
    }
    VectorElement r{e.metric, ctx.ts_ms, e.v};
    SetLabel(r.metric, dst, std::move(joined));
    out.push_back(std::move(r));
  }
  return out;
}

Value Absent(const FunctionCallContext& ctx, std::string*) {
  if (!VectorArg(ctx, 0).empty()) return Vector{};
  const Expr* arg = ctx.call != nullptr && !ctx.call->args.empty() ? ctx.call->args[0].get() : nullptr;
  return Vector{{LabelsForAbsent(arg), ctx.ts_ms, 1}};
}

}  // namespace

Labels LabelsForAbsent(const Expr* arg) {
  while (arg != nullptr && arg->As<ParenExpr>() != nullptr) arg = arg->As<ParenExpr>()->expr.get();
  const VectorSelector* vs = nullptr;
  if (arg != nullptr) {
    if (const auto* ms = arg->As<MatrixSelector>()) {
      vs = ms->vector_selector.get();
    } else {
      vs = arg->As<VectorSelector>();
    }
  }
  Labels labels;
  if (vs == nullptr) return labels;
  std::set<std::string> seen;
  for (const MatcherPtr& m : vs->matchers) {
    if (m->name() == kMetricNameLabel) continue;
    if (m->type() == LabelMatcher::Type::kEqual && seen.insert(m->name()).second) {
      SetLabel(labels, m->name(), m->value());
    } else {
      SetLabel(labels, m->name(), "");
    }
  }
  return labels;
}

const FunctionImplEntry kLabelFunctions[] = {
    {"label_replace", LabelReplace},
    {"label_join", LabelJoin},
    {"absent", Absent},
    {"", nullptr},
};

}  // namespace crmscope::promql
