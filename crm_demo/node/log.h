// crm-node's log lines: logfmt on stderr, as Prometheus and the collector write them
//   ts=2026-11-27T09:00:00.123Z level=info node=node1 msg=Listening address=127.0.0.1:40123
// The launcher finds a node's port by grepping "msg=Listening address=".
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace crmscope::crm::log {

using Field = std::pair<std::string_view, std::string_view>;

// Added to every line after the level ("node=node1"); set once at startup.
void SetNodeName(std::string name);

// One write(2) per line, so lines from concurrent threads stay whole.
void Info(std::string_view msg, std::initializer_list<Field> fields = {});
void Warn(std::string_view msg, std::initializer_list<Field> fields = {});
void Error(std::string_view msg, std::initializer_list<Field> fields = {});

}  // namespace crmscope::crm::log
