#pragma once
// Venue "okx": OKX block-trading RFQs (taker) over REST, with the business WebSocket's rfqs
// channel feeding the book when configured. Session glue only: it paces, signs, sends and
// feeds the book; building and parsing live in okx_rest and okx_ws.

#include <memory>
#include <optional>
#include <string>

#include "engine/auth/credentials.hpp"
#include "engine/core/clock.hpp"
#include "engine/net/http_transport.hpp"
#include "engine/net/url.hpp"
#include "engine/net/ws_connection.hpp"
#include "engine/venues/venue.hpp"

namespace boost::asio {
class io_context;
}

namespace rfq {
class Book;
class Metrics;
}  // namespace rfq

namespace rfq::okx {

struct OkxVenueOptions {
  net::Origin rest;
  bool demo = false;  // sends x-simulated-trading: 1
  auth::OkxCredentials credentials;
  std::string ca_file;
  std::size_t pool_size = 4;
  Millis book_refresh{5000};   // REST snapshot of active RFQs, repeated
  Millis start_timeout{10000};
  Millis pacing_margin{50};    // added to every documented window (arrival jitter)
  bool pacing = true;          // false only in benchmarks against an unlimited simulator
  // cancel-batch-rfqs slots of each window kept for urgent batches (scoped cancel_all): 1
  // means a sweep never delays a scoped cancel_all, at half the sweep's rate.
  std::size_t batch_reserve = 0;
  // The business WebSocket (ws(s)://.../ws/v5/business): its rfqs channel feeds the book,
  // scripts' rfq.on("rfq") events and confirm = true. None: the book comes from snapshots.
  std::optional<net::Origin> business_ws;
  Millis feed_ping_after{20000};  // text "ping" after this much silence (OKX closes at 30 s)
  // Replaces the socket client (rest, ca_file, pool_size then unused): the in-process
  // simulator transport of virtual-time tests.
  std::shared_ptr<net::HttpTransport> transport;
  // Replaces the feed's socket client the same way (business_ws must still be set).
  net::WsFactory ws_factory;
};

class OkxVenue final : public Venue {
 public:
  OkxVenue(boost::asio::io_context& io, Clock& clock, Book& book, OkxVenueOptions options);
  ~OkxVenue() override;

  std::string_view name() const override { return "okx"; }
  void stop() override;
  // rfqId: decimal digits; clRfqId: 1-32 ASCII letters or digits.
  std::string check(const CancelRequest& req) const override;
  std::string check_batch(const BatchRequest& req) const override;
  bool can_confirm() const override;
  std::vector<LaneStatus> budget() const override;

  // Remaining sends in the cancel-rfq window and requests waiting for a slot.
  std::size_t cancel_budget() const;
  std::size_t cancel_queue_depth() const;
  // Server time minus local time, measured at start from GET /api/v5/public/time.
  std::int64_t clock_offset_ms() const;

 protected:
  void do_start(StartHandler handler) override;
  void do_cancel(CancelRequest req, CancelHandler handler) override;
  void do_cancel_batch(BatchRequest req, BatchHandler handler) override;
  void do_cancel_all(CancelAllRequest req, CancelAllHandler handler) override;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace rfq::okx
