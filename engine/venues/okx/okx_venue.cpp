#include "engine/venues/okx/okx_venue.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <unordered_map>

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

// Documented limits (PROTOCOLS.md §3): cancel-rfq 5 / 2 s, cancel-batch-rfqs 2 / 2 s,
// cancel-all-rfqs 2 / 2 s, GET rfqs 2 / 2 s.
constexpr std::size_t kCancelRfqPer2s = 5;
constexpr std::size_t kCancelBatchPer2s = 2;
constexpr std::size_t kCancelAllPer2s = 2;
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
  std::shared_ptr<net::HttpTransport> transport;
  net::HttpTransport& http;
  Lane cancel_lane;
  Lane batch_lane;
  Lane all_lane;
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
        transport(options.transport
                      ? options.transport
                      : std::make_shared<net::HttpClient>(io_ctx, options.rest,
                                                          net::HttpClientOptions{
                                                              options.pool_size, options.ca_file})),
        http(*transport),
        cancel_lane(c, "cancel-rfq", limit(kCancelRfqPer2s)),
        batch_lane(c, "cancel-batch-rfqs", limit(kCancelBatchPer2s)),
        all_lane(c, "cancel-all-rfqs", limit(kCancelAllPer2s)),
        rfqs_lane(c, "rfqs", limit(kGetRfqsPer2s)) {}

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

  // ---- cancel_batch: dedupe, chunks of 100, paced 2 / 2 s, results in input order ---------
  struct BatchOp {
    BatchRequest req;
    SteadyTime deadline;
    BatchResult result;
    std::vector<std::vector<std::size_t>> positions;  // unique id -> input positions
    std::size_t chunks_left = 0;
    std::size_t sent = 0;
    std::shared_ptr<BatchHandler> handler;
  };

  void cancel_batch(BatchRequest req, BatchHandler handler) {
    auto op = std::make_shared<BatchOp>();
    op->deadline = clock.steady_now() + req.timeout;
    op->handler = std::make_shared<BatchHandler>(std::move(handler));
    op->result.items.resize(req.ids.size());
    // Unique ids in first-occurrence order; each remembers every position it stands at.
    std::unordered_map<std::string_view, std::size_t> index;
    std::vector<std::string> unique;
    for (std::size_t i = 0; i < req.ids.size(); ++i) {
      auto& item = op->result.items[i];
      (req.client_ids ? item.client_id : item.id) = req.ids[i];
      auto [it, fresh] = index.emplace(req.ids[i], unique.size());
      if (fresh) {
        unique.push_back(req.ids[i]);
        op->positions.emplace_back();
      }
      op->positions[it->second].push_back(i);
    }
    op->req = std::move(req);
    std::vector<std::vector<std::size_t>> chunks;  // indexes into unique
    for (std::size_t i = 0; i < unique.size(); i += kBatchMax) {
      auto& chunk = chunks.emplace_back();
      for (std::size_t j = i; j < std::min(unique.size(), i + kBatchMax); ++j) chunk.push_back(j);
    }
    op->chunks_left = chunks.size();
    auto ids = std::make_shared<std::vector<std::string>>(std::move(unique));
    for (auto& chunk : chunks) submit_chunk(op, ids, std::make_shared<std::vector<std::size_t>>(std::move(chunk)));
  }

  void submit_chunk(std::shared_ptr<BatchOp> op, std::shared_ptr<std::vector<std::string>> ids,
                    std::shared_ptr<std::vector<std::size_t>> chunk) {
    auto self = shared_from_this();
    batch_lane.submit(op->deadline, [self, op, ids, chunk](error_code ec) {
      if (ec || self->stopped) {
        const auto why = ec ? ec : make_error_code(Errc::disconnected);
        self->fail_chunk(*op, *chunk, why,
                         why == make_error_code(Errc::rate_limited)
                             ? "cancel-batch-rfqs limit (2 per 2 s): no slot before the deadline; not sent"
                             : why.message());
        return self->chunk_done(op);
      }
      self->send_chunk(op, ids, chunk);
    }, op->req.urgent);
  }

  void send_chunk(std::shared_ptr<BatchOp> op, std::shared_ptr<std::vector<std::string>> ids,
                  std::shared_ptr<std::vector<std::size_t>> chunk) {
    auto self = shared_from_this();
    std::vector<std::string> chunk_ids;
    chunk_ids.reserve(chunk->size());
    for (std::size_t u : *chunk) chunk_ids.push_back((*ids)[u]);
    auto req = signed_request("POST", std::string(kCancelBatchRfqsPath),
                              build_cancel_batch_body(chunk_ids, op->req.client_ids));
    ++op->sent;
    http.async_request(std::move(req), left(op->deadline),
                       [self, op, ids, chunk](error_code ec, net::HttpResponse res) {
      if (self->stopped && !ec) ec = make_error_code(Errc::disconnected);
      if (ec) {
        self->fail_chunk(*op, *chunk, ec, "transport: " + ec.message());
        return self->chunk_done(op);
      }
      op->result.latency_us.push_back(micros(res.write_started, res.completed));
      BatchAnswer answer = parse_cancel_batch(res.status, res.body);
      if (answer.venue_code == "50011" && self->clock.steady_now() + kWindow < op->deadline) {
        self->log->warn("stage=venue_reject cancel-batch-rfqs corr={} answered 50011; backing off",
                        op->req.correlation);
        self->batch_lane.back_off(kWindow);
        return self->submit_chunk(op, ids, chunk);
      }
      if (answer.ec) {
        self->fail_chunk(*op, *chunk, answer.ec, answer.message, answer.venue_code);
      } else {
        self->apply_answer(*op, *ids, *chunk, answer);
      }
      self->chunk_done(op);
    });
  }

  // Items come back in request order; match by id first, fall back to position.
  void apply_answer(BatchOp& op, const std::vector<std::string>& ids,
                    const std::vector<std::size_t>& chunk, const BatchAnswer& answer) {
    std::unordered_map<std::string_view, std::size_t> by_id;
    for (std::size_t k = 0; k < chunk.size(); ++k) by_id.emplace(ids[chunk[k]], k);
    std::vector<bool> answered(chunk.size(), false);
    for (std::size_t a = 0; a < answer.items.size(); ++a) {
      const auto& item = answer.items[a];
      const std::string& key = op.req.client_ids ? item.client_id : item.id;
      auto it = by_id.find(key);
      std::size_t k = it != by_id.end() ? it->second : a;
      if (k >= chunk.size() || answered[k]) continue;
      answered[k] = true;
      for (std::size_t pos : op.positions[chunk[k]]) {
        auto& r = op.result.items[pos];
        if (!item.id.empty()) r.id = item.id;
        if (!item.client_id.empty()) r.client_id = item.client_id;
        r.ec = item.ec;
        r.venue_code = item.venue_code;
        r.message = item.message;
      }
      if (!item.ec) book.set_state("okx", item.id, item.client_id, "canceled", "canceled");
    }
    for (std::size_t k = 0; k < chunk.size(); ++k) {
      if (!answered[k]) {
        fail_chunk(op, {chunk[k]}, make_error_code(Errc::unavailable),
                   "the venue's answer did not mention this id", "");
      }
    }
  }

  void fail_chunk(BatchOp& op, const std::vector<std::size_t>& chunk, error_code ec,
                  const std::string& message, const std::string& venue_code = {}) {
    for (std::size_t u : chunk) {
      for (std::size_t pos : op.positions[u]) {
        auto& r = op.result.items[pos];
        r.ec = ec;
        r.message = message;
        r.venue_code = venue_code;
      }
    }
  }

  void chunk_done(std::shared_ptr<BatchOp> op) {
    if (--op->chunks_left > 0) return;
    auto& res = op->result;
    res.requests = op->sent;
    for (const auto& item : res.items) (item.ec ? res.failed : res.canceled) += 1;
    if (op->sent == 0 && !res.items.empty()) {
      res.ec = res.items.front().ec;
      res.message = res.items.front().message;
    }
    // Chunks complete from their own answers or lane decisions, never inside do_cancel_batch
    // itself except for a lane refusal; post so the handler never runs inside the call.
    asio::post(io, [h = std::move(*op->handler), r = std::move(res)]() mutable {
      std::move(h)(std::move(r));
    });
  }

  // ---- cancel_all: the account-wide cancel-all-rfqs, ahead of everything ---------------
  void cancel_all(CancelAllRequest req, CancelAllHandler handler) {
    auto self = shared_from_this();
    const auto deadline = clock.steady_now() + req.timeout;
    auto shared = std::make_shared<CancelAllHandler>(std::move(handler));
    const auto corr = req.correlation;
    all_lane.submit(deadline, [self, deadline, shared, corr](error_code ec) {
      if (ec || self->stopped) {
        CancelAllResult r;
        r.ec = ec ? ec : make_error_code(Errc::disconnected);
        r.message = r.ec.message();
        return self->finish_all(std::move(r), shared);
      }
      auto http_req = self->signed_request("POST", std::string(kCancelAllRfqsPath),
                                           std::string(kCancelAllBody));
      self->http.async_request(std::move(http_req), self->left(deadline),
                               [self, shared, corr, deadline](error_code ec,
                                                              net::HttpResponse res) {
        if (self->stopped && !ec) ec = make_error_code(Errc::disconnected);
        CancelAllResult r;
        if (ec) {
          r.ec = ec;
          r.message = "transport: " + ec.message();
        } else {
          CancelAllAnswer a = parse_cancel_all(res.status, res.body);
          if (a.venue_code == "50011" && self->clock.steady_now() + kWindow < deadline) {
            self->log->warn("stage=venue_reject cancel-all-rfqs corr={} answered 50011; retrying",
                            corr);
            self->all_lane.back_off(kWindow);
            CancelAllRequest again;
            again.timeout = std::chrono::duration_cast<Millis>(deadline - self->clock.steady_now());
            again.correlation = corr;
            return self->cancel_all(std::move(again), std::move(*shared));
          }
          r.ec = a.ec;
          r.venue_code = a.venue_code;
          r.message = a.message;
          if (!a.ec) r.canceled = self->mark_all_canceled();
          self->log->info("cancel-all-rfqs corr={} code={} {}", corr, a.venue_code, a.message);
        }
        self->finish_all(std::move(r), shared);
      });
    }, /*urgent=*/true);
  }

  // Every RFQ the book knows as active is canceled now.
  std::int64_t mark_all_canceled() {
    OpenQuery q;
    q.venue = "okx";
    std::int64_t n = 0;
    std::vector<std::pair<std::string, std::string>> ids;
    for (const Rfq* r : book.open(q, clock.now_ms())) ids.emplace_back(r->id, r->client_id);
    for (const auto& [id, cl] : ids) n += book.set_state("okx", id, cl, "canceled", "canceled");
    return n;
  }

  void finish_all(CancelAllResult r, std::shared_ptr<CancelAllHandler> handler) {
    asio::post(io, [h = std::move(*handler), r = std::move(r)]() mutable {
      std::move(h)(std::move(r));
    });
  }

  std::vector<LaneStatus> budget() const {
    std::vector<LaneStatus> out;
    for (const Lane* lane : {&cancel_lane, &batch_lane, &all_lane, &rfqs_lane}) {
      out.push_back({lane->name(), lane->limit().count(),
                     std::chrono::duration_cast<Millis>(lane->limit().window()),
                     lane->remaining(), lane->depth()});
    }
    return out;
  }

  void stop() {
    if (stopped) return;
    stopped = true;
    refresh_timer.cancel();
    for (Lane* lane : {&cancel_lane, &batch_lane, &all_lane, &rfqs_lane}) {
      lane->fail_all(make_error_code(Errc::disconnected));
    }
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

void OkxVenue::do_cancel_batch(BatchRequest req, BatchHandler handler) {
  if (req.ids.empty() || impl_->stopped) {
    BatchResult r;
    r.ec = make_error_code(req.ids.empty() ? Errc::rejected : Errc::disconnected);
    r.message = req.ids.empty() ? "empty batch" : "venue okx is stopped";
    asio::post(impl_->io, [h = std::move(handler), r = std::move(r)]() mutable {
      std::move(h)(std::move(r));
    });
    return;
  }
  impl_->cancel_batch(std::move(req), std::move(handler));
}

void OkxVenue::do_cancel_all(CancelAllRequest req, CancelAllHandler handler) {
  impl_->cancel_all(std::move(req), std::move(handler));
}

std::vector<LaneStatus> OkxVenue::budget() const { return impl_->budget(); }

std::string OkxVenue::check_batch(const BatchRequest& req) const {
  for (const auto& id : req.ids) {
    CancelRequest one;
    (req.client_ids ? one.client_id : one.id) = id;
    if (std::string err = check(one); !err.empty()) return err;
  }
  return {};
}

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
