#pragma once
// The OKX REST authentication check (PROTOCOLS.md §1) as one pure function. The signature is
// verified over timestamp + method + the raw target + the raw body exactly as received, so every
// client style (encoded or raw query, compact or spaced JSON, `{}` or no body) verifies as long
// as it signed what it sent.

#include <cstdint>
#include <optional>
#include <string_view>

#include "engine/sim/sim_http.hpp"

namespace rfq::sim {

struct OkxSimOptions;

struct OkxRefusal {
  unsigned status;        // HTTP status, 401 for every auth failure
  std::string_view code;  // "50103", ...
  std::string_view msg;
};

// nullopt when the request is authentic; otherwise the first failure, checked in this order:
// missing/empty KEY 50103, SIGN 50106, TIMESTAMP 50107, PASSPHRASE 50104; malformed timestamp
// 50112; outside the tolerance 50102; unknown key 50111; wrong passphrase 50105; bad sign 50113.
std::optional<OkxRefusal> check_okx_auth(const SimHttpRequest& request,
                                         const OkxSimOptions& options, std::int64_t now_ms);

}  // namespace rfq::sim
