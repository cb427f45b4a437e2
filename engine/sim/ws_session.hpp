#pragma once
// Internal to SimServer: one WebSocket connection on a routed path (WsRoute), taken over from
// the HTTP session that read the upgrade request. It completes the handshake, feeds each text
// frame to the route's WsModel and writes what that sends (text frames, in order), closes with
// the code the model asks for, tells the model when the peer goes away, and once a second (on
// the route's Clock) ticks it, so RFQ expiries are pushed and time rules (OKX's 30 s idle
// close) apply without a request. Venue-agnostic: the adapters live in http_server.cpp.
// Registered in the HttpSessionContext, so SimServer::stop() closes it too.

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <memory>

#include "engine/sim/http_session.hpp"

namespace rfq::sim {

using WsUpgradeRequest = boost::beast::http::request<boost::beast::http::string_body>;

// The session keeps a copy of `route`. The TLS stream has finished its handshake already.
void start_ws_session(boost::beast::tcp_stream stream, WsUpgradeRequest request,
                      const WsRoute& route, std::shared_ptr<HttpSessionContext> context);
void start_ws_session(boost::beast::ssl_stream<boost::beast::tcp_stream> stream,
                      WsUpgradeRequest request, const WsRoute& route,
                      std::shared_ptr<HttpSessionContext> context);

}  // namespace rfq::sim
