#pragma once
// Internal to venue okx: the session state shared by okx_venue.cpp (start, book feed, single
// cancels, confirmation) and okx_venue_bulk.cpp (batch and cancel-all).

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <memory>
#include <string>
#include <vector>

#include "engine/book/book.hpp"
#include "engine/core/error.hpp"
#include "engine/core/log.hpp"
#include "engine/limits/lane.hpp"
#include "engine/net/http_client.hpp"
#include "engine/venues/feed_confirmations.hpp"
#include "engine/venues/okx/okx_feed.hpp"
#include "engine/venues/okx/okx_rest.hpp"
#include "engine/venues/okx/okx_venue.hpp"

namespace rfq::okx::detail {

namespace asio = boost::asio;
using boost::system::error_code;

// Documented limits (PROTOCOLS.md §3): cancel-rfq 5 / 2 s, cancel-batch-rfqs 2 / 2 s,
// cancel-all-rfqs 2 / 2 s, GET rfqs 2 / 2 s.
inline constexpr std::size_t kCancelRfqPer2s = 5;
inline constexpr std::size_t kCancelBatchPer2s = 2;
inline constexpr std::size_t kCancelAllPer2s = 2;
inline constexpr std::size_t kGetRfqsPer2s = 2;
inline constexpr Nanos kWindow = std::chrono::seconds(2);

inline bool is_terminal(std::string_view state) { return FeedConfirmations::is_final(state); }

inline std::int64_t micros(SteadyTime a, SteadyTime b) {
  return std::chrono::duration_cast<std::chrono::microseconds>(b - a).count();
}

// What a cancel the venue accepted became, judged by the feed: the state it reported ("" when
// none arrived) and why waiting ended early (TIMEOUT, DISCONNECTED, AUTH).
struct Confirmation {
  error_code ec;  // empty: the feed shows it canceled
  std::string state;
  std::string message;

  template <typename Result>
  void apply(Result& r) const {
    if (!ec) return;
    r.ec = ec;
    r.message = message;
    if constexpr (requires { r.state; }) {
      if (!state.empty()) r.state = state;
    }
  }
};

inline Confirmation judge_confirmation(std::string_view state, error_code why) {
  Confirmation c;
  c.state = std::string(state);
  if (state == "canceled") return c;
  if (!state.empty()) {
    c.ec = make_error_code(Errc::not_cancelable);
    c.message = "cancel accepted, but the rfqs channel shows the RFQ " + c.state;
  } else if (why == make_error_code(Errc::timeout) || !why) {
    c.ec = make_error_code(Errc::timeout);
    c.message = "cancel accepted (sCode 0), but the rfqs channel did not show it canceled "
                "before the deadline";
  } else {
    c.ec = why;
    c.message = "cancel accepted (sCode 0), but the rfqs feed is not delivering (" +
                why.message() + "), so it cannot be confirmed";
  }
  return c;
}

}  // namespace rfq::okx::detail

namespace rfq::okx {

using namespace detail;  // NOLINT: internal header, included by the venue's two files only

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
  // up once the REST snapshot loaded and, with a feed configured, the rfqs channel delivers.
  std::shared_ptr<VenueStatusCell> status;
  bool rest_ok = false;  // the latest snapshot (or the first) succeeded
  std::int64_t offset_ms = 0;
  bool stopped = false;
  bool refreshing = false;
  bool refresh_again = false;  // a refresh was asked for while one was running
  TimerHandle refresh_timer;
  // The rfqs feed (business WebSocket), when configured.
  std::unique_ptr<OkxFeed> feed;
  bool feed_ready = false;
  FeedConfirmations confirms;
  std::shared_ptr<StartHandler> start_handler;  // until the REST side and the feed are up
  int start_parts_left = 0;
  error_code start_error;
  TimerHandle start_timer;
  std::shared_ptr<spdlog::logger> log = log::get("venue.okx");

  Impl(asio::io_context& io_ctx, Clock& c, Book& b, OkxVenueOptions o,
       std::shared_ptr<VenueStatusCell> status_cell)
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
        batch_lane(c, "cancel-batch-rfqs", limit(kCancelBatchPer2s), options.batch_reserve),
        // Only cancel_all uses this lane, always urgent; one slot stays reserved for it should
        // anything else ever share the endpoint.
        all_lane(c, "cancel-all-rfqs", limit(kCancelAllPer2s), 1),
        rfqs_lane(c, "rfqs", limit(kGetRfqsPer2s)),
        status(std::move(status_cell)),
        confirms(c) {}

  WindowLimit limit(std::size_t n) const;
  net::HttpRequest signed_request(std::string method, std::string target, std::string body);
  Millis left(SteadyTime deadline) const;
  std::int64_t venue_now_ms() const { return clock.now_ms() + offset_ms; }

  // ---- start: warm connections, measure the clock offset, load the active RFQs ----------
  void start(StartHandler handler);
  void start_part_done(error_code ec);
  void measure_offset();
  void start_failed(error_code ec, std::string_view stage);
  void load_snapshot();
  void schedule_refresh();
  void refresh_book(UniqueFunction<void(error_code)> done);
  void fetch_page(std::shared_ptr<std::vector<Rfq>> acc, std::string end_id, std::int64_t taken_at,
                  std::shared_ptr<UniqueFunction<void(error_code)>> done);
  void finish_refresh(error_code ec, std::vector<Rfq> rfqs, std::int64_t taken_at,
                      std::shared_ptr<UniqueFunction<void(error_code)>> done);
  // RFQs the book holds active that a snapshot no longer lists ended unseen: one page of
  // GET rfqs?state=filled tells which of them filled (each then a fill, once), before the
  // snapshot replaces the book's active set.
  void look_up_fills(std::vector<Rfq> snapshot, std::int64_t taken_at,
                     std::vector<std::string> missing,
                     std::shared_ptr<UniqueFunction<void(error_code)>> done);
  void apply_snapshot(std::vector<Rfq> rfqs, std::int64_t taken_at);
  void end_refresh(error_code ec, std::shared_ptr<UniqueFunction<void(error_code)>> done);
  // up when the REST side and the feed (when configured) are; down when either was lost.
  void refresh_status();

  // ---- rfqs feed -------------------------------------------------------------------------
  void start_feed();
  void on_feed_ready();
  void on_feed_rfqs(std::vector<Rfq> rfqs);
  void on_feed_down(error_code ec, const std::string& why);

  // ---- confirm = true: wait for the feed to show what a cancel was accepted for ------------
  // The final state the feed already reported for this RFQ, "" when none.
  std::string confirmed_state(std::string_view id, std::string_view client_id) const;
  void confirm_one(CancelResult r, SteadyTime deadline, std::shared_ptr<CancelHandler> handler);

  // ---- cancel ----------------------------------------------------------------------------
  void cancel(CancelRequest req, CancelHandler handler);
  void submit_cancel(std::shared_ptr<CancelRequest> req, SteadyTime deadline,
                     std::shared_ptr<CancelHandler> handler);
  void send_cancel(std::shared_ptr<CancelRequest> req, SteadyTime deadline,
                   std::shared_ptr<CancelHandler> handler);
  bool retry_after_limit(std::shared_ptr<CancelRequest> req, SteadyTime deadline,
                         std::shared_ptr<CancelHandler> handler);
  void finish_cancel(CancelResult r, std::shared_ptr<CancelHandler> handler);

  // ---- cancel_batch and cancel_all (okx_venue_bulk.cpp) -----------------------------------
  struct BatchOp {
    BatchRequest req;
    SteadyTime deadline;
    BatchResult result;
    std::vector<std::vector<std::size_t>> positions;  // unique id -> input positions
    std::size_t chunks_left = 0;
    std::size_t sent = 0;
    std::shared_ptr<BatchHandler> handler;
  };

  void cancel_batch(BatchRequest req, BatchHandler handler);
  void submit_chunk(std::shared_ptr<BatchOp> op, std::shared_ptr<std::vector<std::string>> ids,
                    std::shared_ptr<std::vector<std::size_t>> chunk);
  void send_chunk(std::shared_ptr<BatchOp> op, std::shared_ptr<std::vector<std::string>> ids,
                  std::shared_ptr<std::vector<std::size_t>> chunk);
  void apply_answer(BatchOp& op, const std::vector<std::string>& ids,
                    const std::vector<std::size_t>& chunk, const BatchAnswer& answer);
  void fail_chunk(BatchOp& op, const std::vector<std::size_t>& chunk, error_code ec,
                  const std::string& message, const std::string& venue_code = {});
  void chunk_done(std::shared_ptr<BatchOp> op);
  void cancel_all(CancelAllRequest req, CancelAllHandler handler);
  // The RFQs the book knows as active (what an account-wide cancel-all covers).
  std::vector<FeedConfirmations::Key> active_keys();
  void mark_canceled(const std::vector<FeedConfirmations::Key>& keys);
  void finish_all(CancelAllResult r, std::shared_ptr<CancelAllHandler> handler);
  void confirm_batch(std::shared_ptr<BatchOp> op);
  void deliver_batch(std::shared_ptr<BatchOp> op);
  void confirm_all(CancelAllResult r, std::vector<FeedConfirmations::Key> keys,
                   SteadyTime deadline, std::shared_ptr<CancelAllHandler> handler);

  std::vector<LaneStatus> budget() const;
  void stop();
};

}  // namespace rfq::okx
