// The business WebSocket (/ws/v5/business) on SimServer over real loopback sockets: a Beast
// websocket client written here runs on its own thread (its own io_context, every step bounded
// by a deadline) while this thread runs the server loop; the client stops the server when
// done, so io.run() returning is part of every test. Catch assertions are not thread-safe: the
// client thread records what it saw and this thread checks it.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "engine/auth/okx_signer.hpp"
#include "engine/core/clock.hpp"
#include "engine/sim/http_server.hpp"
#include "engine/sim/journal.hpp"
#include "engine/sim/okx_sim.hpp"
#include "tests/integration/sim_server_world.hpp"
#include "engine/sim/test_tls.hpp"

namespace {

namespace beast = boost::beast;
namespace net = boost::asio;
namespace ssl = net::ssl;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = net::ip::tcp;
using namespace rfq;
using namespace rfq::sim;

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// Every client step gives up after this: a broken server fails the test, never hangs it.
constexpr auto kClientDeadline = std::chrono::seconds(10);

std::string wall_seconds() {
  using namespace std::chrono;
  return std::to_string(duration_cast<seconds>(system_clock::now().time_since_epoch()).count());
}

// Signed like every reference client: over timestamp + "GET" + "/users/self/verify".
std::string login_text() {
  const auto ts = wall_seconds();
  return R"({"op":"login","args":[{"apiKey":")" + std::string(kSimApiKey) + R"(","passphrase":")" +
         std::string(kSimPassphrase) + R"(","timestamp":")" + ts + R"(","sign":")" +
         auth::okx_ws_login_sign(kSimSecret, ts) + R"("}]})";
}

// A websocket client for the client thread. Each step starts one async operation and runs the
// client's own loop until it completes or the deadline passes (then it throws).
template <class Stream>
class WsClient {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  template <class... Args>
  WsClient(std::uint16_t port, Args&... args) : port_(port), ws_(io_, args...) {}

  beast::error_code try_open(const std::string& path = "/ws/v5/business") {
    beast::get_lowest_layer(ws_).connect(tcp::endpoint(net::ip::address_v4::loopback(), port_));
    if constexpr (kTls) {
      if (!SSL_set_tlsext_host_name(ws_.next_layer().native_handle(), "localhost")) {
        throw std::runtime_error("SNI");
      }
      auto ec =
          step([&](auto h) { ws_.next_layer().async_handshake(ssl::stream_base::client, h); });
      if (ec) throw std::runtime_error("tls handshake: " + ec.message());
    }
    return step([&](auto h) { ws_.async_handshake("localhost", path, h); });
  }
  void open() {
    if (auto ec = try_open()) throw std::runtime_error("ws handshake: " + ec.message());
  }

  void send(const std::string& text) {
    auto ec = step([&](auto h) { ws_.async_write(net::buffer(text), h); });
    if (ec) throw std::runtime_error("write: " + ec.message());
  }

  beast::error_code read(std::string& out) {
    beast::flat_buffer buffer;
    auto ec = step([&](auto h) { ws_.async_read(buffer, h); });
    out = beast::buffers_to_string(buffer.data());
    return ec;
  }
  std::string read() {
    std::string out;
    if (auto ec = read(out)) throw std::runtime_error("read: " + ec.message());
    if (!ws_.got_text()) throw std::runtime_error("read: a binary frame");
    return out;
  }

  websocket::close_reason reason() const { return ws_.reason(); }

 private:
  template <class Start>
  beast::error_code step(Start start) {
    beast::error_code result;
    bool done = false;
    start([&](beast::error_code ec, auto&&...) {
      result = ec;
      done = true;
    });
    io_.restart();
    io_.run_for(kClientDeadline);
    if (!done) throw std::runtime_error("client: no completion within the deadline");
    return result;
  }

  std::uint16_t port_;
  net::io_context io_;  // before ws_: destroyed after it
  websocket::stream<Stream> ws_;
};

using ServerWorld = rfq::testing::SimServerWorld;

std::string field(const std::string& frame, std::string_view key) {
  const auto o = json::parse(frame).as_object();
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace

TEST_CASE("sim ws server: a client logs in, subscribes to rfqs and hears a created RFQ",
          "[sim][ws][server]") {
  ServerWorld w;
  std::vector<std::string> frames;
  beast::error_code after_stop;
  const auto error = w.run_client([&] {
    WsClient<PlainStream> client(w.port);
    client.open();
    client.send(login_text());
    frames.push_back(client.read());
    client.send(R"({"id":"1512","op":"subscribe","args":[{"channel":"rfqs"}]})");
    frames.push_back(client.read());
    w.add_rfq_on_loop("ws001");
    frames.push_back(client.read());
    client.send("ping");
    frames.push_back(client.read());
    w.server.stop();  // the connection is open and subscribed: the server must close it
    std::string none;
    after_stop = client.read(none);
  });
  REQUIRE(error.empty());
  REQUIRE(frames.size() == 4);
  CHECK(field(frames[0], "event") == "login");
  CHECK(field(frames[0], "code") == "0");
  const auto conn_id = field(frames[0], "connId");
  CHECK(conn_id.size() == 8);
  CHECK(frames[1] == R"({"id":"1512","event":"subscribe","arg":{"channel":"rfqs"},"connId":")" +
                         conn_id + R"("})");
  const auto push = json::parse(frames[2]).as_object();
  CHECK(push.at("arg").at("channel").as_string() == "rfqs");
  const auto& item = push.at("data").as_array().at(0).as_object();
  CHECK(item.at("clRfqId").as_string() == "ws001");
  CHECK(item.at("state").as_string() == "active");
  CHECK(frames[3] == "pong");
  CHECK(after_stop);  // the socket was closed under the client, never a hang
  CHECK(after_stop != beast::error::timeout);
  CHECK(w.server.connections_accepted() == 1);
  const auto entries = w.journal.find("okx_ws", "");
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].at("endpoint").as_string() == "login");
  CHECK(entries[1].at("endpoint").as_string() == "subscribe");
  CHECK(entries[2].at("endpoint").as_string() == "ping");
}

TEST_CASE("sim ws server: an expiry is pushed by the server's own tick, with no request",
          "[sim][ws][server]") {
  ServerWorld w;
  std::vector<std::string> states;
  const auto error = w.run_client([&] {
    WsClient<PlainStream> client(w.port);
    client.open();
    client.send(login_text());
    client.read();
    client.send(R"({"op":"subscribe","args":[{"channel":"rfqs"}]})");
    client.read();
    w.add_rfq_on_loop("short", 50);
    for (int i = 0; i < 2; ++i) {
      const auto push = json::parse(client.read()).as_object();
      states.emplace_back(push.at("data").as_array().at(0).at("state").as_string());
    }
  });
  REQUIRE(error.empty());
  CHECK(states == std::vector<std::string>{"active", "expired"});
  CHECK(w.journal.find("okx", "").empty());  // nothing but the tick looked at the RFQs
}

TEST_CASE("sim ws server: a refused login is answered, then closed with 4001 Login Failed",
          "[sim][ws][server]") {
  ServerWorld w;
  std::string answer;
  beast::error_code next;
  websocket::close_reason reason;
  const auto error = w.run_client([&] {
    WsClient<PlainStream> client(w.port);
    client.open();
    auto text = login_text();
    text.replace(text.find(kSimPassphrase), kSimPassphrase.size(), "wrong");
    client.send(text);
    answer = client.read();
    std::string none;
    next = client.read(none);
    reason = client.reason();
  });
  REQUIRE(error.empty());
  CHECK(field(answer, "event") == "error");
  CHECK(field(answer, "code") == "60024");
  CHECK(next == websocket::error::closed);
  CHECK(reason.code == 4001);
  CHECK(std::string(reason.reason.data(), reason.reason.size()) == "Login Failed");
}

TEST_CASE("sim ws server: a ws_close fault closes the connection with 1011",
          "[sim][ws][server][fault]") {
  ServerWorld w;
  w.okx.inject({"ws", FaultKind::ws_close});
  beast::error_code next;
  websocket::close_reason reason;
  const auto error = w.run_client([&] {
    WsClient<PlainStream> client(w.port);
    client.open();
    client.send("ping");
    std::string none;
    next = client.read(none);
    reason = client.reason();
  });
  REQUIRE(error.empty());
  CHECK(next == websocket::error::closed);
  CHECK(reason.code == 1011);
  CHECK(w.okx.pending_faults() == 0);
}

TEST_CASE("sim ws server: a WebSocket upgrade on another path is the OKX 404",
          "[sim][ws][server]") {
  ServerWorld w;
  beast::error_code handshake;
  const auto error = w.run_client([&] {
    WsClient<PlainStream> client(w.port);
    handshake = client.try_open("/ws/v5/private");
  });
  REQUIRE(error.empty());
  CHECK(handshake == websocket::error::upgrade_declined);
  CHECK(w.journal.find("okx_ws", "").empty());
  const auto refused = w.journal.find("okx", "private");
  REQUIRE(refused.size() == 1);
  CHECK(refused[0].at("status").as_int64() == 404);
}

TEST_CASE("sim ws server: wss on the TLS server speaks the same protocol",
          "[sim][ws][server][tls]") {
  const auto cert = make_self_signed_cert();
  ServerWorld w(make_server_tls_context(cert));
  std::vector<std::string> frames;
  const auto error = w.run_client([&] {
    ssl::context ctx(ssl::context::tls_client);
    ctx.add_certificate_authority(net::buffer(cert.cert_pem));
    ctx.set_verify_mode(ssl::verify_peer);
    ctx.set_verify_callback(ssl::host_name_verification("localhost"));
    WsClient<TlsStream> client(w.port, ctx);
    client.open();
    client.send("ping");
    frames.push_back(client.read());
    client.send(login_text());
    frames.push_back(client.read());
  });
  REQUIRE(error.empty());
  REQUIRE(frames.size() == 2);
  CHECK(frames[0] == "pong");
  CHECK(field(frames[1], "code") == "0");
}
