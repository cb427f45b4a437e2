#pragma once
// SHA-256 of a byte string, as lowercase hex: the content hash of a policy script that the
// audit log records ("sha256:<hex>"). Beside the HMAC helpers of okx_signer.hpp; not a secret
// operation, so no keyed context and no constant-time concerns.

#include <string>
#include <string_view>

namespace rfq::auth {

// 64 lowercase hex digits; sha256_hex("abc") starts "ba7816bf".
std::string sha256_hex(std::string_view data);

}  // namespace rfq::auth
