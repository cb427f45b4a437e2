#pragma once
// The closed list of outcome codes scripts see (DESIGN §4), as a boost::system error category.
// Transport errors (Asio, Beast, SSL) keep their own categories; code_of() folds any error_code
// into one of the stable codes so every failure reaches a script as one word.

#include <boost/system/error_code.hpp>
#include <string_view>
#include <type_traits>

namespace rfq {

enum class Errc {
  ok = 0,
  unknown_rfq = 1,    // OKX 70000
  not_cancelable,     // OKX 70200: the RFQ is not active
  nothing_to_cancel,  // OKX 70207
  rate_limited,       // our pacing could not send before the deadline, or the venue's limit
  timeout,
  disconnected,
  auth,         // OKX 501xx, Deribit 13004/13009
  unavailable,  // OKX 50001/50013, HTTP 5xx
  rejected,     // any other venue refusal
};

const boost::system::error_category& rfq_category() noexcept;

inline boost::system::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), rfq_category()};
}

// The stable script-visible name: "UNKNOWN_RFQ", "RATE_LIMITED", ...; "OK" for success.
std::string_view code_name(Errc e) noexcept;

// Maps any error (ours, Asio, Beast, SSL) to one stable code.
Errc code_of(const boost::system::error_code& ec) noexcept;

}  // namespace rfq

template <>
struct boost::system::is_error_code_enum<rfq::Errc> : std::true_type {};
