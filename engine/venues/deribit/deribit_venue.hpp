#pragma once
// Venue "deribit": Deribit block RFQs (taker) over JSON-RPC 2.0 on one WebSocket
// (PROTOCOLS.md §7-§11), with an HTTP GET fallback for single cancels while the WebSocket is
// down. Session glue only: building and parsing live in deribit_rpc.
//
// On every (re)connect: public/auth (client_signature by default, or client_credentials),
// public/set_heartbeat, optionally private/enable_cancel_on_disconnect, private/subscribe to
// block_rfq.taker.{currency}, and a get_block_rfqs snapshot. The token is refreshed (refresh
// grant) at 80% of expires_in. Every server test_request is answered with public/test; two
// heartbeat intervals of silence replace the connection. Every charged request first takes
// its credits from the local pool (500 of 50,000, refilled 10,000/s), so the venue's 10028
// (which ends the session) never happens in normal operation.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/auth/deribit_signer.hpp"
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
}

namespace rfq::deribit {

struct DeribitVenueOptions {
  net::Origin ws;                   // ws(s)://.../ws/api/v2
  std::optional<net::Origin> http;  // http(s)://host: the GET fallback; none: WebSocket only
  auth::DeribitCredentials credentials;
  bool client_credentials = false;  // grant: false = client_signature (the secret never travels)
  std::string ca_file;
  std::vector<std::string> currencies{"any"};  // block_rfq.taker.{currency} subscriptions
  int heartbeat_s = 10;                         // public/set_heartbeat interval, >= 10
  bool cancel_on_disconnect = false;
  std::int64_t credit_cost = 500;
  std::int64_t credit_pool = 50000;
  std::int64_t credit_refill_per_s = 10000;
  Millis start_timeout{10000};
  Millis book_refresh{30000};  // repeated snapshot (costs credits); 0: only after each connect
  net::WsFactory ws_factory;   // none: a WsClient over sockets (see net/ws_connection.hpp)
  // Replaces the fallback's socket client (http must still be set): the in-process simulator.
  std::shared_ptr<net::HttpTransport> http_transport;
  std::uint64_t seed = 0;      // auth nonces; 0: from std::random_device
};

class DeribitVenue final : public Venue {
 public:
  DeribitVenue(boost::asio::io_context& io, Clock& clock, Book& book, DeribitVenueOptions options);
  ~DeribitVenue() override;

  std::string_view name() const override { return "deribit"; }
  void stop() override;
  // id: a positive integer; client_id: refused (Deribit block RFQs have none).
  std::string check(const CancelRequest& req) const override;
  std::string check_batch(const BatchRequest& req) const override;
  // The cancel answer is the RFQ object in its new state: confirm needs no extra wait.
  bool can_confirm() const override { return true; }
  std::vector<LaneStatus> budget() const override;

  // Connections made and authentications done so far (tests, status).
  std::size_t connects() const;
  std::size_t auths() const;

 protected:
  void do_start(StartHandler handler) override;
  void do_cancel(CancelRequest req, CancelHandler handler) override;
  void do_cancel_batch(BatchRequest req, BatchHandler handler) override;
  void do_cancel_all(CancelAllRequest req, CancelAllHandler handler) override;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace rfq::deribit
