#pragma once
// Internal to SimServer: one HTTP/1.1 connection (plain or TLS) that reads a request, asks the
// handler, writes the reply and reads again while the client keeps the connection alive. A
// WebSocket upgrade on a path the context routes (OKX's /ws/v5/business, Deribit's /ws/api/v2)
// becomes a WsSession (ws_session.hpp) on the same socket, driving that route's WsModel.

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/sim/sim_http.hpp"
#include "engine/sim/ws_model.hpp"

namespace boost::asio::ssl {
class context;
}

namespace rfq {
class Clock;
}

namespace rfq::sim {

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
  std::vector<WsRoute> ws_routes;                  // their models outlive the sessions
  std::uint64_t next_id = 0;
  std::unordered_map<std::uint64_t, std::weak_ptr<HttpSessionBase>> live;

  // The route for an upgrade to `path` (no query); nullptr when none.
  const WsRoute* ws_route(std::string_view path) const {
    for (const auto& route : ws_routes) {
      if (route.path == path) return &route;
    }
    return nullptr;
  }
};

// Starts a session on an accepted socket (TLS handshake first when context->tls is set).
void start_http_session(boost::asio::ip::tcp::socket socket,
                        std::shared_ptr<HttpSessionContext> context);

}  // namespace rfq::sim
