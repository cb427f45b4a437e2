#include "engine/venues/deribit/deribit_venue.hpp"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/json/object.hpp>
#include <random>
#include <unordered_map>

#include "engine/book/book.hpp"
#include "engine/core/error.hpp"
#include "engine/core/log.hpp"
#include "engine/limits/credit_pool.hpp"
#include "engine/net/http_client.hpp"
#include "engine/net/ws_client.hpp"
#include "engine/venues/deribit/deribit_rpc.hpp"

namespace rfq::deribit {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using boost::system::error_code;

bool is_terminal(std::string_view state) {
  return state == "canceled" || state == "expired" || state == "filled" || state == "failed";
}

// Filled RFQs a fill lookup reads (one page, newest first).
constexpr int kFilledLookup = 100;

std::int64_t micros(SteadyTime a, SteadyTime b) {
  return std::chrono::duration_cast<std::chrono::microseconds>(b - a).count();
}

// A call's outcome: a local failure (not sent, timed out, connection lost) in `ec`, else the
// venue's response in `msg` (which may carry an error object).
struct Reply {
  error_code ec;
  Message msg;
  SteadyTime sent_at{};
  SteadyTime answered_at{};
  Nanos queued{0};  // waiting for credits
  bool sent = false;
};
using ReplyHandler = UniqueFunction<void(Reply)>;

}  // namespace

struct DeribitVenue::Impl : std::enable_shared_from_this<Impl> {
  enum class Stage { connecting, authenticating, ready };
  struct Pending {
    std::string method;
    SteadyTime sent_at;
    TimerHandle deadline;
    ReplyHandler done;
  };

  asio::io_context& io;
  Clock& clock;
  Book& book;
  DeribitVenueOptions options;
  std::unique_ptr<net::WsConnection> ws;
  std::shared_ptr<net::HttpTransport> http;
  CreditPool pool;
  Stage stage = Stage::connecting;
  std::shared_ptr<VenueStatusCell> status;  // up while the WebSocket session is ready
  bool stopped = false;
  bool refreshing_book = false;
  std::string access_token;
  std::string refresh_token;
  TimerHandle token_timer;
  TimerHandle book_timer;
  TimerHandle start_timer;
  TimerHandle retry_auth_timer;
  std::size_t auth_count = 0;
  std::uint64_t next_id = 1;
  std::unordered_map<std::uint64_t, Pending> pending;
  std::shared_ptr<StartHandler> start_handler;
  std::mt19937_64 rng;
  std::shared_ptr<spdlog::logger> log = log::get("venue.deribit");

  Impl(asio::io_context& i, Clock& c, Book& b, DeribitVenueOptions o,
       std::shared_ptr<VenueStatusCell> status_cell)
      : io(i), clock(c), book(b), options(std::move(o)),
        pool(c, "non-matching-engine", pool_capacity(options), options.credit_refill_per_s,
             pool_capacity(options) >= 2 * options.credit_cost ? options.credit_cost : 0),
        status(std::move(status_cell)),
        rng(options.seed != 0 ? options.seed : std::random_device{}()) {}

  // The venue's bucket stays full (losing refill) until our first request of a burst
  // arrives, while ours starts refilling when it is sent: it runs behind ours by the refill of
  // that latency. Modelling a pool smaller by 100 ms of refill (at most a tenth of it) keeps
  // us behind the venue instead. One request's credits stay in reserve for urgent calls
  // (cancel_all) when the pool can spare them.
  static std::int64_t pool_capacity(const DeribitVenueOptions& o) {
    const std::int64_t headroom = std::min(o.credit_pool / 10, o.credit_refill_per_s / 10);
    return std::max<std::int64_t>(o.credit_cost, o.credit_pool - headroom);
  }

  Millis heartbeat() const { return Millis(std::int64_t{options.heartbeat_s} * 1000); }

  // ---- start and the session ----------------------------------------------------------
  void start(StartHandler handler) {
    start_handler = std::make_shared<StartHandler>(std::move(handler));
    std::weak_ptr<Impl> weak = shared_from_this();
    net::WsClientOptions wo;
    wo.origin = options.ws;
    wo.ca_file = options.ca_file;
    // No client ping (Deribit keeps alive with heartbeats); silence for two heartbeat
    // intervals means the server is gone: replace the connection.
    wo.ping_text.clear();
    wo.pong_text.clear();
    wo.ping_after = heartbeat() * 3 / 2;
    wo.pong_timeout = heartbeat() / 2;
    ws = net::open_ws_connection(
        options.ws_factory, io, clock, wo,
        net::WsCallbacks{[weak] { if (auto s = weak.lock()) s->on_open(); },
                         [weak](std::string_view t) { if (auto s = weak.lock()) s->on_text(t); },
                         [weak](const error_code& ec) { if (auto s = weak.lock()) s->on_close(ec); }});
    if (options.http && options.http_transport) {
      http = options.http_transport;
    } else if (options.http) {
      http = std::make_shared<net::HttpClient>(io, *options.http,
                                               net::HttpClientOptions{1, options.ca_file});
    }
    ws->start();
    start_timer = clock.schedule(options.start_timeout, [weak] {
      if (auto s = weak.lock()) {
        s->log->error("stage=start not ready within {} ms", s->options.start_timeout.count());
        s->finish_start(make_error_code(Errc::timeout));
      }
    });
  }

  void finish_start(error_code ec) {
    start_timer.cancel();
    if (!start_handler) return;
    auto h = std::move(start_handler);
    asio::post(io, [h, ec]() mutable { std::move(*h)(ec); });
  }

  void on_open() {
    stage = Stage::authenticating;
    authenticate(false);
  }

  std::string nonce() {
    static constexpr char kAlnum[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    std::string n(12, '0');
    for (char& c : n) c = kAlnum[rng() % 36];
    return n;
  }

  // public/auth: a fresh grant, or the refresh grant while the token is still good.
  void authenticate(bool refresh) {
    json::object params;
    if (refresh) {
      params = auth_refresh_params(refresh_token);
    } else if (options.client_credentials) {
      params = auth_credentials_params(options.credentials.client_id,
                                       options.credentials.client_secret.reveal());
    } else {
      const std::int64_t ts = clock.now_ms();
      const std::string n = nonce();
      params = auth_signature_params(
          options.credentials.client_id, ts, n,
          auth::deribit_ws_signature(options.credentials.client_secret.reveal(), ts, n, ""));
    }
    auto self = shared_from_this();
    send("public/auth", std::move(params), clock.steady_now() + options.start_timeout,
         [self, refresh](Reply r) { self->on_auth(std::move(r), refresh); });
  }

  void on_auth(Reply r, bool refresh) {
    if (stopped) return;
    AuthResult a;
    std::string why;
    if (r.ec) {
      why = r.ec.message();
    } else if (r.msg.error) {
      why = std::to_string(r.msg.error->code) + " " + r.msg.error->message;
    } else if (a = parse_auth(r.msg.result); !a.problem.empty()) {
      why = a.problem;
    }
    if (!why.empty()) {
      if (r.ec == make_error_code(Errc::disconnected)) return;  // on_close handles it
      if (refresh) {
        log->warn("stage=auth token refresh refused ({}); authenticating afresh", why);
        return authenticate(false);
      }
      log->error("stage=auth refused: {}", why);
      status->set(VenueStatus::down);
      if (r.msg.error && map_error("public/auth", *r.msg.error) == Errc::auth) {
        finish_start(make_error_code(Errc::auth));
      }
      // Try again later on this connection; a refused grant will not get better at once.
      std::weak_ptr<Impl> weak = shared_from_this();
      retry_auth_timer = clock.schedule(std::chrono::seconds(5), [weak] {
        if (auto s = weak.lock(); s && s->ws->is_open()) s->authenticate(false);
      });
      return;
    }
    access_token = a.access_token;
    refresh_token = a.refresh_token;
    ++auth_count;
    // Refresh at 80% of the token's life, never sooner than 1 s.
    const auto life = std::chrono::milliseconds(a.expires_in_s * 800);
    std::weak_ptr<Impl> weak = shared_from_this();
    token_timer = clock.schedule(std::max<Millis>(life, Millis(1000)), [weak] {
      if (auto s = weak.lock(); s && s->stage != Stage::connecting) {
        s->authenticate(!s->refresh_token.empty());
      }
    });
    log->info("authenticated ({}; token for {} s)", refresh ? "refreshed" : "new grant",
              a.expires_in_s);
    if (!refresh) setup_session();
  }

  // After a fresh auth on a connection: heartbeat, cancel-on-disconnect, subscriptions, then
  // the snapshot; the venue is ready when all of it succeeded.
  void setup_session() {
    auto self = shared_from_this();
    const auto deadline = clock.steady_now() + options.start_timeout;
    call("public/set_heartbeat", {{"interval", options.heartbeat_s}}, deadline, false,
         [self, deadline](Reply r) {
           if (!self->step_ok(r, "set_heartbeat")) return;
           if (!self->options.cancel_on_disconnect) return self->subscribe(deadline);
           self->call("private/enable_cancel_on_disconnect", {{"scope", "connection"}}, deadline,
                      false, [self, deadline](Reply r2) {
                        if (self->step_ok(r2, "enable_cancel_on_disconnect")) {
                          self->subscribe(deadline);
                        }
                      });
         });
  }

  void subscribe(SteadyTime deadline) {
    json::array channels;
    for (const auto& c : options.currencies) channels.push_back(json::string("block_rfq.taker." + c));
    auto self = shared_from_this();
    call("private/subscribe", {{"channels", std::move(channels)}}, deadline, false,
         [self](Reply r) {
           if (!self->step_ok(r, "subscribe")) return;
           self->refresh_book([self](error_code ec) {
             if (ec) {
               self->log->error("stage=snapshot failed: {}", ec.message());
               self->finish_start(ec);
               return self->ws->reconnect();
             }
             self->stage = Stage::ready;
             self->status->set(VenueStatus::up);
             OpenQuery q;
             q.venue = "deribit";
             self->log->info("up: {} open block RFQs in the book",
                             self->book.open(q, self->clock.now_ms()).size());
             self->finish_start({});
             self->schedule_book_refresh();
           });
         });
  }

  // A failed set-up step replaces the connection (it is retried from scratch).
  bool step_ok(const Reply& r, std::string_view step) {
    if (stopped) return false;
    if (!r.ec && !r.msg.error) return true;
    if (r.ec == make_error_code(Errc::disconnected)) return false;
    log->error("stage={} failed: {}", step,
               r.ec ? r.ec.message()
                    : std::to_string(r.msg.error->code) + " " + r.msg.error->message);
    ws->reconnect();
    return false;
  }

  void on_close(const error_code& ec) {
    const bool was_ready = stage == Stage::ready;
    stage = Stage::connecting;
    access_token.clear();  // connection-scoped
    refresh_token.clear();
    token_timer.cancel();
    retry_auth_timer.cancel();
    if (status->get() == VenueStatus::up) status->set(VenueStatus::down);
    if (was_ready) log->warn("connection lost: {}; reconnecting", ec.message());
    fail_pending(make_error_code(Errc::disconnected));
  }

  void fail_pending(error_code ec) {
    auto lost = std::move(pending);
    pending.clear();
    for (auto& [id, p] : lost) {
      p.deadline.cancel();
      Reply r;
      r.ec = ec;
      r.sent = true;
      r.sent_at = p.sent_at;
      std::move(p.done)(std::move(r));
    }
  }

  void on_text(std::string_view text) {
    Message m = parse_message(text);
    if (m.kind == Message::Kind::unreadable) {
      return log->warn("stage=parse frame ignored: {}", m.problem);
    }
    if (m.kind == Message::Kind::notification) return on_notification(m);
    if (!m.id) return log->warn("stage=parse response without our id ignored");
    auto it = pending.find(*m.id);
    if (it == pending.end()) return;  // timed out already
    Pending p = std::move(it->second);
    pending.erase(it);
    p.deadline.cancel();
    Reply r;
    r.sent = true;
    r.sent_at = p.sent_at;
    r.answered_at = clock.steady_now();
    r.msg = std::move(m);
    if (r.msg.error && r.msg.error->code == 10028) {
      log->error("stage=venue_reject {} answered 10028 too_many_requests; the venue ends the "
                 "session", p.method);
      pool.drain();
    }
    std::move(p.done)(std::move(r));
  }

  void on_notification(const Message& m) {
    const json::object* params = m.params.if_object();
    if (m.method == "heartbeat") {
      const json::value* type = params ? params->if_contains("type") : nullptr;
      if (type && type->is_string() && type->get_string() == "test_request") {
        // Answered from the loop at once, outside the credit pool: a late answer ends the
        // connection.
        send("public/test", {}, clock.steady_now() + heartbeat(), [](Reply) {});
      }
      return;
    }
    if (m.method != "subscription" || params == nullptr) return;
    const json::value* channel = params->if_contains("channel");
    const json::value* data = params->if_contains("data");
    if (!channel || !channel->is_string() || !data) return;
    if (!std::string_view(channel->get_string()).starts_with("block_rfq.taker.")) return;
    Rfq r;
    if (std::string bad = parse_block_rfq(*data, r); !bad.empty()) {
      return log->warn("stage=parse block_rfq push ignored: missing or invalid {}", bad);
    }
    apply_venue_state(std::move(r));
  }

  // A state the venue itself reported (push, cancel answer, snapshot).
  void apply_venue_state(Rfq r) {
    const Rfq* known = book.find("deribit", r.id);
    if (known != nullptr && is_terminal(known->state) && !is_terminal(r.state)) return;
    r.confirmed = true;
    book.upsert(std::move(r));
  }

  // ---- calls ------------------------------------------------------------------------------
  // Charged calls take their credits first (urgent ones ahead, and into the reserve).
  void call(std::string method, json::object params, SteadyTime deadline, bool urgent,
            ReplyHandler done) {
    auto self = shared_from_this();
    auto shared = std::make_shared<ReplyHandler>(std::move(done));
    auto p = std::make_shared<json::object>(std::move(params));
    const auto submitted = clock.steady_now();
    pool.submit(options.credit_cost, deadline,
                [self, method = std::move(method), p, deadline, shared,
                 submitted](error_code ec) mutable {
                  const Nanos queued = self->clock.steady_now() - submitted;
                  if (ec) {
                    Reply r;
                    r.ec = ec;
                    r.queued = queued;
                    return (*shared)(std::move(r));
                  }
                  self->send(std::move(method), std::move(*p), deadline,
                             [shared, queued](Reply r) {
                               r.queued = queued;
                               (*shared)(std::move(r));
                             });
                },
                urgent);
  }

  void send(std::string method, json::object params, SteadyTime deadline, ReplyHandler done) {
    const bool is_private = method.starts_with("private/");
    if (stopped || !ws || !ws->is_open() || (is_private && access_token.empty())) {
      Reply r;
      r.ec = make_error_code(Errc::disconnected);
      return done(std::move(r));
    }
    if (is_private) params["access_token"] = access_token;
    const std::uint64_t id = next_id++;
    const auto now = clock.steady_now();
    if (!ws->send(build_request(id, method, std::move(params)))) {
      Reply r;
      r.ec = make_error_code(Errc::disconnected);
      return done(std::move(r));
    }
    std::weak_ptr<Impl> weak = shared_from_this();
    Pending p{std::move(method), now, clock.schedule_at(deadline, [weak, id] {
                if (auto s = weak.lock()) s->expire(id);
              }), std::move(done)};
    pending.emplace(id, std::move(p));
  }

  void expire(std::uint64_t id) {
    auto it = pending.find(id);
    if (it == pending.end()) return;
    Pending p = std::move(it->second);
    pending.erase(it);
    Reply r;
    r.ec = make_error_code(Errc::timeout);
    r.sent = true;
    r.sent_at = p.sent_at;
    std::move(p.done)(std::move(r));
  }

  bool ws_ready() const { return stage == Stage::ready && ws && ws->is_open(); }

  // ---- book ---------------------------------------------------------------------------
  void schedule_book_refresh() {
    if (stopped || options.book_refresh.count() <= 0) return;
    std::weak_ptr<Impl> weak = shared_from_this();
    book_timer = clock.schedule(options.book_refresh, [weak] {
      auto s = weak.lock();
      if (!s || s->stopped) return;
      if (!s->ws_ready()) return s->schedule_book_refresh();
      s->refresh_book([s](error_code ec) {
        if (ec) s->log->warn("stage=snapshot refresh failed: {}", ec.message());
        s->schedule_book_refresh();
      });
    });
  }

  // get_block_rfqs (taker, open) page by page, then the book's open set is replaced.
  void refresh_book(UniqueFunction<void(error_code)> done) {
    if (refreshing_book) return done({});
    refreshing_book = true;
    auto acc = std::make_shared<std::vector<Rfq>>();
    auto shared = std::make_shared<UniqueFunction<void(error_code)>>(std::move(done));
    fetch_page(acc, std::nullopt, clock.now_ms(), shared);
  }

  void fetch_page(std::shared_ptr<std::vector<Rfq>> acc, std::optional<std::int64_t> continuation,
                  std::int64_t taken_at, std::shared_ptr<UniqueFunction<void(error_code)>> done) {
    auto self = shared_from_this();
    list_open(continuation, clock.steady_now() + options.start_timeout, false,
              [self, acc, taken_at, done](error_code ec, RfqPage page) {
                if (!ec) {
                  for (auto& r : page.rfqs) acc->push_back(std::move(r));
                  if (page.continuation && !page.rfqs.empty()) {
                    return self->fetch_page(acc, page.continuation, taken_at, done);
                  }
                }
                if (!ec && !self->stopped) {
                  auto missing =
                      self->book.missing_from("deribit", *acc, taken_at, self->clock.now_ms());
                  if (!missing.empty()) {
                    return self->look_up_fills(acc, taken_at, std::move(missing), done);
                  }
                  self->apply_snapshot(std::move(*acc), taken_at);
                }
                self->refreshing_book = false;
                (*done)(ec);
              });
  }

  void apply_snapshot(std::vector<Rfq> rfqs, std::int64_t taken_at) {
    std::erase_if(rfqs, [&](const Rfq& r) {
      const Rfq* known = book.find("deribit", r.id);
      return known != nullptr && is_terminal(known->state);
    });
    for (Rfq& r : rfqs) r.confirmed = true;
    book.replace_active("deribit", std::move(rfqs), taken_at);
    book.evict_finished(clock.now_ms() - 60'000);
  }

  // Open RFQs the snapshot no longer lists ended unseen (a push lost with the connection): one
  // page of the latest filled ones tells which of them filled (each then a fill, once, with
  // its trades), before the snapshot replaces the book's open set.
  void look_up_fills(std::shared_ptr<std::vector<Rfq>> snapshot, std::int64_t taken_at,
                     std::vector<std::string> missing,
                     std::shared_ptr<UniqueFunction<void(error_code)>> done) {
    auto self = shared_from_this();
    auto ids = std::make_shared<std::vector<std::string>>(std::move(missing));
    call(std::string(kGetBlockRfqs), filled_rfqs_params(kFilledLookup),
         clock.steady_now() + options.start_timeout, false,
         [self, snapshot, taken_at, ids, done](Reply r) {
           RfqPage page;
           if (!r.ec && !r.msg.error) page = parse_block_rfq_page(r.msg.result);
           if (r.ec || r.msg.error || !page.problem.empty()) {
             self->log->warn("stage=snapshot fill lookup failed: {}",
                             r.ec ? r.ec.message()
                             : r.msg.error ? r.msg.error->message
                                           : page.problem);
           }
           self->refreshing_book = false;
           if (self->stopped) return (*done)(make_error_code(Errc::disconnected));
           for (Rfq& rfq : page.rfqs) {
             if (rfq.state != "filled" ||
                 std::find(ids->begin(), ids->end(), rfq.id) == ids->end()) {
               continue;
             }
             self->apply_venue_state(std::move(rfq));  // open -> filled, with its trades
           }
           self->apply_snapshot(std::move(*snapshot), taken_at);
           (*done)(error_code{});
         });
  }

  void list_open(std::optional<std::int64_t> continuation, SteadyTime deadline, bool urgent,
                 UniqueFunction<void(error_code, RfqPage)> done) {
    auto shared = std::make_shared<UniqueFunction<void(error_code, RfqPage)>>(std::move(done));
    call(std::string(kGetBlockRfqs), open_rfqs_params(continuation), deadline, urgent,
         [shared](Reply r) {
           RfqPage page;
           error_code ec = r.ec;
           if (!ec && r.msg.error) ec = make_error_code(map_error(kGetBlockRfqs, *r.msg.error));
           if (!ec) {
             page = parse_block_rfq_page(r.msg.result);
             if (!page.problem.empty()) ec = make_error_code(Errc::unavailable);
           }
           (*shared)(ec, std::move(page));
         });
  }

  // ---- cancel -------------------------------------------------------------------------
  // A 10028 answer means the venue did not process the cancel (and ends the session): it is
  // tried once more inside the deadline, after the pool's back-off, over whatever transport
  // is up by then (the HTTP fallback while the WebSocket reconnects).
  void cancel_one(std::string id, SteadyTime deadline, bool urgent,
                  UniqueFunction<void(CancelResult)> done, bool retried = false) {
    std::int64_t n = 0;
    parse_rfq_id(id, n);  // checked before: check()
    auto self = shared_from_this();
    auto finish = [self, id, deadline, urgent, retried, done = std::move(done)](Reply r) mutable {
      const bool limited = !r.ec && r.msg.error && r.msg.error->code == 10028;
      if (limited && !retried && !self->stopped && self->clock.steady_now() < deadline) {
        self->log->warn("stage=venue_reject cancel_block_rfq id={} answered 10028; retrying once",
                        id);
        return self->cancel_one(id, deadline, urgent, std::move(done), true);
      }
      std::move(done)(self->cancel_result(id, std::move(r)));
    };
    if (!ws_ready() && http) return http_cancel(id, n, deadline, urgent, std::move(finish));
    call(std::string(kCancelBlockRfq), {{"block_rfq_id", n}}, deadline, urgent, std::move(finish));
  }

  CancelResult cancel_result(const std::string& id, Reply r) {
    CancelResult out;
    out.id = id;
    out.sent = r.sent;
    out.written_at = r.sent_at;
    out.queued = r.queued;
    if (r.answered_at != SteadyTime{}) out.latency_us = micros(r.sent_at, r.answered_at);
    if (r.ec) {
      out.ec = r.ec;
      out.message = r.ec == make_error_code(Errc::rate_limited)
                        ? "credit pool: no credits before the deadline; not sent"
                        : r.ec.message();
      return out;
    }
    if (r.msg.error) {
      const RpcError& e = *r.msg.error;
      out.ec = make_error_code(map_error(kCancelBlockRfq, e));
      out.venue_code = std::to_string(e.code);
      out.message = e.message + (e.reason.empty() ? "" : ": " + e.reason);
      log->info("stage=venue_reject cancel_block_rfq id={} code={} msg={}", id, e.code,
                out.message);
      return out;
    }
    out.venue_code = "0";
    Rfq rfq;
    if (parse_block_rfq(r.msg.result, rfq).empty() && rfq.id == id) {
      out.state = rfq.state;
      apply_venue_state(std::move(rfq));
    } else {
      out.state = "canceled";
      book.set_state("deribit", id, "", "canceled", "cancelled");
    }
    if (out.state != "canceled") {
      out.ec = make_error_code(Errc::not_cancelable);
      out.message = "the venue answered with the RFQ " + out.state;
    }
    return out;
  }

  // The WebSocket is down: GET /api/v2/private/cancel_block_rfq?block_rfq_id=N, signed with the
  // deri-hmac-sha256 header, through the same credit pool.
  void http_cancel(std::string id, std::int64_t n, SteadyTime deadline, bool urgent,
                   UniqueFunction<void(Reply)> done) {
    auto self = shared_from_this();
    auto shared = std::make_shared<UniqueFunction<void(Reply)>>(std::move(done));
    const auto submitted = clock.steady_now();
    pool.submit(options.credit_cost, deadline, [self, n, deadline, shared, submitted](error_code ec) {
      const Nanos queued = self->clock.steady_now() - submitted;
      Reply r;
      r.queued = queued;
      if (ec || self->stopped) {
        r.ec = ec ? ec : make_error_code(Errc::disconnected);
        return (*shared)(std::move(r));
      }
      net::HttpRequest req;
      req.method = "GET";
      req.target = http_target(kCancelBlockRfq, "block_rfq_id=" + std::to_string(n));
      req.headers.emplace_back("Authorization",
                               auth::deribit_http_authorization(self->options.credentials,
                                                                self->clock.now_ms(), self->nonce(),
                                                                "GET", req.target, ""));
      const auto left = std::chrono::duration_cast<Millis>(deadline - self->clock.steady_now());
      self->http->async_request(std::move(req), left,
                                [self, shared, queued](error_code ec, net::HttpResponse res) {
                                  Reply r;
                                  r.queued = queued;
                                  r.sent = res.write_started != SteadyTime{};
                                  r.sent_at = res.write_started;
                                  r.answered_at = res.completed;
                                  if (ec) {
                                    r.ec = ec;
                                  } else {
                                    r.msg = parse_message(res.body);
                                    if (r.msg.kind != Message::Kind::response) {
                                      r.ec = make_error_code(Errc::unavailable);
                                    }
                                  }
                                  (*shared)(std::move(r));
                                });
    }, urgent);
  }

  // ---- cancel_batch: parallel single cancels, results in input order -------------------
  void cancel_batch(BatchRequest req, BatchHandler handler) {
    struct Op {
      BatchResult result;
      std::size_t left = 0;
      std::shared_ptr<BatchHandler> handler;
    };
    auto op = std::make_shared<Op>();
    op->handler = std::make_shared<BatchHandler>(std::move(handler));
    op->result.items.resize(req.ids.size());
    std::unordered_map<std::string, std::vector<std::size_t>> positions;
    std::vector<std::string> unique;
    for (std::size_t i = 0; i < req.ids.size(); ++i) {
      op->result.items[i].id = req.ids[i];
      auto& pos = positions[req.ids[i]];
      if (pos.empty()) unique.push_back(req.ids[i]);
      pos.push_back(i);
    }
    op->left = unique.size();
    const auto deadline = clock.steady_now() + req.timeout;
    auto self = shared_from_this();
    for (const auto& id : unique) {
      cancel_one(id, deadline, req.urgent,
                 [self, op, where = positions[id]](CancelResult r) {
                   if (r.sent) ++op->result.requests;
                   if (r.latency_us > 0) op->result.latency_us.push_back(r.latency_us);
                   for (std::size_t pos : where) {
                     auto& item = op->result.items[pos];
                     item.ec = r.ec;
                     item.venue_code = r.venue_code;
                     item.message = r.message;
                   }
                   if (--op->left > 0) return;
                   auto& res = op->result;
                   for (const auto& item : res.items) (item.ec ? res.failed : res.canceled) += 1;
                   if (res.requests == 0 && !res.items.empty()) {
                     res.ec = res.items.front().ec;
                     res.message = res.items.front().message;
                   }
                   asio::post(self->io, [h = std::move(*op->handler), r = std::move(res)]() mutable {
                     std::move(h)(std::move(r));
                   });
                 });
    }
  }

  // ---- cancel_all: Deribit has no taker cancel-all: list the open RFQs, cancel each ------
  void cancel_all(CancelAllRequest req, CancelAllHandler handler) {
    auto shared = std::make_shared<CancelAllHandler>(std::move(handler));
    auto ids = std::make_shared<std::vector<std::string>>();
    list_all(ids, std::nullopt, clock.steady_now() + req.timeout, shared);
  }

  void list_all(std::shared_ptr<std::vector<std::string>> ids,
                std::optional<std::int64_t> continuation, SteadyTime deadline,
                std::shared_ptr<CancelAllHandler> handler) {
    auto self = shared_from_this();
    list_open(continuation, deadline, true,
              [self, ids, deadline, handler](error_code ec, RfqPage page) {
                if (ec) {
                  CancelAllResult r;
                  r.ec = ec;
                  r.message = "listing open block RFQs failed: " + ec.message();
                  return self->finish_all(std::move(r), handler);
                }
                for (const auto& rfq : page.rfqs) ids->push_back(rfq.id);
                if (page.continuation && !page.rfqs.empty()) {
                  return self->list_all(ids, page.continuation, deadline, handler);
                }
                self->cancel_listed(std::move(*ids), deadline, handler);
              });
  }

  void cancel_listed(std::vector<std::string> ids, SteadyTime deadline,
                     std::shared_ptr<CancelAllHandler> handler) {
    if (ids.empty()) {
      CancelAllResult r;
      r.ec = make_error_code(Errc::nothing_to_cancel);
      r.message = "no open block RFQ";
      r.canceled = 0;
      return finish_all(std::move(r), handler);
    }
    BatchRequest batch;
    batch.ids = std::move(ids);
    batch.urgent = true;
    batch.timeout = std::max(Millis(1), std::chrono::duration_cast<Millis>(deadline - clock.steady_now()));
    auto self = shared_from_this();
    cancel_batch(std::move(batch), [self, handler](BatchResult b) {
      CancelAllResult r;
      r.canceled = static_cast<std::int64_t>(b.canceled);
      if (b.failed > 0) {
        for (const auto& item : b.items) {
          if (!item.ec || code_of(item.ec) == Errc::not_cancelable) continue;
          r.ec = item.ec;
          r.venue_code = item.venue_code;
          r.message = std::to_string(b.failed) + " of " + std::to_string(b.items.size()) +
                      " failed, first: " + item.message;
          break;
        }
      }
      self->finish_all(std::move(r), handler);
    });
  }

  void finish_all(CancelAllResult r, std::shared_ptr<CancelAllHandler> handler) {
    asio::post(io, [h = std::move(*handler), r = std::move(r)]() mutable {
      std::move(h)(std::move(r));
    });
  }

  void stop() {
    if (stopped) return;
    stopped = true;
    token_timer.cancel();
    book_timer.cancel();
    retry_auth_timer.cancel();
    if (ws) ws->stop();
    if (http) http->close();
    pool.fail_all(make_error_code(Errc::disconnected));
    fail_pending(make_error_code(Errc::disconnected));
    stage = Stage::connecting;
    status->set(VenueStatus::down);
    finish_start(make_error_code(Errc::disconnected));
  }
};

DeribitVenue::DeribitVenue(asio::io_context& io, Clock& clock, Book& book,
                           DeribitVenueOptions options)
    : impl_(std::make_shared<Impl>(io, clock, book, std::move(options), status_cell())) {}

DeribitVenue::~DeribitVenue() { impl_->stop(); }

void DeribitVenue::stop() { impl_->stop(); }
std::size_t DeribitVenue::connects() const { return impl_->ws ? impl_->ws->connects() : 0; }
std::size_t DeribitVenue::auths() const { return impl_->auth_count; }

std::string DeribitVenue::check(const CancelRequest& req) const {
  if (!req.client_id.empty()) {
    return "bad argument 'client_id' (Deribit block RFQs have no client id; use id)";
  }
  std::int64_t n = 0;
  if (!parse_rfq_id(req.id, n)) {
    return req.id.empty() ? "bad argument 'id' (id is required)"
                          : "bad argument 'id' (Deribit block_rfq_id is a positive integer, got '" +
                                req.id + "')";
  }
  return {};
}

std::string DeribitVenue::check_batch(const BatchRequest& req) const {
  if (req.client_ids) return check(CancelRequest{.client_id = "x"});
  for (const auto& id : req.ids) {
    if (std::string err = check(CancelRequest{.id = id}); !err.empty()) return err;
  }
  return {};
}

std::vector<LaneStatus> DeribitVenue::budget() const {
  const CreditPool& p = impl_->pool;
  const auto cost = impl_->options.credit_cost;
  LaneStatus s;
  s.endpoint = p.name();
  s.limit = static_cast<std::size_t>(p.capacity() / cost);
  s.window = Millis(p.capacity() * 1000 / p.refill_per_s());  // empty to full
  s.remaining = static_cast<std::size_t>(p.available() / cost);
  s.queued = p.depth();
  return {s};
}

void DeribitVenue::do_start(StartHandler handler) { impl_->start(std::move(handler)); }

void DeribitVenue::do_cancel(CancelRequest req, CancelHandler handler) {
  auto shared = std::make_shared<CancelHandler>(std::move(handler));
  auto& io = impl_->io;
  impl_->cancel_one(req.id, impl_->clock.steady_now() + req.timeout, false,
                    [shared, &io](CancelResult r) {
                      // Completions may come from inside the call (a pool refusal): post.
                      asio::post(io, [h = std::move(*shared), r = std::move(r)]() mutable {
                        std::move(h)(std::move(r));
                      });
                    });
}

void DeribitVenue::do_cancel_batch(BatchRequest req, BatchHandler handler) {
  if (req.ids.empty()) {
    BatchResult r;
    r.ec = make_error_code(Errc::rejected);
    r.message = "empty batch";
    asio::post(impl_->io, [h = std::move(handler), r = std::move(r)]() mutable {
      std::move(h)(std::move(r));
    });
    return;
  }
  impl_->cancel_batch(std::move(req), std::move(handler));
}

void DeribitVenue::do_cancel_all(CancelAllRequest req, CancelAllHandler handler) {
  impl_->cancel_all(std::move(req), std::move(handler));
}

}  // namespace rfq::deribit
