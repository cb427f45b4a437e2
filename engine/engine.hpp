#pragma once
// The engine: one loop's worth of venues, the book, the clock and the counters. Everything
// here runs on the loop that owns it; completions are posted back to it.
//
// Every cancel may carry an Origin (the policy and its script hash) for the audit log. With
// an audit log set, each request a venue gets is one line (a batch is split along the venue's
// request shape so that each line is one wire request). In dry run nothing reaches a venue:
// each decision is logged, counted (rfq.dry_run.*), audited, and answered as if accepted.

#include <boost/system/error_code.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/book/book.hpp"
#include "engine/core/audit.hpp"
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

  // Told of every change of a venue's status (Venue::status: up, down), synchronously on the
  // loop as the venue notices it: a lost connection or feed, a failed login, the reconnect
  // that brings it back (not stop(): closing on purpose is no news). Listeners copy what they
  // need and defer their work; they must not add or remove status listeners from the call.
  // Counted as venue.<name>.up/.down.
  using StatusListener = std::function<void(std::string_view venue, VenueStatus status)>;
  std::uint64_t listen_status(StatusListener listener);
  void unlisten_status(std::uint64_t id);  // unknown ids are ignored

  // Starts every venue; done gets the first failure (venues that failed keep retrying).
  void start(UniqueFunction<void(boost::system::error_code)> done);
  void stop();

  // The audit log every cancel request is recorded in; none by default. Counter
  // audit.write_errors counts lines that could not be written.
  void set_audit(std::unique_ptr<AuditLog> audit) { audit_ = std::move(audit); }
  AuditLog* audit() { return audit_.get(); }

  // Dry run: nothing is sent. cancel: the RFQ is marked canceled in the book (raw_state
  // "dry_run") and the result is a success with sent = false; cancel_batch: every item ok;
  // cancel_all: every RFQ the book holds open for the venue marked canceled, and counted.
  // Logged ("dry run: would cancel ...") and counted: rfq.dry_run.{cancel,batch,cancel_all}.
  void set_dry_run(bool on) { dry_run_ = on; }
  bool dry_run() const { return dry_run_; }

  // Cancels one RFQ and accounts for it: counters rfq.cancel.{sent,ok,failed,failed.CODE},
  // latency series rfq.cancel.rtt_us and engine.overhead_us (script call -> bytes on socket).
  void cancel(std::string_view venue, CancelRequest req, OriginRef origin,
              UniqueFunction<void(CancelResult)> done);
  // Any number of ids, chunked and paced by the venue. Counters: rfq.batch.requests, and per
  // item rfq.cancel.ok / rfq.cancel.failed.CODE.
  void cancel_batch(std::string_view venue, BatchRequest req, OriginRef origin,
                    UniqueFunction<void(BatchResult)> done);
  // One venue's account-wide cancel-all. Counters rfq.cancel_all.{ok,failed,canceled}.
  void cancel_all(std::string_view venue, CancelAllRequest req, OriginRef origin,
                  UniqueFunction<void(CancelAllResult)> done);

  // The same without an origin (audited with policy and script_hash null).
  void cancel(std::string_view venue, CancelRequest req, UniqueFunction<void(CancelResult)> done) {
    cancel(venue, std::move(req), nullptr, std::move(done));
  }
  void cancel_batch(std::string_view venue, BatchRequest req,
                    UniqueFunction<void(BatchResult)> done) {
    cancel_batch(venue, std::move(req), nullptr, std::move(done));
  }
  void cancel_all(std::string_view venue, CancelAllRequest req,
                  UniqueFunction<void(CancelAllResult)> done) {
    cancel_all(venue, std::move(req), nullptr, std::move(done));
  }

  // Cancels handed to a venue and not yet answered.
  std::size_t in_flight() const { return in_flight_; }

 private:
  void on_venue_status(const std::string& venue, VenueStatus status);
  void account(SteadyTime entered, const CancelResult& r);
  void account_batch(const BatchResult& r);
  void account_all(const CancelAllResult& r);

  // Audit: a line started now, and its completion from each kind of result.
  AuditEntry audit_line(std::string_view venue, const char* request, const OriginRef& origin,
                        std::uint64_t correlation);
  AuditEntry cancel_line(std::string_view venue, const CancelRequest& req,
                         const OriginRef& origin);
  void record(AuditEntry& line);
  void record_cancel(AuditEntry& line, const CancelResult& r);
  void record_batch(AuditEntry& line, const BatchResult& r);
  void record_all(AuditEntry& line, const CancelAllResult& r, SteadyTime started);

  // Splits an audited batch into the requests the venue will send, one audit line each, and
  // merges their results back into input order.
  void split_batch(Venue& v, std::string_view venue, BatchRequest req, OriginRef origin,
                   UniqueFunction<void(BatchResult)> done);

  void dry_cancel(std::string_view venue, CancelRequest req, const OriginRef& origin,
                  UniqueFunction<void(CancelResult)> done);
  void dry_batch(std::string_view venue, BatchRequest req, const OriginRef& origin,
                 UniqueFunction<void(BatchResult)> done);
  void dry_cancel_all(std::string_view venue, CancelAllRequest req, const OriginRef& origin,
                      UniqueFunction<void(CancelAllResult)> done);

  boost::asio::io_context& io_;
  Clock& clock_;
  Book book_;
  Metrics metrics_;
  std::vector<std::pair<std::uint64_t, StatusListener>> status_listeners_;
  std::uint64_t next_status_listener_ = 1;
  std::map<std::string, std::unique_ptr<Venue>, std::less<>> venues_;
  std::size_t in_flight_ = 0;
  bool stopping_ = false;  // stop() was called: venue status changes are no longer news
  std::uint64_t next_correlation_ = 1;
  std::unique_ptr<AuditLog> audit_;
  bool dry_run_ = false;
  // Completions can outlive the engine (a host keeps running its io_context): they check this.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace rfq
