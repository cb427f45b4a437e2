#pragma once
// The simulator's HTTP/1.1 front: a Beast server on 127.0.0.1 (plain or TLS) that hands every
// request under /sim/ to the control API (SimControl) and every other one to OkxSim::handle(),
// and writes back the reply, honouring injected faults (drop: close without answering; delay:
// answer after delay_ms on a timer). A WebSocket upgrade on /ws/v5/business (ws:// on the plain
// server, wss:// on the TLS one) gets OKX's business WebSocket (okx_ws_sim.hpp). Keep-alive, many concurrent connections, one session per
// connection. Asio and Beast stay out of this header (the CLI
// includes it). Run the io_context from one thread: OkxSim is single-threaded.

#include <cstddef>
#include <cstdint>
#include <memory>

namespace boost::asio {
class io_context;
namespace ssl {
class context;
}
}  // namespace boost::asio

namespace rfq::sim {

class OkxSim;

class SimServer {
 public:
  // tls == nullptr: plain http; otherwise https with that (server) context.
  SimServer(boost::asio::io_context& io, OkxSim& okx,
            std::shared_ptr<boost::asio::ssl::context> tls = nullptr);
  // Closes the acceptor and every session (call on the loop thread or after run() returned).
  ~SimServer();
  SimServer(const SimServer&) = delete;
  SimServer& operator=(const SimServer&) = delete;

  // Binds 127.0.0.1:port (0 = ephemeral), starts accepting and returns the bound port.
  // Throws boost::system::system_error when the port cannot be bound (start-up error).
  std::uint16_t listen(std::uint16_t port = 0);

  // Closes the acceptor and all sessions, WebSockets included (their sockets are closed without
  // a close frame, like a server going away), so io_context::run() can return. Safe from any
  // thread: it runs on the loop (inline when already there).
  void stop();

  // Connections accepted so far (read on the loop thread or after run() returned).
  std::size_t connections_accepted() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace rfq::sim
