#include "engine/sim/sim_world.hpp"

#include <map>
#include <stdexcept>

#include "engine/engine.hpp"
#include "engine/sim/deribit_sim.hpp"
#include "engine/sim/deribit_sim_detail.hpp"
#include "engine/sim/journal.hpp"
#include "engine/sim/okx_sim.hpp"
#include "engine/sim/okx_sim_detail.hpp"
#include "engine/sim/sim_transport.hpp"
#include "engine/sim/sim_ws_link.hpp"
#include "engine/venues/deribit/deribit_rpc.hpp"
#include "engine/venues/deribit/deribit_venue.hpp"
#include "engine/venues/okx/okx_rest.hpp"
#include "engine/venues/okx/okx_venue.hpp"
#include "engine/venues/okx_spread/okx_spread_venue.hpp"

namespace rfq::sim {

// The connections of one WebSocket endpoint, and when its outage ends.
struct WsOutage {
  std::int64_t until_ms = INT64_MIN;
  std::map<std::uint64_t, WsModel::CloseFn> live;  // by connection, how to close it
  std::uint64_t next = 1;
};

namespace {

constexpr Millis kStartLimit{30000};

// A connection's model, registered with its endpoint's outage while it lives.
class TrackedModel final : public WsModel {
 public:
  TrackedModel(std::unique_ptr<WsModel> inner, std::shared_ptr<WsOutage> outage, CloseFn close)
      : inner_(std::move(inner)), outage_(std::move(outage)), id_(outage_->next++) {
    outage_->live.emplace(id_, std::move(close));
  }
  ~TrackedModel() override { outage_->live.erase(id_); }

  void on_text(std::string_view text) override { inner_->on_text(text); }
  void on_tick() override { inner_->on_tick(); }
  void on_disconnect() override { inner_->on_disconnect(); }
  bool closed() const override { return inner_->closed(); }

 private:
  std::unique_ptr<WsModel> inner_;
  std::shared_ptr<WsOutage> outage_;
  std::uint64_t id_;
};

// `route`, refusing connections while `outage` lasts and tracking those it accepts.
WsRoute with_outage(WsRoute route, std::shared_ptr<WsOutage> outage) {
  Clock* clock = route.clock;
  route.open = [open = std::move(route.open), outage, clock](
                   WsModel::SendFn send, WsModel::CloseFn close) -> std::unique_ptr<WsModel> {
    if (clock->now_ms() < outage->until_ms) return nullptr;
    auto model = open(std::move(send), close);
    return std::make_unique<TrackedModel>(std::move(model), outage, std::move(close));
  };
  return route;
}
constexpr Millis kStartStep{10};

// Never dialled: the in-process transports replace the sockets, but the options keep their
// shape (and the venues their checks) as in production.
net::Origin origin(const std::string& url) {
  net::Origin o;
  std::string error;
  net::parse_origin(url, o, error);
  return o;
}

}  // namespace

SimWorld::SimWorld(SimWorldOptions options)
    : options_(options),
      clock_(io_, options.start_ms),
      journal_(std::make_unique<Journal>()),
      okx_(std::make_unique<OkxSim>(clock_, *journal_, OkxSimOptions{})),
      deribit_(std::make_unique<DeribitSim>(clock_, *journal_, DeribitSimOptions{})),
      okx_outage_(std::make_shared<WsOutage>()),
      deribit_outage_(std::make_shared<WsOutage>()),
      engine_(std::make_unique<Engine>(io_, clock_)),
      rng_(options.seed) {
  const auto& ko = okx_->options();
  const auth::OkxCredentials okx_keys{ko.api_key, auth::Secret(ko.secret),
                                      auth::Secret(ko.passphrase)};

  okx::OkxVenueOptions o;
  o.rest = origin("http://okx.sim");
  o.business_ws = origin("ws://okx.sim/ws/v5/business");
  o.credentials = okx_keys;
  o.transport = std::make_shared<SimTransport>(io_, *okx_);
  o.ws_factory = SimWsLink::factory(io_, with_outage(okx_ws_route(*okx_), okx_outage_));
  engine_->add_venue(std::make_unique<okx::OkxVenue>(io_, clock_, engine_->book(), std::move(o)));

  okx_spread::OkxSpreadVenueOptions so;
  so.business_ws = origin("ws://okx.sim/ws/v5/business");
  so.credentials = okx_keys;
  so.ws_factory = SimWsLink::factory(io_, with_outage(okx_ws_route(*okx_), okx_outage_));
  engine_->add_venue(std::make_unique<okx_spread::OkxSpreadVenue>(io_, clock_, std::move(so)));

  const auto& dopt = deribit_->options();
  deribit::DeribitVenueOptions d;
  d.ws = origin("ws://deribit.sim/ws/api/v2");
  d.credentials = {dopt.client_id, auth::Secret(dopt.client_secret)};
  d.ws_factory =
      SimWsLink::factory(io_, with_outage(deribit_ws_route(*deribit_), deribit_outage_));
  d.http = origin("http://deribit.sim");
  d.http_transport = std::make_shared<SimTransport>(
      io_, clock_, [sim = deribit_.get()](const SimHttpRequest& r) { return sim->handle_http(r); });
  d.seed = options.seed != 0 ? options.seed : 0x9E3779B97F4A7C15ULL;  // 0 would mean random
  engine_->add_venue(
      std::make_unique<deribit::DeribitVenue>(io_, clock_, engine_->book(), std::move(d)));
}

SimWorld::~SimWorld() {
  // Venues (and their in-process connections, whose sessions use the simulators) go first.
  engine_->stop();
  engine_.reset();
}

std::string SimWorld::start() {
  struct Outcome {
    bool done = false;
    boost::system::error_code ec;
  };
  // Shared: a venue may still answer after this gave up waiting.
  auto outcome = std::make_shared<Outcome>();
  engine_->start([outcome](boost::system::error_code ec) {
    outcome->done = true;
    outcome->ec = ec;
  });
  for (Millis waited{0}; !outcome->done && waited < kStartLimit; waited += kStartStep) {
    clock_.poll();
    if (!outcome->done) clock_.advance(kStartStep);
  }
  if (!outcome->done) return "the venues did not start within 30 s of virtual time";
  if (outcome->ec) return "a venue failed to start: " + outcome->ec.message();
  return {};
}

namespace {

std::optional<Rfq> read_okx(const SimRfq& r) {
  Rfq q;
  if (!okx::parse_rfq_item(detail::rfq_item(r), q).empty()) return std::nullopt;
  q.venue = "okx";
  return q;
}

std::optional<Rfq> read_deribit(const DeribitBlockRfq& r) {
  Rfq q;
  if (!deribit::parse_block_rfq(boost::json::value(detail::block_rfq_json(r)), q).empty()) {
    return std::nullopt;
  }
  q.venue = "deribit";
  return q;
}

}  // namespace

std::optional<Rfq> SimWorld::rfq(std::string_view venue, std::string_view id) const {
  if (venue == "okx") {
    if (auto r = okx_->rfq(id)) return read_okx(*r);
  } else if (venue == "deribit") {
    std::int64_t n = 0;
    if (!deribit::parse_rfq_id(id, n)) return std::nullopt;
    if (auto r = deribit_->rfq(n)) return read_deribit(*r);
  }
  return std::nullopt;
}

std::vector<Rfq> SimWorld::rfqs(std::string_view venue) const {
  std::vector<Rfq> out;
  if (venue == "okx") {
    for (const auto& r : okx_->rfqs()) {
      if (auto q = read_okx(r)) out.push_back(std::move(*q));
    }
  } else if (venue == "deribit") {
    for (const auto& r : deribit_->rfqs()) {
      if (auto q = read_deribit(r)) out.push_back(std::move(*q));
    }
  }
  return out;
}

void SimWorld::ws_outage(std::string_view venue, Millis d) {
  const bool okx = venue == "okx" || venue == "okx_spread";
  if (!okx && venue != "deribit") {
    throw std::invalid_argument("no WebSocket outage for venue '" + std::string(venue) + "'");
  }
  WsOutage& outage = okx ? *okx_outage_ : *deribit_outage_;
  outage.until_ms = clock_.now_ms() + d.count();
  // A copy: each close ends (later) the connection, which unregisters itself.
  const auto live = outage.live;
  for (const auto& [id, close] : live) close(1001, "simulated outage");
}

std::int64_t SimWorld::ws_outage_until(std::string_view venue) const {
  if (venue == "okx" || venue == "okx_spread") return okx_outage_->until_ms;
  if (venue == "deribit") return deribit_outage_->until_ms;
  return INT64_MIN;
}

void SimWorld::poll() { clock_.poll(); }
void SimWorld::advance(Millis d) { clock_.advance(d); }
std::int64_t SimWorld::now_ms() const { return clock_.now_ms(); }

}  // namespace rfq::sim
