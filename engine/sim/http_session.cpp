#include "engine/sim/http_session.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <chrono>
#include <type_traits>

#include "engine/core/log.hpp"
#include "engine/sim/ws_session.hpp"

namespace rfq::sim {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

SimHttpRequest to_sim_request(http::request<http::string_body>& req) {
  SimHttpRequest out;
  out.method = std::string(req.method_string());
  out.target = std::string(req.target());
  out.body = std::move(req.body());
  out.headers.reserve(16);
  for (const auto& field : req) {
    out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  return out;
}

http::response<http::string_body> to_response(SimHttpReply reply, unsigned version,
                                              bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(reply.status), version};
  res.set(http::field::server, "rfqd-sim");
  res.set(http::field::content_type, "application/json");
  res.keep_alive(keep_alive);
  res.body() = std::move(reply.body);
  res.prepare_payload();
  return res;
}

// Stream is PlainStream or TlsStream; TLS adds a handshake before the first read and a TLS
// shutdown at the end. Everything runs on the one loop thread.
template <class Stream>
class HttpSession final : public HttpSessionBase,
                          public std::enable_shared_from_this<HttpSession<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  HttpSession(Stream stream, std::shared_ptr<HttpSessionContext> context)
      : stream_(std::move(stream)),
        delay_(stream_.get_executor()),
        context_(std::move(context)),
        id_(context_->next_id++) {}

  ~HttpSession() override { context_->live.erase(id_); }

  void run() {
    context_->live.emplace(id_, this->weak_from_this());
    if constexpr (kTls) {
      stream_.async_handshake(ssl::stream_base::server,
                              beast::bind_front_handler(&HttpSession::on_handshake, self()));
    } else {
      do_read();
    }
  }

  void close() override {
    delay_.cancel();  // a held-back answer must not keep io_context::run() alive after stop()
    beast::error_code ec;
    beast::get_lowest_layer(stream_).socket().close(ec);
  }

 private:
  std::shared_ptr<HttpSession> self() { return this->shared_from_this(); }

  void on_handshake(beast::error_code ec) {
    if (ec) return fail(ec, "tls");
    do_read();
  }

  void do_read() {
    req_ = {};
    http::async_read(stream_, buffer_, req_,
                     beast::bind_front_handler(&HttpSession::on_read, self()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream) return do_close();
    if (ec) return fail(ec, "read");
    // The socket moves to a WsSession; this session ends when the handler returns. Upgrades to
    // a path no route serves get the handler's 404 like any unknown path.
    if (beast::websocket::is_upgrade(req_)) {
      if (const WsRoute* route = context_->ws_route(path_of(req_.target()))) {
        return start_ws_session(std::move(stream_), std::move(req_), *route, context_);
      }
    }
    const bool keep_alive = req_.keep_alive();
    const unsigned version = req_.version();
    SimHttpReply reply = context_->handler(to_sim_request(req_));
    if (reply.drop) return close();  // injected: no answer, no TLS close_notify, just gone
    const auto delay = std::chrono::milliseconds(reply.delay_ms);
    res_ = to_response(std::move(reply), version, keep_alive);
    if (delay.count() <= 0) return do_write();
    // Injected delay: the request was processed; the answer waits here, and so does the next
    // read (no pipelining), so the connection stays strictly request/answer.
    delay_.expires_after(delay);
    delay_.async_wait(beast::bind_front_handler(&HttpSession::on_delay, self()));
  }

  void on_delay(beast::error_code ec) {
    if (ec) return fail(ec, "delay");
    do_write();
  }

  void do_write() {
    http::async_write(stream_, res_, beast::bind_front_handler(&HttpSession::on_write, self()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    if (ec) return fail(ec, "write");
    if (!res_.keep_alive()) return do_close();
    do_read();
  }

  void do_close() {
    if constexpr (kTls) {
      stream_.async_shutdown(beast::bind_front_handler(&HttpSession::on_shutdown, self()));
    } else {
      beast::error_code ec;
      stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
    }
  }

  void on_shutdown(beast::error_code ec) {
    if (ec) return fail(ec, "tls_shutdown");
  }

  // Closing (stop()) and a peer that hangs up without TLS close_notify are normal endings.
  void fail(beast::error_code ec, const char* stage) {
    if (ec == net::error::operation_aborted || ec == ssl::error::stream_truncated) return;
    log::get("sim")->debug("sim http session {}: stage={} error={}", id_, stage, ec.message());
  }

  Stream stream_;
  net::steady_timer delay_;  // holds back an answer under an injected delay fault
  std::shared_ptr<HttpSessionContext> context_;
  std::uint64_t id_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
};

}  // namespace

void start_http_session(net::ip::tcp::socket socket, std::shared_ptr<HttpSessionContext> context) {
  if (context->tls) {
    auto& tls = *context->tls;
    std::make_shared<HttpSession<TlsStream>>(TlsStream(std::move(socket), tls), std::move(context))
        ->run();
  } else {
    std::make_shared<HttpSession<PlainStream>>(PlainStream(std::move(socket)), std::move(context))
        ->run();
  }
}

}  // namespace rfq::sim
