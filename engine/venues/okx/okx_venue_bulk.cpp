#include <unordered_map>

#include "engine/venues/okx/okx_venue_impl.hpp"

// Venue okx: cancel-batch-rfqs (chunked, paced, results in input order) and cancel-all-rfqs,
// each with its confirm = true path.

namespace rfq::okx {

// ---- cancel_batch: dedupe, chunks of 100, paced 2 / 2 s, results in input order ---------

void OkxVenue::Impl::cancel_batch(BatchRequest req, BatchHandler handler) {
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

void OkxVenue::Impl::submit_chunk(std::shared_ptr<BatchOp> op, std::shared_ptr<std::vector<std::string>> ids,
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

void OkxVenue::Impl::send_chunk(std::shared_ptr<BatchOp> op, std::shared_ptr<std::vector<std::string>> ids,
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
void OkxVenue::Impl::apply_answer(BatchOp& op, const std::vector<std::string>& ids,
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

void OkxVenue::Impl::fail_chunk(BatchOp& op, const std::vector<std::size_t>& chunk, error_code ec,
                const std::string& message, const std::string& venue_code) {
  for (std::size_t u : chunk) {
    for (std::size_t pos : op.positions[u]) {
      auto& r = op.result.items[pos];
      r.ec = ec;
      r.message = message;
      r.venue_code = venue_code;
    }
  }
}

void OkxVenue::Impl::chunk_done(std::shared_ptr<BatchOp> op) {
  if (--op->chunks_left > 0) return;
  if (op->req.confirm) return confirm_batch(op);
  deliver_batch(op);
}

// Each accepted item waits for the feed to show it canceled, all under the batch's deadline.
void OkxVenue::Impl::confirm_batch(std::shared_ptr<BatchOp> op) {
  auto settle = [op](std::size_t u, const Confirmation& c) {
    for (std::size_t pos : op->positions[u]) c.apply(op->result.items[pos]);
  };
  std::vector<FeedConfirmations::Key> keys;
  std::vector<std::size_t> waiting;  // unique index of each key
  for (std::size_t u = 0; u < op->positions.size(); ++u) {
    const BatchItemResult& first = op->result.items[op->positions[u].front()];
    if (first.ec) continue;  // not accepted: nothing to confirm
    if (std::string st = confirmed_state(first.id, first.client_id); !st.empty()) {
      settle(u, judge_confirmation(st, {}));
    } else if (!feed_ready) {
      settle(u, judge_confirmation("", make_error_code(Errc::disconnected)));
    } else {
      keys.push_back({first.id, first.client_id});
      waiting.push_back(u);
    }
  }
  auto self = shared_from_this();
  confirms.wait(std::move(keys), op->deadline,
                [self, op, waiting = std::move(waiting), settle](std::vector<std::string> states,
                                                                 error_code why) {
                  for (std::size_t i = 0; i < waiting.size(); ++i) {
                    settle(waiting[i], judge_confirmation(states[i], why));
                  }
                  self->deliver_batch(op);
                });
}

void OkxVenue::Impl::deliver_batch(std::shared_ptr<BatchOp> op) {
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
void OkxVenue::Impl::cancel_all(CancelAllRequest req, CancelAllHandler handler) {
  auto self = shared_from_this();
  const auto deadline = clock.steady_now() + req.timeout;
  auto shared = std::make_shared<CancelAllHandler>(std::move(handler));
  const auto corr = req.correlation;
  const bool confirm = req.confirm;
  all_lane.submit(deadline, [self, deadline, shared, corr, confirm](error_code ec) {
    if (ec || self->stopped) {
      CancelAllResult r;
      r.ec = ec ? ec : make_error_code(Errc::disconnected);
      r.message = r.ec.message();
      return self->finish_all(std::move(r), shared);
    }
    // What the cancel-all covers, as far as the book knows: the RFQs active when it is sent
    // (the feed may report them canceled before the answer arrives).
    auto covered = std::make_shared<std::vector<FeedConfirmations::Key>>(self->active_keys());
    auto http_req = self->signed_request("POST", std::string(kCancelAllRfqsPath),
                                         std::string(kCancelAllBody));
    self->http.async_request(std::move(http_req), self->left(deadline),
                             [self, shared, corr, deadline, confirm, covered](
                                 error_code ec, net::HttpResponse res) {
      if (self->stopped && !ec) ec = make_error_code(Errc::disconnected);
      CancelAllResult r;
      if (ec) {
        r.ec = ec;
        r.message = "transport: " + ec.message();
        return self->finish_all(std::move(r), shared);
      }
      CancelAllAnswer a = parse_cancel_all(res.status, res.body);
      if (a.venue_code == "50011" && self->clock.steady_now() + kWindow < deadline) {
        self->log->warn("stage=venue_reject cancel-all-rfqs corr={} answered 50011; retrying",
                        corr);
        self->all_lane.back_off(kWindow);
        CancelAllRequest again;
        again.timeout = std::chrono::duration_cast<Millis>(deadline - self->clock.steady_now());
        again.correlation = corr;
        again.confirm = confirm;
        return self->cancel_all(std::move(again), std::move(*shared));
      }
      r.ec = a.ec;
      r.venue_code = a.venue_code;
      r.message = a.message;
      self->log->info("cancel-all-rfqs corr={} code={} {}", corr, a.venue_code, a.message);
      if (a.ec) return self->finish_all(std::move(r), shared);
      self->mark_canceled(*covered);
      r.canceled = static_cast<std::int64_t>(covered->size());
      if (!confirm) return self->finish_all(std::move(r), shared);
      self->confirm_all(std::move(r), std::move(*covered), deadline, shared);
    });
  }, /*urgent=*/true);
}

std::vector<FeedConfirmations::Key> OkxVenue::Impl::active_keys() {
  OpenQuery q;
  q.venue = "okx";
  std::vector<FeedConfirmations::Key> keys;
  for (const Rfq* r : book.open(q, clock.now_ms())) keys.push_back({r->id, r->client_id});
  return keys;
}

void OkxVenue::Impl::mark_canceled(const std::vector<FeedConfirmations::Key>& keys) {
  for (const auto& k : keys) book.set_state("okx", k.id, k.client_id, "canceled", "canceled");
}

// Waits until the feed shows every covered RFQ in a final state; `canceled` becomes the number
// it shows canceled (others may have filled or expired first).
void OkxVenue::Impl::confirm_all(CancelAllResult r, std::vector<FeedConfirmations::Key> keys,
                                 SteadyTime deadline, std::shared_ptr<CancelAllHandler> handler) {
  auto known = std::make_shared<std::vector<std::string>>();  // final states already reported
  std::vector<FeedConfirmations::Key> waiting;
  for (auto& k : keys) {
    if (std::string st = confirmed_state(k.id, k.client_id); !st.empty()) {
      known->push_back(std::move(st));
    } else {
      waiting.push_back(std::move(k));
    }
  }
  if (!waiting.empty() && !feed_ready) {
    const Confirmation c = judge_confirmation("", make_error_code(Errc::disconnected));
    c.apply(r);
    return finish_all(std::move(r), handler);
  }
  auto self = shared_from_this();
  confirms.wait(std::move(waiting), deadline,
                [self, r = std::move(r), known, handler](std::vector<std::string> states,
                                                         error_code why) mutable {
                  std::int64_t canceled = 0;
                  std::size_t missing = 0;
                  for (const auto* list : {known.get(), &states}) {
                    for (const auto& st : *list) {
                      canceled += st == "canceled";
                      missing += st.empty();
                    }
                  }
                  r.canceled = canceled;
                  if (missing > 0) {
                    Confirmation c = judge_confirmation("", why);
                    c.message = "cancel-all accepted, but the rfqs channel did not show " +
                                std::to_string(missing) + " of the RFQs it covered in a final "
                                "state (" + why.message() + ")";
                    c.apply(r);
                  }
                  self->finish_all(std::move(r), handler);
                });
}

void OkxVenue::Impl::finish_all(CancelAllResult r, std::shared_ptr<CancelAllHandler> handler) {
  asio::post(io, [h = std::move(*handler), r = std::move(r)]() mutable {
    std::move(h)(std::move(r));
  });
}

}  // namespace rfq::okx
