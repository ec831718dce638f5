// Where HAProxy's stats CSV comes from: its stats page over HTTP ("http://host:8404/stats;csv")
// or its stats socket (the "show stat" command of the runtime API).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace crmscope::agent {

class StatsFetcher {
 public:
  virtual ~StatsFetcher() = default;
  // Replaces *csv with the current stats CSV; false with a short *error on failure. Returns
  // within the timeout it was made with.
  virtual bool Fetch(std::string* csv, std::string* error) = 0;
};

// Keeps one connection to the stats page alive between fetches.
std::unique_ptr<StatsFetcher> MakeHttpStatsFetcher(const std::string& url, int64_t timeout_ms);
// One connection per fetch: HAProxy's CLI closes it after answering a single command.
std::unique_ptr<StatsFetcher> MakeSocketStatsFetcher(const std::string& path, int64_t timeout_ms);

}  // namespace crmscope::agent
