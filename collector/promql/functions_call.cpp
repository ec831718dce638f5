#include <cmath>

#include "collector/promql/functions.h"
#include "collector/promql/functions_impl.h"

namespace crmscope::promql {

namespace {

const Vector kEmptyVector;
const std::string kEmptyString;

}  // namespace

Labels DropMetricName(const Labels& labels) {
  Labels out;
  out.reserve(labels.size());
  for (const Label& l : labels) {
    if (l.name != kMetricNameLabel) out.push_back(l);
  }
  return out;
}

const Vector& VectorArg(const FunctionCallContext& ctx, size_t i) {
  if (i >= ctx.args.size()) return kEmptyVector;
  const Vector* v = std::get_if<Vector>(&ctx.args[i]);
  return v ? *v : kEmptyVector;
}

double ScalarArg(const FunctionCallContext& ctx, size_t i) {
  if (i >= ctx.args.size()) return std::nan("");
  const Scalar* s = std::get_if<Scalar>(&ctx.args[i]);
  return s ? s->v : std::nan("");
}

const std::string& StringArg(const FunctionCallContext& ctx, size_t i) {
  if (i >= ctx.args.size()) return kEmptyString;
  const String* s = std::get_if<String>(&ctx.args[i]);
  return s ? s->v : kEmptyString;
}

FunctionImpl FindFunctionImpl(std::string_view name) {
  return FindMathFunction(name);
}

Value CallFunction(const FunctionCallContext& ctx, std::string* error) {
  std::string_view name = ctx.call && ctx.call->func ? ctx.call->func->name : "";
  FunctionImpl impl = FindFunctionImpl(name);
  if (impl == nullptr) {
    *error = "unsupported function: " + std::string(name);
    return {};
  }
  return impl(ctx, error);
}

}  // namespace crmscope::promql
