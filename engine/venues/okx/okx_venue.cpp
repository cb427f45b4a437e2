#include "engine/venues/okx/okx_venue.hpp"

#include <algorithm>

#include "engine/venues/okx/okx_venue_impl.hpp"

namespace rfq::okx {

WindowLimit OkxVenue::Impl::limit(std::size_t n) const {
  if (!options.pacing) return WindowLimit(std::numeric_limits<std::size_t>::max() / 2, kWindow);
  return WindowLimit(n, kWindow + options.pacing_margin);
}

net::HttpRequest OkxVenue::Impl::signed_request(std::string method, std::string target,
                                                std::string body) {
  net::HttpRequest r{std::move(method), std::move(target), {}, std::move(body)};
  r.headers = auth_headers(options.credentials, venue_now_ms(), r.method, r.target,
                           r.body, options.demo);
  return r;
}

Millis OkxVenue::Impl::left(SteadyTime deadline) const {
  return std::chrono::duration_cast<Millis>(deadline - clock.steady_now());
}

// ---- start: warm connections, measure the clock offset, then the feed and the snapshot ----
// Start completes when the first snapshot is in the book and, with a feed configured, the
// rfqs channel is subscribed; or at the first failure (the venue keeps retrying after it).

void OkxVenue::Impl::start(StartHandler handler) {
  start_handler = std::make_shared<StartHandler>(std::move(handler));
  start_parts_left = options.business_ws ? 2 : 1;
  auto self = shared_from_this();
  http.warm_up(options.start_timeout, [self](error_code ec) {
    if (self->stopped) ec = make_error_code(Errc::disconnected);
    if (ec) return self->start_failed(ec, "connect");
    self->measure_offset();
  });
}

void OkxVenue::Impl::start_part_done(error_code ec) {
  if (!start_handler) return;
  if (ec && !start_error) start_error = ec;
  if (!ec && --start_parts_left > 0) return;
  start_timer.cancel();
  auto h = std::move(start_handler);
  asio::post(io, [h, ec = start_error]() mutable { std::move(*h)(ec); });
}

void OkxVenue::Impl::measure_offset() {
  auto self = shared_from_this();
  auto before = clock.now_ms();
  net::HttpRequest req{"GET", std::string(kPublicTimePath), {}, {}};
  http.async_request(std::move(req), options.start_timeout,
                     [self, before](error_code ec, net::HttpResponse res) {
                       if (self->stopped) {
                         return self->start_failed(make_error_code(Errc::disconnected), "time");
                       }
                       std::int64_t server_ms = 0;
                       if (!ec && res.status == 200 && parse_public_time(res.body, server_ms)) {
                         auto after = self->clock.now_ms();
                         self->offset_ms = server_ms - (before + after) / 2;
                         self->log->info("clock offset {} ms", self->offset_ms);
                       } else {
                         self->log->warn("stage=time could not read server time; offset 0");
                       }
                       // The feed's login is signed with the offset applied, so it starts now.
                       if (self->options.business_ws) self->start_feed();
                       self->load_snapshot();
                     });
}

void OkxVenue::Impl::start_failed(error_code ec, std::string_view stage) {
  if (!stopped) {
    log->error("stage={} start failed: {}", stage, ec.message());
    rest_ok = false;
    status->set(VenueStatus::down);
    schedule_refresh();
  }
  start_part_done(ec);
}

void OkxVenue::Impl::load_snapshot() {
  auto self = shared_from_this();
  refresh_book([self](error_code ec) {
    if (ec) return self->start_failed(ec, "snapshot");
    self->rest_ok = true;
    self->refresh_status();
    OpenQuery q;
    q.venue = "okx";
    self->log->info("up: {} active RFQs in the book", self->book.open(q, self->clock.now_ms()).size());
    self->schedule_refresh();
    self->start_part_done({});
  });
}

void OkxVenue::Impl::schedule_refresh() {
  if (stopped || options.book_refresh.count() <= 0) return;
  std::weak_ptr<Impl> weak = shared_from_this();
  refresh_timer = clock.schedule(options.book_refresh, [weak] {
    auto self = weak.lock();
    if (!self || self->stopped) return;
    self->refresh_book([self](error_code ec) {
      if (ec) {
        self->log->warn("stage=snapshot refresh failed: {}", ec.message());
      } else {
        self->rest_ok = true;
        self->refresh_status();
      }
      self->schedule_refresh();
    });
  });
}

// Pages through GET rfqs?state=active (newest first) and replaces the book's active set. A
// request while one runs is remembered and served once it ends (the feed asks after each
// subscribe, to cover what it may have missed while it was away).
void OkxVenue::Impl::refresh_book(UniqueFunction<void(error_code)> done) {
  if (refreshing) {
    refresh_again = true;
    return done(error_code{});
  }
  refreshing = true;
  auto acc = std::make_shared<std::vector<Rfq>>();
  auto shared = std::make_shared<UniqueFunction<void(error_code)>>(std::move(done));
  fetch_page(acc, {}, venue_now_ms(), shared);
}

// Each page has its own deadline: a large book takes many paced pages (2 / 2 s), and that
// must not make the snapshot as a whole time out.
void OkxVenue::Impl::fetch_page(std::shared_ptr<std::vector<Rfq>> acc, std::string end_id,
                                std::int64_t taken_at,
                                std::shared_ptr<UniqueFunction<void(error_code)>> done) {
  auto self = shared_from_this();
  const auto deadline = clock.steady_now() + options.start_timeout;
  rfqs_lane.submit(deadline, [self, acc, end_id, taken_at, deadline, done](error_code ec) {
    if (ec || self->stopped) {
      return self->finish_refresh(ec ? ec : make_error_code(Errc::disconnected), {}, taken_at, done);
    }
    auto req = self->signed_request("GET", rfqs_target("active", end_id), "");
    self->http.async_request(
        std::move(req), self->left(deadline),
        [self, acc, taken_at, done](error_code ec, net::HttpResponse res) {
          if (self->stopped) ec = make_error_code(Errc::disconnected);
          if (ec) return self->finish_refresh(ec, {}, taken_at, done);
          RfqPage page = parse_rfqs(res.status, res.body);
          if (page.ec) {
            self->log->warn("stage=venue_reject rfqs code={} msg={}", page.venue_code, page.message);
            return self->finish_refresh(page.ec, {}, taken_at, done);
          }
          bool more = page.rfqs.size() >= static_cast<std::size_t>(kRfqsPageLimit);
          std::string last = page.rfqs.empty() ? std::string() : page.rfqs.back().id;
          for (auto& r : page.rfqs) acc->push_back(std::move(r));
          if (more) return self->fetch_page(acc, last, taken_at, done);
          self->finish_refresh({}, std::move(*acc), taken_at, done);
        });
  });
}

void OkxVenue::Impl::finish_refresh(error_code ec, std::vector<Rfq> rfqs, std::int64_t taken_at,
                                    std::shared_ptr<UniqueFunction<void(error_code)>> done) {
  if (!ec && !stopped) {
    std::vector<std::string> missing = book.missing_from("okx", rfqs, taken_at, clock.now_ms());
    if (!missing.empty()) {
      return look_up_fills(std::move(rfqs), taken_at, std::move(missing), std::move(done));
    }
    apply_snapshot(std::move(rfqs), taken_at);
  }
  end_refresh(ec, std::move(done));
}

void OkxVenue::Impl::apply_snapshot(std::vector<Rfq> rfqs, std::int64_t taken_at) {
  // Terminal states never return to active: a snapshot taken before our own cancel landed
  // (or before the feed reported an end) must not resurrect the RFQ.
  std::erase_if(rfqs, [&](const Rfq& r) {
    const Rfq* known = book.find("okx", r.id);
    return known != nullptr && is_terminal(known->state);
  });
  for (Rfq& r : rfqs) r.confirmed = true;  // the venue listed it as active
  // RFQs created after the snapshot began may be missing from it, not ended.
  book.replace_active("okx", std::move(rfqs), taken_at);
  // Finished RFQs stay a minute for scripts that look them up, then leave the book.
  book.evict_finished(clock.now_ms() - 60'000);
}

void OkxVenue::Impl::look_up_fills(std::vector<Rfq> snapshot, std::int64_t taken_at,
                                   std::vector<std::string> missing,
                                   std::shared_ptr<UniqueFunction<void(error_code)>> done) {
  auto self = shared_from_this();
  auto listed = std::make_shared<std::vector<Rfq>>(std::move(snapshot));
  auto ids = std::make_shared<std::vector<std::string>>(std::move(missing));
  // Whatever the lookup gives, the snapshot itself succeeded and is applied after it.
  auto finish = [self, listed, taken_at, done](std::vector<Rfq> filled,
                                               const std::vector<std::string>& ids) {
    if (self->stopped) return self->end_refresh(make_error_code(Errc::disconnected), done);
    for (Rfq& r : filled) {
      if (r.state != "filled" || std::find(ids.begin(), ids.end(), r.id) == ids.end()) continue;
      r.confirmed = true;
      self->book.upsert(std::move(r));  // active -> filled: the fill the feed did not bring
    }
    self->apply_snapshot(std::move(*listed), taken_at);
    self->end_refresh({}, done);
  };
  const auto deadline = clock.steady_now() + options.start_timeout;
  rfqs_lane.submit(deadline, [self, ids, deadline, finish](error_code ec) mutable {
    if (ec || self->stopped) {
      if (ec) self->log->warn("stage=snapshot fill lookup not sent: {}", ec.message());
      return finish({}, *ids);
    }
    auto req = self->signed_request("GET", rfqs_target("filled"), "");
    self->http.async_request(
        std::move(req), self->left(deadline),
        [self, ids, finish](error_code ec, net::HttpResponse res) mutable {
          std::vector<Rfq> filled;
          if (ec) {
            self->log->warn("stage=transport fill lookup failed: {}", ec.message());
          } else if (RfqPage page = parse_rfqs(res.status, res.body); page.ec) {
            self->log->warn("stage=venue_reject fill lookup code={} msg={}", page.venue_code,
                            page.message);
          } else {
            filled = std::move(page.rfqs);
          }
          finish(std::move(filled), *ids);
        });
  });
}

void OkxVenue::Impl::end_refresh(error_code ec,
                                 std::shared_ptr<UniqueFunction<void(error_code)>> done) {
  refreshing = false;
  (*done)(ec);
  if (refresh_again && !stopped) {
    refresh_again = false;
    auto self = shared_from_this();
    refresh_book([self](error_code e) {
      if (e) self->log->warn("stage=snapshot refresh failed: {}", e.message());
    });
  }
}

// ---- rfqs feed ---------------------------------------------------------------------------

void OkxVenue::Impl::start_feed() {
  std::weak_ptr<Impl> weak = shared_from_this();
  OkxFeedOptions fo;
  fo.business_ws = *options.business_ws;
  fo.credentials = options.credentials;
  fo.ca_file = options.ca_file;
  fo.ping_after = options.feed_ping_after;
  fo.ws_factory = options.ws_factory;
  fo.unix_ms = [weak] {
    auto s = weak.lock();
    return s ? s->venue_now_ms() : std::int64_t{0};
  };
  feed = std::make_unique<OkxFeed>(
      io, clock, std::move(fo),
      OkxFeedCallbacks{[weak] { if (auto s = weak.lock()) s->on_feed_ready(); },
                       [weak](std::vector<Rfq> r) { if (auto s = weak.lock()) s->on_feed_rfqs(std::move(r)); },
                       [weak](error_code ec, std::string why) {
                         if (auto s = weak.lock()) s->on_feed_down(ec, why);
                       }});
  feed->start();
  start_timer = clock.schedule(options.start_timeout, [weak] {
    auto s = weak.lock();
    if (!s || s->feed_ready) return;
    s->log->error("stage=feed start failed: rfqs channel not subscribed within {} ms",
                  s->options.start_timeout.count());
    s->status->set(VenueStatus::down);
    s->start_part_done(make_error_code(Errc::timeout));
  });
}

void OkxVenue::Impl::refresh_status() {
  if (stopped) return status->set(VenueStatus::down);
  const bool feed_ok = !options.business_ws || feed_ready;
  if (rest_ok && feed_ok) {
    if (status->get() == VenueStatus::down) log->info("up again");
    status->set(VenueStatus::up);
  } else if (status->get() == VenueStatus::up) {
    status->set(VenueStatus::down);
  }
}

void OkxVenue::Impl::on_feed_ready() {
  const bool starting = !feed_ready && start_handler != nullptr;
  feed_ready = true;
  refresh_status();
  if (starting) start_part_done({});
  // Pushes missed while the feed was away (or before the first subscribe): a fresh snapshot.
  auto self = shared_from_this();
  refresh_book([self](error_code e) {
    if (e) self->log->warn("stage=snapshot refresh after subscribe failed: {}", e.message());
  });
}

void OkxVenue::Impl::on_feed_rfqs(std::vector<Rfq> rfqs) {
  for (Rfq& r : rfqs) {
    const Rfq* known = book.find("okx", r.id);
    // An end is final: a push that says otherwise is older than what we know.
    if (known != nullptr && is_terminal(known->state) && !is_terminal(r.state)) continue;
    r.confirmed = true;
    const std::string id = r.id;
    const std::string client_id = r.client_id;
    const std::string state = r.state;
    book.upsert(std::move(r));
    confirms.report(id, client_id, state);
  }
}

void OkxVenue::Impl::on_feed_down(error_code ec, const std::string& why) {
  const bool was_ready = feed_ready;
  feed_ready = false;
  if (was_ready || status->get() == VenueStatus::up) {
    log->warn("down: {}", why);
    status->set(VenueStatus::down);
  }
  confirms.fail_all(ec);
  // A refused login will not get better by waiting: report it to start at once.
  if (start_handler && ec == make_error_code(Errc::auth)) {
    log->error("stage=feed start failed: {}", why);
    status->set(VenueStatus::down);
    start_part_done(ec);
  }
}

// ---- confirm = true --------------------------------------------------------------------

std::string OkxVenue::Impl::confirmed_state(std::string_view id, std::string_view client_id) const {
  const Rfq* r = !id.empty() ? book.find("okx", id) : book.find_by_client_id("okx", client_id);
  return r != nullptr && r->confirmed && is_terminal(r->state) ? r->state : std::string();
}

void OkxVenue::Impl::confirm_one(CancelResult r, SteadyTime deadline,
                                 std::shared_ptr<CancelHandler> handler) {
  if (std::string st = confirmed_state(r.id, r.client_id); !st.empty()) {
    judge_confirmation(st, {}).apply(r);
    return finish_cancel(std::move(r), handler);
  }
  if (!feed_ready) {
    judge_confirmation("", make_error_code(Errc::disconnected)).apply(r);
    return finish_cancel(std::move(r), handler);
  }
  std::vector<FeedConfirmations::Key> keys{{r.id, r.client_id}};
  auto self = shared_from_this();
  confirms.wait(std::move(keys), deadline,
                [self, r = std::move(r), handler](std::vector<std::string> states,
                                                  error_code why) mutable {
                  judge_confirmation(states.front(), why).apply(r);
                  self->finish_cancel(std::move(r), handler);
                });
}

// ---- cancel ----------------------------------------------------------------------------

void OkxVenue::Impl::cancel(CancelRequest req, CancelHandler handler) {
  const auto deadline = clock.steady_now() + req.timeout;
  auto shared = std::make_shared<CancelHandler>(std::move(handler));
  submit_cancel(std::make_shared<CancelRequest>(std::move(req)), deadline, shared);
}

void OkxVenue::Impl::submit_cancel(std::shared_ptr<CancelRequest> req, SteadyTime deadline,
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

void OkxVenue::Impl::send_cancel(std::shared_ptr<CancelRequest> req, SteadyTime deadline,
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
        if (!r.ec && req->confirm) return self->confirm_one(std::move(r), deadline, handler);
        // Already in a completion (not in do_cancel): deliver directly, no extra post.
        std::move(*handler)(std::move(r));
      });
}

// The venue said "too many requests": close the lane for a window and try again if the
// deadline still allows one more turn.
bool OkxVenue::Impl::retry_after_limit(std::shared_ptr<CancelRequest> req, SteadyTime deadline,
                                       std::shared_ptr<CancelHandler> handler) {
  log->warn("stage=venue_reject cancel-rfq corr={} answered 50011; backing off the lane",
            req->correlation);
  cancel_lane.back_off(kWindow);
  if (clock.steady_now() + kWindow >= deadline) return false;
  submit_cancel(req, deadline, handler);
  return true;
}

// For outcomes decided before anything was sent (possibly inside do_cancel): posted.
void OkxVenue::Impl::finish_cancel(CancelResult r, std::shared_ptr<CancelHandler> handler) {
  asio::post(io, [h = std::move(*handler), r = std::move(r)]() mutable {
    std::move(h)(std::move(r));
  });
}

std::vector<LaneStatus> OkxVenue::Impl::budget() const {
  std::vector<LaneStatus> out;
  for (const Lane* lane : {&cancel_lane, &batch_lane, &all_lane, &rfqs_lane}) {
    out.push_back({lane->name(), lane->limit().count(),
                   std::chrono::duration_cast<Millis>(lane->limit().window()),
                   lane->remaining(), lane->depth()});
  }
  return out;
}

void OkxVenue::Impl::stop() {
  if (stopped) return;
  stopped = true;
  refresh_timer.cancel();
  start_timer.cancel();
  if (feed) feed->stop();
  feed_ready = false;
  confirms.fail_all(make_error_code(Errc::disconnected));
  for (Lane* lane : {&cancel_lane, &batch_lane, &all_lane, &rfqs_lane}) {
    lane->fail_all(make_error_code(Errc::disconnected));
  }
  http.close();
  status->set(VenueStatus::down);
  start_part_done(make_error_code(Errc::disconnected));
}

OkxVenue::OkxVenue(asio::io_context& io, Clock& clock, Book& book, OkxVenueOptions options)
    : impl_(std::make_shared<Impl>(io, clock, book, std::move(options), status_cell())) {}

OkxVenue::~OkxVenue() { impl_->stop(); }

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

bool OkxVenue::can_confirm() const { return impl_->options.business_ws.has_value(); }

std::string OkxVenue::check_batch(const BatchRequest& req) const {
  if (req.confirm && !can_confirm()) return confirm_misuse();
  for (const auto& id : req.ids) {
    CancelRequest one;
    (req.client_ids ? one.client_id : one.id) = id;
    if (std::string err = check(one); !err.empty()) return err;
  }
  return {};
}

std::string OkxVenue::check(const CancelRequest& req) const {
  if (req.confirm && !can_confirm()) return confirm_misuse();
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
