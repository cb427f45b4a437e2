#pragma once
// Origin URLs for venues: http(s):// for REST, ws(s):// for WebSocket. Parsed with Boost.URL.

#include <string>
#include <string_view>

namespace rfq::net {

struct Origin {
  bool tls = false;
  std::string scheme;  // http, https, ws, wss
  std::string host;    // without brackets
  std::string port;    // always set (defaults 80/443)
  std::string path;    // path of the URL, "" when none (REST bases have none)
};

// Returns false and sets error when the URL is not an absolute http/https/ws/wss URL.
bool parse_origin(std::string_view url, Origin& out, std::string& error);

}  // namespace rfq::net
