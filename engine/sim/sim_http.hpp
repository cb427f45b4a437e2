#pragma once
// The socket-free request/reply pair every simulated venue model speaks. SimServer turns Beast
// messages into these; the in-process test world builds them directly, so both paths run the
// same model code over the same bytes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rfq::sim {

struct SimHttpRequest {
  std::string method;  // as received, e.g. "POST"
  std::string target;  // raw request target: path + query, exactly as received
  std::string body;    // raw body bytes, exactly as received
  std::vector<std::pair<std::string, std::string>> headers;
};

struct SimHttpReply {
  unsigned status = 200;
  std::string body;  // always JSON
  // Set by an injected fault (OkxSim::inject); the model decides, the transport obeys.
  std::int64_t delay_ms = 0;  // hold the answer back this long (the request WAS processed)
  bool drop = false;          // close the connection without answering (status/body unused)
};

// ASCII case-insensitive equality, for header names and media types.
bool iequals(std::string_view a, std::string_view b) noexcept;

// Value of the first header named `name` (case-insensitive); nullopt when absent.
std::optional<std::string_view> find_header(const SimHttpRequest& request, std::string_view name);

}  // namespace rfq::sim
