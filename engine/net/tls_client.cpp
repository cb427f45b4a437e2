#include "engine/net/tls_client.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <stdexcept>

namespace rfq::net {

std::unique_ptr<boost::asio::ssl::context> make_client_tls_context(const std::string& ca_file) {
  namespace ssl = boost::asio::ssl;
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  ctx->set_verify_mode(ssl::verify_peer);
  boost::system::error_code ec;
  if (ca_file.empty()) {
    ctx->set_default_verify_paths(ec);
  } else {
    ctx->load_verify_file(ca_file, ec);
  }
  if (ec) {
    throw std::runtime_error("cannot load CA certificates" +
                             (ca_file.empty() ? std::string(" (system store)")
                                              : " from '" + ca_file + "'") +
                             ": " + ec.message());
  }
  return ctx;
}

void prepare_tls_connection(ssl_st* ssl, const std::string& host, boost::system::error_code& ec) {
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  boost::system::error_code addr_ec;
  boost::asio::ip::make_address(host, addr_ec);
  int ok = 1;
  if (addr_ec) {
    ok = SSL_set_tlsext_host_name(ssl, host.c_str());
    X509_VERIFY_PARAM_set_hostflags(
        param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
    ok = ok && X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
  } else {
    ok = X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
  }
  SSL_set_verify(ssl, SSL_VERIFY_PEER, nullptr);
  if (!ok) {
    ec = boost::system::error_code(static_cast<int>(::ERR_get_error()),
                                   boost::asio::error::get_ssl_category());
  }
}

}  // namespace rfq::net
