// The agent's derived series (what its sources produced in their latest collection) in the
// text exposition format 0.0.4, appended to its own /metrics when `global.expose_series` is on,
// so a stock Prometheus can scrape the agent directly instead of receiving remote write.
//
// Series are grouped by family so each family's samples are contiguous, as the format requires;
// histogram and summary series (_bucket, _sum, _count) join the family their source described.
// Stale markers are left out: in a scrape, a series that ended is simply absent. Timestamps are
// left out too: the scraper stamps the scrape, as it does for any exporter.
#pragma once

#include <string>
#include <vector>

#include "agent/core/batch_sink.h"

namespace crmscope::agent {

struct LatestCollection {
  remote_write::WriteRequest batch;
  FamilyCatalog catalog;
};

void AppendExposition(const std::vector<const LatestCollection*>& collections, std::string* out);

}  // namespace crmscope::agent
