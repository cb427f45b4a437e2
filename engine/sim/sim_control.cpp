#include "engine/sim/sim_control.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "engine/core/clock.hpp"
#include "engine/core/log.hpp"
#include "engine/sim/deribit_sim.hpp"
#include "engine/sim/journal.hpp"
#include "engine/sim/okx_sim.hpp"

namespace rfq::sim {

namespace json = boost::json;

namespace {

constexpr std::string_view kPrefix = "/sim/";
constexpr std::string_view kDeribitPrefix = "/sim/deribit/";
constexpr std::int64_t kMaxCreate = 10000;
constexpr std::int64_t kMaxExpiresInMs = INT64_MAX / 2;

// What a control handler answers: HTTP status and JSON body; `error` is set for refusals.
struct ControlAnswer {
  unsigned status = 200;
  json::object body;
  std::string error;
};

ControlAnswer ok(json::object body) { return {200, std::move(body), {}}; }

ControlAnswer refuse(unsigned status, std::string error) {
  json::object body;
  body["error"] = error;
  return {status, std::move(body), std::move(error)};
}

ControlAnswer bad_request(std::string error) { return refuse(400, std::move(error)); }

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

// ---- body fields ---------------------------------------------------------------------------
// Each reader leaves `out` alone when the field is absent or null and returns an error message
// when the field has the wrong type or range.

using FieldError = std::optional<std::string>;

FieldError int_field(const json::object& o, std::string_view name, std::int64_t min,
                     std::int64_t max, std::int64_t& out) {
  const auto* v = o.if_contains(name);
  if (v == nullptr || v->is_null()) return std::nullopt;
  const auto range = std::to_string(min) + ".." + std::to_string(max);
  if (!v->is_int64() && !v->is_uint64()) {
    return std::string(name) + " must be an integer in " + range;
  }
  const bool in_range = v->is_int64() ? (v->get_int64() >= min && v->get_int64() <= max)
                                      : v->get_uint64() <= static_cast<std::uint64_t>(max);
  if (!in_range) return std::string(name) + " must be an integer in " + range;
  out = v->is_int64() ? v->get_int64() : static_cast<std::int64_t>(v->get_uint64());
  return std::nullopt;
}

// Strings; integers are taken as their text (an rfq_id typed as a number still works).
FieldError string_field(const json::object& o, std::string_view name, std::string& out) {
  const auto* v = o.if_contains(name);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (v->is_string()) {
    out = v->get_string();
  } else if (v->is_int64()) {
    out = std::to_string(v->get_int64());
  } else if (v->is_uint64()) {
    out = std::to_string(v->get_uint64());
  } else {
    return std::string(name) + " must be a string";
  }
  return std::nullopt;
}

// A positive number (integer or not).
FieldError positive_field(const json::object& o, std::string_view name, double& out) {
  const auto* v = o.if_contains(name);
  if (v == nullptr || v->is_null()) return std::nullopt;
  const auto error = std::string(name) + " must be a positive number";
  if (!v->is_number()) return error;
  const double d = v->to_number<double>();
  if (!(d > 0)) return error;
  out = d;
  return std::nullopt;
}

FieldError legs_field(const json::object& o, std::vector<SimLeg>& out) {
  const auto* v = o.if_contains("legs");
  if (v == nullptr || v->is_null()) return std::nullopt;
  const std::string shape = R"(legs must be a non-empty array of {"instId","side","sz"})";
  if (!v->is_array() || v->get_array().empty()) return shape;
  std::vector<SimLeg> legs;
  for (const auto& item : v->get_array()) {
    if (!item.is_object()) return shape;
    SimLeg leg;
    const auto& l = item.get_object();
    if (string_field(l, "instId", leg.inst_id) || string_field(l, "side", leg.side) ||
        string_field(l, "sz", leg.sz) || leg.inst_id.empty() || leg.sz.empty()) {
      return shape;
    }
    if (leg.side != "buy" && leg.side != "sell") return std::string("leg side must be buy or sell");
    legs.push_back(std::move(leg));
  }
  out = std::move(legs);
  return std::nullopt;
}

// ---- answers -------------------------------------------------------------------------------

json::object rfq_json(const SimRfq& r) {
  json::array legs;
  for (const auto& leg : r.legs) {
    legs.push_back(json::object{{"inst_id", leg.inst_id}, {"side", leg.side}, {"sz", leg.sz}});
  }
  json::object o;
  o["rfq_id"] = r.rfq_id;
  o["cl_rfq_id"] = r.cl_rfq_id;
  o["tag"] = r.tag;
  o["state"] = r.state;
  o["c_time_ms"] = r.c_time_ms;
  o["u_time_ms"] = r.u_time_ms;
  o["valid_until_ms"] = r.valid_until_ms;
  o["legs"] = std::move(legs);
  return o;
}

// ---- OKX endpoints -------------------------------------------------------------------------

ControlAnswer post_rfqs(OkxSim& okx, const json::object& params) {
  std::int64_t count = 1;
  std::int64_t expires_in_ms = 0;
  NewRfq rfq;
  rfq.legs = {{"BTC-USD-260327-100000-C", "buy", "1"}};
  if (auto e = int_field(params, "count", 1, kMaxCreate, count)) return bad_request(*e);
  if (auto e = int_field(params, "expires_in_ms", 1, kMaxExpiresInMs, expires_in_ms)) {
    return bad_request(*e);
  }
  if (auto e = string_field(params, "cl_rfq_id", rfq.cl_rfq_id)) return bad_request(*e);
  if (auto e = string_field(params, "tag", rfq.tag)) return bad_request(*e);
  if (auto e = legs_field(params, rfq.legs)) return bad_request(*e);
  if (!rfq.cl_rfq_id.empty() && count != 1) {
    return bad_request("cl_rfq_id names one RFQ: count must be absent or 1");
  }
  if (expires_in_ms > 0) rfq.expires_in_ms = expires_in_ms;

  json::array ids;
  for (std::int64_t i = 0; i < count; ++i) {
    try {
      ids.push_back(json::string(okx.add_rfq(rfq)));
    } catch (const std::invalid_argument& e) {
      return bad_request(e.what());  // a duplicate cl_rfq_id (only possible when count is 1)
    }
  }
  return ok(json::object{{"rfq_ids", std::move(ids)}});
}

ControlAnswer post_fill(OkxSim& okx, const json::object& params) {
  std::string rfq_id;
  if (auto e = string_field(params, "rfq_id", rfq_id)) return bad_request(*e);
  if (rfq_id.empty()) return bad_request("rfq_id is required");
  const auto rfq = okx.rfq(rfq_id);
  if (!rfq) return refuse(404, "no RFQ " + rfq_id);
  if (!okx.fill(rfq_id)) {
    return refuse(409,
                  "RFQ " + rfq_id + " is " + rfq->state + "; only an active RFQ can be filled");
  }
  return ok(json::object{{"rfq_id", rfq_id}, {"state", "filled"}});
}

// Both venues' faults: `target_key` names the endpoint ("endpoint") or method ("method"), the
// rest is shared (kind, count, delay_ms); inject's refusals become 400 with its text.
template <typename Sim, typename Fault>
ControlAnswer post_fault_to(Sim& sim, const json::object& params, const char* target_key,
                            std::string Fault::*target, const char* kinds) {
  Fault fault;
  std::string kind;
  std::int64_t count = 1;
  if (auto e = string_field(params, "message", fault.message)) return bad_request(*e);
  if constexpr (std::is_same_v<decltype(fault.code), std::string>) {
    if (auto e = string_field(params, "code", fault.code)) return bad_request(*e);
  } else {
    if (auto e = int_field(params, "code", INT32_MIN, INT32_MAX, fault.code)) return bad_request(*e);
  }
  if (auto e = string_field(params, target_key, fault.*target)) return bad_request(*e);
  if (auto e = string_field(params, "kind", kind)) return bad_request(*e);
  if (auto e = int_field(params, "count", 1, 1000000, count)) return bad_request(*e);
  if (auto e = int_field(params, "delay_ms", 0, 600000, fault.delay_ms)) return bad_request(*e);
  const auto parsed = fault_kind_from(kind);
  if (!parsed) return bad_request(kinds);
  fault.kind = *parsed;
  fault.count = static_cast<int>(count);
  try {
    sim.inject(std::move(fault));
  } catch (const std::invalid_argument& e) {
    return bad_request(e.what());  // an unknown endpoint or method, or a kind it cannot take
  }
  return ok(json::object{{"pending_faults", sim.pending_faults()}});
}

ControlAnswer post_fault(OkxSim& okx, const json::object& params) {
  return post_fault_to<OkxSim, OkxFault>(
      okx, params, "endpoint", &OkxFault::endpoint,
      "kind must be delay, unavailable, drop, ws_close, auth or reject (endpoint ws-push: delay or "
      "drop)");
}

ControlAnswer get_rfqs(OkxSim& okx, const json::object&) {
  json::array rfqs;
  for (const auto& r : okx.rfqs()) rfqs.push_back(rfq_json(r));
  return ok(json::object{{"rfqs", std::move(rfqs)}});
}

// ---- Deribit endpoints (/sim/deribit/) -----------------------------------------------------

// A leg of the currency's perpetual: what a test that does not care about legs gets.
DeribitLeg default_deribit_leg(const std::string& currency) {
  if (currency == "BTC" || currency == "ETH") return {currency + "-PERPETUAL", "buy", 1};
  return {"BTC_" + currency + "-PERPETUAL", "buy", 1};  // a linear perpetual
}

FieldError deribit_legs_field(const json::object& o, std::vector<DeribitLeg>& out) {
  const auto* v = o.if_contains("legs");
  if (v == nullptr || v->is_null()) return std::nullopt;
  const std::string shape =
      R"(legs must be a non-empty array of {"instrument_name","direction","ratio"?})";
  if (!v->is_array() || v->get_array().empty()) return shape;
  std::vector<DeribitLeg> legs;
  for (const auto& item : v->get_array()) {
    if (!item.is_object()) return shape;
    DeribitLeg leg;
    std::int64_t ratio = 1;
    const auto& l = item.get_object();
    if (string_field(l, "instrument_name", leg.instrument_name) ||
        string_field(l, "direction", leg.direction) || leg.instrument_name.empty()) {
      return shape;
    }
    if (auto e = int_field(l, "ratio", 1, 1000000, ratio)) return e;
    leg.ratio = static_cast<int>(ratio);
    legs.push_back(std::move(leg));  // the model checks the direction
  }
  out = std::move(legs);
  return std::nullopt;
}

ControlAnswer post_deribit_rfqs(DeribitSim& deribit, const json::object& params) {
  std::int64_t count = 1;
  std::int64_t expires_in_ms = 0;
  NewBlockRfq rfq;
  if (auto e = int_field(params, "count", 1, kMaxCreate, count)) return bad_request(*e);
  if (auto e = int_field(params, "expires_in_ms", 1, kMaxExpiresInMs, expires_in_ms)) {
    return bad_request(*e);
  }
  if (auto e = string_field(params, "label", rfq.label)) return bad_request(*e);
  if (auto e = string_field(params, "currency", rfq.currency)) return bad_request(*e);
  if (auto e = positive_field(params, "amount", rfq.amount)) return bad_request(*e);
  if (auto e = deribit_legs_field(params, rfq.legs)) return bad_request(*e);
  if (rfq.legs.empty()) rfq.legs = {default_deribit_leg(rfq.currency)};
  if (expires_in_ms > 0) rfq.expires_in_ms = expires_in_ms;

  json::array ids;
  for (std::int64_t i = 0; i < count; ++i) {
    try {
      ids.push_back(deribit.add_rfq(rfq));
    } catch (const std::invalid_argument& e) {
      // An unknown currency or a bad leg: the same for every copy, so the first one refuses.
      return bad_request(e.what());
    }
  }
  return ok(json::object{{"block_rfq_ids", std::move(ids)}});
}

ControlAnswer post_deribit_fill(DeribitSim& deribit, const json::object& params) {
  std::int64_t id = 0;
  if (auto e = int_field(params, "block_rfq_id", 1, INT64_MAX, id)) return bad_request(*e);
  if (id == 0) return bad_request("block_rfq_id is required");
  const auto rfq = deribit.rfq(id);
  const auto name = "block RFQ " + std::to_string(id);
  if (!rfq) return refuse(404, "no " + name);
  if (!deribit.fill(id)) {
    return refuse(409, name + " is " + rfq->state + "; only an open block RFQ can be filled");
  }
  return ok(json::object{{"block_rfq_id", id}, {"state", "filled"}});
}

ControlAnswer post_deribit_fault(DeribitSim& deribit, const json::object& params) {
  return post_fault_to<DeribitSim, DeribitFault>(deribit, params, "method", &DeribitFault::method,
                                                 "kind must be delay, unavailable, drop, ws_close, "
                                                 "auth or reject");
}

json::object block_rfq_json(const DeribitBlockRfq& r) {
  json::array legs;
  for (const auto& leg : r.legs) {
    legs.push_back(json::object{{"instrument_name", leg.instrument_name},
                                {"direction", leg.direction},
                                {"ratio", leg.ratio}});
  }
  json::object o;
  o["block_rfq_id"] = r.block_rfq_id;
  o["state"] = r.state;
  o["currency"] = r.currency;
  o["label"] = r.label;
  o["amount"] = r.amount;
  o["creation_timestamp"] = r.creation_timestamp;
  o["expiration_timestamp"] = r.expiration_timestamp;
  o["update_timestamp"] = r.update_timestamp;
  o["legs"] = std::move(legs);
  return o;
}

ControlAnswer get_deribit_rfqs(DeribitSim& deribit, const json::object&) {
  json::array rfqs;
  for (const auto& r : deribit.rfqs()) rfqs.push_back(block_rfq_json(r));
  return ok(json::object{{"block_rfqs", std::move(rfqs)}});
}

template <class Model>
struct ControlRoute {
  std::string_view method;
  std::string_view path;
  ControlAnswer (*handler)(Model&, const json::object&);
};

constexpr ControlRoute<OkxSim> kOkxRoutes[] = {
    {"POST", "/sim/rfqs", &post_rfqs},
    {"GET", "/sim/rfqs", &get_rfqs},
    {"POST", "/sim/fill", &post_fill},
    {"POST", "/sim/fault", &post_fault},
};

constexpr ControlRoute<DeribitSim> kDeribitRoutes[] = {
    {"POST", "/sim/deribit/rfqs", &post_deribit_rfqs},
    {"GET", "/sim/deribit/rfqs", &get_deribit_rfqs},
    {"POST", "/sim/deribit/fill", &post_deribit_fill},
    {"POST", "/sim/deribit/fault", &post_deribit_fault},
};

// The answer of the route in `routes` with the request's path; nullopt when none has it (or the
// model is not served, so its paths are unknown like any other).
template <class Model, std::size_t N>
std::optional<ControlAnswer> dispatch_to(const ControlRoute<Model> (&routes)[N], Model* model,
                                         const SimHttpRequest& request) {
  if (model == nullptr) return std::nullopt;
  const auto path = path_of(request.target);
  bool path_known = false;
  for (const auto& route : routes) {
    if (route.path != path) continue;
    path_known = true;
    if (route.method != request.method) continue;
    json::object params;
    if (!request.body.empty()) {
      json::error_code ec;
      json::value v = json::parse(request.body, ec);
      if (ec || !v.is_object()) return bad_request("the body must be a JSON object");
      params = std::move(v.as_object());
    }
    return route.handler(*model, params);
  }
  if (path_known) {
    return refuse(405, "method " + request.method + " not allowed on " + std::string(path));
  }
  return std::nullopt;
}

}  // namespace

bool SimControl::is_control_target(std::string_view target) {
  return path_of(target).starts_with(kPrefix);
}

SimHttpReply SimControl::handle(const SimHttpRequest& request) {
  const auto path = path_of(request.target);
  auto answer = dispatch_to(kOkxRoutes, okx_, request);
  if (!answer) answer = dispatch_to(kDeribitRoutes, deribit_, request);
  if (!answer) answer = refuse(404, "no sim endpoint " + std::string(path));
  // Deribit's commands go to its journal (the same one in rfqd sim), the rest to OKX's.
  const bool deribit = deribit_ != nullptr && (okx_ == nullptr || path.starts_with(kDeribitPrefix));
  Journal& journal = deribit ? deribit_->journal() : okx_->journal();
  const Clock& clock = deribit ? deribit_->clock() : okx_->clock();
  json::object entry;
  entry["ts_ms"] = clock.now_ms();
  entry["venue"] = "sim";
  entry["method"] = request.method;
  entry["target"] = request.target;
  entry["endpoint"] = path.substr(std::min(path.size(), kPrefix.size()));
  entry["body"] = request.body;
  entry["status"] = static_cast<std::int64_t>(answer->status);
  if (!answer->error.empty()) entry["error"] = answer->error;
  journal.append(std::move(entry));
  log::get("sim")->debug("sim control {} {} -> {}{}{}", request.method, request.target,
                         answer->status, answer->error.empty() ? "" : ": ", answer->error);
  return {answer->status, json::serialize(answer->body)};
}

}  // namespace rfq::sim
