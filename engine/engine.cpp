#include "engine/engine.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "engine/core/error.hpp"
#include "engine/core/log.hpp"

namespace rfq {

namespace {

// Completes `done` with REJECTED (posted) when the venue is not configured.
template <typename Result>
Venue* find_or_reject(Engine& engine, std::string_view name,
                      UniqueFunction<void(Result)>& done) {
  if (Venue* v = engine.venue(name)) return v;
  Result r;
  r.ec = make_error_code(Errc::rejected);
  r.message = "venue '" + std::string(name) + "' is not configured";
  boost::asio::post(engine.io(), [d = std::move(done), r = std::move(r)]() mutable {
    d(std::move(r));
  });
  return nullptr;
}

}  // namespace

Engine::Engine(boost::asio::io_context& io, Clock& clock) : io_(io), clock_(clock) {}

Engine::~Engine() {
  stop();
  *alive_ = false;
}

void Engine::add_venue(std::unique_ptr<Venue> venue) {
  std::string name(venue->name());
  venues_[name] = std::move(venue);
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
  for (auto& [name, v] : venues_) v->stop();
}

void Engine::cancel(std::string_view venue_name, CancelRequest req,
                    UniqueFunction<void(CancelResult)> done) {
  Venue* v = find_or_reject(*this, venue_name, done);
  if (v == nullptr) return;
  const SteadyTime entered = req.entered;
  if (req.correlation == 0) req.correlation = next_correlation_++;
  ++in_flight_;
  v->async_cancel(std::move(req), [this, alive = alive_, entered,
                                   d = std::move(done)](CancelResult r) mutable {
    if (*alive) {
      --in_flight_;
      account(entered, r);
    }
    d(std::move(r));
  });
}

void Engine::cancel_batch(std::string_view venue_name, BatchRequest req,
                          UniqueFunction<void(BatchResult)> done) {
  Venue* v = find_or_reject(*this, venue_name, done);
  if (v == nullptr) return;
  if (req.correlation == 0) req.correlation = next_correlation_++;
  ++in_flight_;
  v->async_cancel_batch(std::move(req), [this, alive = alive_,
                                         d = std::move(done)](BatchResult r) mutable {
    if (*alive) {
      --in_flight_;
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
    d(std::move(r));
  });
}

void Engine::cancel_all(std::string_view venue_name, CancelAllRequest req,
                        UniqueFunction<void(CancelAllResult)> done) {
  Venue* v = find_or_reject(*this, venue_name, done);
  if (v == nullptr) return;
  if (req.correlation == 0) req.correlation = next_correlation_++;
  ++in_flight_;
  v->async_cancel_all(std::move(req), [this, alive = alive_,
                                       d = std::move(done)](CancelAllResult r) mutable {
    if (*alive) {
      --in_flight_;
      metrics_.inc(r.ec && code_of(r.ec) != Errc::nothing_to_cancel ? "rfq.cancel_all.failed"
                                                                     : "rfq.cancel_all.ok");
      // RFQs a cancel-all is known to have canceled (okx_spread's mass cancel reports none).
      if (r.canceled > 0) metrics_.inc("rfq.cancel_all.canceled", static_cast<std::uint64_t>(r.canceled));
    }
    d(std::move(r));
  });
}

void Engine::account(SteadyTime entered, const CancelResult& r) {
  if (r.sent) {
    metrics_.inc("rfq.cancel.sent");
    if (r.latency_us > 0) metrics_.observe_us("rfq.cancel.rtt_us", r.latency_us);
    if (entered != SteadyTime{} && r.written_at != SteadyTime{}) {
      metrics_.observe_us("engine.overhead_us",
                          std::chrono::duration_cast<std::chrono::microseconds>(
                              r.written_at - entered - r.queued)
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

}  // namespace rfq
