// /api/v1/query_exemplars. The collector keeps no exemplars (remote write 1.0 carries none from
// the agents), so a valid query answers an empty list; the parameters are still checked as
// Prometheus 2.42 checks them, so a client's mistakes read the same, and a query without any
// series selector answers 204 No Content, as Prometheus's does.
#pragma once

#include "collector/api/api_params.h"

namespace crmscope::api {

HttpResponse HandleQueryExemplars(const FormValues& form);

}  // namespace crmscope::api
