#pragma once
// Internal to SimServer: one HTTP/1.1 connection (plain or TLS) that reads a request, asks the
// handler, writes the reply and reads again while the client keeps the connection alive. A
// WebSocket upgrade to /ws/v5/business becomes a WsSession (ws_session.hpp) on the same socket.

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>

#include "engine/sim/sim_http.hpp"

namespace boost::asio::ssl {
class context;
}

namespace rfq::sim {

class OkxSim;

class HttpSessionBase {
 public:
  virtual ~HttpSessionBase() = default;
  // Closes the socket: pending reads and writes complete with an error and the session ends.
  virtual void close() = 0;
};

// Shared by a listener and the sessions (HTTP and WebSocket) it started; sessions unregister
// when destroyed.
struct HttpSessionContext {
  std::function<SimHttpReply(const SimHttpRequest&)> handler;
  std::shared_ptr<boost::asio::ssl::context> tls;  // nullptr: plain http
  OkxSim* okx = nullptr;  // serves the business WebSocket when set; outlives the sessions
  std::uint64_t next_id = 0;
  std::unordered_map<std::uint64_t, std::weak_ptr<HttpSessionBase>> live;
};

// Starts a session on an accepted socket (TLS handshake first when context->tls is set).
void start_http_session(boost::asio::ip::tcp::socket socket,
                        std::shared_ptr<HttpSessionContext> context);

}  // namespace rfq::sim
