#include "engine/auth/okx_signer.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <charconv>
#include <ctime>
#include <memory>
#include <string>
#include <unordered_map>

namespace rfq::auth {
namespace {

// OpenSSL 3's one-shot HMAC() fetches the algorithm on every call (~10k instructions). A keyed
// context is built once per secret and duplicated per signature instead.
struct MacCtxDeleter {
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};
using MacCtx = std::unique_ptr<EVP_MAC_CTX, MacCtxDeleter>;

MacCtx keyed_context(std::string_view secret) {
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  MacCtx ctx(EVP_MAC_CTX_new(mac));
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(secret.data()), secret.size(),
               params);
  return ctx;
}

struct Hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

const EVP_MAC_CTX* template_for(std::string_view secret) {
  // Per thread, a handful of secrets at most (one per venue account); looked up without
  // copying the secret.
  thread_local std::unordered_map<std::string, MacCtx, Hash, std::equal_to<>> cache;
  auto it = cache.find(secret);
  if (it == cache.end()) {
    if (cache.size() >= 16) cache.clear();
    it = cache.emplace(std::string(secret), keyed_context(secret)).first;
  }
  return it->second.get();
}

}  // namespace

std::string okx_timestamp(std::int64_t unix_ms) {
  if (unix_ms < 0) unix_ms = 0;  // times before 1970 never occur; keep the format valid
  std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  int ms = static_cast<int>(unix_ms % 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

bool parse_okx_timestamp(std::string_view ts, std::int64_t& unix_ms) {
  // Strict: YYYY-MM-DDTHH:MM:SS.mmmZ
  if (ts.size() != 24 || ts[4] != '-' || ts[7] != '-' || ts[10] != 'T' || ts[13] != ':' ||
      ts[16] != ':' || ts[19] != '.' || ts[23] != 'Z') {
    return false;
  }
  // Digits only: from_chars would accept a leading '-'.
  auto num = [&](std::size_t pos, std::size_t len, int& out) {
    for (std::size_t i = pos; i < pos + len; ++i) {
      if (ts[i] < '0' || ts[i] > '9') return false;
    }
    auto [p, ec] = std::from_chars(ts.data() + pos, ts.data() + pos + len, out);
    return ec == std::errc() && p == ts.data() + pos + len;
  };
  int y, mo, d, h, mi, s, ms;
  if (!num(0, 4, y) || !num(5, 2, mo) || !num(8, 2, d) || !num(11, 2, h) || !num(14, 2, mi) ||
      !num(17, 2, s) || !num(20, 3, ms)) {
    return false;
  }
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo < 1 || mo > 12 || h > 23 || mi > 59 || s > 59) return false;
  if (d < 1 || d > kDays[mo - 1] + (mo == 2 && leap ? 1 : 0)) return false;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  unix_ms = static_cast<std::int64_t>(timegm(&tm)) * 1000 + ms;
  return true;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  std::size_t mac_len = 0;
  MacCtx ctx(EVP_MAC_CTX_dup(template_for(key)));
  EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(data.data()), data.size());
  EVP_MAC_final(ctx.get(), mac, &mac_len, sizeof mac);
  return std::string(reinterpret_cast<const char*>(mac), mac_len);
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  static constexpr char kHex[] = "0123456789abcdef";
  const std::string mac = hmac_sha256(key, data);
  std::string out;
  out.reserve(mac.size() * 2);
  for (unsigned char c : mac) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0x0F]);
  }
  return out;
}

std::string okx_sign(std::string_view secret, std::string_view prehash) {
  const std::string raw = hmac_sha256(secret, prehash);
  const auto* mac = reinterpret_cast<const unsigned char*>(raw.data());
  const std::size_t mac_len = raw.size();
  std::string out(4 * ((mac_len + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), mac,
                          static_cast<int>(mac_len));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

bool equal_ct(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace rfq::auth
