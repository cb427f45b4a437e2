#pragma once
// HTTP/1.1 keep-alive client for one origin, on Beast. TLS verifies the peer chain and the
// host name (or IP) and sends SNI; plain http is for loopback. A small pool of connections is
// opened ahead of use so a burst of cancels pays no handshakes. Requests queue for an idle
// connection; the timeout covers queueing, connect, write and read. A request that fails on a
// reused connection before any answer arrived is retried once on a fresh one (every request
// this engine sends is idempotent). Handlers never run inside async_request: failures found
// there are posted; answers are delivered from the socket operation's completion.

#include <boost/asio/any_completion_handler.hpp>
#include <boost/system/error_code.hpp>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/clock.hpp"
#include "engine/net/http_transport.hpp"
#include "engine/net/url.hpp"

namespace boost::asio {
class io_context;
}

namespace rfq::net {

struct HttpClientOptions {
  std::size_t pool_size = 4;
  std::string ca_file;  // empty: system trust store
};

class HttpClient final : public HttpTransport {
 public:

  HttpClient(boost::asio::io_context& io, Origin origin, HttpClientOptions options = {});
  ~HttpClient() override;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Opens and handshakes every pooled connection; completes with the first error, if any.
  void warm_up(Millis timeout, ReadyHandler handler) override;
  void async_request(HttpRequest req, Millis timeout, Handler handler) override;
  // Closes every connection; queued and in-flight requests complete with DISCONNECTED.
  void close() override;

  const Origin& origin() const;
  std::size_t connects() const;   // TCP connections opened so far
  std::size_t open_connections() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace rfq::net
