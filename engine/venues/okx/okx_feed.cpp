#include "engine/venues/okx/okx_feed.hpp"

#include "engine/core/error.hpp"
#include "engine/core/log.hpp"
#include "engine/net/ws_client.hpp"
#include "engine/venues/okx/okx_ws.hpp"

namespace rfq::okx {
namespace {

using boost::system::error_code;
constexpr std::string_view kChannel = "rfqs";

}  // namespace

struct OkxFeed::Impl : std::enable_shared_from_this<Impl> {
  enum class Stage { connecting, logging_in, subscribing, ready };

  boost::asio::io_context& io;
  Clock& clock;
  OkxFeedOptions options;
  OkxFeedCallbacks cb;
  std::unique_ptr<net::WsConnection> ws;
  Stage stage = Stage::connecting;
  bool stopped = false;
  std::uint64_t next_id = 1;
  std::shared_ptr<spdlog::logger> log = log::get("venue.okx.feed");

  Impl(boost::asio::io_context& i, Clock& c, OkxFeedOptions o, OkxFeedCallbacks callbacks)
      : io(i), clock(c), options(std::move(o)), cb(std::move(callbacks)) {}

  void start() {
    std::weak_ptr<Impl> weak = shared_from_this();
    net::WsClientOptions wo;
    wo.origin = options.business_ws;
    wo.ca_file = options.ca_file;
    wo.ping_after = options.ping_after;
    ws = net::open_ws_connection(
        options.ws_factory, io, clock, wo,
        net::WsCallbacks{[weak] { if (auto s = weak.lock()) s->on_open(); },
                         [weak](std::string_view t) { if (auto s = weak.lock()) s->on_text(t); },
                         [weak](const error_code& ec) { if (auto s = weak.lock()) s->on_lost(ec); }});
    ws->start();
  }

  void on_open() {
    stage = Stage::logging_in;
    const std::int64_t ms = options.unix_ms ? options.unix_ms() : clock.now_ms();
    ws->send(build_ws_login(options.credentials, ms / 1000));
  }

  void on_text(std::string_view text) {
    WsFrame f = parse_ws_frame(text);
    using Kind = WsFrame::Kind;
    switch (f.kind) {
      case Kind::login:
        if (f.code != "0") return refused(f);
        stage = Stage::subscribing;
        ws->send(build_ws_subscribe("rfqs" + std::to_string(next_id++), kChannel));
        return;
      case Kind::subscribe:
        if (f.channel != kChannel || stage != Stage::subscribing) return;
        stage = Stage::ready;
        log->info("subscribed to rfqs");
        if (cb.on_ready) cb.on_ready();
        return;
      case Kind::error:
        if (stage != Stage::ready) return refused(f);
        log->warn("stage=venue_reject event error code={} msg={}", f.code, f.message);
        return;
      case Kind::notice:
        log->warn("venue notice code={} msg={}: the connection will be replaced", f.code, f.message);
        return;
      case Kind::push:
        if (f.channel == kChannel && !f.rfqs.empty() && cb.on_rfqs) cb.on_rfqs(std::move(f.rfqs));
        return;
      case Kind::unreadable:
        log->warn("stage=parse frame ignored: {}", f.message);
        return;
      default:
        return;
    }
  }

  // Login or subscribe refused: report it; the venue closes the connection (OKX: 4001 after
  // a failed login) and the client reconnects with backoff.
  void refused(const WsFrame& f) {
    const Errc e = map_ws_code(f.code);
    const char* what = stage == Stage::logging_in ? "login" : "subscribe";
    log->error("stage={} refused code={} msg={}", what, f.code, f.message);
    if (cb.on_down) {
      cb.on_down(make_error_code(e == Errc::ok ? Errc::rejected : e),
                 std::string(what) + " refused: " + f.code + " " + f.message);
    }
  }

  void on_lost(const error_code& ec) {
    const bool was_ready = stage == Stage::ready;
    stage = Stage::connecting;
    if (was_ready) log->warn("rfqs feed lost: {}", ec.message());
    if (cb.on_down) cb.on_down(make_error_code(Errc::disconnected), "rfqs feed lost: " + ec.message());
  }

  void stop() {
    if (stopped) return;
    stopped = true;
    cb = {};
    if (ws) ws->stop();
  }
};

OkxFeed::OkxFeed(boost::asio::io_context& io, Clock& clock, OkxFeedOptions options,
                 OkxFeedCallbacks cb)
    : impl_(std::make_shared<Impl>(io, clock, std::move(options), std::move(cb))) {}

OkxFeed::~OkxFeed() { impl_->stop(); }

void OkxFeed::start() { impl_->start(); }
void OkxFeed::stop() { impl_->stop(); }
bool OkxFeed::ready() const { return impl_->stage == Impl::Stage::ready; }
std::size_t OkxFeed::connects() const { return impl_->ws ? impl_->ws->connects() : 0; }

}  // namespace rfq::okx
