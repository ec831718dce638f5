#include "exporters/instrumentation/text_exposition.h"

#include <civetweb.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

namespace crmscope::instrumentation {

void MetricsEndpoint::Register(std::weak_ptr<prometheus::Collectable> collectable) {
  std::lock_guard<std::mutex> lock(mu_);
  collectables_.push_back(std::move(collectable));
}

std::string MetricsEndpoint::Serialize() const {
  std::vector<std::shared_ptr<prometheus::Collectable>> alive;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& weak : collectables_) {
      if (auto collectable = weak.lock()) alive.push_back(std::move(collectable));
    }
  }
  std::vector<prometheus::MetricFamily> families;
  for (const auto& collectable : alive) {
    std::vector<prometheus::MetricFamily> collected = collectable->Collect();
    families.insert(families.end(), std::make_move_iterator(collected.begin()),
                    std::make_move_iterator(collected.end()));
  }
  return prometheus::TextSerializer().Serialize(families);
}

int MetricsEndpoint::Serve(mg_connection* conn) const {
  std::string body = Serialize();
  std::string length = std::to_string(body.size());
  std::string content_type(kTextExpositionContentType);
  mg_response_header_start(conn, 200);
  mg_response_header_add(conn, "Content-Type", content_type.c_str(), -1);
  mg_response_header_add(conn, "Content-Length", length.c_str(), -1);
  mg_response_header_send(conn);
  const mg_request_info* info = mg_get_request_info(conn);
  bool head = info->request_method != nullptr && std::string_view(info->request_method) == "HEAD";
  if (!head) mg_write(conn, body.data(), body.size());
  return 200;
}

void AddSingleValueFamily(std::vector<prometheus::MetricFamily>* out, const char* name,
                          const char* help, prometheus::MetricType type, double value) {
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = type;
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(std::move(metric));
  out->push_back(std::move(family));
}

}  // namespace crmscope::instrumentation
