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

namespace boost::json {
class object;
}

namespace rfq::okx {

inline constexpr std::string_view kCancelRfqPath = "/api/v5/rfq/cancel-rfq";
inline constexpr std::string_view kRfqsPath = "/api/v5/rfq/rfqs";
inline constexpr std::string_view kPublicTimePath = "/api/v5/public/time";
inline constexpr std::string_view kCancelBatchRfqsPath = "/api/v5/rfq/cancel-batch-rfqs";
inline constexpr std::string_view kCancelAllRfqsPath = "/api/v5/rfq/cancel-all-rfqs";
inline constexpr int kRfqsPageLimit = 100;
inline constexpr std::size_t kBatchMax = 100;  // ids per cancel-batch-rfqs request

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

// One RFQ item (GET rfqs data[i], rfqs channel push data[i]) into q. Returns "" when it is
// well formed, else the name of the first missing or invalid field.
std::string parse_rfq_item(const boost::json::object& item, Rfq& q);

// OKX RFQ state word -> the one vocabulary (active, canceled, expired, filled, pending_fill,
// failed; traded_away -> "canceled" is wrong, so it maps to "failed" with raw kept).
std::string normalize_state(std::string_view raw);

// GET /api/v5/public/time -> server ms; false when the body is not the documented shape.
bool parse_public_time(std::string_view body, std::int64_t& server_ms);

// ---- cancel-batch-rfqs -------------------------------------------------------------------

// {"rfqIds":["1","2"]} or, with client_ids, {"clRfqIds":["a","b"]}: one kind per request, at
// most kBatchMax ids, in the given order, compact JSON. The caller has validated the ids.
std::string build_cancel_batch_body(const std::vector<std::string>& ids, bool client_ids);

struct BatchItemAnswer {
  std::string id;         // rfqId echoed ("" when absent)
  std::string client_id;  // clRfqId echoed ("" when absent)
  boost::system::error_code ec;  // from the item's sCode
  std::string venue_code;        // the item's sCode
  std::string message;           // the item's sMsg (or the top-level msg when empty)
};

struct BatchAnswer {
  // Set when the request as a whole failed (auth, 429/50011, 5xx, malformed, a top-level code
  // other than "0", "1", "2" with no items): items is then empty.
  boost::system::error_code ec;
  std::string venue_code;  // top-level code ("0", "1", "2", "50011", HTTP status for bare 5xx)
  std::string message;
  std::vector<BatchItemAnswer> items;  // in the venue's order
};

// Parses every documented shape: code "0" all ok, "2" partial, "1" all failed (each item
// mapped with map_code), and the whole-request failures above.
BatchAnswer parse_cancel_batch(unsigned http_status, std::string_view body);

// ---- cancel-all-rfqs ---------------------------------------------------------------------

// The body sent: "{}" (python-okx style; OKX's treatment of an empty POST body is unconfirmed,
// and "{}" is accepted either way).
inline constexpr std::string_view kCancelAllBody = "{}";

struct CancelAllAnswer {
  boost::system::error_code ec;  // 70207 -> NOTHING_TO_CANCEL, whether top-level or in data[0]
  std::string venue_code;
  std::string message;
  std::int64_t ts = 0;  // data[0].ts on success
};

CancelAllAnswer parse_cancel_all(unsigned http_status, std::string_view body);

}  // namespace rfq::okx
