// Parsing PromQL text into the syntax tree of ast.h, accepting the language of Prometheus
// 2.42 with its operator precedence, type rules and error messages. Errors read exactly as
// Prometheus's do ("1:5: parse error: unexpected identifier \"bar\"") because clients and
// Grafana show them to users, and tests compare them with Prometheus's.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "collector/promql/ast.h"
#include "common/label_matcher.h"

namespace crmscope::promql {

// Parses and type-checks an expression, as Prometheus's parser.ParseExpr. On failure returns
// nullptr and sets *error to the first error, positioned as line:column of the query.
ExprPtr ParseExpr(std::string_view input, std::string* error);

// Parses a series selector (`up`, `{job="crm"}`, `http_requests_total{code=~"5.."}`), as
// Prometheus's parser.ParseMetricSelector: a metric name becomes a __name__ matcher placed
// after the matchers in braces. Like Prometheus's, it does not reject selectors that match
// every series (`{}`, `{a=""}`); callers taking match[] use ParseMatchersParam for that.
bool ParseMetricSelector(std::string_view input, Matchers* out, std::string* error);

// The match[] parameters of the HTTP API, checked as Prometheus's API checks them: each must
// parse, and each must have a matcher that does not match the empty string, or the error is
// "match[] must contain at least one non-empty matcher".
bool ParseMatchersParam(const std::vector<std::string>& inputs, std::vector<Matchers>* out,
                        std::string* error);

}  // namespace crmscope::promql
