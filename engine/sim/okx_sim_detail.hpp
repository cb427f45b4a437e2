#pragma once
// Internal to OkxSim (okx_sim.cpp, okx_sim_cancel.cpp) and its WebSocket (okx_ws_sim.cpp): the
// answer type, the route table entry and the envelope / body-parsing / item helpers they build
// their answers with. Not for other users; the public surface is okx_sim.hpp.

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "engine/core/clock.hpp"
#include "engine/sim/sim_http.hpp"

namespace rfq::sim {

class OkxSim;
struct SimRfq;

namespace detail {

// What handle() answers, plus the OKX code it carries (for the journal).
struct OkxAnswer {
  unsigned status = 200;
  std::string code;
  std::string body;
};

struct OkxRoute {
  std::string_view method;
  std::string_view path;
  std::string_view endpoint;
  bool is_private;
  std::size_t limit;  // requests per window and API key; 0 = none
  Nanos window;
  OkxAnswer (OkxSim::*handler)(const SimHttpRequest&);
};

// The result of cancelling one RFQ, as the ids and codes of one cancel item.
struct CancelOutcome {
  std::string rfq_id;
  std::string cl_rfq_id;
  std::string s_code;  // "0", "70000" (unknown) or "70200" (not active)
  std::string s_msg;
  bool ok() const { return s_code == "0"; }
};

// {"code":code,"msg":msg,"data":data} with the given HTTP status.
OkxAnswer envelope(std::string_view code, std::string_view msg, boost::json::array data = {},
                   unsigned status = 200);

// HTTP 400 51000 "Parameter <name> error".
OkxAnswer parameter_error(std::string_view name);

// POST bodies: JSON object. No body at all (ccxt's parameterless POST) reads as {}; a body
// without a Content-Type, or with a non-JSON one, is 50006; bad JSON or a non-object is 50002.
std::optional<OkxAnswer> parse_json_body(const SimHttpRequest& request, boost::json::object& out);

// One string parameter: absent, null and "" read as "" (python-okx sends unused ones as "");
// integers are taken as their text; anything else is 51000.
std::optional<OkxAnswer> string_param(const boost::json::object& params, std::string_view name,
                                      std::string& out);

// One cancel item: {"rfqId","clRfqId","sCode","sMsg"}.
boost::json::object cancel_item(const CancelOutcome& outcome);

// Every field of the documented GET /api/v5/rfq/rfqs item, which the WS rfqs push repeats.
boost::json::object rfq_item(const SimRfq& r);

}  // namespace detail
}  // namespace rfq::sim
