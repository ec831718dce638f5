#include "bench/ingest/payload_file.h"

#include <array>
#include <cstring>

namespace crmscope::bench {
namespace {

constexpr char kMagic[8] = {'C', 'R', 'M', 'P', 'A', 'Y', '0', '1'};

}  // namespace

PayloadWriter::PayloadWriter(const std::string& path) : out_(path, std::ios::binary | std::ios::trunc) {
  out_.write(kMagic, sizeof kMagic);
}

void PayloadWriter::Write(const Payload& payload) {
  const std::array<uint32_t, 4> header = {payload.slice, payload.step, payload.samples,
                                          static_cast<uint32_t>(payload.body.size())};
  out_.write(reinterpret_cast<const char*>(header.data()), sizeof header);
  out_.write(payload.body.data(), static_cast<std::streamsize>(payload.body.size()));
}

bool PayloadWriter::Close() {
  out_.close();
  return !out_.fail();
}

bool ReadPayloads(const std::string& path, std::vector<Payload>* out, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  char magic[sizeof kMagic];
  if (!in.read(magic, sizeof magic) || std::memcmp(magic, kMagic, sizeof kMagic) != 0) {
    *error = path + ": not a payload file (run ingest_payload_gen)";
    return false;
  }
  out->clear();
  std::array<uint32_t, 4> header;
  while (in.read(reinterpret_cast<char*>(header.data()), sizeof header)) {
    Payload& payload = out->emplace_back();
    payload.slice = header[0];
    payload.step = header[1];
    payload.samples = header[2];
    payload.body.resize(header[3]);
    if (!in.read(payload.body.data(), header[3])) {
      *error = path + ": truncated at record " + std::to_string(out->size());
      return false;
    }
  }
  if (!in.eof() || in.gcount() != 0) {
    *error = path + ": read error or truncated record header";
    return false;
  }
  return true;
}

}  // namespace crmscope::bench
