// MD5 (RFC 1321), here only because Prometheus defines relabelling's hashmod on it: targets and
// series must land in the same shard as Prometheus puts them. Not for anything security-related.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace crmscope::agent {

std::array<uint8_t, 16> Md5(std::string_view data);

}  // namespace crmscope::agent
