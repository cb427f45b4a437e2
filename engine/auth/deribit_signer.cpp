#include "engine/auth/deribit_signer.hpp"

#include "engine/auth/okx_signer.hpp"

namespace rfq::auth {

std::string deribit_ws_signature(std::string_view secret, std::int64_t timestamp_ms,
                                 std::string_view nonce, std::string_view data) {
  std::string s = std::to_string(timestamp_ms);
  s.append("\n").append(nonce).append("\n").append(data);
  return hmac_sha256_hex(secret, s);
}

std::string deribit_http_signature(std::string_view secret, std::int64_t timestamp_ms,
                                   std::string_view nonce, std::string_view method,
                                   std::string_view uri, std::string_view body) {
  std::string s = std::to_string(timestamp_ms);
  s.append("\n").append(nonce).append("\n");
  for (char c : method) s.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
  s.append("\n").append(uri).append("\n").append(body).append("\n");
  return hmac_sha256_hex(secret, s);
}

std::string deribit_http_authorization(const DeribitCredentials& creds, std::int64_t timestamp_ms,
                                       std::string_view nonce, std::string_view method,
                                       std::string_view uri, std::string_view body) {
  const std::string sig = deribit_http_signature(creds.client_secret.reveal(), timestamp_ms, nonce,
                                                 method, uri, body);
  return "deri-hmac-sha256 id=" + creds.client_id + ",ts=" + std::to_string(timestamp_ms) +
         ",sig=" + sig + ",nonce=" + std::string(nonce);
}

}  // namespace rfq::auth
