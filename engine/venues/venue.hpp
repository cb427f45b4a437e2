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
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/clock.hpp"

namespace rfq {

struct CancelRequest {
  std::string id{};         // venue RFQ id; wins over client_id when both are set
  std::string client_id{};  // OKX clRfqId
  Millis timeout{5000};   // whole operation: queueing for a rate slot + the round trip
  SteadyTime entered{};   // when the script called (engine overhead metric); optional
  Nanos queued{0};        // filled in by the venue: waiting for a rate slot or a connection
  std::uint64_t correlation = 0;  // set by the engine; on every log line of this request
  // Succeed only once the venue's state feed shows the RFQ canceled (within timeout).
  bool confirm = false;
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

// Any number of ids: the venue chunks and paces them. Results come back in input order, one
// per input id (a duplicate id is sent once and reported for each occurrence).
struct BatchRequest {
  std::vector<std::string> ids;  // rfqIds, or clRfqIds when client_ids is set
  bool client_ids = false;
  Millis timeout{5000};  // the whole batch: every chunk must go out before it
  bool urgent = false;   // ahead of every request queued in its pacing lane (scoped cancel-all)
  std::uint64_t correlation = 0;
  bool confirm = false;  // an accepted item counts as canceled once the feed shows it so
};

struct BatchItemResult {
  std::string id;
  std::string client_id;
  boost::system::error_code ec;  // empty: canceled
  std::string venue_code;
  std::string message;
};

struct BatchResult {
  boost::system::error_code ec;  // set only when no chunk reached the venue
  std::string message;
  std::vector<BatchItemResult> items;  // input order
  std::size_t canceled = 0;
  std::size_t failed = 0;
  std::size_t requests = 0;  // requests sent
  std::vector<std::int64_t> latency_us;  // round trip of each request answered
};

struct CancelAllRequest {
  Millis timeout{5000};
  std::string spread_id;  // okx_spread only; empty: every spread
  std::uint64_t correlation = 0;
  bool confirm = false;  // wait until the feed shows every RFQ it covered in a final state
};

struct CancelAllResult {
  boost::system::error_code ec;
  std::string venue_code;
  std::string message;
  std::int64_t canceled = -1;  // RFQs the book knew as active and now canceled; -1 unknown
};

// One pacing lane as scripts see it through rfq.budget().
struct LaneStatus {
  std::string endpoint;   // "cancel-rfq", "cancel-batch-rfqs", ...
  std::size_t limit = 0;  // requests per window
  Millis window{0};
  std::size_t remaining = 0;  // could be sent right now
  std::size_t queued = 0;     // waiting for a slot
};

// starting: until the first connect and snapshot succeed (or fail); up: connected, logged in
// and its state feed delivering; down: any of that lost (the venue keeps reconnecting).
enum class VenueStatus { starting, up, down };

// A venue's status and who is told when it changes. Shared between the Venue and its session
// state (which may outlive the Venue while completions are pending): the session sets it, the
// Venue detaches the listener when it goes.
class VenueStatusCell {
 public:
  VenueStatus get() const { return status_; }
  // Only a change is told, synchronously, to the listener.
  void set(VenueStatus status) {
    if (status == status_) return;
    status_ = status;
    if (listener_) listener_(status);
  }
  void listen(std::function<void(VenueStatus)> listener) { listener_ = std::move(listener); }

 private:
  VenueStatus status_ = VenueStatus::starting;
  std::function<void(VenueStatus)> listener_;
};

class Venue {
 public:
  using CancelHandler = boost::asio::any_completion_handler<void(CancelResult)>;
  using StartHandler = boost::asio::any_completion_handler<void(boost::system::error_code)>;
  using BatchHandler = boost::asio::any_completion_handler<void(BatchResult)>;
  using CancelAllHandler = boost::asio::any_completion_handler<void(CancelAllResult)>;

  virtual ~Venue() { status_->listen(nullptr); }
  virtual std::string_view name() const = 0;
  VenueStatus status() const { return status_->get(); }
  // Told of every change of status(), synchronously on the venue's loop (the engine installs
  // its own in Engine::add_venue); replaces the previous listener, nullptr detaches it.
  void on_status_change(std::function<void(VenueStatus)> listener) {
    status_->listen(std::move(listener));
  }

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

  template <typename Token>
  auto async_cancel_batch(BatchRequest req, Token&& token) {
    return boost::asio::async_initiate<Token, void(BatchResult)>(
        [this](auto handler, BatchRequest r) {
          do_cancel_batch(std::move(r), BatchHandler(std::move(handler)));
        },
        token, std::move(req));
  }

  // The venue's account-wide cancel-all, on its own pacing lane (urgent within it).
  template <typename Token>
  auto async_cancel_all(CancelAllRequest req, Token&& token) {
    return boost::asio::async_initiate<Token, void(CancelAllResult)>(
        [this](auto handler, CancelAllRequest r) {
          do_cancel_all(std::move(r), CancelAllHandler(std::move(handler)));
        },
        token, std::move(req));
  }

  virtual std::vector<LaneStatus> budget() const = 0;

  // Stops timers and closes connections; pending operations complete with DISCONNECTED.
  virtual void stop() = 0;

  // The venue's identifier rules for a cancel: empty when req is acceptable, else the
  // misuse message ("bad argument 'client_id' (...)") scripts see raised.
  virtual std::string check(const CancelRequest& req) const = 0;
  virtual std::string check_batch(const BatchRequest& req) const = 0;
  virtual std::string check_all(const CancelAllRequest& req) const {
    return req.confirm && !can_confirm() ? confirm_misuse() : std::string();
  }
  // Whether `confirm = true` is available: the venue has a state feed that reports cancels.
  virtual bool can_confirm() const { return false; }

 protected:
  // For the venue's session state: what it sets as the connection comes and goes.
  const std::shared_ptr<VenueStatusCell>& status_cell() const { return status_; }

  std::string confirm_misuse() const {
    return "bad argument 'confirm' (venue " + std::string(name()) +
           " has no state feed that reports cancels" +
           (name() == "okx" ? ": set venues.okx.business_ws)" : ")");
  }

 protected:
  virtual void do_start(StartHandler handler) = 0;
  virtual void do_cancel(CancelRequest req, CancelHandler handler) = 0;
  virtual void do_cancel_batch(BatchRequest req, BatchHandler handler) = 0;
  virtual void do_cancel_all(CancelAllRequest req, CancelAllHandler handler) = 0;

 private:
  std::shared_ptr<VenueStatusCell> status_ = std::make_shared<VenueStatusCell>();
};

}  // namespace rfq
