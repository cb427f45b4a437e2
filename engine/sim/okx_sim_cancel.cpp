// OkxSim's three taker cancel endpoints (PROTOCOLS.md §3): cancel-rfq, cancel-batch-rfqs and
// cancel-all-rfqs. Routing, auth and the rate windows happen before these run (okx_sim.cpp).

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <vector>

#include "engine/core/clock.hpp"
#include "engine/sim/okx_sim.hpp"
#include "engine/sim/okx_sim_detail.hpp"

namespace rfq::sim {

namespace json = boost::json;

namespace detail {

json::object cancel_item(const CancelOutcome& outcome) {
  json::object item;
  item["rfqId"] = outcome.rfq_id;
  item["clRfqId"] = outcome.cl_rfq_id;
  item["sCode"] = outcome.s_code;
  item["sMsg"] = outcome.s_msg;
  return item;
}

}  // namespace detail

namespace {

using detail::cancel_item;
using detail::CancelOutcome;
using detail::envelope;
using detail::OkxAnswer;
using detail::parameter_error;

constexpr std::size_t kMaxBatchIds = 100;

// rfqIds / clRfqIds: an array of strings (integers are taken as their text). Absent, null, []
// and "" all read as empty: python-okx sends the unused list as [] or "". Any other shape,
// including a non-empty string, is 51000 naming the parameter.
std::optional<OkxAnswer> id_list_param(const json::object& params, std::string_view name,
                                       std::vector<std::string>& out) {
  out.clear();
  const auto* v = params.if_contains(name);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (v->is_string() && v->get_string().empty()) return std::nullopt;
  if (!v->is_array()) return parameter_error(name);
  for (const auto& id : v->get_array()) {
    if (id.is_string()) {
      out.emplace_back(id.get_string());
    } else if (id.is_int64()) {
      out.push_back(std::to_string(id.get_int64()));
    } else if (id.is_uint64()) {
      out.push_back(std::to_string(id.get_uint64()));
    } else {
      return parameter_error(name);
    }
  }
  return std::nullopt;
}

}  // namespace

CancelOutcome OkxSim::cancel_one(std::string_view rfq_id, std::string_view cl_rfq_id) {
  SimRfq* r = rfq_id.empty() ? find_by_cl_id(cl_rfq_id) : find_by_id(rfq_id);
  if (r == nullptr) {
    return {std::string(rfq_id), std::string(cl_rfq_id), "70000", "RFQ does not exist."};
  }
  if (r->state != "active") {
    return {r->rfq_id, r->cl_rfq_id, "70200",
            "The RFQ with " + r->state + " status cannot be canceled"};
  }
  set_state(*r, "canceled", clock_.now_ms());
  return {r->rfq_id, r->cl_rfq_id, "0", ""};
}

// A failed single cancel uses the per-item layout (code "1" + sCode): the layout OKX documents
// for the batch; the single-cancel failure layout is UNCONFIRMED (PROTOCOLS.md §3).
OkxSim::Answer OkxSim::on_cancel_rfq(const SimHttpRequest& request) {
  json::object params;
  if (auto bad = detail::parse_json_body(request, params)) return *bad;
  std::string rfq_id;
  std::string cl_rfq_id;
  if (auto bad = detail::string_param(params, "rfqId", rfq_id)) return *bad;
  if (auto bad = detail::string_param(params, "clRfqId", cl_rfq_id)) return *bad;
  if (rfq_id.empty() && cl_rfq_id.empty()) {
    return envelope("50015", "Either parameter rfqId or clRfqId is required", {}, 400);
  }
  // rfqId wins when both are given.
  const auto outcome = cancel_one(rfq_id, rfq_id.empty() ? cl_rfq_id : std::string_view());
  const auto item = [&] {
    // An unknown rfqId still echoes the clRfqId the client sent, as before.
    if (outcome.s_code == "70000") return cancel_item({rfq_id, cl_rfq_id, "70000", outcome.s_msg});
    return cancel_item(outcome);
  }();
  if (outcome.ok()) return envelope("0", "", json::array{item});
  return envelope("1", "Operation failed.", json::array{item});
}

// One item per requested id, in request order; an id repeated in the same request gets an item
// each time (the second sees the first's cancel: 70200). rfqIds wins when both lists are
// non-empty. Decisions where OKX documents no answer:
//  - more than 100 ids: HTTP 400 {"code":"51000","msg":"Parameter rfqIds error","data":[]}
//    (naming clRfqIds when that list was used), nothing is cancelled; OKX's generic parameter
//    error, since no dedicated code is documented.
//  - no ids at all: HTTP 400 50014 "Parameter rfqIds can not be empty".
OkxSim::Answer OkxSim::on_cancel_batch_rfqs(const SimHttpRequest& request) {
  json::object params;
  if (auto bad = detail::parse_json_body(request, params)) return *bad;
  std::vector<std::string> rfq_ids;
  std::vector<std::string> cl_rfq_ids;
  if (auto bad = id_list_param(params, "rfqIds", rfq_ids)) return *bad;
  if (auto bad = id_list_param(params, "clRfqIds", cl_rfq_ids)) return *bad;
  const bool by_rfq_id = !rfq_ids.empty();
  const auto& ids = by_rfq_id ? rfq_ids : cl_rfq_ids;
  if (ids.empty()) return envelope("50014", "Parameter rfqIds can not be empty", {}, 400);
  if (ids.size() > kMaxBatchIds) return parameter_error(by_rfq_id ? "rfqIds" : "clRfqIds");

  json::array data;
  data.reserve(ids.size());
  std::size_t succeeded = 0;
  for (const auto& id : ids) {
    const auto outcome = by_rfq_id ? cancel_one(id, "") : cancel_one("", id);
    if (outcome.ok()) ++succeeded;
    data.push_back(cancel_item(outcome));
  }
  if (succeeded == ids.size()) return envelope("0", "", std::move(data));
  if (succeeded == 0) return envelope("1", "Operation failed.", std::move(data));
  return envelope("2", "Bulk operation partially succeeded.", std::move(data));
}

// No parameters: `{}` (python-okx) and no body at all (ccxt, okx-api) are both accepted, since
// whether OKX refuses the empty body with 50000 is UNCONFIRMED; other keys are ignored.
// Nothing active: 70207 as the top-level code, HTTP 200, empty data. Whether OKX puts 70207
// there or in a data item is UNCONFIRMED (PROTOCOLS.md §3); top-level is the layout it uses for
// errors of endpoints whose items carry no sCode.
OkxSim::Answer OkxSim::on_cancel_all_rfqs(const SimHttpRequest& request) {
  json::object params;
  if (auto bad = detail::parse_json_body(request, params)) return *bad;
  const auto now = clock_.now_ms();
  std::size_t canceled = 0;
  for (auto& [id, r] : rfqs_) {
    if (r.state != "active") continue;
    set_state(r, "canceled", now);
    ++canceled;
  }
  if (canceled == 0) {
    return envelope("70207", "Cancellation failed as you do not have any active RFQs.");
  }
  json::object item;
  item["ts"] = std::to_string(now);
  return envelope("0", "", json::array{std::move(item)});
}

}  // namespace rfq::sim
