#include "engine/venues/okx_spread/okx_spread_venue.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <map>

#include "engine/core/error.hpp"
#include "engine/core/log.hpp"
#include "engine/limits/lane.hpp"
#include "engine/net/ws_client.hpp"
#include "engine/venues/okx/okx_ws.hpp"

namespace rfq::okx_spread {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

constexpr std::size_t kMassCancelPer2s = 5;  // PROTOCOLS.md §4
constexpr Nanos kWindow = std::chrono::seconds(2);

}  // namespace

struct OkxSpreadVenue::Impl : std::enable_shared_from_this<Impl> {
  struct Pending {
    std::shared_ptr<CancelAllHandler> handler;
    TimerHandle deadline;
  };

  asio::io_context& io;
  Clock& clock;
  OkxSpreadVenueOptions options;
  std::unique_ptr<net::WsConnection> ws;
  Lane lane;
  bool logged_in = false;
  bool stopped = false;
  std::shared_ptr<VenueStatusCell> status;  // up while logged in on the business WebSocket
  std::uint64_t next_id = 1;
  std::map<std::string, Pending> pending;  // by request id, sent and not yet answered
  std::shared_ptr<StartHandler> start_handler;
  TimerHandle start_timer;
  std::shared_ptr<spdlog::logger> log = log::get("venue.okx_spread");

  Impl(asio::io_context& i, Clock& c, OkxSpreadVenueOptions o,
       std::shared_ptr<VenueStatusCell> status_cell)
      : io(i), clock(c), options(std::move(o)),
        lane(c, "sprd-mass-cancel", WindowLimit(kMassCancelPer2s, kWindow + options.pacing_margin)),
        status(std::move(status_cell)) {}

  void start(StartHandler handler) {
    start_handler = std::make_shared<StartHandler>(std::move(handler));
    std::weak_ptr<Impl> weak = shared_from_this();
    net::WsClientOptions wo;
    wo.origin = options.business_ws;
    wo.ca_file = options.ca_file;
    ws = net::open_ws_connection(
        options.ws_factory, io, clock, wo,
        net::WsCallbacks{[weak] { if (auto s = weak.lock()) s->login(); },
                         [weak](std::string_view t) { if (auto s = weak.lock()) s->on_text(t); },
                         [weak](const error_code& ec) { if (auto s = weak.lock()) s->on_lost(ec); }});
    ws->start();
    start_timer = clock.schedule(options.start_timeout, [weak] {
      if (auto s = weak.lock()) s->finish_start(make_error_code(Errc::timeout));
    });
  }

  void finish_start(error_code ec) {
    start_timer.cancel();
    if (!start_handler) return;
    auto h = std::move(start_handler);
    asio::post(io, [h, ec]() mutable { std::move(*h)(ec); });
  }

  // Login on every (re)connect.
  void login() {
    logged_in = false;
    ws->send(okx::build_ws_login(options.credentials, clock.now_ms() / 1000));
  }

  void on_text(std::string_view text) {
    okx::WsFrame f = okx::parse_ws_frame(text);
    using Kind = okx::WsFrame::Kind;
    switch (f.kind) {
      case Kind::login: return on_login(f.code, f.message);
      case Kind::op_answer:
        if (f.op == "sprd-mass-cancel") on_answer(f);
        return;
      case Kind::error:
        log->warn("stage=venue_reject event error code={} msg={}", f.code, f.message);
        if (!logged_in) on_login(f.code, f.message);
        return;
      case Kind::unreadable: return log->warn("stage=parse unreadable frame ignored: {}", f.message);
      default: return;
    }
  }

  void on_login(const std::string& code, const std::string& msg) {
    if (code == "0") {
      logged_in = true;
      status->set(VenueStatus::up);
      log->info("logged in");
      return finish_start({});
    }
    status->set(VenueStatus::down);
    log->error("stage=login refused code={} msg={}", code, msg);
    finish_start(make_error_code(Errc::auth));
  }

  void on_answer(const okx::WsFrame& f) {
    auto it = pending.find(f.id);
    if (it == pending.end()) return;  // timed out already, or not ours
    auto handler = std::move(it->second.handler);
    pending.erase(it);
    CancelAllResult r;
    r.venue_code = f.code;
    r.message = f.message;
    if (Errc e = okx::map_ws_code(r.venue_code); e != Errc::ok) r.ec = make_error_code(e);
    if (r.ec == make_error_code(Errc::rate_limited)) lane.back_off(kWindow);
    finish(std::move(r), handler);
  }

  // The connection dropped: nothing in flight on it will be answered.
  void on_lost(const error_code& ec) {
    logged_in = false;
    status->set(VenueStatus::down);
    auto lost = std::move(pending);
    pending.clear();
    for (auto& [id, p] : lost) {
      CancelAllResult r;
      r.ec = make_error_code(Errc::disconnected);
      r.message = "connection lost before the answer (" + ec.message() + ")";
      finish(std::move(r), p.handler);
    }
  }

  void cancel_all(CancelAllRequest req, CancelAllHandler handler) {
    auto shared = std::make_shared<CancelAllHandler>(std::move(handler));
    const auto deadline = clock.steady_now() + req.timeout;
    auto self = shared_from_this();
    lane.submit(deadline, [self, shared, deadline, spread = req.spread_id](error_code ec) {
      if (!ec && (self->stopped || !self->logged_in)) ec = make_error_code(Errc::disconnected);
      if (ec) {
        CancelAllResult r;
        r.ec = ec;
        r.message = ec == make_error_code(Errc::disconnected) ? "not logged in to the business WebSocket"
                                                            : ec.message();
        return self->finish(std::move(r), shared);
      }
      self->send_mass_cancel(spread, deadline, shared);
    }, /*urgent=*/true);
  }

  void send_mass_cancel(const std::string& spread, SteadyTime deadline,
                        std::shared_ptr<CancelAllHandler> handler) {
    const std::string id = "m" + std::to_string(next_id++);  // 1-32 letters/digits, fresh
    if (!ws->send(okx::build_sprd_mass_cancel(id, spread))) {
      CancelAllResult r;
      r.ec = make_error_code(Errc::disconnected);
      r.message = "not connected";
      return finish(std::move(r), handler);
    }
    std::weak_ptr<Impl> weak = shared_from_this();
    Pending p{handler, clock.schedule_at(deadline, [weak, id] {
                if (auto s = weak.lock()) s->expire(id);
              })};
    pending.emplace(id, std::move(p));
  }

  void expire(const std::string& id) {
    auto it = pending.find(id);
    if (it == pending.end()) return;
    auto handler = std::move(it->second.handler);
    pending.erase(it);
    CancelAllResult r;
    r.ec = make_error_code(Errc::timeout);
    r.message = "no answer to sprd-mass-cancel before the deadline";
    finish(std::move(r), handler);
  }

  void finish(CancelAllResult r, std::shared_ptr<CancelAllHandler> handler) {
    asio::post(io, [h = std::move(*handler), r = std::move(r)]() mutable {
      std::move(h)(std::move(r));
    });
  }

  void stop() {
    if (stopped) return;
    stopped = true;
    if (ws) ws->stop();
    lane.fail_all(make_error_code(Errc::disconnected));
    on_lost(make_error_code(Errc::disconnected));
    finish_start(make_error_code(Errc::disconnected));
  }
};

OkxSpreadVenue::OkxSpreadVenue(asio::io_context& io, Clock& clock, OkxSpreadVenueOptions options)
    : impl_(std::make_shared<Impl>(io, clock, std::move(options), status_cell())) {}

OkxSpreadVenue::~OkxSpreadVenue() { impl_->stop(); }

void OkxSpreadVenue::stop() { impl_->stop(); }

std::string OkxSpreadVenue::check(const CancelRequest&) const {
  return "bad argument 'venue' (okx_spread has only cancel_all: use rfq.cancel_all{ venue = "
         "'okx_spread' })";
}

std::string OkxSpreadVenue::check_batch(const BatchRequest& req) const {
  return check(CancelRequest{});
}

std::vector<LaneStatus> OkxSpreadVenue::budget() const {
  const Lane& l = impl_->lane;
  return {{l.name(), l.limit().count(), std::chrono::duration_cast<Millis>(l.limit().window()),
           l.remaining(), l.depth()}};
}

void OkxSpreadVenue::do_start(StartHandler handler) { impl_->start(std::move(handler)); }

void OkxSpreadVenue::do_cancel(CancelRequest req, CancelHandler handler) {
  CancelResult r;
  r.ec = make_error_code(Errc::rejected);
  r.message = check(req);
  asio::post(impl_->io, [h = std::move(handler), r = std::move(r)]() mutable {
    std::move(h)(std::move(r));
  });
}

void OkxSpreadVenue::do_cancel_batch(BatchRequest req, BatchHandler handler) {
  BatchResult r;
  r.ec = make_error_code(Errc::rejected);
  r.message = check_batch(req);
  asio::post(impl_->io, [h = std::move(handler), r = std::move(r)]() mutable {
    std::move(h)(std::move(r));
  });
}

void OkxSpreadVenue::do_cancel_all(CancelAllRequest req, CancelAllHandler handler) {
  impl_->cancel_all(std::move(req), std::move(handler));
}

}  // namespace rfq::okx_spread
