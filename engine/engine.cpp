#include "engine/engine.hpp"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <unordered_map>

#include "engine/core/error.hpp"
#include "engine/core/log.hpp"

namespace rfq {

namespace {

// Ids named in a dry-run log line; the audit log has them all.
constexpr std::size_t kLoggedIds = 20;

template <typename Result>
Result not_configured(std::string_view name) {
  Result r;
  r.ec = make_error_code(Errc::rejected);
  r.message = "venue '" + std::string(name) + "' is not configured";
  return r;
}

template <typename Result>
void post_result(boost::asio::io_context& io, UniqueFunction<void(Result)> done, Result r) {
  boost::asio::post(io, [d = std::move(done), r = std::move(r)]() mutable { d(std::move(r)); });
}

// How many distinct ids one wire request of a batch carries on each venue (DESIGN §3): okx
// sends cancel-batch-rfqs with up to 100, deribit one cancel_block_rfq per id. An audited
// batch is split the same way, so each audit line is one request the venue got; a venue not
// listed here gets the batch whole (one line).
std::size_t ids_per_request(std::string_view venue) {
  if (venue == "okx") return 100;
  if (venue == "deribit") return 1;
  return SIZE_MAX;
}

// Distinct ids in order of first occurrence, and the input positions of each.
struct Distinct {
  std::vector<std::string> ids;
  std::vector<std::vector<std::size_t>> positions;
};

Distinct distinct(const std::vector<std::string>& ids) {
  Distinct d;
  std::unordered_map<std::string_view, std::size_t> index;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    auto [it, fresh] = index.emplace(ids[i], d.ids.size());
    if (fresh) {
      d.ids.push_back(ids[i]);
      d.positions.emplace_back();
    }
    d.positions[it->second].push_back(i);
  }
  return d;
}

std::string id_list(const std::vector<std::string>& ids) {
  std::string s = "[";
  for (std::size_t i = 0; i < ids.size() && i < kLoggedIds; ++i) {
    if (i > 0) s += ", ";
    s += ids[i];
  }
  if (ids.size() > kLoggedIds) s += ", ... " + std::to_string(ids.size() - kLoggedIds) + " more";
  return s + "]";
}

std::string_view policy_name(const OriginRef& origin) {
  return origin ? std::string_view(origin->policy) : std::string_view("-");
}

std::string code_string(const boost::system::error_code& ec) {
  return ec ? std::string(code_name(code_of(ec))) : std::string();
}

// The whole batch as one result, in input order, from the results of its requests.
struct BatchSplit {
  Distinct d;
  BatchResult result;
  std::size_t left = 0;
  bool any_items = false;  // a venue that refuses a whole request early reports no items
  boost::system::error_code first_ec;
  std::string first_message;
  UniqueFunction<void(BatchResult)> done;

  void merge(std::size_t first, std::size_t count, BatchResult r) {
    if (!first_ec && r.ec) {
      first_ec = r.ec;
      first_message = r.message;
    }
    any_items = any_items || !r.items.empty();
    for (std::size_t j = 0; j < count; ++j) {
      BatchItemResult item;
      if (j < r.items.size()) {
        item = std::move(r.items[j]);
      } else {
        item.ec = r.ec ? r.ec : make_error_code(Errc::unavailable);
        item.message = r.message;
      }
      for (std::size_t pos : d.positions[first + j]) result.items[pos] = item;
    }
    result.requests += r.requests;
    result.latency_us.insert(result.latency_us.end(), r.latency_us.begin(), r.latency_us.end());
  }

  BatchResult finish() {
    if (!any_items) {  // every request refused whole: as the venue reports a refused batch
      BatchResult r;
      r.ec = first_ec;
      r.message = first_message;
      return r;
    }
    for (const auto& item : result.items) (item.ec ? result.failed : result.canceled) += 1;
    if (result.requests == 0 && !result.items.empty()) {
      result.ec = result.items.front().ec;
      result.message = result.items.front().message;
    }
    return std::move(result);
  }
};

}  // namespace

Engine::Engine(boost::asio::io_context& io, Clock& clock) : io_(io), clock_(clock) {
  book_.set_clock(&clock_);
}

Engine::~Engine() {
  // Going away is no status change anyone is told of.
  for (auto& [name, v] : venues_) v->on_status_change(nullptr);
  status_listeners_.clear();
  stop();
  *alive_ = false;
}

void Engine::add_venue(std::unique_ptr<Venue> venue) {
  std::string name(venue->name());
  venue->on_status_change([this, name](VenueStatus s) { on_venue_status(name, s); });
  venues_[name] = std::move(venue);
}

std::uint64_t Engine::listen_status(StatusListener listener) {
  status_listeners_.emplace_back(next_status_listener_, std::move(listener));
  return next_status_listener_++;
}

void Engine::unlisten_status(std::uint64_t id) {
  std::erase_if(status_listeners_, [id](const auto& l) { return l.first == id; });
}

void Engine::on_venue_status(const std::string& venue, VenueStatus status) {
  if (status == VenueStatus::starting) return;  // not a change anyone waits for
  // Closing the venues on purpose is not an outage: no warning, no counter, no event (a guard
  // policy must not react to the shutdown).
  if (stopping_) return;
  const bool up = status == VenueStatus::up;
  metrics_.inc("venue." + venue + (up ? ".up" : ".down"));
  if (up) {
    log::get("engine")->info("venue {} up", venue);
  } else {
    log::get("engine")->warn("venue {} down", venue);
  }
  for (const auto& [id, fn] : status_listeners_) fn(venue, status);
}

Venue* Engine::venue(std::string_view name) {
  auto it = venues_.find(name);
  return it == venues_.end() ? nullptr : it->second.get();
}

std::vector<std::string> Engine::venue_names() const {
  std::vector<std::string> out;
  for (const auto& [name, v] : venues_) out.push_back(name);
  return out;
}

void Engine::start(UniqueFunction<void(boost::system::error_code)> done) {
  struct State {
    std::size_t left;
    boost::system::error_code first;
    UniqueFunction<void(boost::system::error_code)> done;
  };
  if (venues_.empty()) {
    boost::asio::post(io_, [d = std::move(done)]() mutable { d({}); });
    return;
  }
  auto state = std::make_shared<State>(State{venues_.size(), {}, std::move(done)});
  for (auto& [name, v] : venues_) {
    v->async_start([state, name = name](boost::system::error_code ec) {
      if (ec) {
        log::get("engine")->error("venue {} did not start: {}", name, ec.message());
        if (!state->first) state->first = ec;
      }
      if (--state->left == 0) state->done(state->first);
    });
  }
}

void Engine::stop() {
  stopping_ = true;
  for (auto& [name, v] : venues_) v->stop();
}

// ---- cancel ----------------------------------------------------------------------------------

// The audit line of one single cancel, before its outcome is known.
AuditEntry Engine::cancel_line(std::string_view venue, const CancelRequest& req,
                               const OriginRef& origin) {
  AuditEntry line = audit_line(venue, "cancel", origin, req.correlation);
  if (!req.id.empty()) line.ids.push_back(req.id);
  if (!req.client_id.empty()) line.client_ids.push_back(req.client_id);
  return line;
}

void Engine::cancel(std::string_view venue_name, CancelRequest req, OriginRef origin,
                    UniqueFunction<void(CancelResult)> done) {
  if (req.correlation == 0) req.correlation = next_correlation_++;
  Venue* v = venue(venue_name);
  if (v == nullptr || dry_run_) {
    if (v != nullptr) return dry_cancel(venue_name, std::move(req), origin, std::move(done));
    auto r = not_configured<CancelResult>(venue_name);
    if (audit_) {
      AuditEntry line = cancel_line(venue_name, req, origin);
      record_cancel(line, r);
    }
    return post_result(io_, std::move(done), std::move(r));
  }
  // Only an audited request pays for its line (the hot path stays allocation-free).
  std::unique_ptr<AuditEntry> line;
  if (audit_) {
    line = std::make_unique<AuditEntry>(cancel_line(venue_name, req, origin));
  }
  const SteadyTime entered = req.entered;
  ++in_flight_;
  v->async_cancel(std::move(req), [this, alive = alive_, entered, line = std::move(line),
                                   d = std::move(done)](CancelResult r) mutable {
    if (*alive) {
      --in_flight_;
      account(entered, r);
      if (line) record_cancel(*line, r);
    }
    d(std::move(r));
  });
}

void Engine::cancel_batch(std::string_view venue_name, BatchRequest req, OriginRef origin,
                          UniqueFunction<void(BatchResult)> done) {
  if (req.correlation == 0) req.correlation = next_correlation_++;
  Venue* v = venue(venue_name);
  if (v == nullptr) {
    auto r = not_configured<BatchResult>(venue_name);
    if (audit_) {
      AuditEntry line = audit_line(venue_name, "cancel_batch", origin, req.correlation);
      (req.client_ids ? line.client_ids : line.ids) = req.ids;
      record_batch(line, r);
    }
    return post_result(io_, std::move(done), std::move(r));
  }
  if (dry_run_) return dry_batch(venue_name, std::move(req), origin, std::move(done));
  ++in_flight_;
  UniqueFunction<void(BatchResult)> finish = [this, alive = alive_,
                                              d = std::move(done)](BatchResult r) mutable {
    if (*alive) {
      --in_flight_;
      account_batch(r);
    }
    d(std::move(r));
  };
  if (!audit_) return v->async_cancel_batch(std::move(req), std::move(finish));
  split_batch(*v, venue_name, std::move(req), std::move(origin), std::move(finish));
}

void Engine::cancel_all(std::string_view venue_name, CancelAllRequest req, OriginRef origin,
                        UniqueFunction<void(CancelAllResult)> done) {
  if (req.correlation == 0) req.correlation = next_correlation_++;
  const SteadyTime started = clock_.steady_now();
  std::unique_ptr<AuditEntry> line;
  if (audit_) {
    line =
        std::make_unique<AuditEntry>(audit_line(venue_name, "cancel_all", origin, req.correlation));
    line->spread_id = req.spread_id;
  }
  Venue* v = venue(venue_name);
  if (v == nullptr) {
    auto r = not_configured<CancelAllResult>(venue_name);
    if (line) record_all(*line, r, started);
    return post_result(io_, std::move(done), std::move(r));
  }
  if (dry_run_) return dry_cancel_all(venue_name, std::move(req), origin, std::move(done));
  ++in_flight_;
  v->async_cancel_all(std::move(req), [this, alive = alive_, started, line = std::move(line),
                                       d = std::move(done)](CancelAllResult r) mutable {
    if (*alive) {
      --in_flight_;
      account_all(r);
      if (line) record_all(*line, r, started);
    }
    d(std::move(r));
  });
}

// ---- accounting ------------------------------------------------------------------------------

void Engine::account(SteadyTime entered, const CancelResult& r) {
  if (r.sent) {
    metrics_.inc("rfq.cancel.sent");
    if (r.latency_us > 0) metrics_.observe_us("rfq.cancel.rtt_us", r.latency_us);
    if (entered != SteadyTime{} && r.written_at != SteadyTime{}) {
      metrics_.observe_us(
          "engine.overhead_us",
          std::chrono::duration_cast<std::chrono::microseconds>(r.written_at - entered - r.queued)
              .count());
    }
  }
  if (!r.ec) {
    metrics_.inc("rfq.cancel.ok");
  } else {
    metrics_.inc("rfq.cancel.failed");
    metrics_.inc(std::string("rfq.cancel.failed.") + std::string(code_name(code_of(r.ec))));
  }
}

void Engine::account_batch(const BatchResult& r) {
  metrics_.inc("rfq.batch.requests", r.requests);
  for (auto us : r.latency_us) metrics_.observe_us("rfq.cancel.rtt_us", us);
  for (const auto& item : r.items) {
    if (!item.ec) {
      metrics_.inc("rfq.cancel.ok");
    } else {
      metrics_.inc("rfq.cancel.failed");
      metrics_.inc(std::string("rfq.cancel.failed.") + std::string(code_name(code_of(item.ec))));
    }
  }
}

void Engine::account_all(const CancelAllResult& r) {
  metrics_.inc(r.ec && code_of(r.ec) != Errc::nothing_to_cancel ? "rfq.cancel_all.failed"
                                                                : "rfq.cancel_all.ok");
  // RFQs a cancel-all is known to have canceled (okx_spread's mass cancel reports none).
  if (r.canceled > 0) {
    metrics_.inc("rfq.cancel_all.canceled", static_cast<std::uint64_t>(r.canceled));
  }
}

// ---- audit -----------------------------------------------------------------------------------

AuditEntry Engine::audit_line(std::string_view venue, const char* request, const OriginRef& origin,
                              std::uint64_t correlation) {
  AuditEntry e;
  e.origin = origin;
  e.venue = std::string(venue);
  e.request = request;
  e.correlation = correlation;
  e.dry_run = dry_run_;
  return e;
}

void Engine::record(AuditEntry& line) {
  if (!audit_) return;
  line.ts_ms = clock_.now_ms();
  if (!audit_->write(line)) metrics_.inc("audit.write_errors");
}

void Engine::record_cancel(AuditEntry& line, const CancelResult& r) {
  line.sent = r.sent;
  line.outcome = r.ec ? "failed" : "ok";
  line.code = code_string(r.ec);
  line.venue_code = r.venue_code;
  if (r.ec) line.message = r.message.empty() ? r.ec.message() : r.message;
  if (r.sent) line.latency_us = r.latency_us;
  record(line);
}

void Engine::record_batch(AuditEntry& line, const BatchResult& r) {
  line.sent = r.requests > 0;
  if (!r.latency_us.empty()) line.latency_us = r.latency_us.back();  // the answer that counted
  std::int64_t canceled = 0;
  const BatchItemResult* first_failed = nullptr;
  for (const auto& item : r.items) {
    if (!item.ec) {
      ++canceled;
      continue;
    }
    ++line.failed[code_string(item.ec)];
    if (first_failed == nullptr) first_failed = &item;
  }
  line.canceled = canceled;
  if (r.items.empty() && r.ec) {  // refused whole, before any item was looked at
    line.outcome = "failed";
    line.code = code_string(r.ec);
    line.message = r.message.empty() ? r.ec.message() : r.message;
  } else if (first_failed != nullptr) {
    line.outcome = canceled == 0 ? "failed" : "partial";
    line.code = code_string(first_failed->ec);
    line.venue_code = first_failed->venue_code;
    line.message = first_failed->message;
  } else {
    line.outcome = "ok";
    if (!r.items.empty()) line.venue_code = r.items.front().venue_code;
  }
  record(line);
}

void Engine::record_all(AuditEntry& line, const CancelAllResult& r, SteadyTime started) {
  const Errc code = code_of(r.ec);
  const bool ok = !r.ec || code == Errc::nothing_to_cancel;
  line.outcome = ok ? "ok" : r.canceled > 0 ? "partial" : "failed";
  line.code = code_string(r.ec);
  line.venue_code = r.venue_code;
  if (r.ec) line.message = r.message.empty() ? r.ec.message() : r.message;
  if (r.canceled >= 0) line.canceled = r.canceled;
  // A cancel-all result does not say whether it reached the wire; without an answer from the
  // venue, RATE_LIMITED (pacing) and DISCONNECTED (no connection, venue stopped) are the
  // outcomes of one that did not.
  line.sent = !(r.venue_code.empty() && (code == Errc::rate_limited || code == Errc::disconnected ||
                                         code == Errc::rejected));
  // The whole operation as the engine saw it: pacing, the round trip (deribit: the listing
  // and every cancel), and the confirmation wait.
  if (line.sent) {
    line.latency_us =
        std::chrono::duration_cast<std::chrono::microseconds>(clock_.steady_now() - started)
            .count();
  }
  record(line);
}

void Engine::split_batch(Venue& v, std::string_view venue_name, BatchRequest req, OriginRef origin,
                         UniqueFunction<void(BatchResult)> done) {
  if (req.ids.empty()) {  // nothing to split: the venue refuses it as it always does
    AuditEntry line = audit_line(venue_name, "cancel_batch", origin, req.correlation);
    return v.async_cancel_batch(std::move(req), [this, alive = alive_, line = std::move(line),
                                                 d = std::move(done)](BatchResult r) mutable {
      if (*alive) record_batch(line, r);
      d(std::move(r));
    });
  }
  // Each request gets distinct ids (as the venue would send them), so a line counts an id
  // once; the merge reports it at every position, as the venue does.
  auto split = std::make_shared<BatchSplit>();
  split->d = distinct(req.ids);
  const std::size_t n = split->d.ids.size();
  const std::size_t per = std::min(ids_per_request(venue_name), n);
  split->result.items.resize(req.ids.size());
  split->left = (n + per - 1) / per;
  split->done = std::move(done);
  for (std::size_t first = 0; first < n; first += per) {
    BatchRequest sub;
    sub.ids.assign(split->d.ids.begin() + static_cast<std::ptrdiff_t>(first),
                   split->d.ids.begin() + static_cast<std::ptrdiff_t>(std::min(n, first + per)));
    sub.client_ids = req.client_ids;
    sub.timeout = req.timeout;  // each request's deadline is the batch's: all start now
    sub.urgent = req.urgent;
    sub.correlation = req.correlation;
    sub.confirm = req.confirm;
    AuditEntry line = audit_line(venue_name, "cancel_batch", origin, req.correlation);
    (req.client_ids ? line.client_ids : line.ids) = sub.ids;
    const std::size_t count = sub.ids.size();
    v.async_cancel_batch(std::move(sub), [this, alive = alive_, split, first, count,
                                          line = std::move(line)](BatchResult r) mutable {
      if (*alive) record_batch(line, r);
      split->merge(first, count, std::move(r));
      if (--split->left == 0) split->done(split->finish());
    });
  }
}

// ---- dry run ---------------------------------------------------------------------------------

void Engine::dry_cancel(std::string_view venue, CancelRequest req, const OriginRef& origin,
                        UniqueFunction<void(CancelResult)> done) {
  metrics_.inc("rfq.dry_run.cancel");
  const std::string& what = req.id.empty() ? req.client_id : req.id;
  log::get("engine")->info("dry run: would cancel {} [{}] (cancel, policy {}, corr={})", venue,
                           what, policy_name(origin), req.correlation);
  CancelResult r;
  r.id = req.id;
  r.client_id = req.client_id;
  if (r.id.empty()) {
    if (const Rfq* known = book_.find_by_client_id(venue, req.client_id)) r.id = known->id;
  }
  r.state = "canceled";
  book_.set_state(venue, req.id, req.client_id, "canceled", "dry_run");
  if (audit_) {
    AuditEntry line = cancel_line(venue, req, origin);
    record_cancel(line, r);
  }
  post_result(io_, std::move(done), std::move(r));
}

void Engine::dry_batch(std::string_view venue, BatchRequest req, const OriginRef& origin,
                       UniqueFunction<void(BatchResult)> done) {
  metrics_.inc("rfq.dry_run.batch");
  log::get("engine")->info("dry run: would cancel {} {} (cancel_batch of {}, policy {}, corr={})",
                           venue, id_list(req.ids), req.ids.size(), policy_name(origin),
                           req.correlation);
  BatchResult r;
  r.items.resize(req.ids.size());
  for (std::size_t i = 0; i < req.ids.size(); ++i) {
    auto& item = r.items[i];
    if (req.client_ids) {
      item.client_id = req.ids[i];
      if (const Rfq* known = book_.find_by_client_id(venue, item.client_id)) item.id = known->id;
      book_.set_state(venue, "", item.client_id, "canceled", "dry_run");
    } else {
      item.id = req.ids[i];
      book_.set_state(venue, item.id, "", "canceled", "dry_run");
    }
  }
  r.canceled = r.items.size();
  if (audit_) {  // one line per request the venue would have got
    const Distinct d = distinct(req.ids);
    const std::size_t per =
        std::max<std::size_t>(1, std::min(ids_per_request(venue), d.ids.size()));
    for (std::size_t first = 0; first < d.ids.size(); first += per) {
      AuditEntry line = audit_line(venue, "cancel_batch", origin, req.correlation);
      auto& ids = req.client_ids ? line.client_ids : line.ids;
      ids.assign(d.ids.begin() + static_cast<std::ptrdiff_t>(first),
                 d.ids.begin() + static_cast<std::ptrdiff_t>(std::min(d.ids.size(), first + per)));
      line.outcome = "ok";
      line.sent = false;
      line.canceled = static_cast<std::int64_t>(ids.size());
      record(line);
    }
  }
  post_result(io_, std::move(done), std::move(r));
}

void Engine::dry_cancel_all(std::string_view venue, CancelAllRequest req, const OriginRef& origin,
                            UniqueFunction<void(CancelAllResult)> done) {
  metrics_.inc("rfq.dry_run.cancel_all");
  OpenQuery q;
  q.venue = std::string(venue);
  std::vector<std::pair<std::string, std::string>> targets;  // id, client id
  for (const Rfq* r : book_.open(q, clock_.now_ms())) targets.emplace_back(r->id, r->client_id);
  for (const auto& [id, client_id] : targets) {
    book_.set_state(venue, id, client_id, "canceled", "dry_run");
  }
  log::get("engine")->info(
      "dry run: would cancel_all {} ({} open RFQs in the book, policy {}, "
      "corr={})",
      venue, targets.size(), policy_name(origin), req.correlation);
  CancelAllResult r;
  r.canceled = static_cast<std::int64_t>(targets.size());
  if (audit_) {
    AuditEntry line = audit_line(venue, "cancel_all", origin, req.correlation);
    line.spread_id = req.spread_id;
    line.outcome = "ok";
    line.sent = false;
    line.canceled = r.canceled;
    record(line);
  }
  post_result(io_, std::move(done), std::move(r));
}

}  // namespace rfq
