#pragma once
// Deribit request signing (PROTOCOLS.md §8). Pure functions; the simulator verifies with the
// same formulas.
//   client_signature (WS public/auth): hex(HMAC-SHA256(secret, ts + "\n" + nonce + "\n" + data))
//   deri-hmac-sha256 (HTTP header):    hex(HMAC-SHA256(secret, ts + "\n" + nonce + "\n" +
//                                          METHOD + "\n" + URI + "\n" + body + "\n"))

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/auth/credentials.hpp"

namespace rfq::auth {

struct DeribitCredentials {
  std::string client_id;
  Secret client_secret;
};

std::string deribit_ws_signature(std::string_view secret, std::int64_t timestamp_ms,
                                 std::string_view nonce, std::string_view data);

// URI: path and query, e.g. "/api/v2/private/cancel_block_rfq?block_rfq_id=366".
std::string deribit_http_signature(std::string_view secret, std::int64_t timestamp_ms,
                                   std::string_view nonce, std::string_view method,
                                   std::string_view uri, std::string_view body);

// "deri-hmac-sha256 id=ID,ts=TS,sig=SIG,nonce=NONCE"
std::string deribit_http_authorization(const DeribitCredentials& creds, std::int64_t timestamp_ms,
                                       std::string_view nonce, std::string_view method,
                                       std::string_view uri, std::string_view body);

}  // namespace rfq::auth
