#pragma once
// The simulator served on 127.0.0.1 (plain or TLS), with a helper that runs a blocking test
// client on its own thread while the test thread runs the server loop.
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "engine/core/clock.hpp"
#include "engine/sim/http_server.hpp"
#include "engine/sim/journal.hpp"
#include "engine/sim/okx_sim.hpp"

namespace boost::asio::ssl {
class context;
}

namespace rfq::testing {

struct SimServerWorld {
  explicit SimServerWorld(std::shared_ptr<boost::asio::ssl::context> tls = nullptr)
      : server(io, okx, std::move(tls)), port(server.listen()) {}

  // On the loop's thread (before run_client, or from the server loop itself).
  std::string add_rfq(std::string cl_id = "", std::optional<std::int64_t> expires_in_ms = {}) {
    sim::NewRfq rfq;
    rfq.cl_rfq_id = std::move(cl_id);
    rfq.legs = {{"BTC-USD-260327-100000-C", "buy", "25"}};
    rfq.expires_in_ms = expires_in_ms;
    return okx.add_rfq(std::move(rfq));
  }

  // From the client thread: creates an RFQ on the server loop, as the model requires.
  void add_rfq_on_loop(std::string cl_id, std::optional<std::int64_t> expires_in_ms = {}) {
    boost::asio::post(io, [this, cl_id = std::move(cl_id), expires_in_ms] {
      add_rfq(cl_id, expires_in_ms);
    });
  }

  // Runs `client` on its own thread while this thread runs the server loop. Whatever the client
  // does, the server is stopped afterwards, so io.run() returns. Returns the client's error
  // (Catch assertions are not thread-safe, so clients throw instead).
  std::string run_client(const std::function<void()>& client) {
    std::string error;
    std::thread thread([&] {
      try {
        client();
      } catch (const std::exception& e) {
        error = e.what();
      }
      server.stop();
    });
    io.run();
    thread.join();
    return error;
  }

  boost::asio::io_context io;
  RealClock clock{io};
  sim::Journal journal;
  sim::OkxSim okx{clock, journal};
  sim::SimServer server;
  std::uint16_t port;
};

}  // namespace rfq::testing
