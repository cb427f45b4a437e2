#pragma once
// Internal to SimServer: one WebSocket connection on /ws/v5/business, taken over from the HTTP
// session that read the upgrade request. It completes the handshake, feeds each text frame to
// an OkxWsSession and writes what that sends (text frames, in order), closes with the code the
// model asks for, and once a second (on the OkxSim's Clock) applies due RFQ expiries and the
// 30 s idle rule. Registered in the HttpSessionContext, so SimServer::stop() closes it too.

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <memory>

#include "engine/sim/http_session.hpp"

namespace rfq::sim {

using WsUpgradeRequest = boost::beast::http::request<boost::beast::http::string_body>;

// context->okx must be set. The TLS stream has finished its handshake already.
void start_ws_session(boost::beast::tcp_stream stream, WsUpgradeRequest request,
                      std::shared_ptr<HttpSessionContext> context);
void start_ws_session(boost::beast::ssl_stream<boost::beast::tcp_stream> stream,
                      WsUpgradeRequest request, std::shared_ptr<HttpSessionContext> context);

}  // namespace rfq::sim
