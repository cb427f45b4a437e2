#include "engine/core/error.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <string>

namespace rfq {
namespace {

class RfqCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "rfq"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::ok: return "success";
      case Errc::unknown_rfq: return "RFQ does not exist";
      case Errc::not_cancelable: return "RFQ is not active and cannot be canceled";
      case Errc::nothing_to_cancel: return "no active RFQs to cancel";
      case Errc::rate_limited: return "rate limit: request could not be sent before its deadline";
      case Errc::timeout: return "request timed out";
      case Errc::disconnected: return "connection lost";
      case Errc::auth: return "authentication rejected";
      case Errc::unavailable: return "venue unavailable";
      case Errc::rejected: return "rejected by venue";
    }
    return "unknown rfq error";
  }
};

}  // namespace

const boost::system::error_category& rfq_category() noexcept {
  static const RfqCategory category;
  return category;
}

std::string_view code_name(Errc e) noexcept {
  switch (e) {
    case Errc::ok: return "OK";
    case Errc::unknown_rfq: return "UNKNOWN_RFQ";
    case Errc::not_cancelable: return "NOT_CANCELABLE";
    case Errc::nothing_to_cancel: return "NOTHING_TO_CANCEL";
    case Errc::rate_limited: return "RATE_LIMITED";
    case Errc::timeout: return "TIMEOUT";
    case Errc::disconnected: return "DISCONNECTED";
    case Errc::auth: return "AUTH";
    case Errc::unavailable: return "UNAVAILABLE";
    case Errc::rejected: return "REJECTED";
  }
  return "REJECTED";
}

Errc code_of(const boost::system::error_code& ec) noexcept {
  namespace asio = boost::asio;
  namespace beast = boost::beast;
  if (!ec) return Errc::ok;
  if (ec.category() == rfq_category()) return static_cast<Errc>(ec.value());
  if (ec == beast::error::timeout || ec == asio::error::timed_out) return Errc::timeout;
  if (ec == asio::error::operation_aborted) return Errc::timeout;
  if (ec == beast::http::error::end_of_stream || ec == asio::error::eof ||
      ec == asio::error::connection_reset || ec == asio::error::connection_refused ||
      ec == asio::error::connection_aborted || ec == asio::error::broken_pipe ||
      ec == asio::error::not_connected || ec == asio::ssl::error::stream_truncated ||
      ec == beast::http::error::partial_message) {
    return Errc::disconnected;
  }
  if (ec.category() == asio::error::get_ssl_category()) return Errc::disconnected;
  if (ec.category() == asio::error::get_netdb_category() ||
      ec.category() == asio::error::get_addrinfo_category()) {
    return Errc::unavailable;
  }
  if (ec.category() == beast::http::make_error_code(beast::http::error::bad_version).category()) {
    return Errc::unavailable;  // the peer spoke broken HTTP
  }
  return Errc::disconnected;
}

}  // namespace rfq
