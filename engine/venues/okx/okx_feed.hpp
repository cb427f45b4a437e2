#pragma once
// The rfqs channel of OKX's business WebSocket (PROTOCOLS.md §2, §3) for venue okx: connects,
// logs in on every (re)connect, subscribes to rfqs, and hands each push's RFQs to the owner.
// Keep-alive (text ping inside 30 s) and reconnect with backoff come from WsClient.

#include <boost/system/error_code.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/auth/credentials.hpp"
#include "engine/book/rfq.hpp"
#include "engine/core/clock.hpp"
#include "engine/net/url.hpp"
#include "engine/net/ws_connection.hpp"

namespace boost::asio {
class io_context;
}

namespace rfq::okx {

struct OkxFeedOptions {
  net::Origin business_ws;  // ws(s)://.../ws/v5/business
  auth::OkxCredentials credentials;
  std::string ca_file;
  Millis ping_after{20000};  // text "ping" after this much silence (OKX closes at 30 s)
  // Unix ms for the login timestamp (the venue adds its measured server-clock offset).
  std::function<std::int64_t()> unix_ms;
  net::WsFactory ws_factory;  // none: a WsClient over sockets
};

struct OkxFeedCallbacks {
  std::function<void()> on_ready;                  // logged in and subscribed (each connect)
  std::function<void(std::vector<Rfq>)> on_rfqs;   // one push, items in the venue's order
  // Not (or no longer) delivering: the connection dropped, or login/subscribe was refused
  // (AUTH / REJECTED with the venue's code and text). The feed keeps reconnecting.
  std::function<void(boost::system::error_code, std::string why)> on_down;
};

class OkxFeed {
 public:
  OkxFeed(boost::asio::io_context& io, Clock& clock, OkxFeedOptions options, OkxFeedCallbacks cb);
  ~OkxFeed();
  OkxFeed(const OkxFeed&) = delete;
  OkxFeed& operator=(const OkxFeed&) = delete;

  void start();
  void stop();  // no callbacks after it returns
  bool ready() const;
  std::size_t connects() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace rfq::okx
