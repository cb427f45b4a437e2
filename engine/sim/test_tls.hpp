#pragma once
// A throwaway self-signed certificate for localhost / 127.0.0.1, so tests can run the sim over
// real TLS and prove that clients verify the peer: one that trusts this certificate connects,
// one that does not is refused at the handshake. Never used for anything but loopback tests.

#include <memory>
#include <string>

namespace boost::asio::ssl {
class context;
}

namespace rfq::sim {

struct SelfSignedCert {
  std::string cert_pem;
  std::string key_pem;  // unencrypted PKCS#8
};

// EC P-256 key, X509v3, CN=localhost, subjectAltName DNS:localhost + IP:127.0.0.1, valid from
// now for one day. Throws std::runtime_error when OpenSSL fails.
SelfSignedCert make_self_signed_cert();

// A TLS 1.2+ server context presenting `cert`. Throws on a bad certificate or key.
std::shared_ptr<boost::asio::ssl::context> make_server_tls_context(const SelfSignedCert& cert);

}  // namespace rfq::sim
