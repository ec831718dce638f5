// Response compression of the shared HTTP server: gzip exactly when the client accepts it, a
// body that inflates back to what the handler returned, and identity otherwise.
#include <curl/curl.h>
#include <strings.h>
#include <doctest/doctest.h>
#include <zlib.h>

#include <memory>
#include <string>

#include "exporters/http/gzip_body.h"
#include "exporters/http/http_server.h"

namespace http = crmscope::http;

namespace {

struct Fetched {
  long status = 0;
  std::string body;
  std::string content_encoding;
};

size_t Append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

size_t Header(char* data, size_t size, size_t n, void* out) {
  std::string line(data, size * n);
  const std::string name = "content-encoding:";
  if (line.size() > name.size() && strncasecmp(line.c_str(), name.c_str(), name.size()) == 0) {
    std::string value = line.substr(name.size());
    value.erase(0, value.find_first_not_of(' '));
    value.erase(value.find_last_not_of("\r\n ") + 1);
    *static_cast<std::string*>(out) = value;
  }
  return size * n;
}

// A GET with the given Accept-Encoding header (none when empty); the body as it came, undecoded.
Fetched Get(int port, const std::string& accept_encoding) {
  Fetched fetched;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/api/v1/query";
  curl_slist* headers = nullptr;
  if (!accept_encoding.empty()) {
    headers = curl_slist_append(headers, ("Accept-Encoding: " + accept_encoding).c_str());
  }
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, Append);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &fetched.body);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, Header);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERDATA, &fetched.content_encoding);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, 5000L);
  REQUIRE(curl_easy_perform(curl.get()) == CURLE_OK);
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &fetched.status);
  curl_slist_free_all(headers);
  return fetched;
}

std::string Gunzip(const std::string& gz) {
  z_stream z{};
  REQUIRE(inflateInit2(&z, 15 + 16) == Z_OK);
  std::string out(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = static_cast<uInt>(gz.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int result = inflate(&z, Z_FINISH);
  out.resize(z.total_out);
  inflateEnd(&z);
  REQUIRE(result == Z_STREAM_END);
  return out;
}

}  // namespace

TEST_CASE("http: Accept-Encoding is read as RFC 9110 says, for gzip") {
  CHECK(http::AcceptsGzip("gzip"));
  CHECK(http::AcceptsGzip("deflate, gzip;q=0.5"));
  CHECK(http::AcceptsGzip(" GZIP "));
  CHECK(http::AcceptsGzip("*"));
  CHECK_FALSE(http::AcceptsGzip(""));
  CHECK_FALSE(http::AcceptsGzip("identity"));
  CHECK_FALSE(http::AcceptsGzip("gzip;q=0"));
  CHECK_FALSE(http::AcceptsGzip("br, gzip; q=0.000"));
  CHECK_FALSE(http::AcceptsGzip("x-gzip2"));
}

TEST_CASE("http: bodies go gzip'ed to clients that accept it, as they were otherwise") {
  std::string payload = R"({"status":"success","data":{"resultType":"matrix","result":[)";
  for (int i = 0; i < 500; ++i) payload += R"({"metric":{"job":"crm"},"values":[[1,"0.5"]]},)";
  payload += "]}}";
  std::string error;
  auto server = http::HttpServer::Start(
      {.listen_address = "127.0.0.1:0", .num_threads = 2},
      [&](http::HttpRequest&) {
        http::HttpResponse response;
        response.content_type = "application/json";
        response.body = payload;
        return response;
      },
      &error);
  REQUIRE_MESSAGE(server != nullptr, error);

  Fetched gzipped = Get(server->port(), "gzip, deflate, br");
  CHECK(gzipped.status == 200);
  CHECK(gzipped.content_encoding == "gzip");
  CHECK(gzipped.body.size() < payload.size() / 5);
  CHECK(Gunzip(gzipped.body) == payload);

  Fetched plain = Get(server->port(), "");
  CHECK(plain.content_encoding.empty());
  CHECK(plain.body == payload);

  Fetched refused = Get(server->port(), "gzip;q=0, identity");
  CHECK(refused.content_encoding.empty());
  CHECK(refused.body == payload);
}
