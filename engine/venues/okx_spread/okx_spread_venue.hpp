#pragma once
// Venue "okx_spread": OKX spread-trading orders, cancelled all at once with sprd-mass-cancel
// over the business WebSocket (PROTOCOLS.md §4). It logs in on every (re)connect, correlates
// answers by the request's `id`, paces 5 / 2 s, and answers DISCONNECTED for a request whose
// connection dropped before its answer came (never hangs). It has no single or batch cancel.

#include <memory>
#include <string>

#include "engine/auth/credentials.hpp"
#include "engine/core/clock.hpp"
#include "engine/net/url.hpp"
#include "engine/net/ws_connection.hpp"
#include "engine/venues/venue.hpp"

namespace boost::asio {
class io_context;
}

namespace rfq::okx_spread {

struct OkxSpreadVenueOptions {
  net::Origin business_ws;  // ws(s)://.../ws/v5/business
  auth::OkxCredentials credentials;
  std::string ca_file;
  Millis start_timeout{10000};
  Millis pacing_margin{50};
  net::WsFactory ws_factory;  // none: a WsClient over sockets (see net/ws_connection.hpp)
};

class OkxSpreadVenue final : public Venue {
 public:
  OkxSpreadVenue(boost::asio::io_context& io, Clock& clock, OkxSpreadVenueOptions options);
  ~OkxSpreadVenue() override;

  std::string_view name() const override { return "okx_spread"; }
  void stop() override;
  std::string check(const CancelRequest& req) const override;
  std::string check_batch(const BatchRequest& req) const override;
  std::vector<LaneStatus> budget() const override;

 protected:
  void do_start(StartHandler handler) override;
  void do_cancel(CancelRequest req, CancelHandler handler) override;
  void do_cancel_batch(BatchRequest req, BatchHandler handler) override;
  void do_cancel_all(CancelAllRequest req, CancelAllHandler handler) override;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace rfq::okx_spread
