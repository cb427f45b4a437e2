#pragma once
// Deribit JSON-RPC 2.0 (PROTOCOLS.md §7-§10): request builders and message parsers for block
// RFQs, taker side. No I/O here; the session glue (deribit_venue) sends what these build.
// Internal to the venue and its tests (it exposes Boost.JSON values).

#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/book/rfq.hpp"
#include "engine/core/error.hpp"

namespace rfq::deribit {

inline constexpr std::string_view kCancelBlockRfq = "private/cancel_block_rfq";
inline constexpr std::string_view kGetBlockRfqs = "private/get_block_rfqs";
inline constexpr int kPageSize = 1000;  // get_block_rfqs count maximum

// {"jsonrpc":"2.0","id":id,"method":method,"params":params}
std::string build_request(std::uint64_t id, std::string_view method, boost::json::object params);

boost::json::object auth_signature_params(std::string_view client_id, std::int64_t timestamp_ms,
                                          std::string_view nonce, std::string_view signature);
boost::json::object auth_credentials_params(std::string_view client_id, std::string_view secret);
boost::json::object auth_refresh_params(std::string_view refresh_token);
// get_block_rfqs for the taker's open RFQs, newest first; continuation pages to older ones.
boost::json::object open_rfqs_params(std::optional<std::int64_t> continuation);
// get_block_rfqs for the taker's latest filled RFQs (one page of `count`, newest first): the
// fills a snapshot cannot show.
boost::json::object filled_rfqs_params(int count);

// "/api/v2/private/cancel_block_rfq?block_rfq_id=366": the HTTP GET fallback's target.
std::string http_target(std::string_view method, std::string_view query);

struct RpcError {
  std::int64_t code = 0;
  std::string message;
  std::string reason;  // data.reason, when given
  std::string param;   // data.param, when given
};

struct Message {
  enum class Kind {
    response,      // id + result or error
    notification,  // method (+ params): "subscription", "heartbeat"
    unreadable,    // not JSON-RPC we understand (problem says why)
  };
  Kind kind = Kind::unreadable;
  std::optional<std::uint64_t> id;  // responses to our (integer) ids
  std::optional<RpcError> error;
  boost::json::value result;  // responses without error
  std::string method;         // notifications
  boost::json::value params;  // notifications
  std::string problem;
};

Message parse_message(std::string_view text);

// A method's error -> stable code (PROTOCOLS.md §7): 13004/13009/10000 AUTH; 10028
// RATE_LIMITED; 13028/13503/11051/11094/10040/10047 UNAVAILABLE; 13888 TIMEOUT; for
// cancel_block_rfq 10004 UNKNOWN_RFQ and 11029 about block_rfq_id NOT_CANCELABLE (Deribit
// documents no block-RFQ codes: UNCONFIRMED, see docs/operations.md); anything else REJECTED.
Errc map_error(std::string_view method, const RpcError& e);

// Deribit block_rfq state -> the one vocabulary: open/created -> active, cancelled -> canceled,
// filled/traded -> filled, expired -> expired, closed and anything unknown -> failed.
std::string normalize_state(std::string_view raw);

// A block_rfq object -> Rfq (venue "deribit", id as decimal text, legs {instrument_name,
// direction, ratio}, and `trades` {direction, amount, price} when present: items without a
// buy/sell direction or an amount are left out). Returns "" when well formed, else the
// missing or invalid field.
std::string parse_block_rfq(const boost::json::value& v, Rfq& out);

struct RfqPage {
  std::vector<Rfq> rfqs;
  std::optional<std::int64_t> continuation;  // null/absent: no more pages
  std::string problem;                       // "" when well formed
};
RfqPage parse_block_rfq_page(const boost::json::value& result);

struct AuthResult {
  std::string access_token;
  std::string refresh_token;
  std::int64_t expires_in_s = 0;
  std::string problem;
};
AuthResult parse_auth(const boost::json::value& result);

// Decimal text of a positive integer block_rfq_id; false otherwise.
bool parse_rfq_id(std::string_view text, std::int64_t& out);

}  // namespace rfq::deribit
