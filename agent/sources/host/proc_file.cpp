#include "agent/sources/host/proc_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>

namespace crmscope::agent::host {

bool ReadProcFile(const char* path, std::string* buffer) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  if (buffer->capacity() < 4096) buffer->reserve(4096);
  buffer->resize(buffer->capacity());
  size_t used = 0;
  for (;;) {
    ssize_t n = read(fd, buffer->data() + used, buffer->size() - used);
    if (n < 0) {
      close(fd);
      return false;
    }
    used += static_cast<size_t>(n);
    if (n == 0 || used < buffer->size()) break;
    buffer->resize(buffer->size() * 2);
  }
  close(fd);
  buffer->resize(used);
  return true;
}

bool NextLine(std::string_view* text, std::string_view* line) {
  if (text->empty()) return false;
  size_t end = text->find('\n');
  if (end == std::string_view::npos) {
    *line = *text;
    *text = {};
  } else {
    *line = text->substr(0, end);
    text->remove_prefix(end + 1);
  }
  return true;
}

std::string_view NextField(std::string_view* text) {
  size_t start = text->find_first_not_of(" \t");
  if (start == std::string_view::npos) {
    *text = {};
    return {};
  }
  size_t end = text->find_first_of(" \t", start);
  if (end == std::string_view::npos) end = text->size();
  std::string_view field = text->substr(start, end - start);
  text->remove_prefix(end);
  return field;
}

bool ParseUint(std::string_view field, uint64_t* value) {
  auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), *value);
  return !field.empty() && ec == std::errc() && end == field.data() + field.size();
}

bool ParseDouble(std::string_view field, double* value) {
  auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), *value);
  return !field.empty() && ec == std::errc() && end == field.data() + field.size();
}

}  // namespace crmscope::agent::host
