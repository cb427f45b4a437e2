#include "engine/net/ws_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <deque>

#include "engine/core/error.hpp"
#include "engine/core/log.hpp"
#include "engine/net/tls_client.hpp"

namespace rfq::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using PlainWs = websocket::stream<beast::tcp_stream>;
using TlsWs = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

}  // namespace

struct WsClient::Impl : std::enable_shared_from_this<Impl> {
  asio::io_context& io;
  Clock& clock;
  WsClientOptions opt;
  WsCallbacks cb;
  std::unique_ptr<ssl::context> tls_ctx;
  tcp::resolver resolver;
  std::unique_ptr<PlainWs> plain;
  std::unique_ptr<TlsWs> tls;
  std::deque<std::string> outbox;
  bool open = false;
  bool writing = false;
  bool stopped = false;
  bool ping_sent = false;
  std::uint64_t epoch = 0;  // connection generation: a stale session's events are ignored
  SteadyTime last_rx{};
  Millis backoff;
  TimerHandle keepalive;
  TimerHandle retry;
  std::size_t connects = 0;
  std::shared_ptr<spdlog::logger> log = log::get("net");

  Impl(asio::io_context& i, Clock& c, WsClientOptions o, WsCallbacks callbacks)
      : io(i), clock(c), opt(std::move(o)), cb(std::move(callbacks)), resolver(i),
        backoff(opt.backoff_initial) {
    if (opt.origin.tls) tls_ctx = make_client_tls_context(opt.ca_file);
  }

  beast::tcp_stream& lowest() {
    return tls ? beast::get_lowest_layer(*tls) : beast::get_lowest_layer(*plain);
  }

  void close_socket() {
    if (!plain && !tls) return;
    error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().socket().close(ignored);
  }

  void connect() {
    if (stopped) return;
    const auto my_epoch = ++epoch;
    plain.reset();
    tls.reset();
    if (tls_ctx) {
      tls = std::make_unique<TlsWs>(io, *tls_ctx);
    } else {
      plain = std::make_unique<PlainWs>(io);
    }
    asio::co_spawn(io, session(shared_from_this(), my_epoch), asio::detached);
  }

  template <typename Ws>
  asio::awaitable<error_code> handshake(Ws& ws) {
    auto& low = beast::get_lowest_layer(ws);
    low.expires_after(opt.connect_timeout);
    auto [rec, results] = co_await resolver.async_resolve(opt.origin.host, opt.origin.port, kTuple);
    if (rec) co_return rec;
    auto [cec, ep] = co_await low.async_connect(results, kTuple);
    if (cec) co_return cec;
    error_code ignored;
    low.socket().set_option(tcp::no_delay(true), ignored);
    if constexpr (std::is_same_v<Ws, TlsWs>) {
      error_code vec;
      prepare_tls_connection(ws.next_layer().native_handle(), opt.origin.host, vec);
      if (vec) co_return vec;
      auto [hec] = co_await ws.next_layer().async_handshake(ssl::stream_base::client, kTuple);
      if (hec) co_return hec;
    }
    const bool default_port = (opt.origin.tls && opt.origin.port == "443") ||
                              (!opt.origin.tls && opt.origin.port == "80");
    const std::string host = default_port ? opt.origin.host : opt.origin.host + ":" + opt.origin.port;
    ws.set_option(websocket::stream_base::decorator(
        [](websocket::request_type& req) { req.set(beast::http::field::user_agent, "rfqd/0.1"); }));
    // Named, not a temporary: g++ 12 mishandles temporaries inside co_await operands.
    const std::string target = opt.origin.path.empty() ? std::string("/") : opt.origin.path;
    auto [wec] = co_await ws.async_handshake(host, target, kTuple);
    if (wec) co_return wec;
    low.expires_never();  // from here the keep-alive decides when the peer is gone
    ws.text(true);
    co_return error_code{};
  }

  template <typename Ws>
  asio::awaitable<error_code> read_loop(Ws& ws, std::uint64_t my_epoch) {
    beast::flat_buffer buffer;
    for (;;) {
      auto [ec, n] = co_await ws.async_read(buffer, kTuple);
      if (ec) co_return ec;
      if (stopped || my_epoch != epoch) co_return make_error_code(Errc::disconnected);
      last_rx = clock.steady_now();
      ping_sent = false;
      std::string text = beast::buffers_to_string(buffer.data());
      buffer.consume(buffer.size());
      if (text == opt.pong_text) continue;
      if (cb.on_text) cb.on_text(text);
    }
  }

  // (No co_await inside ?: here: g++ 12 miscompiles that.)
  static asio::awaitable<void> session(std::shared_ptr<Impl> self, std::uint64_t my_epoch) {
    error_code ec;
    if (self->tls) {
      ec = co_await self->handshake(*self->tls);
    } else {
      ec = co_await self->handshake(*self->plain);
    }
    if (!ec && !self->stopped && my_epoch == self->epoch) {
      self->on_connected();
      if (self->tls) {
        ec = co_await self->read_loop(*self->tls, my_epoch);
      } else {
        ec = co_await self->read_loop(*self->plain, my_epoch);
      }
    }
    if (my_epoch == self->epoch) self->lost(ec);
  }

  void on_connected() {
    open = true;
    ++connects;
    backoff = opt.backoff_initial;
    last_rx = clock.steady_now();
    ping_sent = false;
    arm_keepalive();
    log->info("stage=connect ws {}:{}{} open", opt.origin.host, opt.origin.port, opt.origin.path);
    if (cb.on_open) cb.on_open();
  }

  void lost(error_code ec) {
    const bool was_open = open;
    open = false;
    writing = false;
    outbox.clear();
    keepalive.cancel();
    close_socket();
    if (stopped) return;
    log->warn("stage={} ws {}:{} {}; reconnecting in {} ms", was_open ? "read" : "connect",
              opt.origin.host, opt.origin.port, ec.message(), backoff.count());
    if (was_open && cb.on_close) cb.on_close(ec);
    std::weak_ptr<Impl> weak = shared_from_this();
    retry = clock.schedule(backoff, [weak] {
      if (auto self = weak.lock()) self->connect();
    });
    backoff = std::min(opt.backoff_max, backoff * 2);
  }

  // Nothing received for ping_after: send a ping; nothing for pong_timeout more: the peer is
  // gone, close so the session ends and reconnects.
  void arm_keepalive() {
    const auto tick = std::max(Millis(10), std::min(opt.ping_after, opt.pong_timeout) / 4);
    std::weak_ptr<Impl> weak = shared_from_this();
    keepalive = clock.schedule(tick, [weak] {
      auto self = weak.lock();
      if (!self || !self->open) return;
      const auto quiet = self->clock.steady_now() - self->last_rx;
      if (quiet >= self->opt.ping_after + self->opt.pong_timeout) {
        self->log->warn("stage=read ws no data for {} ms; reconnecting",
                        std::chrono::duration_cast<Millis>(quiet).count());
        return self->close_socket();
      }
      if (quiet >= self->opt.ping_after && !self->ping_sent && !self->opt.ping_text.empty()) {
        self->ping_sent = true;
        self->enqueue(self->opt.ping_text);
      }
      self->arm_keepalive();
    });
  }

  void enqueue(std::string text) {
    outbox.push_back(std::move(text));
    flush();
  }

  void flush() {
    if (writing || outbox.empty() || !open) return;
    writing = true;
    auto self = shared_from_this();
    const auto my_epoch = epoch;
    auto done = [self, my_epoch](error_code ec, std::size_t) {
      if (my_epoch != self->epoch) return;
      self->writing = false;
      if (ec) return self->close_socket();  // the read loop ends and reconnects
      self->outbox.pop_front();
      self->flush();
    };
    if (tls) {
      tls->async_write(asio::buffer(outbox.front()), std::move(done));
    } else {
      plain->async_write(asio::buffer(outbox.front()), std::move(done));
    }
  }
};

WsClient::WsClient(asio::io_context& io, Clock& clock, WsClientOptions options, WsCallbacks cb)
    : impl_(std::make_shared<Impl>(io, clock, std::move(options), std::move(cb))) {}

WsClient::~WsClient() { stop(); }

void WsClient::start() { impl_->connect(); }

bool WsClient::send(std::string text) {
  if (!impl_->open || impl_->stopped) return false;
  impl_->enqueue(std::move(text));
  return true;
}

void WsClient::reconnect() { impl_->close_socket(); }

void WsClient::stop() {
  impl_->stopped = true;
  impl_->retry.cancel();
  impl_->keepalive.cancel();
  impl_->resolver.cancel();
  impl_->open = false;
  impl_->close_socket();
}

bool WsClient::is_open() const { return impl_->open; }
std::size_t WsClient::connects() const { return impl_->connects; }

std::unique_ptr<WsConnection> open_ws_connection(const WsFactory& factory,
                                                 boost::asio::io_context& io, Clock& clock,
                                                 WsClientOptions options, WsCallbacks cb) {
  if (factory) return factory(options, std::move(cb));
  return std::make_unique<WsClient>(io, clock, std::move(options), std::move(cb));
}

}  // namespace rfq::net
