#pragma once
// What a REST venue needs from HTTP: send one request with a deadline, open connections ahead
// of use, close. HttpClient implements it over real sockets; the simulator's in-process
// transport implements it without sockets, so a venue runs unchanged in virtual time.

#include <boost/asio/any_completion_handler.hpp>
#include <boost/system/error_code.hpp>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/clock.hpp"

namespace rfq::net {

struct HttpRequest {
  std::string method;  // "GET", "POST"
  std::string target;  // path + query, exactly as signed
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct HttpResponse {
  unsigned status = 0;
  std::string body;
  SteadyTime dispatched{};     // taken off the client's queue by a connection
  SteadyTime write_started{};  // request bytes handed to the socket
  SteadyTime completed{};      // full answer read
};

class HttpTransport {
 public:
  using Handler = boost::asio::any_completion_handler<void(boost::system::error_code, HttpResponse)>;
  using ReadyHandler = boost::asio::any_completion_handler<void(boost::system::error_code)>;

  virtual ~HttpTransport() = default;
  // Completes once; never inside the call itself.
  virtual void async_request(HttpRequest req, Millis timeout, Handler handler) = 0;
  virtual void warm_up(Millis timeout, ReadyHandler handler) = 0;
  // Queued and in-flight requests complete with DISCONNECTED.
  virtual void close() = 0;
};

}  // namespace rfq::net
