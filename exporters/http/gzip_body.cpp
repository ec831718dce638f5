#include "exporters/http/gzip_body.h"

#include <zlib.h>

#include <memory>
#include <stdexcept>

#include "common/ascii_case.h"

namespace crmscope::http {

namespace {

std::string_view Trimmed(std::string_view s) {
  size_t first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  size_t last = s.find_last_not_of(" \t");
  return s.substr(first, last - first + 1);
}

// "q=0", "q=0.0", "q=0.000": the coding is refused (RFC 9110 12.5.3).
bool RefusedByWeight(std::string_view params) {
  for (size_t at = 0; at < params.size();) {
    size_t end = params.find(';', at);
    if (end == std::string_view::npos) end = params.size();
    std::string_view param = Trimmed(params.substr(at, end - at));
    if (param.size() >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
      std::string_view value = param.substr(2);
      return !value.empty() && value.find_first_not_of("0.") == std::string_view::npos;
    }
    at = end + 1;
  }
  return false;
}

struct DeflateStream {
  z_stream stream{};
  bool open = false;
  ~DeflateStream() {
    if (open) deflateEnd(&stream);
  }
};

}  // namespace

bool AcceptsGzip(std::string_view accept_encoding) {
  for (size_t at = 0; at <= accept_encoding.size();) {
    size_t end = accept_encoding.find(',', at);
    if (end == std::string_view::npos) end = accept_encoding.size();
    std::string_view item = accept_encoding.substr(at, end - at);
    size_t semicolon = item.find(';');
    std::string_view coding = Trimmed(item.substr(0, semicolon));
    std::string_view params =
        semicolon == std::string_view::npos ? std::string_view() : item.substr(semicolon + 1);
    if ((EqualsIgnoreCase(coding, "gzip") || coding == "*") && !RefusedByWeight(params)) {
      return true;
    }
    at = end + 1;
  }
  return false;
}

std::string GzipBody(std::string_view body) {
  DeflateStream z;
  // windowBits 15 + 16: a gzip header and trailer around the deflate stream.
  if (deflateInit2(&z.stream, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("zlib: deflateInit2 failed");
  }
  z.open = true;
  std::string out(deflateBound(&z.stream, body.size()) + 18, '\0');
  z.stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  z.stream.avail_in = static_cast<uInt>(body.size());
  z.stream.next_out = reinterpret_cast<Bytef*>(out.data());
  z.stream.avail_out = static_cast<uInt>(out.size());
  if (deflate(&z.stream, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("zlib: deflate failed");
  out.resize(z.stream.total_out);
  return out;
}

}  // namespace crmscope::http
