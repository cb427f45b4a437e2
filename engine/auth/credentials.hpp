#pragma once
// Credentials come from environment variables (or files), live only in the engine, and never
// reach a log line or a Lua policy state. Secret has no formatter on purpose: passing one to a
// logger does not compile; reveal() is the one way to the bytes, used only to sign and send.

#include <optional>
#include <string>
#include <string_view>

namespace rfq::auth {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  const std::string& reveal() const { return value_; }
  bool empty() const { return value_.empty(); }

 private:
  std::string value_;
};

struct OkxCredentials {
  std::string api_key;
  Secret secret;
  Secret passphrase;
};

// Value of an environment variable, or of the file named by NAME_FILE (trailing newline
// stripped). Empty optional when neither is set.
std::optional<std::string> from_env(const std::string& name);

}  // namespace rfq::auth
