#pragma once
// The normalized venue interface: the only thing the rest of the engine knows about a venue.
// A venue turns normalized requests into wire requests and wire answers into normalized
// results, and keeps its own connection, auth, pacing and book feed.
//
// Operations are Asio initiating functions: async_cancel(req, token) accepts a plain
// handler, use_awaitable, or any other completion token. Completions run on the venue's loop
// (the single thread that owns the engine), never inside the initiating call.

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/core/clock.hpp"

namespace rfq {

struct CancelRequest {
  std::string id;         // venue RFQ id; wins over client_id when both are set
  std::string client_id;  // OKX clRfqId
  Millis timeout{5000};   // whole operation: queueing for a rate slot + the round trip
  SteadyTime entered{};   // when the script called (engine overhead metric); optional
  Nanos queued{0};        // filled in by the venue: waiting for a rate slot or a connection
  std::uint64_t correlation = 0;  // set by the engine; on every log line of this request
};

struct CancelResult {
  boost::system::error_code ec;  // empty on success; rfq::Errc or a transport error otherwise
  std::string id;
  std::string client_id;
  std::string state;       // "canceled" on success
  std::string venue_code;  // the venue's own code ("0", "70000", HTTP status for bare 5xx)
  std::string message;     // the venue's text, or ours for transport failures
  std::int64_t latency_us = 0;  // request written -> answer parsed
  SteadyTime written_at{};      // when the request bytes were handed to the socket
  Nanos queued{0};              // waiting for a rate-limit slot or a free connection
  bool sent = false;            // false when it failed before reaching the wire
};

enum class VenueStatus { starting, up, down };

class Venue {
 public:
  using CancelHandler = boost::asio::any_completion_handler<void(CancelResult)>;
  using StartHandler = boost::asio::any_completion_handler<void(boost::system::error_code)>;

  virtual ~Venue() = default;
  virtual std::string_view name() const = 0;
  virtual VenueStatus status() const = 0;

  // Connects, authenticates and loads the open RFQs into the book.
  template <typename Token>
  auto async_start(Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
        [this](auto handler) { do_start(StartHandler(std::move(handler))); }, token);
  }

  template <typename Token>
  auto async_cancel(CancelRequest req, Token&& token) {
    return boost::asio::async_initiate<Token, void(CancelResult)>(
        [this](auto handler, CancelRequest r) {
          do_cancel(std::move(r), CancelHandler(std::move(handler)));
        },
        token, std::move(req));
  }

  // Stops timers and closes connections; pending operations complete with DISCONNECTED.
  virtual void stop() = 0;

  // The venue's identifier rules for a cancel: empty when req is acceptable, else the
  // misuse message ("bad argument 'client_id' (...)") scripts see raised.
  virtual std::string check(const CancelRequest& req) const = 0;

 protected:
  virtual void do_start(StartHandler handler) = 0;
  virtual void do_cancel(CancelRequest req, CancelHandler handler) = 0;
};

}  // namespace rfq
