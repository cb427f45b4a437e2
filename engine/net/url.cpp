#include "engine/net/url.hpp"

#include <boost/url/parse.hpp>

namespace rfq::net {

bool parse_origin(std::string_view url, Origin& out, std::string& error) {
  auto r = boost::urls::parse_uri(url);
  if (!r) {
    error = "not a valid URL: " + std::string(url);
    return false;
  }
  const auto& u = *r;
  std::string scheme(u.scheme());
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "http" && scheme != "https" && scheme != "ws" && scheme != "wss") {
    error = "unsupported scheme '" + scheme + "' (expected http, https, ws or wss)";
    return false;
  }
  if (u.host().empty()) {
    error = "URL has no host: " + std::string(url);
    return false;
  }
  out.scheme = scheme;
  out.tls = scheme == "https" || scheme == "wss";
  out.host = std::string(u.host_address());
  out.port = u.has_port() ? std::string(u.port()) : (out.tls ? "443" : "80");
  out.path = std::string(u.encoded_path());
  if (out.path == "/") out.path.clear();
  return true;
}

}  // namespace rfq::net
