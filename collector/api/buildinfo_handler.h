// /api/v1/status/buildinfo, with the fields of Prometheus's answer. Grafana reads it to tell
// Prometheus from Mimir (Mimir's answer has "features"; ours has none, so Grafana treats the
// collector as Prometheus) and reads "version" as a semantic version to decide which API
// features it may use. The collector implements Prometheus 2.42's API, so the version says
// 2.42.0, and its build metadata says whose it is: "2.42.0+crmscope.0.1.0" (semver comparisons
// ignore build metadata, as Debian's "2.42.0+ds" shows). "application" names the program, as
// Mimir's answer does; the Go-specific fields are empty, since there is no Go build behind it.
#pragma once

#include <string_view>

#include "collector/api/api_response.h"

namespace crmscope::api {

inline constexpr std::string_view kPrometheusApiVersion = "2.42.0";

// `version` is crmscope's own ("0.1.0").
HttpResponse HandleBuildInfo(std::string_view version);

}  // namespace crmscope::api
