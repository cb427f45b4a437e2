// SimServer over real loopback sockets: a bare synchronous Beast client on its own thread talks
// to the server whose io_context this thread runs; the client stops the server when done, so
// io.run() returning is itself part of every test.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
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
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using namespace rfq;
using namespace rfq::sim;

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

std::int64_t wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

Request signed_request(http::verb verb, std::string target, std::string body = "") {
  const std::string method(http::to_string(verb));
  const auto ts = auth::okx_timestamp(wall_ms());
  Request req{verb, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set("OK-ACCESS-KEY", kSimApiKey);
  req.set("OK-ACCESS-SIGN",
          auth::okx_sign(kSimSecret, auth::okx_prehash(ts, method, target, body)));
  req.set("OK-ACCESS-TIMESTAMP", ts);
  req.set("OK-ACCESS-PASSPHRASE", kSimPassphrase);
  if (verb == http::verb::post) req.set(http::field::content_type, "application/json");
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

std::string okx_code(const Response& res) {
  return std::string(boost::json::parse(res.body()).as_object().at("code").as_string());
}

tcp::endpoint loopback(std::uint16_t port) { return {net::ip::address_v4::loopback(), port}; }

template <class Stream>
Response round_trip(Stream& stream, beast::flat_buffer& buffer, const Request& req) {
  http::write(stream, req);
  Response res;
  http::read(stream, buffer, res);
  return res;
}

// A plain-http client connection for the client thread (its own io_context, synchronous).
class PlainClient {
 public:
  explicit PlainClient(std::uint16_t port) : stream_(io_) { stream_.connect(loopback(port)); }
  Response send(const Request& req) { return round_trip(stream_, buffer_, req); }
  beast::tcp_stream& stream() { return stream_; }
  beast::flat_buffer& buffer() { return buffer_; }

 private:
  net::io_context io_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

using ServerWorld = rfq::testing::SimServerWorld;

}  // namespace

TEST_CASE("sim server: a signed cancel-rfq over loopback cancels the RFQ", "[sim][okx][server]") {
  ServerWorld w;
  const auto id = w.add_rfq("rfq001");
  Response res;
  const auto error = w.run_client([&] {
    PlainClient client(w.port);
    res = client.send(
        signed_request(http::verb::post, "/api/v5/rfq/cancel-rfq", R"({"rfqId":")" + id + "\"}"));
  });
  REQUIRE(error.empty());
  CHECK(res.result_int() == 200);
  CHECK(res[http::field::content_type] == "application/json");
  CHECK(okx_code(res) == "0");
  CHECK(w.okx.rfq(id)->state == "canceled");
  REQUIRE(w.journal.entries().size() == 1);
  CHECK(w.journal.entries()[0].at("endpoint").as_string() == "cancel-rfq");
}

TEST_CASE("sim server: one keep-alive connection serves three requests", "[sim][okx][server]") {
  ServerWorld w;
  const auto id = w.add_rfq("rfq001");
  std::vector<Response> responses;
  const auto error = w.run_client([&] {
    PlainClient client(w.port);
    responses.push_back(client.send(signed_request(http::verb::get, "/api/v5/public/time")));
    responses.push_back(client.send(signed_request(http::verb::get, "/api/v5/rfq/rfqs")));
    responses.push_back(client.send(
        signed_request(http::verb::post, "/api/v5/rfq/cancel-rfq", R"({"rfqId": ")" + id + "\"}")));
  });
  REQUIRE(error.empty());
  REQUIRE(responses.size() == 3);
  for (const auto& res : responses) {
    CHECK(res.result_int() == 200);
    CHECK(res.keep_alive());
    CHECK(okx_code(res) == "0");
  }
  CHECK(w.server.connections_accepted() == 1);
  CHECK(w.journal.entries().size() == 3);
  CHECK(w.okx.rfq(id)->state == "canceled");
}

TEST_CASE("sim server: Connection: close is honoured after the response", "[sim][okx][server]") {
  ServerWorld w;
  Response res;
  beast::error_code next_read;
  const auto error = w.run_client([&] {
    PlainClient client(w.port);
    auto req = signed_request(http::verb::get, "/api/v5/public/time");
    req.keep_alive(false);
    res = client.send(req);
    Response none;
    http::read(client.stream(), client.buffer(), none, next_read);
  });
  REQUIRE(error.empty());
  CHECK(res.result_int() == 200);
  CHECK_FALSE(res.keep_alive());
  CHECK(next_read == http::error::end_of_stream);
}

TEST_CASE("sim server: many connections are served concurrently", "[sim][okx][server]") {
  ServerWorld w;
  constexpr int kConnections = 8;
  int ok = 0;
  const auto error = w.run_client([&] {
    std::vector<std::unique_ptr<PlainClient>> clients;
    for (int i = 0; i < kConnections; ++i) {
      clients.push_back(std::make_unique<PlainClient>(w.port));
    }
    // Every request is written before any answer is read: a server that served connections one
    // after another would still answer, but all eight are open at once here.
    const auto req = signed_request(http::verb::get, "/api/v5/public/time");
    for (auto& c : clients) http::write(c->stream(), req);
    for (auto& c : clients) {
      Response res;
      http::read(c->stream(), c->buffer(), res);
      ok += res.result_int() == 200 ? 1 : 0;
    }
  });
  REQUIRE(error.empty());
  CHECK(ok == kConnections);
  CHECK(w.server.connections_accepted() == kConnections);
}

TEST_CASE("sim server: stop() closes idle keep-alive connections and ends io.run()",
          "[sim][okx][server]") {
  ServerWorld w;
  beast::error_code after_stop;
  const auto error = w.run_client([&] {
    PlainClient client(w.port);
    client.send(signed_request(http::verb::get, "/api/v5/public/time"));
    w.server.stop();  // the connection is idle and kept alive: the server must close it
    Response none;
    http::read(client.stream(), client.buffer(), none, after_stop);
  });
  REQUIRE(error.empty());
  CHECK(after_stop);  // end of stream or reset, never a hang
}

TEST_CASE("sim server: over TLS a client that trusts the cert verifies localhost and is served",
          "[sim][okx][server][tls]") {
  const auto cert = make_self_signed_cert();
  ServerWorld w(make_server_tls_context(cert));
  Response res;
  const auto error = w.run_client([&] {
    net::io_context io;
    ssl::context ctx(ssl::context::tls_client);
    ctx.add_certificate_authority(net::buffer(cert.cert_pem));
    ctx.set_verify_mode(ssl::verify_peer);
    ctx.set_verify_callback(ssl::host_name_verification("localhost"));
    beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
    // Catch assertions are not thread-safe: the client thread throws instead.
    if (!SSL_set_tlsext_host_name(stream.native_handle(), "localhost")) {
      throw std::runtime_error("SNI");
    }
    beast::get_lowest_layer(stream).connect(loopback(w.port));
    stream.handshake(ssl::stream_base::client);
    beast::flat_buffer buffer;
    res = round_trip(stream, buffer, signed_request(http::verb::get, "/api/v5/rfq/rfqs"));
    beast::error_code ec;
    stream.shutdown(ec);
  });
  REQUIRE(error.empty());
  CHECK(res.result_int() == 200);
  CHECK(okx_code(res) == "0");
}

TEST_CASE("sim server: over TLS a client that does not trust the cert is refused",
          "[sim][okx][server][tls]") {
  const auto cert = make_self_signed_cert();
  ServerWorld w(make_server_tls_context(cert));
  std::string expected_host = "localhost";
  bool trust = false;
  SECTION("no trust anchor at all") { trust = false; }
  SECTION("trusted cert but another host name") {
    trust = true;
    expected_host = "www.okx.com";
  }
  beast::error_code handshake;
  const auto error = w.run_client([&] {
    net::io_context io;
    ssl::context ctx(ssl::context::tls_client);
    if (trust) ctx.add_certificate_authority(net::buffer(cert.cert_pem));
    ctx.set_verify_mode(ssl::verify_peer);
    ctx.set_verify_callback(ssl::host_name_verification(expected_host));
    beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
    beast::get_lowest_layer(stream).connect(loopback(w.port));
    stream.handshake(ssl::stream_base::client, handshake);
  });
  REQUIRE(error.empty());
  REQUIRE(handshake);
  CHECK(handshake.category() == net::error::get_ssl_category());
  CHECK_THAT(handshake.message(), Catch::Contains("certificate verify failed"));
  CHECK(w.journal.entries().empty());
}
