#pragma once
// OKX block-trading RFQ REST: pure request builders and response parsers (PROTOCOLS.md §3, §5).
// No I/O here; the session glue (okx_venue) sends what these build and feeds back what arrives.
// Tested offline against recorded bodies in tests/fixtures/okx/.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/auth/credentials.hpp"
#include "engine/book/rfq.hpp"
#include "engine/core/error.hpp"
#include "engine/venues/venue.hpp"

namespace rfq::okx {

inline constexpr std::string_view kCancelRfqPath = "/api/v5/rfq/cancel-rfq";
inline constexpr std::string_view kRfqsPath = "/api/v5/rfq/rfqs";
inline constexpr std::string_view kPublicTimePath = "/api/v5/public/time";
inline constexpr int kRfqsPageLimit = 100;

using Headers = std::vector<std::pair<std::string, std::string>>;

// clRfqId and WS ids: 1-32 ASCII letters or digits.
bool valid_client_id(std::string_view s);

// {"rfqId":"22535"} or {"clRfqId":"rfq001"}; both keys when both are set (OKX: rfqId wins).
// Compact JSON with proper escaping. The caller has validated the ids.
std::string build_cancel_rfq_body(std::string_view id, std::string_view client_id);

// "/api/v5/rfq/rfqs?state=active&limit=100[&endId=...]" (endId pages to older RFQs).
std::string rfqs_target(std::string_view state, std::string_view end_id = {});

// The four OK-ACCESS-* headers, Content-Type (non-GET), and x-simulated-trading: 1 when demo.
Headers auth_headers(const auth::OkxCredentials& creds, std::int64_t unix_ms,
                     std::string_view method, std::string_view target, std::string_view body,
                     bool demo);

// Venue code (top-level code or item sCode) + HTTP status -> stable code.
//   "0" -> ok; 70000 -> UNKNOWN_RFQ; 70200 -> NOT_CANCELABLE; 70207 -> NOTHING_TO_CANCEL;
//   50011, 50061 or HTTP 429 -> RATE_LIMITED; 501xx -> AUTH; 50001, 50013, 50026, 70208,
//   HTTP 5xx -> UNAVAILABLE; 50004 -> TIMEOUT; anything else -> REJECTED.
// A known venue code wins over the HTTP status (50013 arrives with 429 but means "busy");
// an unknown code falls back to the status (429 -> RATE_LIMITED, 401 -> AUTH, 5xx ->
// UNAVAILABLE); "0" is ok only with a 2xx status.
Errc map_code(std::string_view code, unsigned http_status);

// Parses a cancel-rfq answer of any documented shape: success, per-item sCode failure,
// bare top-level code, 429/50011, 401/501xx, 5xx (with or without a JSON body), malformed
// JSON (-> UNAVAILABLE, message says so). Echoes req's ids when the body has none.
CancelResult parse_cancel_rfq(unsigned http_status, std::string_view body,
                              std::string_view req_id, std::string_view req_client_id);

struct RfqPage {
  boost::system::error_code ec;
  std::string venue_code;
  std::string message;
  std::vector<Rfq> rfqs;  // venue "okx", state normalized, raw_state kept
};

// Parses GET /api/v5/rfq/rfqs. Items: rfqId, clRfqId, tag -> label, state, cTime, validUntil,
// legs[] {instId, side, sz}. Numbers arrive as strings; a malformed item fails the page.
RfqPage parse_rfqs(unsigned http_status, std::string_view body);

// OKX RFQ state word -> the one vocabulary (active, canceled, expired, filled, pending_fill,
// failed; traded_away -> "canceled" is wrong, so it maps to "failed" with raw kept).
std::string normalize_state(std::string_view raw);

// GET /api/v5/public/time -> server ms; false when the body is not the documented shape.
bool parse_public_time(std::string_view body, std::int64_t& server_ms);

}  // namespace rfq::okx
