#pragma once
// The simulator's HTTP/1.1 front: a Beast server on 127.0.0.1 (plain or TLS) that serves one or
// two venue models and the /sim/ control API (SimControl) on one port, and writes back each
// reply, honouring injected faults (drop: close without answering; delay: answer after
// delay_ms on a timer). Routes:
//   /sim/...                    the control API (/sim/deribit/... once Deribit is served)
//   /api/v2, /api/v2/...        DeribitSim::handle_http()             (when Deribit is served)
//   anything else               OkxSim::handle() (a Deribit-only server: Deribit's 404)
//   WebSocket /ws/v5/business   OKX's business WebSocket (okx_ws_sim.hpp)
//   WebSocket /ws/api/v2        Deribit's JSON-RPC WebSocket (deribit_ws_sim.hpp)
// ws:// on the plain server, wss:// on the TLS one. Keep-alive, many concurrent connections, one
// session per connection. Asio and Beast stay out of this header (the CLI includes it). Run the
// io_context from one thread: the models are single-threaded.

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

class DeribitSim;
class OkxSim;

class SimServer {
 public:
  // OKX (and Deribit too after serve_deribit()). tls == nullptr: plain http; otherwise https
  // with that (server) context.
  SimServer(boost::asio::io_context& io, OkxSim& okx,
            std::shared_ptr<boost::asio::ssl::context> tls = nullptr);
  // Deribit only: every path outside /sim/ is Deribit's, /sim/ has only /sim/deribit/.
  SimServer(boost::asio::io_context& io, DeribitSim& deribit,
            std::shared_ptr<boost::asio::ssl::context> tls = nullptr);
  // Closes the acceptor and every session (call on the loop thread or after run() returned).
  ~SimServer();
  SimServer(const SimServer&) = delete;
  SimServer& operator=(const SimServer&) = delete;

  // Serves `deribit` too, from the next request on: HTTP under /api/v2/, the WebSocket at
  // /ws/api/v2 and the control API under /sim/deribit/; OKX's routes are unchanged. Before or
  // after listen(), but on the loop thread (or before the loop runs). A second call replaces the
  // model for later requests and connections. `deribit` must outlive the server.
  void serve_deribit(DeribitSim& deribit);

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
