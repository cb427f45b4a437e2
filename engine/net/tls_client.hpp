#pragma once
// Client-side TLS set-up shared by the HTTP and WebSocket clients: a context that verifies
// the peer's chain (system store or a CA file), and per connection SNI plus a check of the
// certificate against the host name (or the IP, for IP literals), never the subject CN alone.

#include <memory>
#include <string>

struct ssl_st;

namespace boost::asio::ssl {
class context;
}

namespace boost::system {
class error_code;
}

namespace rfq::net {

// Throws std::runtime_error naming the file when the CA certificates cannot be loaded.
std::unique_ptr<boost::asio::ssl::context> make_client_tls_context(const std::string& ca_file);

// On one connection's SSL handle, before the handshake. Sets ec on failure.
void prepare_tls_connection(ssl_st* ssl, const std::string& host, boost::system::error_code& ec);

}  // namespace rfq::net
