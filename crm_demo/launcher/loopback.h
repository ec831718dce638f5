// Small socket chores on 127.0.0.1 for starting the stack.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace crmscope::launcher {

// `count` distinct ports the kernel considers free right now. All are bound at once before any
// is released, so they differ from each other; another program could still take one before
// its server binds it, which the start then reports as that server failing.
bool PickFreePorts(int count, std::vector<int>* ports, std::string* error);

// True when a Redis server on the port answers PING with +PONG.
bool RedisAnswersPing(int port, std::chrono::milliseconds timeout);

}  // namespace crmscope::launcher
