#include "crm_demo/launcher/log_file.h"

#include <deque>
#include <fstream>

namespace crmscope::launcher {

std::string LastLines(const std::string& path, int count) {
  std::ifstream in(path);
  std::deque<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(std::move(line));
    if (static_cast<int>(lines.size()) > count) lines.pop_front();
  }
  std::string out;
  for (const std::string& line : lines) out += "  " + line + "\n";
  return out;
}

std::string FromLastMarker(const std::string& path, std::string_view marker) {
  std::ifstream in(path);
  std::string out;
  bool found = false;
  for (std::string line; std::getline(in, line);) {
    if (line.find(marker) != std::string::npos) {
      out.clear();
      found = true;
    }
    if (found) out += line + "\n";
  }
  return out;
}

}  // namespace crmscope::launcher
