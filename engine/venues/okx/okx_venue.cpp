#include "engine/venues/okx/okx_venue.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "engine/book/book.hpp"
#include "engine/core/error.hpp"
#include "engine/core/log.hpp"
#include "engine/limits/lane.hpp"
#include "engine/net/http_client.hpp"
#include "engine/venues/okx/okx_rest.hpp"

namespace rfq::okx {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

// Documented limits (PROTOCOLS.md §3): cancel-rfq 5 / 2 s, GET rfqs 2 / 2 s.
constexpr std::size_t kCancelRfqPer2s = 5;
constexpr std::size_t kGetRfqsPer2s = 2;
constexpr Nanos kWindow = std::chrono::seconds(2);

bool is_terminal(std::string_view state) {
  return state == "canceled" || state == "expired" || state == "filled" || state == "failed";
}

std::int64_t micros(SteadyTime a, SteadyTime b) {
  return std::chrono::duration_cast<std::chrono::microseconds>(b - a).count();
}

}  // namespace

struct OkxVenue::Impl : std::enable_shared_from_this<Impl> {
  asio::io_context& io;
  Clock& clock;
  Book& book;
  OkxVenueOptions options;
  net::HttpClient http;
  Lane cancel_lane;
  Lane rfqs_lane;
  VenueStatus status = VenueStatus::starting;
  std::int64_t offset_ms = 0;
  bool stopped = false;
  bool refreshing = false;
  TimerHandle refresh_timer;
  std::shared_ptr<spdlog::logger> log = log::get("venue.okx");

  Impl(asio::io_context& io_ctx, Clock& c, Book& b, OkxVenueOptions o)
      : io(io_ctx),
        clock(c),
        book(b),
        options(std::move(o)),
        http(io_ctx, options.rest, {options.pool_size, options.ca_file}),
        cancel_lane(c, "okx.cancel-rfq", limit(kCancelRfqPer2s)),
        rfqs_lane(c, "okx.rfqs", limit(kGetRfqsPer2s)) {}

  WindowLimit limit(std::size_t n) const {
    if (!options.pacing) return WindowLimit(std::numeric_limits<std::size_t>::max() / 2, kWindow);
    return WindowLimit(n, kWindow + options.pacing_margin);
  }

  net::HttpRequest signed_request(std::string method, std::string target, std::string body) {
    net::HttpRequest r{std::move(method), std::move(target), {}, std::move(body)};
    r.headers = auth_headers(options.credentials, clock.now_ms() + offset_ms, r.method, r.target,
                             r.body, options.demo);
    return r;
  }

  Millis left(SteadyTime deadline) const {
    return std::chrono::duration_cast<Millis>(deadline - clock.steady_now());
  }

  // ---- start: warm connections, measure the clock offset, load the active RFQs ----------
  void start(StartHandler handler) {
    auto self = shared_from_this();
    auto shared = std::make_shared<StartHandler>(std::move(handler));
    http.warm_up(options.start_timeout, [self, shared](error_code ec) {
      if (self->stopped) ec = make_error_code(Errc::disconnected);
      if (ec) return self->start_failed(std::move(*shared), ec, "connect");
      self->measure_offset(shared);
    });
  }

  void measure_offset(std::shared_ptr<StartHandler> handler) {
    auto self = shared_from_this();
    auto before = clock.now_ms();
    net::HttpRequest req{"GET", std::string(kPublicTimePath), {}, {}};
    http.async_request(std::move(req), options.start_timeout,
                       [self, handler, before](error_code ec, net::HttpResponse res) {
                         if (self->stopped) {
                           return self->start_failed(std::move(*handler),
                                                     make_error_code(Errc::disconnected), "time");
                         }
                         std::int64_t server_ms = 0;
                         if (!ec && res.status == 200 && parse_public_time(res.body, server_ms)) {
                           auto after = self->clock.now_ms();
                           self->offset_ms = server_ms - (before + after) / 2;
                           self->log->info("clock offset {} ms", self->offset_ms);
                         } else {
                           self->log->warn("stage=time could not read server time; offset 0");
                         }
                         self->load_snapshot(std::move(*handler));
                       });
  }

  void start_failed(StartHandler handler, error_code ec, std::string_view stage) {
    if (!stopped) {
      log->error("stage={} start failed: {}", stage, ec.message());
      status = VenueStatus::down;
      schedule_refresh();
    }
    asio::post(io, [h = std::move(handler), ec]() mutable { std::move(h)(ec); });
  }

  void load_snapshot(StartHandler handler) {
    auto self = shared_from_this();
    auto shared = std::make_shared<StartHandler>(std::move(handler));
    refresh_book([self, shared](error_code ec) {
      if (ec) return self->start_failed(std::move(*shared), ec, "snapshot");
      self->status = VenueStatus::up;
      OpenQuery q;
      q.venue = "okx";
      self->log->info("up: {} active RFQs in the book", self->book.open(q, self->clock.now_ms()).size());
      self->schedule_refresh();
      asio::post(self->io, [h = std::move(*shared)]() mutable { std::move(h)(error_code{}); });
    });
  }

  void schedule_refresh() {
    if (stopped || options.book_refresh.count() <= 0) return;
    std::weak_ptr<Impl> weak = shared_from_this();
    refresh_timer = clock.schedule(options.book_refresh, [weak] {
      auto self = weak.lock();
      if (!self || self->stopped) return;
      self->refresh_book([self](error_code ec) {
        if (ec) {
          self->log->warn("stage=snapshot refresh failed: {}", ec.message());
        } else if (self->status != VenueStatus::up) {
          self->status = VenueStatus::up;
          self->log->info("up again");
        }
        self->schedule_refresh();
      });
    });
  }

  // Pages through GET rfqs?state=active (newest first) and replaces the book's active set.
  void refresh_book(UniqueFunction<void(error_code)> done) {
    if (refreshing) return done(error_code{});
    refreshing = true;
    auto acc = std::make_shared<std::vector<Rfq>>();
    auto shared = std::make_shared<UniqueFunction<void(error_code)>>(std::move(done));
    fetch_page(acc, {}, shared);
  }

  // Each page has its own deadline: a large book takes many paced pages (2 / 2 s), and that
  // must not make the snapshot as a whole time out.
  void fetch_page(std::shared_ptr<std::vector<Rfq>> acc, std::string end_id,
                  std::shared_ptr<UniqueFunction<void(error_code)>> done) {
    auto self = shared_from_this();
    const auto deadline = clock.steady_now() + options.start_timeout;
    rfqs_lane.submit(deadline, [self, acc, end_id, deadline, done](error_code ec) {
      if (ec || self->stopped) return self->finish_refresh(ec ? ec : make_error_code(Errc::disconnected), {}, done);
      auto req = self->signed_request("GET", rfqs_target("active", end_id), "");
      self->http.async_request(
          std::move(req), self->left(deadline),
          [self, acc, done](error_code ec, net::HttpResponse res) {
            if (self->stopped) ec = make_error_code(Errc::disconnected);
            if (ec) return self->finish_refresh(ec, {}, done);
            RfqPage page = parse_rfqs(res.status, res.body);
            if (page.ec) {
              self->log->warn("stage=venue_reject rfqs code={} msg={}", page.venue_code, page.message);
              return self->finish_refresh(page.ec, {}, done);
            }
            bool more = page.rfqs.size() >= static_cast<std::size_t>(kRfqsPageLimit);
            std::string last = page.rfqs.empty() ? std::string() : page.rfqs.back().id;
            for (auto& r : page.rfqs) acc->push_back(std::move(r));
            if (more) return self->fetch_page(acc, last, done);
            self->finish_refresh({}, std::move(*acc), done);
          });
    });
  }

  void finish_refresh(error_code ec, std::vector<Rfq> rfqs,
                      std::shared_ptr<UniqueFunction<void(error_code)>> done) {
    refreshing = false;
    if (!ec && !stopped) {
      // Terminal states never return to active: a snapshot taken before our own cancel landed
      // must not resurrect the RFQ.
      std::erase_if(rfqs, [&](const Rfq& r) {
        const Rfq* known = book.find("okx", r.id);
        return known != nullptr && is_terminal(known->state);
      });
      book.replace_active("okx", std::move(rfqs));
      // Finished RFQs stay a minute for scripts that look them up, then leave the book.
      book.evict_finished(clock.now_ms() - 60'000);
    }
    (*done)(ec);
  }

  // ---- cancel ----------------------------------------------------------------------------
  void cancel(CancelRequest req, CancelHandler handler) {
    const auto deadline = clock.steady_now() + req.timeout;
    auto shared = std::make_shared<CancelHandler>(std::move(handler));
    submit_cancel(std::make_shared<CancelRequest>(std::move(req)), deadline, shared);
  }

  void submit_cancel(std::shared_ptr<CancelRequest> req, SteadyTime deadline,
                     std::shared_ptr<CancelHandler> handler) {
    auto self = shared_from_this();
    const auto submitted = std::chrono::steady_clock::now();
    cancel_lane.submit(deadline, [self, req, deadline, handler, submitted](error_code ec) {
      req->queued += std::chrono::steady_clock::now() - submitted;
      if (ec) {
        CancelResult r;
        r.ec = ec;
        r.id = req->id;
        r.client_id = req->client_id;
        r.message = ec == make_error_code(Errc::rate_limited)
                        ? "cancel-rfq limit (5 per 2 s): no slot before the deadline; not sent"
                        : ec.message();
        return self->finish_cancel(std::move(r), handler);
      }
      self->send_cancel(req, deadline, handler);
    });
  }

  void send_cancel(std::shared_ptr<CancelRequest> req, SteadyTime deadline,
                   std::shared_ptr<CancelHandler> handler) {
    auto self = shared_from_this();
    auto http_req = signed_request("POST", std::string(kCancelRfqPath),
                                   build_cancel_rfq_body(req->id, req->client_id));
    const auto handed = std::chrono::steady_clock::now();
    http.async_request(
        std::move(http_req), left(deadline),
        [self, req, deadline, handler, handed](error_code ec, net::HttpResponse res) {
          // A stopped venue may not touch the book or clock it borrowed (they may be gone).
          if (self->stopped && !ec) ec = make_error_code(Errc::disconnected);
          // Waiting for a free pooled connection is I/O wait, like the rate lane: not overhead.
          if (res.dispatched != SteadyTime{}) req->queued += res.dispatched - handed;
          CancelResult r;
          if (ec) {
            r.ec = ec;
            r.id = req->id;
            r.client_id = req->client_id;
            r.message = "transport: " + ec.message();
            r.sent = res.write_started != SteadyTime{};
            if (!self->stopped) {
              self->log->warn("stage=transport cancel-rfq corr={} id={} clRfqId={} error={}",
                              req->correlation, req->id, req->client_id, ec.message());
            }
          } else {
            r = parse_cancel_rfq(res.status, res.body, req->id, req->client_id);
            r.latency_us = micros(res.write_started, res.completed);
            r.written_at = res.write_started;
            r.queued = req->queued;
            if (r.venue_code == "50011" && self->retry_after_limit(req, deadline, handler)) return;
            if (r.ec) {
              self->log->info("stage=venue_reject cancel-rfq corr={} id={} code={} msg={}",
                              req->correlation, r.id, r.venue_code, r.message);
            }
          }
          if (!r.ec) self->book.set_state("okx", r.id, r.client_id, "canceled", "canceled");
          // Already in a completion (not in do_cancel): deliver directly, no extra post.
          std::move(*handler)(std::move(r));
        });
  }

  // The venue said "too many requests": close the lane for a window and try again if the
  // deadline still allows one more turn.
  bool retry_after_limit(std::shared_ptr<CancelRequest> req, SteadyTime deadline,
                         std::shared_ptr<CancelHandler> handler) {
    log->warn("stage=venue_reject cancel-rfq corr={} answered 50011; backing off the lane",
              req->correlation);
    cancel_lane.back_off(kWindow);
    if (clock.steady_now() + kWindow >= deadline) return false;
    submit_cancel(req, deadline, handler);
    return true;
  }

  // For outcomes decided before anything was sent (possibly inside do_cancel): posted.
  void finish_cancel(CancelResult r, std::shared_ptr<CancelHandler> handler) {
    asio::post(io, [h = std::move(*handler), r = std::move(r)]() mutable {
      std::move(h)(std::move(r));
    });
  }

  void stop() {
    if (stopped) return;
    stopped = true;
    refresh_timer.cancel();
    cancel_lane.fail_all(make_error_code(Errc::disconnected));
    rfqs_lane.fail_all(make_error_code(Errc::disconnected));
    http.close();
    status = VenueStatus::down;
  }
};

OkxVenue::OkxVenue(asio::io_context& io, Clock& clock, Book& book, OkxVenueOptions options)
    : impl_(std::make_shared<Impl>(io, clock, book, std::move(options))) {}

OkxVenue::~OkxVenue() { impl_->stop(); }

VenueStatus OkxVenue::status() const { return impl_->status; }
void OkxVenue::stop() { impl_->stop(); }
std::size_t OkxVenue::cancel_budget() const { return impl_->cancel_lane.remaining(); }
std::size_t OkxVenue::cancel_queue_depth() const { return impl_->cancel_lane.depth(); }
std::int64_t OkxVenue::clock_offset_ms() const { return impl_->offset_ms; }

void OkxVenue::do_start(StartHandler handler) { impl_->start(std::move(handler)); }

std::string OkxVenue::check(const CancelRequest& req) const {
  if (req.id.empty() && req.client_id.empty()) {
    return "bad argument 'id' (id or client_id is required)";
  }
  for (char c : req.id) {
    if (c < '0' || c > '9') {
      return "bad argument 'id' (OKX rfqId is a decimal number, got '" + req.id + "')";
    }
  }
  if (!req.client_id.empty() && !valid_client_id(req.client_id)) {
    return "bad argument 'client_id' (1-32 ASCII letters or digits expected, got '" +
           req.client_id + "')";
  }
  return {};
}

void OkxVenue::do_cancel(CancelRequest req, CancelHandler handler) {
  if (impl_->stopped) {
    CancelResult r;
    r.ec = make_error_code(Errc::disconnected);
    r.id = req.id;
    r.client_id = req.client_id;
    r.message = "venue okx is stopped";
    return impl_->finish_cancel(std::move(r), std::make_shared<CancelHandler>(std::move(handler)));
  }
  impl_->cancel(std::move(req), std::move(handler));
}

}  // namespace rfq::okx
