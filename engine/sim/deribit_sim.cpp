// DeribitSim's core: the JSON-RPC envelope in and out, the method table, the order every call
// goes through (fault, method, transport, auth, credits, handler), faults, credits, the journal
// and the HTTP mapping. Auth lives in deribit_sim_auth.cpp, the connection methods in
// deribit_sim_methods.cpp, the RFQ book in deribit_sim_rfq.cpp.

#include "engine/sim/deribit_sim.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>
#include <stdexcept>

#include "engine/core/clock.hpp"
#include "engine/core/log.hpp"
#include "engine/sim/deribit_sim_detail.hpp"
#include "engine/sim/journal.hpp"

namespace rfq::sim {

namespace json = boost::json;

using detail::DeribitAnswer;
using detail::rpc_error;
using detail::RpcError;
using detail::RpcRequest;

namespace {

constexpr std::int64_t kFirstRfqId = 366;  // the docs' example id, for familiar logs
constexpr std::int64_t kMaxFaultDelayMs = 600000;
constexpr std::string_view kApiPrefix = "/api/v2";

// The HTTP status of an answer with this code (PROTOCOLS.md §7; most are UNCONFIRMED).
unsigned http_status_for(int code) {
  switch (code) {
    case 0:
      return 200;
    case detail::kParseError:
    case detail::kInvalidRequest:
    case detail::kInvalidParams:  // observed live: -32602 with HTTP 400
    case detail::kMissingParams:
    case detail::kMustBeWebsocket:  // documented for WS-only methods over REST
      return 400;
    case detail::kInvalidCredentials:
    case detail::kUnauthorized:  // observed live with 401
      return 401;
    case detail::kTooManyRequests:
      return 429;
    case detail::kTemporarilyUnavailable:
      return 503;
    default:
      return 200;
  }
}

RpcError invalid_request(std::string_view reason) {
  json::object data;
  data["reason"] = reason;
  return {detail::kInvalidRequest, "Invalid Request", std::move(data)};
}

// The envelope of one JSON-RPC text. `path_method` (HTTP POST to /api/v2/{method}) stands in
// for a missing "method" and must equal a present one.
RpcRequest parse_request(std::string_view text, std::string_view path_method = {}) {
  RpcRequest req;
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) {
    req.method = path_method;
    req.envelope_error = rpc_error(detail::kParseError, "Parse error");
    return req;
  }
  if (!v.is_object()) {
    req.method = path_method;
    req.envelope_error = invalid_request("a request is one JSON object; batches are not served");
    return req;
  }
  auto& o = v.as_object();
  if (const auto* id = o.if_contains("id")) {
    if (id->is_int64() || id->is_uint64() || id->is_string()) req.id = *id;
  }
  const auto* method = o.if_contains("method");
  if (method != nullptr && method->is_string()) {
    req.method = method->get_string();
  } else if (method == nullptr) {
    req.method = path_method;
  }
  const auto* version = o.if_contains("jsonrpc");
  if (version == nullptr || !version->is_string() || version->get_string() != "2.0") {
    req.envelope_error = invalid_request("jsonrpc must be \"2.0\"");
  } else if (!req.id) {
    req.envelope_error = invalid_request("id (integer or string) is required");
  } else if (req.method.empty()) {
    req.envelope_error = invalid_request("method (string) is required");
  } else if (!path_method.empty() && req.method != path_method) {
    req.envelope_error = invalid_request("method does not match the path");
  }
  if (const auto* params = o.if_contains("params"); params != nullptr && !params->is_null()) {
    if (params->is_object()) {
      req.params = std::move(params->as_object());
    } else if (!req.envelope_error) {
      req.envelope_error = detail::invalid_params("params", "must be an object");
    }
  }
  return req;
}

bool parse_i64(std::string_view s, std::int64_t& out) {
  if (s.empty()) return false;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

// The first word of an Authorization header, lowercased: what the journal may show of it.
std::string auth_scheme(const SimHttpRequest& request) {
  const auto value = find_header(request, "Authorization");
  if (!value) return {};
  std::string scheme(value->substr(0, value->find(' ')));
  for (auto& c : scheme) c = static_cast<char>((c >= 'A' && c <= 'Z') ? c + 32 : c);
  return scheme;
}

std::string hex8(std::uint64_t z) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(8, '0');
  for (int i = 7; i >= 0; --i, z >>= 4) id[static_cast<std::size_t>(i)] = kHex[z & 0xF];
  return id;
}

}  // namespace

// ---- shared helpers (deribit_sim_detail.hpp) ------------------------------------------------

namespace detail {

std::uint64_t splitmix64(std::uint64_t x) {
  std::uint64_t z = x * 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::optional<RpcError> int_param(const json::object& params, std::string_view name,
                                  std::optional<std::int64_t>& out) {
  out.reset();
  const auto* v = params.if_contains(name);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (v->is_int64()) {
    out = v->get_int64();
  } else if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    out = static_cast<std::int64_t>(v->get_uint64());
  } else {
    return invalid_params(name);
  }
  return std::nullopt;
}

std::optional<RpcError> string_param(const json::object& params, std::string_view name,
                                     std::optional<std::string>& out) {
  out.reset();
  const auto* v = params.if_contains(name);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_string()) return invalid_params(name);
  out = std::string(v->get_string());
  return std::nullopt;
}

json::object redacted(const json::object& params) {
  static constexpr std::string_view kSecretKeys[] = {"client_secret", "signature", "access_token",
                                                     "refresh_token"};
  json::object out = params;
  for (const auto key : kSecretKeys) {
    if (auto* v = out.if_contains(key)) *v = "***";
  }
  return out;
}

}  // namespace detail

// ---- DeribitSim ------------------------------------------------------------------------------

DeribitSim::DeribitSim(Clock& clock, Journal& journal, DeribitSimOptions options)
    : clock_(clock),
      journal_(journal),
      options_(std::move(options)),
      log_(log::get("sim")),
      next_id_(kFirstRfqId) {}

DeribitSim::~DeribitSim() = default;

std::span<const detail::DeribitMethod> DeribitSim::methods() {
  using S = DeribitSim;
  // name, private, ws only, free, integer params, handler
  static const detail::DeribitMethod kMethods[] = {
      {"public/auth", false, false, true, {"timestamp"}, &S::on_auth},
      {"public/test", false, false, true, {}, &S::on_test},
      {"public/set_heartbeat", false, true, false, {"interval"}, &S::on_set_heartbeat},
      {"public/disable_heartbeat", false, true, false, {}, &S::on_disable_heartbeat},
      {"public/subscribe", false, true, false, {}, &S::on_subscribe},
      {"private/subscribe", true, true, false, {}, &S::on_subscribe},
      {"public/unsubscribe", false, true, false, {}, &S::on_unsubscribe},
      {"private/unsubscribe", true, true, false, {}, &S::on_unsubscribe},
      // WebSocket only unless scope is "account": the handlers decide.
      {"private/enable_cancel_on_disconnect", true, false, false, {}, &S::on_enable_cod},
      {"private/disable_cancel_on_disconnect", true, false, false, {}, &S::on_disable_cod},
      {"private/cancel_block_rfq", true, false, false, {"block_rfq_id"}, &S::on_cancel_block_rfq},
      {"private/get_block_rfqs",
       true,
       false,
       false,
       {"count", "continuation", "block_rfq_id"},
       &S::on_get_block_rfqs},
  };
  return kMethods;
}

const detail::DeribitMethod* DeribitSim::find_method(std::string_view name) {
  for (const auto& m : methods()) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

DeribitRpcOutcome DeribitSim::handle_rpc(DeribitSessionCtx& ctx, std::string_view text) {
  auto req = parse_request(text);
  return process(ctx, req);
}

// An injected fault strikes first, like a failing gateway in front of Deribit: unavailable, auth,
// drop and ws_close skip everything else (the call is not processed and costs no credits);
// delay lets the call through unchanged and only marks the outcome.
DeribitRpcOutcome DeribitSim::process(DeribitSessionCtx& ctx, RpcRequest& req) {
  expire_due();
  const auto us_in = clock_.now_ms() * 1000;
  DeribitRpcOutcome out;
  out.method = req.method.empty() ? "invalid" : req.method;
  const auto fault = take_fault(req.method, ctx.transport);
  if (fault && (fault->kind == FaultKind::drop || fault->kind == FaultKind::ws_close)) {
    out.drop = fault->kind == FaultKind::drop;
    if (fault->kind == FaultKind::ws_close) out.close = DeribitClose::fault;
    out.http_status = 0;
    record(ctx, req, out, &*fault);
    return out;
  }
  Answer answer;
  const bool unavailable = fault && fault->kind == FaultKind::unavailable;
  const bool revoked = fault && fault->kind == FaultKind::auth;
  const bool rejected = fault && fault->kind == FaultKind::reject;
  if (rejected) {
    answer = Answer::fail(rpc_error(static_cast<int>(fault->code), fault->message));
  } else if (unavailable) {
    answer = Answer::fail(rpc_error(detail::kTemporarilyUnavailable, "temporarily_unavailable"));
  } else if (revoked) {
    answer = Answer::fail(rpc_error(detail::kUnauthorized, "unauthorized"));
  } else if (req.envelope_error) {
    answer = Answer::fail(*req.envelope_error);
  } else {
    answer = dispatch(ctx, req, find_method(req.method));
  }
  if (fault && fault->kind == FaultKind::delay) out.delay_ms = fault->delay_ms;
  out.code = answer.error ? answer.error->code : 0;
  out.http_status = http_status_for(out.code);
  if (req.http_status != 0 && req.envelope_error && !unavailable && !revoked && !rejected) {
    out.http_status = req.http_status;
  }
  if (out.code == detail::kTooManyRequests && ctx.transport == DeribitTransport::ws) {
    out.close = DeribitClose::too_many_requests;  // "the session is terminated" (§11)
  }
  out.text = answer_text(req, answer, us_in);
  record(ctx, req, out, fault ? &*fault : nullptr);
  return out;
}

// Order: method, transport, auth (private methods), credits, then the method's own checks.
DeribitSim::Answer DeribitSim::dispatch(DeribitSessionCtx& ctx, RpcRequest& req,
                                        const Method* method) {
  if (method == nullptr)
    return Answer::fail(rpc_error(detail::kMethodNotFound, "Method not found"));
  if (method->ws_only && ctx.transport == DeribitTransport::http) {
    return Answer::fail(rpc_error(detail::kMustBeWebsocket, "must_be_websocket_request"));
  }
  std::string client_id;
  if (method->is_private) {
    if (auto refused = authorize(ctx, req.params, client_id)) return Answer::fail(*refused);
  }
  if (!method->free) {
    // A public call is charged to the connection's account when it has one.
    std::string account = client_id;
    if (account.empty() && !ctx.access_token.empty()) {
      std::string holder;
      if (!check_token(ctx.access_token, holder)) account = std::move(holder);
    }
    if (!take_credits(account)) {
      return Answer::fail(rpc_error(detail::kTooManyRequests, "too_many_requests"));
    }
  }
  Call call{ctx, req.params, std::move(client_id)};
  return (this->*(method->handler))(call);
}

std::string DeribitSim::answer_text(const RpcRequest& req, const Answer& answer,
                                    std::int64_t us_in) const {
  json::object o;
  o["jsonrpc"] = "2.0";
  if (req.id) o["id"] = *req.id;
  if (answer.error) {
    json::object e;
    e["code"] = answer.error->code;
    e["message"] = answer.error->message;
    if (!answer.error->data.empty()) e["data"] = answer.error->data;
    o["error"] = std::move(e);
  } else {
    o["result"] = answer.result;
  }
  const auto us_out = clock_.now_ms() * 1000;
  o["testnet"] = options_.testnet;
  o["usIn"] = us_in;
  o["usOut"] = us_out;
  o["usDiff"] = us_out - us_in;
  return json::serialize(o);
}

// ---- HTTP ------------------------------------------------------------------------------------

SimHttpReply DeribitSim::handle_http(const SimHttpRequest& request) {
  DeribitSessionCtx ctx;
  ctx.transport = DeribitTransport::http;
  ctx.http = &request;
  const std::string_view target = request.target;
  const auto path = target.substr(0, target.find('?'));
  std::string_view path_method;
  if (path.starts_with(std::string(kApiPrefix) + "/"))
    path_method = path.substr(kApiPrefix.size() + 1);

  RpcRequest req;
  if (path_method.empty() && path != kApiPrefix && path != std::string(kApiPrefix) + "/") {
    req.envelope_error = rpc_error(detail::kMethodNotFound, "Method not found");
    req.http_status = 404;
  } else if (request.method == "GET") {
    req.method = path_method;
    auto url = boost::urls::parse_origin_form(target);
    if (!url) {
      req.envelope_error = rpc_error(detail::kParseError, "Parse error");
    } else {
      const auto* method = find_method(req.method);
      for (const auto& param : url->params()) {
        std::int64_t n = 0;
        const bool is_int =
            method != nullptr && std::find(method->int_params.begin(), method->int_params.end(),
                                           param.key) != method->int_params.end();
        if (is_int && parse_i64(param.value, n)) {
          req.params[param.key] = n;
        } else {
          req.params[param.key] = param.value;
        }
      }
    }
  } else if (request.method == "POST") {
    if (request.body.empty()) {
      req.method = path_method;
    } else {
      req = parse_request(request.body, path_method);
    }
    if (req.method.empty() && !req.envelope_error) {
      req.envelope_error = invalid_request("method (string) is required");
    }
  } else {
    req.method = path_method;
    req.envelope_error = invalid_request("use GET or POST");
    req.http_status = 405;
  }
  auto out = process(ctx, req);
  SimHttpReply reply;
  reply.status = out.http_status;
  reply.body = std::move(out.text);
  reply.delay_ms = out.delay_ms;
  reply.drop = out.drop;
  return reply;
}

// ---- journal ---------------------------------------------------------------------------------

void DeribitSim::record(const DeribitSessionCtx& ctx, const RpcRequest& req,
                        const DeribitRpcOutcome& out, const DeribitFault* fault) {
  const bool http = ctx.transport == DeribitTransport::http;
  const bool answered = !out.drop && out.close != DeribitClose::fault;
  json::object e;
  e["ts_ms"] = clock_.now_ms();
  e["venue"] = http ? "deribit" : "deribit_ws";
  e["transport"] = http ? "http" : "ws";
  if (!http) e["conn_id"] = ctx.conn_id;
  e["endpoint"] = out.method;
  if (req.id) e["id"] = *req.id;
  e["params"] = detail::redacted(req.params);
  if (answered) {
    e["code"] = out.code;
  } else {
    e["code"] = nullptr;
  }
  if (http && ctx.http != nullptr) {
    e["http_method"] = ctx.http->method;
    e["status"] = static_cast<std::int64_t>(answered ? out.http_status : 0);
    if (auto scheme = auth_scheme(*ctx.http); !scheme.empty()) e["auth"] = scheme;
  }
  if (fault != nullptr) {
    e["fault"] = to_string(fault->kind);
    if (fault->kind == FaultKind::delay) e["delay_ms"] = fault->delay_ms;
  }
  journal_.append(std::move(e));
  log_->debug("deribit {} {} {} -> code={}{}{}", http ? "http" : "ws", ctx.conn_id, out.method,
              out.code, fault ? " fault=" : "", fault ? to_string(fault->kind) : "");
}

// ---- faults ----------------------------------------------------------------------------------

void DeribitSim::inject(DeribitFault fault) {
  if (fault.count < 1) throw std::invalid_argument("deribit sim: fault count must be at least 1");
  if (fault.delay_ms < 0 || fault.delay_ms > kMaxFaultDelayMs) {
    throw std::invalid_argument("deribit sim: fault delay_ms must be within 0..600000");
  }
  if (fault.kind == FaultKind::reject && fault.code == 0) {
    throw std::invalid_argument("deribit sim: a reject fault needs a non-zero code");
  }
  if (!fault.method.empty() && find_method(fault.method) == nullptr) {
    std::string known;
    for (const auto& m : methods())
      known += std::string(known.empty() ? "" : ", ") + std::string(m.name);
    throw std::invalid_argument("deribit sim: no method named '" + fault.method + "' (" + known +
                                ")");
  }
  faults_.push_back(std::move(fault));
}

std::size_t DeribitSim::pending_faults() const {
  std::size_t n = 0;
  for (const auto& f : faults_) n += static_cast<std::size_t>(f.count);
  return n;
}

// One unit of the first queued fault for this method ("" in a fault matches every call).
std::optional<DeribitFault> DeribitSim::take_fault(std::string_view method,
                                                   DeribitTransport transport) {
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (transport == DeribitTransport::http && it->kind == FaultKind::ws_close) continue;
    if (!it->method.empty() && it->method != method) continue;
    DeribitFault taken = *it;
    taken.count = 1;
    if (--it->count == 0) faults_.erase(it);
    return taken;
  }
  return std::nullopt;
}

// ---- credits ---------------------------------------------------------------------------------

namespace {

std::int64_t steady_ns(const Clock& clock) {
  return std::chrono::duration_cast<Nanos>(clock.steady_now().time_since_epoch()).count();
}

}  // namespace

// A leaky bucket: full at first use, refilled continuously, capped at the pool.
double DeribitSim::credits(std::string_view account) const {
  const auto now = steady_ns(clock_);
  auto it = buckets_.find(account);
  if (it == buckets_.end()) {
    it = buckets_
             .emplace(std::string(account), Bucket{static_cast<double>(options_.credit_pool), now})
             .first;
  }
  auto& b = it->second;
  const double refill = static_cast<double>(options_.credit_refill_per_s) *
                        static_cast<double>(now - b.last_ns) / 1e9;
  b.credits = std::min(static_cast<double>(options_.credit_pool), b.credits + refill);
  b.last_ns = now;
  return b.credits;
}

bool DeribitSim::take_credits(const std::string& account) {
  if (!options_.enforce_limits) return true;
  const auto cost = static_cast<double>(options_.credit_cost);
  if (credits(account) < cost) return false;
  buckets_.find(account)->second.credits -= cost;
  return true;
}

std::string DeribitSim::next_conn_id() { return hex8(detail::splitmix64(++next_conn_)); }

}  // namespace rfq::sim
