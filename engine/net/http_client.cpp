#include "engine/net/http_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <deque>
#include <optional>
#include <stdexcept>

#include "engine/core/error.hpp"
#include "engine/core/log.hpp"
#include "engine/net/tls_client.hpp"

namespace rfq::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Deadline = std::chrono::steady_clock::time_point;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// Deadlines are enforced by one coarse watchdog per client rather than a timer per socket
// operation: arming a timer per write and per read costs a timerfd update each time, a few
// microseconds on every cancel. A request may overrun its deadline by up to one tick.
constexpr auto kWatchdogTick = std::chrono::milliseconds(10);

// One keep-alive connection. The TLS stream cannot be reused after a failure, so every
// (re)connect builds fresh streams.
struct Connection {
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  bool open = false;
  bool busy = false;
  Deadline deadline = Deadline::max();  // of the operation under way; the watchdog enforces it
  bool timed_out = false;               // the watchdog closed it at its deadline

  void reset(asio::io_context& io, ssl::context* ctx) {
    plain.reset();
    tls.reset();
    buffer.clear();
    if (ctx != nullptr) {
      tls.emplace(io, *ctx);
    } else {
      plain.emplace(io);
    }
  }
  beast::tcp_stream& lowest() { return plain ? *plain : beast::get_lowest_layer(*tls); }
  void close() {
    if (plain || tls) {
      error_code ignored;
      lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
      lowest().socket().close(ignored);
    }
    open = false;
  }
};

}  // namespace

struct HttpClient::Impl : std::enable_shared_from_this<Impl> {
  struct Pending {
    HttpRequest req;
    Deadline deadline;
    Handler handler;
  };

  asio::io_context& io;
  Origin origin;
  HttpClientOptions options;
  std::unique_ptr<ssl::context> tls_ctx;
  tcp::resolver resolver;
  std::optional<tcp::resolver::results_type> endpoints;
  std::vector<std::unique_ptr<Connection>> conns;
  std::deque<Pending> queue;
  asio::steady_timer queue_timer;  // fires at the earliest deadline among queued requests
  asio::steady_timer watchdog;     // ticks while any connection is busy
  bool watchdog_armed = false;
  std::string host_header;
  bool closed = false;
  std::size_t connects = 0;
  std::shared_ptr<spdlog::logger> log = log::get("net");

  Impl(asio::io_context& io_ctx, Origin o, HttpClientOptions opts)
      : io(io_ctx),
        origin(std::move(o)),
        options(std::move(opts)),
        resolver(io_ctx),
        queue_timer(io_ctx),
        watchdog(io_ctx) {
    if (origin.tls) tls_ctx = make_client_tls_context(options.ca_file);
    const bool default_port = (origin.tls && origin.port == "443") ||
                              (!origin.tls && origin.port == "80");
    host_header = default_port ? origin.host : origin.host + ":" + origin.port;
    for (std::size_t i = 0; i < std::max<std::size_t>(1, options.pool_size); ++i) {
      conns.push_back(std::make_unique<Connection>());
    }
  }

  Connection* idle_connection() {
    Connection* best = nullptr;
    for (auto& c : conns) {
      if (c->busy) continue;
      if (c->open) return c.get();
      if (best == nullptr) best = c.get();
    }
    return best;
  }

  void pump() {
    while (!queue.empty() && !closed) {
      Connection* c = idle_connection();
      if (c == nullptr) return arm_queue_timer();
      Pending p = std::move(queue.front());
      queue.pop_front();
      if (std::chrono::steady_clock::now() >= p.deadline) {
        complete(std::move(p.handler), make_error_code(Errc::timeout), {});
        continue;
      }
      c->busy = true;
      asio::co_spawn(io, run(shared_from_this(), c, std::move(p)), asio::detached);
    }
  }

  // Marks the operation under way on c with its deadline and makes sure the watchdog runs.
  void guard(Connection& c, Deadline deadline) {
    c.deadline = deadline;
    if (watchdog_armed || closed) return;
    watchdog_armed = true;
    watchdog.expires_after(kWatchdogTick);
    std::weak_ptr<Impl> weak = shared_from_this();
    watchdog.async_wait([weak](error_code ec) {
      auto self = weak.lock();
      if (!self) return;
      self->watchdog_armed = false;
      if (!ec && !self->closed) self->on_watchdog();
    });
  }

  void on_watchdog() {
    const auto now = std::chrono::steady_clock::now();
    Connection* busy = nullptr;
    for (auto& c : conns) {
      if (!c->busy) continue;
      if (c->deadline <= now) {
        c->timed_out = true;
        c->close();         // the pending operation completes with operation_aborted
        resolver.cancel();  // or it may be waiting for the name
      } else {
        busy = c.get();
      }
    }
    if (busy != nullptr) guard(*busy, busy->deadline);
  }

  // A queued request fails at its own deadline, not when a connection frees up.
  void arm_queue_timer() {
    if (queue.empty() || closed) return;
    Deadline earliest = queue.front().deadline;
    for (const auto& p : queue) earliest = std::min(earliest, p.deadline);
    queue_timer.expires_at(earliest);
    std::weak_ptr<Impl> weak = shared_from_this();
    queue_timer.async_wait([weak](error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->closed) return;
      self->expire_queued();
    });
  }

  void expire_queued() {
    const auto now = std::chrono::steady_clock::now();
    for (auto it = queue.begin(); it != queue.end();) {
      if (it->deadline <= now) {
        complete(std::move(it->handler), make_error_code(Errc::timeout), {});
        it = queue.erase(it);
      } else {
        ++it;
      }
    }
    arm_queue_timer();
  }

  void complete(Handler handler, error_code ec, HttpResponse res) {
    asio::post(io, [h = std::move(handler), ec, res = std::move(res)]() mutable {
      std::move(h)(ec, std::move(res));
    });
  }

  static error_code disconnected() { return make_error_code(Errc::disconnected); }

  // close() may run while this coroutine waits: every resumption checks `closed` first.
  asio::awaitable<error_code> connect(Connection& c, Deadline deadline) {
    if (closed) co_return disconnected();
    guard(c, deadline);  // covers name resolution too
    if (!endpoints) {
      auto [ec, results] = co_await resolver.async_resolve(origin.host, origin.port, kTuple);
      if (closed) co_return disconnected();
      if (ec) {
        log->warn("stage=resolve host={} error={}", origin.host, ec.message());
        co_return ec;
      }
      endpoints = std::move(results);
    }
    c.reset(io, tls_ctx.get());
    auto& low = c.lowest();
    guard(c, deadline);
    auto [ec, ep] = co_await low.async_connect(*endpoints, kTuple);
    if (closed) co_return disconnected();
    if (ec) {
      log->warn("stage=connect host={}:{} error={}", origin.host, origin.port, ec.message());
      co_return ec;
    }
    error_code opt_ec;
    low.socket().set_option(tcp::no_delay(true), opt_ec);
    if (c.tls) {
      if (auto hec = setup_tls_verification(*c.tls)) co_return hec;
      auto [hs_ec] = co_await c.tls->async_handshake(ssl::stream_base::client, kTuple);
      if (closed) co_return disconnected();
      if (hs_ec) {
        log->warn("stage=tls host={} error={}", origin.host, hs_ec.message());
        co_return hs_ec;
      }
    }
    c.open = true;
    ++connects;
    co_return error_code{};
  }

  error_code setup_tls_verification(beast::ssl_stream<beast::tcp_stream>& s) {
    error_code ec;
    prepare_tls_connection(s.native_handle(), origin.host, ec);
    return ec;
  }

  template <typename Stream>
  asio::awaitable<error_code> exchange(Stream& stream, Connection& c, const HttpRequest& r,
                                       Deadline deadline, HttpResponse& out, bool& got_bytes) {
    http::request<http::string_body> req{http::string_to_verb(r.method), r.target, 11};
    req.set(http::field::host, host_header);
    req.set(http::field::user_agent, "rfqd/0.1");
    for (const auto& [name, value] : r.headers) req.set(name, value);
    if (!r.body.empty() || r.method != "GET") {
      req.body() = r.body;
      req.prepare_payload();
    }
    req.keep_alive(true);
    guard(c, deadline);
    out.write_started = std::chrono::steady_clock::now();
    auto [wec, wn] = co_await http::async_write(stream, req, kTuple);
    if (wec) co_return wec;
    http::response_parser<http::string_body> parser;
    parser.body_limit(8 * 1024 * 1024);
    auto [rec, rn] = co_await http::async_read(stream, c.buffer, parser, kTuple);
    got_bytes = parser.got_some();
    if (rec) co_return rec;
    auto& res = parser.get();
    out.status = res.result_int();
    out.body = std::move(res.body());
    out.completed = std::chrono::steady_clock::now();
    if (!res.keep_alive()) c.close();
    co_return error_code{};
  }

  static asio::awaitable<void> run(std::shared_ptr<Impl> self, Connection* c, Pending p) {
    HttpResponse res;
    res.dispatched = std::chrono::steady_clock::now();
    error_code ec;
    c->timed_out = false;
    try {
      ec = co_await self->attempt(c, p, res);
    } catch (const std::exception& e) {
      // Building the request can throw (a header value Beast refuses, bad_alloc): the request
      // fails, its connection slot is freed, and the handler still runs exactly once.
      self->log->error("stage=write request could not be built: {}", e.what());
      ec = make_error_code(Errc::rejected);
    }
    if (c->timed_out) ec = make_error_code(Errc::timeout);
    if (self->closed) ec = disconnected();  // even an answer read just before close()
    if (ec || self->closed) c->close();
    c->deadline = Deadline::max();
    c->busy = false;
    self->pump();
    // We run as the continuation of a socket operation, never inside async_request itself, so
    // the handler is invoked directly: a post here would cost another trip through the
    // scheduler (often an epoll_wait syscall) on every answer.
    std::move(p.handler)(ec, std::move(res));
  }

  // Up to two tries: a stale keep-alive connection (nothing answered) earns a second one.
  asio::awaitable<error_code> attempt(Connection* c, const Pending& p, HttpResponse& res) {
    error_code ec;
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (closed) co_return disconnected();
      bool fresh = false;
      if (!c->open) {
        ec = co_await connect(*c, p.deadline);
        if (ec) co_return ec;
        fresh = true;
      }
      bool got_bytes = false;
      if (c->tls) {
        ec = co_await exchange(*c->tls, *c, p.req, p.deadline, res, got_bytes);
      } else {
        ec = co_await exchange(*c->plain, *c, p.req, p.deadline, res, got_bytes);
      }
      if (!ec) co_return ec;
      c->close();
      if (fresh || got_bytes || closed || c->timed_out) co_return ec;
      log->debug("stage=write retry on a fresh connection after {}", ec.message());
    }
    co_return ec;
  }

  static asio::awaitable<void> open_one(std::shared_ptr<Impl> self, Connection* c,
                                        Deadline deadline,
                                        std::shared_ptr<std::pair<std::size_t, error_code>> state,
                                        std::shared_ptr<ReadyHandler> handler) {
    c->timed_out = false;
    error_code ec;
    try {
      ec = co_await self->connect(*c, deadline);
    } catch (const std::exception&) {
      ec = make_error_code(Errc::unavailable);
    }
    if (c->timed_out) ec = make_error_code(Errc::timeout);
    c->deadline = Deadline::max();
    if (ec || self->closed) c->close();
    if (self->closed) ec = disconnected();
    c->busy = false;
    if (ec && !state->second) state->second = ec;
    if (--state->first == 0) {
      asio::post(self->io, [h = std::move(*handler), ec = state->second]() mutable {
        std::move(h)(ec);
      });
    }
    self->pump();
  }
};

HttpClient::HttpClient(asio::io_context& io, Origin origin, HttpClientOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(origin), std::move(options))) {}

HttpClient::~HttpClient() { close(); }

void HttpClient::warm_up(Millis timeout, ReadyHandler handler) {
  if (impl_->closed) {
    asio::post(impl_->io, [h = std::move(handler)]() mutable {
      std::move(h)(make_error_code(Errc::disconnected));
    });
    return;
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<Connection*> todo;
  for (auto& c : impl_->conns) {
    if (!c->busy && !c->open) todo.push_back(c.get());
  }
  if (todo.empty()) {
    asio::post(impl_->io, [h = std::move(handler)]() mutable { std::move(h)(error_code{}); });
    return;
  }
  auto state = std::make_shared<std::pair<std::size_t, error_code>>(todo.size(), error_code{});
  auto shared_handler = std::make_shared<ReadyHandler>(std::move(handler));
  for (Connection* c : todo) {
    c->busy = true;
    asio::co_spawn(impl_->io, Impl::open_one(impl_, c, deadline, state, shared_handler),
                   asio::detached);
  }
}

void HttpClient::async_request(HttpRequest req, Millis timeout, Handler handler) {
  if (impl_->closed) {
    impl_->complete(std::move(handler), make_error_code(Errc::disconnected), {});
    return;
  }
  impl_->queue.push_back(
      {std::move(req), std::chrono::steady_clock::now() + timeout, std::move(handler)});
  impl_->pump();
}

void HttpClient::close() {
  if (!impl_ || impl_->closed) return;
  impl_->closed = true;
  impl_->resolver.cancel();
  impl_->queue_timer.cancel();
  impl_->watchdog.cancel();
  for (auto& c : impl_->conns) c->close();
  while (!impl_->queue.empty()) {
    auto p = std::move(impl_->queue.front());
    impl_->queue.pop_front();
    impl_->complete(std::move(p.handler), make_error_code(Errc::disconnected), {});
  }
}

const Origin& HttpClient::origin() const { return impl_->origin; }
std::size_t HttpClient::connects() const { return impl_->connects; }
std::size_t HttpClient::open_connections() const {
  std::size_t n = 0;
  for (const auto& c : impl_->conns) n += c->open ? 1 : 0;
  return n;
}

}  // namespace rfq::net
