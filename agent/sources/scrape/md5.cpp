#include "agent/sources/scrape/md5.h"

#include <openssl/evp.h>

namespace crmscope::agent {

// OpenSSL's MD5 (libcrypto): hashmod needs exactly the digest Go's crypto/md5 gives Prometheus.
std::array<uint8_t, 16> Md5(std::string_view data) {
  std::array<uint8_t, 16> digest{};
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_md5(), nullptr);
  return digest;
}

}  // namespace crmscope::agent
