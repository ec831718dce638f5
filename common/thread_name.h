// Names the calling thread, so top -H, ps -L and /proc/PID/task/*/comm show which part of a
// process a thread belongs to ("rw-shard-2", "src:host"). Linux keeps 15 bytes; longer names
// are cut.
#pragma once

#include <pthread.h>

#include <string>
#include <string_view>

namespace crmscope {

inline void SetCurrentThreadName(std::string_view name) {
  std::string cut(name.substr(0, 15));
  pthread_setname_np(pthread_self(), cut.c_str());
}

}  // namespace crmscope
