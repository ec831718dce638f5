// Reading /proc without iostreams or per-read allocation: a file is read whole into a buffer the
// caller keeps between collections, then scanned as string_views.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace crmscope::agent::host {

// Reads the file at `path` into *buffer, whose capacity is reused and grown as needed. /proc files
// report size 0, so the buffer sizes the read; seq_file-backed files (all the ones read here)
// fill a read until their end, so a read that leaves room is the last one and one read() is
// usually all it takes.
bool ReadProcFile(const char* path, std::string* buffer);

// Splits off the next line (without its '\n'); false when `text` is exhausted.
bool NextLine(std::string_view* text, std::string_view* line);
// Splits off the next run of non-blanks; "" when none is left.
std::string_view NextField(std::string_view* text);
// A whole field as an unsigned integer or a decimal number; false if it is not one.
bool ParseUint(std::string_view field, uint64_t* value);
bool ParseDouble(std::string_view field, double* value);

}  // namespace crmscope::agent::host
