#include "engine/sim/ws_session.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <type_traits>

#include "engine/core/clock.hpp"
#include "engine/core/log.hpp"

namespace rfq::sim {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace websocket = beast::websocket;

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

constexpr std::chrono::seconds kTickInterval{1};
constexpr std::uint16_t kCloseUnsupportedData = 1003;

// One connection; Stream is PlainStream or TlsStream. Everything runs on the one loop thread.
// Outgoing frames queue in outbox_ and go out one write at a time; a close the model asks for
// is sent after the frames queued before it (OKX: a login refusal's error event, then 4001;
// Deribit: the 10028 answer, then 1008).
template <class Stream>
class WsSession final : public HttpSessionBase,
                        public std::enable_shared_from_this<WsSession<Stream>> {
 public:
  WsSession(Stream stream, WsRoute route, std::shared_ptr<HttpSessionContext> context)
      : ws_(std::move(stream)),
        route_(std::move(route)),
        context_(std::move(context)),
        id_(context_->next_id++) {}

  ~WsSession() override { context_->live.erase(id_); }

  void run(WsUpgradeRequest request) {
    context_->live.emplace(id_, this->weak_from_this());
    // The websocket stream has its own timeouts (handshake, close); the tcp_stream's must be off.
    beast::get_lowest_layer(ws_).expires_never();
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, "rfqd-sim"); }));
    ws_.text(true);
    request_ = std::move(request);
    ws_.async_accept(request_, beast::bind_front_handler(&WsSession::on_accept, self()));
  }

  // SimServer::stop(): detaches from the model at once (the model may be destroyed before the
  // loop drains this object) and closes the socket, so pending operations end with an error.
  void close() override {
    stopped_ = true;
    tick_.cancel();
    model_.reset();
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().close(ec);
  }

 private:
  std::shared_ptr<WsSession> self() { return this->shared_from_this(); }

  void on_accept(beast::error_code ec) {
    if (ec) return fail(ec, "accept");
    if (stopped_) return;  // stop() came between the handshake and this handler
    // The callbacks run inside model calls made from this object, which owns the model.
    model_ = route_.open([this](std::string text) { send(std::move(text)); },
                         [this](int code, std::string reason) { request_close(code, reason); });
    schedule_tick();
    do_read();
  }

  void do_read() {
    ws_.async_read(buffer_, beast::bind_front_handler(&WsSession::on_read, self()));
  }

  // Reads go on after a close is requested: the peer's close frame ends the loop.
  void on_read(beast::error_code ec, std::size_t) {
    if (ec) {
      tick_.cancel();
      if (model_) model_->on_disconnect();  // the peer's close frame, or the socket failed
      if (ec == websocket::error::closed) return;
      return fail(ec, "read");
    }
    if (!ws_.got_text()) {
      model_.reset();  // both venues speak text only; the connection is of no further use
      request_close(kCloseUnsupportedData, "Text frames only");
    } else if (model_) {
      model_->on_text(beast::buffers_to_string(buffer_.data()));
    }
    buffer_.consume(buffer_.size());
    do_read();
  }

  void schedule_tick() {
    tick_ = route_.clock->schedule(kTickInterval, [weak = this->weak_from_this()] {
      if (auto session = weak.lock()) session->on_tick();
    });
  }

  // Expiry happens on time for every subscriber only if someone looks: each connection does.
  void on_tick() {
    if (!model_ || model_->closed()) return;
    model_->on_tick();
    if (model_ && !model_->closed()) schedule_tick();
  }

  void send(std::string text) {
    if (close_) return;
    outbox_.push_back(std::move(text));
    if (!writing_) do_write();
  }

  void request_close(int code, std::string_view reason) {
    if (close_) return;
    close_ = websocket::close_reason(static_cast<websocket::close_code>(code), reason);
    tick_.cancel();
    if (!writing_) do_write();
  }

  void do_write() {
    if (!outbox_.empty()) {
      writing_ = true;
      ws_.async_write(net::buffer(outbox_.front()),
                      beast::bind_front_handler(&WsSession::on_write, self()));
    } else if (close_ && !close_sent_) {
      writing_ = true;
      close_sent_ = true;
      ws_.async_close(*close_, beast::bind_front_handler(&WsSession::on_close, self()));
    }
  }

  void on_write(beast::error_code ec, std::size_t) {
    writing_ = false;
    if (ec) return fail(ec, "write");
    outbox_.pop_front();
    do_write();
  }

  void on_close(beast::error_code ec) {
    writing_ = false;
    if (ec) return fail(ec, "close");
  }

  // Closing (stop()), a peer gone without a close frame and one gone without TLS close_notify
  // are normal endings.
  void fail(beast::error_code ec, const char* stage) {
    if (ec == net::error::operation_aborted || ec == net::ssl::error::stream_truncated) return;
    log::get("sim")->debug("sim ws session {}: stage={} error={}", id_, stage, ec.message());
  }

  websocket::stream<Stream> ws_;
  WsRoute route_;
  std::shared_ptr<HttpSessionContext> context_;
  std::uint64_t id_;
  WsUpgradeRequest request_;
  std::unique_ptr<WsModel> model_;
  TimerHandle tick_;
  beast::flat_buffer buffer_;
  std::deque<std::string> outbox_;
  bool writing_ = false;
  std::optional<websocket::close_reason> close_;
  bool close_sent_ = false;
  bool stopped_ = false;
};

template <class Stream>
void start(Stream stream, WsUpgradeRequest request, const WsRoute& route,
           std::shared_ptr<HttpSessionContext> context) {
  std::make_shared<WsSession<Stream>>(std::move(stream), route, std::move(context))
      ->run(std::move(request));
}

}  // namespace

void start_ws_session(PlainStream stream, WsUpgradeRequest request, const WsRoute& route,
                      std::shared_ptr<HttpSessionContext> context) {
  start(std::move(stream), std::move(request), route, std::move(context));
}

void start_ws_session(TlsStream stream, WsUpgradeRequest request, const WsRoute& route,
                      std::shared_ptr<HttpSessionContext> context) {
  start(std::move(stream), std::move(request), route, std::move(context));
}

}  // namespace rfq::sim
