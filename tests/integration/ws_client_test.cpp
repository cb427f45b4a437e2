// WsClient over real loopback sockets against a small Beast WebSocket server in this file.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "engine/net/ws_client.hpp"
#include "engine/sim/test_tls.hpp"

using namespace rfq;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// Answers "ping" with "pong" (unless silent), echoes other text as "echo:<text>", closes a
// connection after `close_after` messages when set. Counts what it saw.
struct TestWsServer {
  asio::io_context& io;
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  std::shared_ptr<asio::ssl::context> tls;
  bool silent = false;
  int close_after = 0;
  int accepted = 0;
  int pings = 0;
  std::vector<std::string> received;

  explicit TestWsServer(asio::io_context& i, std::shared_ptr<asio::ssl::context> t = nullptr)
      : io(i), tls(std::move(t)) {
    asio::co_spawn(io, accept_loop(), asio::detached);
  }
  std::uint16_t port() const { return acceptor.local_endpoint().port(); }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, sock] = co_await acceptor.async_accept(kTuple);
      if (ec) co_return;
      ++accepted;
      if (tls) {
        asio::co_spawn(io, serve_tls(std::move(sock)), asio::detached);
      } else {
        asio::co_spawn(io, serve(websocket::stream<beast::tcp_stream>(std::move(sock))),
                       asio::detached);
      }
    }
  }

  asio::awaitable<void> serve_tls(tcp::socket sock) {
    websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws(std::move(sock), *tls);
    auto [hec] = co_await ws.next_layer().async_handshake(asio::ssl::stream_base::server, kTuple);
    if (hec) co_return;
    co_await serve(std::move(ws));
  }

  template <typename Ws>
  asio::awaitable<void> serve(Ws ws) {
    auto [aec] = co_await ws.async_accept(kTuple);
    if (aec) co_return;
    ws.text(true);
    beast::flat_buffer buf;
    int n = 0;
    for (;;) {
      auto [ec, bytes] = co_await ws.async_read(buf, kTuple);
      if (ec) co_return;
      std::string text = beast::buffers_to_string(buf.data());
      buf.consume(buf.size());
      if (text == "ping") {
        ++pings;
        static const std::string pong = "pong";
        if (!silent) co_await ws.async_write(asio::buffer(pong), kTuple);
        continue;
      }
      received.push_back(text);
      std::string reply = "echo:" + text;
      co_await ws.async_write(asio::buffer(reply), kTuple);
      if (close_after > 0 && ++n >= close_after) {
        co_await ws.async_close(websocket::close_code::going_away, kTuple);
        co_return;
      }
    }
  }
};

struct ClientWorld {
  asio::io_context io;
  RealClock clock{io};
  std::unique_ptr<TestWsServer> server;
  std::unique_ptr<net::WsClient> client;
  int opens = 0;
  int closes = 0;
  std::vector<std::string> texts;

  void make_client(const std::string& url, net::WsClientOptions o = {}) {
    std::string error;
    REQUIRE(net::parse_origin(url, o.origin, error));
    client = std::make_unique<net::WsClient>(
        io, clock, o,
        net::WsCallbacks{[this] { ++opens; },
                         [this](std::string_view t) { texts.emplace_back(t); },
                         [this](const boost::system::error_code&) { ++closes; }});
    client->start();
  }

  template <typename Pred>
  bool run_until(Pred pred, std::chrono::milliseconds bound = std::chrono::milliseconds(5000)) {
    const auto end = std::chrono::steady_clock::now() + bound;
    while (!pred() && std::chrono::steady_clock::now() < end) io.run_one_for(Millis(20));
    return pred();
  }
};

}  // namespace

TEST_CASE("ws client: connects, sends in order and hands text frames to on_text", "[net][ws]") {
  ClientWorld w;
  w.server = std::make_unique<TestWsServer>(w.io);
  CHECK_FALSE(net::WsClient(w.io, w.clock, {}, {}).send("not open"));
  w.make_client("ws://127.0.0.1:" + std::to_string(w.server->port()) + "/ws/v5/business");
  REQUIRE(w.run_until([&] { return w.opens == 1; }));
  CHECK(w.client->is_open());
  CHECK(w.client->send("one"));
  CHECK(w.client->send("two"));
  REQUIRE(w.run_until([&] { return w.texts.size() == 2; }));
  CHECK(w.texts == std::vector<std::string>{"echo:one", "echo:two"});
  CHECK(w.client->connects() == 1);
  w.client->stop();
}

TEST_CASE("ws client: pings a quiet peer, consumes its pongs, and stays connected",
          "[net][ws]") {
  ClientWorld w;
  w.server = std::make_unique<TestWsServer>(w.io);
  net::WsClientOptions o;
  o.ping_after = Millis(40);
  o.pong_timeout = Millis(300);
  w.make_client("ws://127.0.0.1:" + std::to_string(w.server->port()) + "/", o);
  REQUIRE(w.run_until([&] { return w.server->pings >= 3; }));
  CHECK(w.texts.empty());  // "pong" never reaches on_text
  CHECK(w.client->connects() == 1);
  CHECK(w.closes == 0);
  w.client->stop();
}

TEST_CASE("ws client: a peer that stops answering is dropped and reconnected", "[net][ws]") {
  ClientWorld w;
  w.server = std::make_unique<TestWsServer>(w.io);
  w.server->silent = true;
  net::WsClientOptions o;
  o.ping_after = Millis(40);
  o.pong_timeout = Millis(80);
  o.backoff_initial = Millis(10);
  w.make_client("ws://127.0.0.1:" + std::to_string(w.server->port()) + "/", o);
  REQUIRE(w.run_until([&] { return w.opens >= 2; }));
  CHECK(w.closes >= 1);
  CHECK(w.server->pings >= 1);
  CHECK(w.server->accepted >= 2);
  w.client->stop();
}

TEST_CASE("ws client: with no ping text it only watches for silence (Deribit heartbeats)",
          "[net][ws]") {
  ClientWorld w;
  w.server = std::make_unique<TestWsServer>(w.io);
  w.server->silent = true;
  net::WsClientOptions o;
  o.ping_text.clear();
  o.ping_after = Millis(60);
  o.pong_timeout = Millis(20);
  o.backoff_initial = Millis(10);
  w.make_client("ws://127.0.0.1:" + std::to_string(w.server->port()) + "/", o);
  REQUIRE(w.run_until([&] { return w.opens >= 2; }));
  CHECK(w.closes >= 1);
  CHECK(w.server->pings == 0);  // nothing was sent: the silence alone replaced the connection
  CHECK(w.server->received.empty());
  w.client->stop();
}

TEST_CASE("ws client: reconnects after the server closes, on_open runs again, stop() is final",
          "[net][ws]") {
  ClientWorld w;
  w.server = std::make_unique<TestWsServer>(w.io);
  w.server->close_after = 1;
  net::WsClientOptions o;
  o.backoff_initial = Millis(10);
  w.make_client("ws://127.0.0.1:" + std::to_string(w.server->port()) + "/", o);
  REQUIRE(w.run_until([&] { return w.opens == 1; }));
  w.client->send("first");
  REQUIRE(w.run_until([&] { return w.opens == 2; }));
  CHECK(w.closes == 1);
  w.client->send("second");
  REQUIRE(w.run_until([&] { return w.texts.size() == 2; }));
  CHECK(w.server->received == std::vector<std::string>{"first", "second"});
  w.client->stop();
  const int accepted = w.server->accepted;
  w.run_until([] { return false; }, std::chrono::milliseconds(100));
  CHECK(w.server->accepted == accepted);  // no reconnect after stop()
  CHECK_FALSE(w.client->is_open());
}

TEST_CASE("ws client: wss verifies the server certificate", "[net][ws][tls]") {
  auto cert = sim::make_self_signed_cert();
  const auto ca = std::filesystem::temp_directory_path() / "rfqd_ws_test_ca.pem";
  std::ofstream(ca) << cert.cert_pem;

  SECTION("a trusted certificate for the host name connects") {
    ClientWorld w;
    w.server = std::make_unique<TestWsServer>(w.io, sim::make_server_tls_context(cert));
    net::WsClientOptions o;
    o.ca_file = ca.string();
    w.make_client("wss://localhost:" + std::to_string(w.server->port()) + "/", o);
    REQUIRE(w.run_until([&] { return w.opens == 1; }));
    w.client->send("secure");
    REQUIRE(w.run_until([&] { return w.texts.size() == 1; }));
    w.client->stop();
  }
  SECTION("an untrusted certificate never opens") {
    ClientWorld w;
    w.server = std::make_unique<TestWsServer>(w.io, sim::make_server_tls_context(cert));
    net::WsClientOptions o;
    o.backoff_initial = Millis(20);
    w.make_client("wss://127.0.0.1:" + std::to_string(w.server->port()) + "/", o);
    REQUIRE(w.run_until([&] { return w.server->accepted >= 2; }));  // it keeps retrying
    CHECK(w.opens == 0);
    w.client->stop();
  }
  std::filesystem::remove(ca);
}
