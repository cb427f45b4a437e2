// The closed list of script-visible codes (DESIGN §4) and how foreign errors fold into it.
#include "engine/core/error.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <catch2/catch.hpp>
#include <set>
#include <string>

using rfq::Errc;

namespace {
const Errc kAll[] = {
    Errc::ok,           Errc::unknown_rfq, Errc::not_cancelable, Errc::nothing_to_cancel,
    Errc::rate_limited, Errc::timeout,     Errc::disconnected,   Errc::auth,
    Errc::unavailable,  Errc::rejected};
}

TEST_CASE("code_name gives the documented name of every code", "[core]") {
  using rfq::code_name;
  CHECK(code_name(Errc::ok) == "OK");
  CHECK(code_name(Errc::unknown_rfq) == "UNKNOWN_RFQ");
  CHECK(code_name(Errc::not_cancelable) == "NOT_CANCELABLE");
  CHECK(code_name(Errc::nothing_to_cancel) == "NOTHING_TO_CANCEL");
  CHECK(code_name(Errc::rate_limited) == "RATE_LIMITED");
  CHECK(code_name(Errc::timeout) == "TIMEOUT");
  CHECK(code_name(Errc::disconnected) == "DISCONNECTED");
  CHECK(code_name(Errc::auth) == "AUTH");
  CHECK(code_name(Errc::unavailable) == "UNAVAILABLE");
  CHECK(code_name(Errc::rejected) == "REJECTED");

  std::set<std::string_view> names;
  for (Errc e : kAll) names.insert(rfq::code_name(e));
  CHECK(names.size() == std::size(kAll));
}

TEST_CASE("rfq error codes carry the rfq category and a message", "[core]") {
  for (Errc e : kAll) {
    INFO(rfq::code_name(e));
    boost::system::error_code ec = e;  // is_error_code_enum
    CHECK(ec.category() == rfq::rfq_category());
    CHECK(ec.value() == static_cast<int>(e));
    CHECK_FALSE(ec.message().empty());
    CHECK(std::string(ec.category().name()) == "rfq");
    CHECK(rfq::code_of(ec) == e);
  }
  CHECK_FALSE(make_error_code(Errc::ok));  // success is a false error_code
  CHECK(make_error_code(Errc::rejected));
}

TEST_CASE("code_of folds transport errors into stable codes", "[core]") {
  namespace asio = boost::asio;
  namespace beast = boost::beast;
  using rfq::code_of;
  CHECK(code_of(boost::system::error_code{}) == Errc::ok);
  SECTION("timeouts") {
    CHECK(code_of(beast::error::timeout) == Errc::timeout);
    CHECK(code_of(asio::error::timed_out) == Errc::timeout);
  }
  SECTION("lost connections") {
    CHECK(code_of(asio::error::eof) == Errc::disconnected);
    CHECK(code_of(asio::error::connection_reset) == Errc::disconnected);
    CHECK(code_of(asio::error::connection_refused) == Errc::disconnected);
    CHECK(code_of(asio::error::connection_aborted) == Errc::disconnected);
    CHECK(code_of(asio::error::broken_pipe) == Errc::disconnected);
    CHECK(code_of(beast::http::error::end_of_stream) == Errc::disconnected);
    CHECK(code_of(asio::ssl::error::stream_truncated) == Errc::disconnected);
  }
  SECTION("name resolution failures mean the venue is unavailable") {
    CHECK(code_of(asio::error::host_not_found) == Errc::unavailable);
  }
  SECTION("broken HTTP from the peer") {
    CHECK(code_of(beast::http::error::bad_version) == Errc::unavailable);
  }
}
