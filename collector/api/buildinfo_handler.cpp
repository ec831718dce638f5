#include "collector/api/buildinfo_handler.h"

#include <string>

namespace crmscope::api {

HttpResponse HandleBuildInfo(std::string_view version) {
  std::string data = R"({"version":)";
  AppendJsonString(std::string(kPrometheusApiVersion) + "+crmscope." + std::string(version), &data);
  data += R"(,"revision":"","branch":"","buildUser":"","buildDate":"","goVersion":"",)";
  data += R"("application":"crmscope-collector"})";
  return SuccessResponse(data);
}

}  // namespace crmscope::api
