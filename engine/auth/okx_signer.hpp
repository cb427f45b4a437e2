#pragma once
// OKX v5 request signing (PROTOCOLS.md §1): prehash = timestamp + METHOD + requestPath + body,
// sign = Base64(HMAC-SHA256(secret, prehash)). Pure functions; the simulator verifies with the
// same ones over the raw bytes it received.

#include <cstdint>
#include <string>
#include <string_view>

namespace rfq::auth {

// "2020-12-08T09:08:57.715Z": UTC, exactly millisecond precision.
std::string okx_timestamp(std::int64_t unix_ms);

// Parses an okx_timestamp() string back to Unix ms; false when malformed.
bool parse_okx_timestamp(std::string_view ts, std::int64_t& unix_ms);

std::string okx_sign(std::string_view secret, std::string_view prehash);

// HMAC-SHA256 with a cached keyed context per key: the raw 32 bytes, or lowercase hex.
std::string hmac_sha256(std::string_view key, std::string_view data);
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

inline std::string okx_prehash(std::string_view ts, std::string_view method,
                               std::string_view target, std::string_view body) {
  std::string s;
  s.reserve(ts.size() + method.size() + target.size() + body.size());
  s.append(ts).append(method).append(target).append(body);
  return s;
}

// WS login: sign over timestamp(seconds) + "GET" + "/users/self/verify".
inline std::string okx_ws_login_sign(std::string_view secret, std::string_view ts_seconds) {
  return okx_sign(secret, okx_prehash(ts_seconds, "GET", "/users/self/verify", ""));
}

// Constant-time comparison for signature checks.
bool equal_ct(std::string_view a, std::string_view b);

}  // namespace rfq::auth
