#pragma once
// The engine: one loop's worth of venues, the book, the clock and the counters. Everything
// here runs on the loop that owns it; completions are posted back to it.

#include <boost/system/error_code.hpp>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/book/book.hpp"
#include "engine/core/clock.hpp"
#include "engine/core/metrics.hpp"
#include "engine/core/unique_function.hpp"
#include "engine/venues/venue.hpp"

namespace boost::asio {
class io_context;
}

namespace rfq {

class Engine {
 public:
  Engine(boost::asio::io_context& io, Clock& clock);
  ~Engine();

  boost::asio::io_context& io() { return io_; }
  Clock& clock() { return clock_; }
  Book& book() { return book_; }
  Metrics& metrics() { return metrics_; }
  const Metrics& metrics() const { return metrics_; }

  void add_venue(std::unique_ptr<Venue> venue);
  Venue* venue(std::string_view name);
  std::vector<std::string> venue_names() const;

  // Starts every venue; done gets the first failure (venues that failed keep retrying).
  void start(UniqueFunction<void(boost::system::error_code)> done);
  void stop();

  // Cancels one RFQ and accounts for it: counters rfq.cancel.{sent,ok,failed,failed.CODE},
  // latency series rfq.cancel.rtt_us and engine.overhead_us (script call -> bytes on socket).
  void cancel(std::string_view venue, CancelRequest req,
              UniqueFunction<void(CancelResult)> done);
  // Any number of ids, chunked and paced by the venue. Counters: rfq.batch.requests, and per
  // item rfq.cancel.ok / rfq.cancel.failed.CODE.
  void cancel_batch(std::string_view venue, BatchRequest req,
                    UniqueFunction<void(BatchResult)> done);
  // One venue's account-wide cancel-all. Counters rfq.cancel_all.{ok,failed,canceled}.
  void cancel_all(std::string_view venue, CancelAllRequest req,
                  UniqueFunction<void(CancelAllResult)> done);

  // Cancels handed to a venue and not yet answered.
  std::size_t in_flight() const { return in_flight_; }

 private:
  void account(SteadyTime entered, const CancelResult& r);

  boost::asio::io_context& io_;
  Clock& clock_;
  Book book_;
  Metrics metrics_;
  std::map<std::string, std::unique_ptr<Venue>, std::less<>> venues_;
  std::size_t in_flight_ = 0;
  std::uint64_t next_correlation_ = 1;
  // Completions can outlive the engine (a host keeps running its io_context): they check this.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace rfq
