#include "engine/sim/okx_sim.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>
#include <random>
#include <span>
#include <stdexcept>

#include "engine/core/clock.hpp"
#include "engine/core/log.hpp"
#include "engine/sim/journal.hpp"
#include "engine/sim/okx_auth.hpp"
#include "engine/sim/okx_sim_detail.hpp"

namespace rfq::sim {

namespace json = boost::json;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "application/json", any case, optionally followed by parameters ("; charset=utf-8").
bool is_json_content_type(std::string_view value) {
  return iequals(trim(value.substr(0, value.find(';'))), "application/json");
}

}  // namespace

// ---- shared with okx_sim_cancel.cpp, okx_ws_sim.cpp (okx_sim_detail.hpp) --------------------

namespace detail {

OkxAnswer envelope(std::string_view code, std::string_view msg, json::array data, unsigned status) {
  json::object o;
  o["code"] = code;
  o["msg"] = msg;
  o["data"] = std::move(data);
  return {status, std::string(code), json::serialize(o)};
}

OkxAnswer parameter_error(std::string_view name) {
  return envelope("51000", "Parameter " + std::string(name) + " error", {}, 400);
}

std::optional<OkxAnswer> parse_json_body(const SimHttpRequest& request, json::object& out) {
  const auto content_type = find_header(request, "Content-Type");
  const bool bad_type = content_type ? !is_json_content_type(*content_type) : !request.body.empty();
  if (bad_type) {
    return envelope("50006", "Invalid Content-Type. Please use \"application/JSON\".", {}, 400);
  }
  out = json::object();
  if (request.body.empty()) return std::nullopt;
  json::error_code ec;
  json::value v = json::parse(request.body, ec);
  if (ec || !v.is_object()) return envelope("50002", "JSON syntax error", {}, 400);
  out = std::move(v.as_object());
  return std::nullopt;
}

std::optional<OkxAnswer> string_param(const json::object& params, std::string_view name,
                                      std::string& out) {
  out.clear();
  const auto* v = params.if_contains(name);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (v->is_string()) {
    out = v->get_string();
  } else if (v->is_int64()) {
    out = std::to_string(v->get_int64());
  } else if (v->is_uint64()) {
    out = std::to_string(v->get_uint64());
  } else {
    return parameter_error(name);
  }
  return std::nullopt;
}

}  // namespace detail

namespace {

using detail::envelope;
using detail::OkxAnswer;
using detail::parameter_error;

constexpr std::uint64_t kFirstRfqId = 22535;  // the docs' example id, for familiar logs
constexpr std::size_t kMaxRfqsPerPage = 100;
constexpr std::int64_t kOptionRfqLifetimeMs = 600000;  // all legs options: 10 min
constexpr std::int64_t kOtherRfqLifetimeMs = 120000;   // otherwise: 2 min
constexpr std::int64_t kMaxFaultDelayMs = 600000;
constexpr std::string_view kWsFaultEndpoint = "ws";
constexpr std::string_view kWsPushFaultEndpoint = "ws-push";
constexpr std::size_t kSprdMassCancelLimit = 5;  // per 2 s and API key (PROTOCOLS.md §4)
constexpr std::chrono::seconds kSprdMassCancelWindow{2};
constexpr std::string_view kTraderCode = "RFQDSIM";
constexpr std::string_view kCounterparty = "WAGMI";  // OKX's demo-trading bot

constexpr std::string_view kStates[] = {"active",  "canceled", "pending_fill", "filled",
                                        "expired", "failed",   "traded_away"};

// ---- envelopes -----------------------------------------------------------------------------

// Auth failures as OKX words them live: msg first ({"msg":"Invalid Sign","code":"50113"}).
OkxAnswer refusal(const OkxRefusal& r) {
  json::object o;
  o["msg"] = r.msg;
  o["code"] = r.code;
  o["data"] = json::array();
  return {r.status, std::string(r.code), json::serialize(o)};
}

// Observed live: HTTP 429 {"msg":"Too Many Requests","code":"50011"} (PROTOCOLS.md §5).
OkxAnswer too_many_requests() {
  return {429, "50011", R"({"msg":"Too Many Requests","code":"50011"})"};
}

// An injected `unavailable` fault: OKX's 50001 with its documented HTTP 503 (§5).
OkxAnswer service_unavailable() {
  return envelope("50001", "Service temporarily unavailable. Please try again later.", {}, 503);
}

json::object leg_item(const SimLeg& leg) {
  json::object o;
  o["instId"] = leg.inst_id;
  o["tdMode"] = "cross";
  o["ccy"] = "";
  o["side"] = leg.side;
  o["posSide"] = "net";
  o["sz"] = leg.sz;
  o["tgtCcy"] = "";
  o["tradeQuoteCcy"] = "";
  return o;
}

}  // namespace

// Every field of the documented GET /api/v5/rfq/rfqs item; numbers as strings, as OKX does.
// Shared with okx_ws_sim.cpp, whose rfqs pushes carry the same item.
json::object detail::rfq_item(const SimRfq& r) {
  json::array legs;
  for (const auto& leg : r.legs) legs.push_back(leg_item(leg));
  json::object o;
  o["rfqId"] = r.rfq_id;
  o["clRfqId"] = r.cl_rfq_id;
  o["tag"] = r.tag;
  o["traderCode"] = kTraderCode;
  o["validUntil"] = std::to_string(r.valid_until_ms);
  o["allowPartialExecution"] = false;
  o["state"] = r.state;
  o["flowType"] = "";
  o["counterparties"] = json::array{json::string(kCounterparty)};
  o["legs"] = std::move(legs);
  o["cTime"] = std::to_string(r.c_time_ms);
  o["uTime"] = std::to_string(r.u_time_ms);
  o["groupId"] = "";
  o["acctAlloc"] = json::array();
  return o;
}

namespace {

using detail::rfq_item;

// ---- request parsing -----------------------------------------------------------------------

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

std::string_view endpoint_of(std::string_view path) {
  const auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool parse_u64(std::string_view s, std::uint64_t& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

struct RfqQuery {
  std::string rfq_id;
  std::string cl_rfq_id;
  std::string state;
  std::uint64_t begin_id = 0;           // only ids above (newer than) this; 0 = no bound
  std::optional<std::uint64_t> end_id;  // only ids below (older than) this
  std::size_t limit = kMaxRfqsPerPage;

  bool admits(std::uint64_t id, const SimRfq& r) const {
    if (id <= begin_id) return false;
    if (end_id && id >= *end_id) return false;
    return state.empty() || r.state == state;
  }
};

std::optional<OkxAnswer> apply_query_param(std::string_view key, std::string_view value,
                                           RfqQuery& q) {
  if (value.empty()) return std::nullopt;  // "k=" is absent, like python-okx's skipped ""
  std::uint64_t n = 0;
  if (key == "rfqId") {
    q.rfq_id = value;
  } else if (key == "clRfqId") {
    q.cl_rfq_id = value;
  } else if (key == "state") {
    if (std::find(std::begin(kStates), std::end(kStates), value) == std::end(kStates)) {
      return parameter_error("state");
    }
    q.state = value;
  } else if (key == "beginId" || key == "endId") {
    if (!parse_u64(value, n)) return parameter_error(key);
    if (key == "beginId") {
      q.begin_id = n;
    } else {
      q.end_id = n;
    }
  } else if (key == "limit") {
    if (!parse_u64(value, n) || n == 0) return parameter_error("limit");
    q.limit = std::min<std::uint64_t>(n, kMaxRfqsPerPage);
  }
  return std::nullopt;
}

// Query values arrive percent-encoded (ccxt) or raw (python-okx, okx-api): decode both.
std::optional<OkxAnswer> parse_rfq_query(std::string_view target, RfqQuery& q) {
  auto url = boost::urls::parse_origin_form(target);
  if (!url) return parameter_error("query");
  for (const auto& param : url->params()) {
    if (!param.has_value) continue;
    if (auto bad = apply_query_param(param.key, param.value, q)) return bad;
  }
  return std::nullopt;
}

// ---- seeding -------------------------------------------------------------------------------

constexpr std::string_view kSeedInstruments[] = {
    "BTC-USD-260327-100000-C", "BTC-USD-260327-90000-P", "BTC-USD-260626-120000-C",
    "BTC-USD-260626-80000-P",  "ETH-USD-260327-4000-C",  "ETH-USD-260327-3000-P",
    "ETH-USD-260626-5000-C",   "ETH-USD-260626-2500-P",
};
constexpr std::string_view kSeedSizes[] = {"1", "5", "10", "25"};

// Raw engine output only: std:: distributions differ between standard libraries.
std::vector<SimLeg> seed_legs(std::mt19937_64& rng) {
  constexpr std::size_t n_instruments = std::size(kSeedInstruments);
  const std::size_t n_legs = 1 + rng() % 2;
  const std::size_t first = rng() % n_instruments;
  std::vector<SimLeg> legs;
  for (std::size_t i = 0; i < n_legs; ++i) {
    SimLeg leg;
    leg.inst_id = kSeedInstruments[(first + i * 3) % n_instruments];
    leg.side = (rng() % 2 == 0) ? "buy" : "sell";
    leg.sz = kSeedSizes[rng() % std::size(kSeedSizes)];
    legs.push_back(std::move(leg));
  }
  return legs;
}

std::string seed_cl_id(std::size_t n) {
  std::string digits = std::to_string(n);
  if (digits.size() < 3) digits.insert(0, 3 - digits.size(), '0');
  return "seed" + digits;
}

// An option instId has five parts and ends in -C or -P (BTC-USD-260327-100000-C).
bool is_option(std::string_view inst_id) {
  return std::count(inst_id.begin(), inst_id.end(), '-') == 4 &&
         (inst_id.ends_with("-C") || inst_id.ends_with("-P"));
}

std::int64_t default_lifetime_ms(const std::vector<SimLeg>& legs) {
  const bool all_options =
      std::all_of(legs.begin(), legs.end(), [](const SimLeg& l) { return is_option(l.inst_id); });
  return all_options ? kOptionRfqLifetimeMs : kOtherRfqLifetimeMs;
}

}  // namespace

// ---- OkxSim --------------------------------------------------------------------------------

OkxSim::OkxSim(Clock& clock, Journal& journal, OkxSimOptions options)
    : clock_(clock),
      journal_(journal),
      options_(std::move(options)),
      log_(log::get("sim")),
      next_id_(kFirstRfqId) {}

OkxSim::~OkxSim() = default;

std::string_view to_string(FaultKind kind) {
  switch (kind) {
    case FaultKind::delay:
      return "delay";
    case FaultKind::unavailable:
      return "unavailable";
    case FaultKind::drop:
      return "drop";
    case FaultKind::ws_close:
      return "ws_close";
    case FaultKind::auth:
      return "auth";
    case FaultKind::reject:
      return "reject";
  }
  return "unknown";
}

std::optional<FaultKind> fault_kind_from(std::string_view name) {
  for (auto kind :
       {FaultKind::delay, FaultKind::unavailable, FaultKind::drop, FaultKind::ws_close,
        FaultKind::auth, FaultKind::reject}) {
    if (to_string(kind) == name) return kind;
  }
  return std::nullopt;
}

// An injected fault strikes first, like a failing gateway in front of OKX: unavailable, auth and
// drop skip routing, auth and the rate windows (the request is not processed and does not count);
// delay lets the request through unchanged and only marks the reply.
SimHttpReply OkxSim::handle(const SimHttpRequest& request) {
  expire_due();
  const auto* route = find_route(path_of(request.target));
  const auto fault = take_fault(route ? route->endpoint : std::string_view());
  SimHttpReply reply;
  Answer answer;
  if (!fault || fault->kind == FaultKind::delay) {
    answer = dispatch(request, route);
    if (fault) reply.delay_ms = fault->delay_ms;
  } else if (fault->kind == FaultKind::unavailable) {
    answer = service_unavailable();
  } else if (fault->kind == FaultKind::auth) {
    answer = envelope("50111", "Invalid OK-ACCESS-KEY", {}, 401);
  } else if (fault->kind == FaultKind::reject) {
    answer = envelope(fault->code, fault->message, {}, 200);
  } else {  // drop: nothing is answered, so the journal shows status 0 and no code
    answer = {0, "", ""};
    reply.drop = true;
  }
  record(request, answer, fault ? &*fault : nullptr);
  reply.status = answer.status;
  reply.body = std::move(answer.body);
  return reply;
}

std::span<const detail::OkxRoute> OkxSim::routes() {
  using std::chrono::seconds;
  static const detail::OkxRoute kRoutes[] = {
      {"GET", "/api/v5/public/time", "time", false, 0, Nanos{0}, &OkxSim::on_public_time},
      {"POST", "/api/v5/rfq/cancel-rfq", "cancel-rfq", true, 5, seconds(2), &OkxSim::on_cancel_rfq},
      {"POST", "/api/v5/rfq/cancel-batch-rfqs", "cancel-batch-rfqs", true, 2, seconds(2),
       &OkxSim::on_cancel_batch_rfqs},
      {"POST", "/api/v5/rfq/cancel-all-rfqs", "cancel-all-rfqs", true, 2, seconds(2),
       &OkxSim::on_cancel_all_rfqs},
      {"GET", "/api/v5/rfq/rfqs", "rfqs", true, 2, seconds(2), &OkxSim::on_get_rfqs},
  };
  return kRoutes;
}

const detail::OkxRoute* OkxSim::find_route(std::string_view path) {
  for (const auto& route : routes()) {
    if (route.path == path) return &route;
  }
  return nullptr;
}

// Order: route (404/405), auth (401), rate limit (429), then the endpoint's own checks.
OkxSim::Answer OkxSim::dispatch(const SimHttpRequest& request, const detail::OkxRoute* route) {
  if (route == nullptr) {
    return envelope("50005", "API endpoint is inactive or unavailable.", {}, 404);
  }
  if (request.method != route->method) {
    return envelope("50115", "Invalid request method.", {}, 405);
  }
  if (route->is_private) {
    if (auto refused = check_okx_auth(request, options_, clock_.now_ms())) {
      return refusal(*refused);
    }
    if (!within_limit(*route)) return too_many_requests();
  }
  return (this->*(route->handler))(request);
}

// Only authenticated requests reach here, so they count; refused ones do not.
bool OkxSim::within_limit(const detail::OkxRoute& route) {
  if (!options_.enforce_limits || route.limit == 0) return true;
  std::string key = std::string(route.endpoint) + '\n' + options_.api_key;
  auto it = windows_.find(key);
  if (it == windows_.end()) {
    it = windows_.emplace(std::move(key), SlidingWindow(route.limit, route.window)).first;
  }
  return it->second.try_acquire(clock_.steady_now());
}

OkxSim::Answer OkxSim::on_public_time(const SimHttpRequest&) {
  json::object item;
  item["ts"] = std::to_string(clock_.now_ms());
  return envelope("0", "", json::array{std::move(item)});
}

// Newest first (descending rfqId); beginId/endId are exclusive bounds, limit caps the page.
OkxSim::Answer OkxSim::on_get_rfqs(const SimHttpRequest& request) {
  RfqQuery q;
  if (auto bad = parse_rfq_query(request.target, q)) return *bad;
  json::array data;
  if (!q.rfq_id.empty() || !q.cl_rfq_id.empty()) {
    const SimRfq* r = q.rfq_id.empty() ? find_by_cl_id(q.cl_rfq_id) : find_by_id(q.rfq_id);
    std::uint64_t id = 0;
    if (r != nullptr && parse_u64(r->rfq_id, id) && q.admits(id, *r)) data.push_back(rfq_item(*r));
    return envelope("0", "", std::move(data));
  }
  auto it = q.end_id ? rfqs_.lower_bound(*q.end_id) : rfqs_.end();
  while (it != rfqs_.begin() && data.size() < q.limit) {
    --it;
    if (it->first <= q.begin_id) break;
    if (q.admits(it->first, it->second)) data.push_back(rfq_item(it->second));
  }
  return envelope("0", "", std::move(data));
}

void OkxSim::record(const SimHttpRequest& request, const Answer& answer, const OkxFault* fault) {
  const auto path = path_of(request.target);
  json::object entry;
  entry["ts_ms"] = clock_.now_ms();
  entry["venue"] = "okx";
  entry["method"] = request.method;
  entry["target"] = request.target;
  entry["endpoint"] = endpoint_of(path);
  entry["body"] = request.body;
  entry["status"] = static_cast<std::int64_t>(answer.status);
  entry["code"] = answer.code;
  if (auto demo = find_header(request, "x-simulated-trading")) entry["simulated_trading"] = *demo;
  if (fault != nullptr) {
    entry["fault"] = to_string(fault->kind);
    if (fault->kind == FaultKind::delay) entry["delay_ms"] = fault->delay_ms;
  }
  journal_.append(std::move(entry));
  log_->debug("okx {} {} -> {} code={}{}{}", request.method, request.target, answer.status,
              answer.code, fault ? " fault=" : "", fault ? to_string(fault->kind) : "");
}

// ---- test hooks ----------------------------------------------------------------------------

bool OkxSim::fill(std::string_view rfq_id) {
  expire_due();
  SimRfq* r = find_by_id(rfq_id);
  if (r == nullptr || r->state != "active") return false;
  set_state(*r, "filled", clock_.now_ms());
  return true;
}

void OkxSim::inject(OkxFault fault) {
  if (fault.count < 1) throw std::invalid_argument("okx sim: fault count must be at least 1");
  if (fault.delay_ms < 0 || fault.delay_ms > kMaxFaultDelayMs) {
    throw std::invalid_argument("okx sim: fault delay_ms must be within 0..600000");
  }
  if (fault.kind == FaultKind::reject && (fault.code.empty() || fault.code == "0")) {
    throw std::invalid_argument("okx sim: a reject fault needs a code other than \"0\"");
  }
  if (fault.endpoint == kWsPushFaultEndpoint) {
    if (fault.kind != FaultKind::delay && fault.kind != FaultKind::drop) {
      throw std::invalid_argument("okx sim: a 'ws-push' fault is delay or drop, not " +
                                  std::string(to_string(fault.kind)));
    }
  } else if (fault.kind == FaultKind::ws_close) {
    if (fault.endpoint.empty()) fault.endpoint = kWsFaultEndpoint;
    if (fault.endpoint != kWsFaultEndpoint) {
      throw std::invalid_argument("okx sim: a ws_close fault takes endpoint 'ws', not '" +
                                  fault.endpoint + "'");
    }
  } else if (!fault.endpoint.empty() && !is_endpoint(fault.endpoint)) {
    std::string known;
    for (const auto& route : routes()) known += std::string(route.endpoint) + ", ";
    throw std::invalid_argument("okx sim: no endpoint named '" + fault.endpoint + "' (" + known +
                                "ws for ws_close, ws-push for rfqs pushes)");
  }
  faults_.push_back(std::move(fault));
}

bool OkxSim::take_ws_close() {
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (it->kind != FaultKind::ws_close) continue;
    take_unit(it);
    return true;
  }
  return false;
}

std::optional<OkxFault> OkxSim::take_push_fault() {
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (it->endpoint == kWsPushFaultEndpoint) return take_unit(it);
  }
  return std::nullopt;
}

OkxFault OkxSim::take_unit(std::deque<OkxFault>::iterator it) {
  OkxFault taken = *it;
  taken.count = 1;
  if (--it->count == 0) faults_.erase(it);
  return taken;
}

std::size_t OkxSim::pending_faults() const {
  std::size_t n = 0;
  for (const auto& f : faults_) n += static_cast<std::size_t>(f.count);
  return n;
}

bool OkxSim::is_endpoint(std::string_view endpoint) {
  const auto all = routes();
  return std::any_of(all.begin(), all.end(),
                     [&](const detail::OkxRoute& r) { return r.endpoint == endpoint; });
}

// One unit of the first queued fault for this endpoint ("" in a fault matches every request).
// ws_close faults belong to WebSocket messages (take_ws_close) and ws-push faults to rfqs pushes
// (take_push_fault), never to HTTP requests.
std::optional<OkxFault> OkxSim::take_fault(std::string_view endpoint) {
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (it->kind == FaultKind::ws_close || it->endpoint == kWsPushFaultEndpoint) continue;
    if (!it->endpoint.empty() && it->endpoint != endpoint) continue;
    return take_unit(it);
  }
  return std::nullopt;
}

// ---- RFQ book ------------------------------------------------------------------------------

std::string OkxSim::add_rfq(NewRfq rfq) {
  if (rfq.legs.empty()) throw std::invalid_argument("okx sim: an RFQ needs at least one leg");
  if (!rfq.cl_rfq_id.empty() && by_cl_id_.count(rfq.cl_rfq_id) != 0) {
    throw std::invalid_argument("okx sim: duplicate clRfqId " + rfq.cl_rfq_id);
  }
  expire_due();
  const auto now = clock_.now_ms();
  const auto id = next_id_++;
  SimRfq r;
  r.rfq_id = std::to_string(id);
  r.cl_rfq_id = std::move(rfq.cl_rfq_id);
  r.tag = std::move(rfq.tag);
  r.state = "active";
  r.c_time_ms = now;
  r.u_time_ms = now;
  r.valid_until_ms = now + rfq.expires_in_ms.value_or(default_lifetime_ms(rfq.legs));
  r.legs = std::move(rfq.legs);
  if (!r.cl_rfq_id.empty()) by_cl_id_.emplace(r.cl_rfq_id, id);
  expiry_.emplace(r.valid_until_ms, id);
  std::string rfq_id = r.rfq_id;
  const auto& stored = rfqs_.emplace(id, std::move(r)).first->second;
  observers_.notify(stored);
  return rfq_id;
}

void OkxSim::seed(std::size_t count, std::int64_t spread_ms, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  const auto n = static_cast<std::int64_t>(count);
  for (std::int64_t i = 1; i <= n; ++i) {
    NewRfq rfq;
    rfq.cl_rfq_id = seed_cl_id(++seeded_);
    rfq.tag = "seed";
    rfq.legs = seed_legs(rng);
    // Evenly over (now, now + spread]: never 0, so no seeded RFQ is born expired.
    rfq.expires_in_ms = std::max<std::int64_t>(1, spread_ms * i / n);
    add_rfq(std::move(rfq));
  }
}

std::optional<SimRfq> OkxSim::rfq(std::string_view rfq_id) const {
  expire_due();
  const SimRfq* r = find_by_id(rfq_id);
  if (r == nullptr) return std::nullopt;
  return *r;
}

std::vector<SimRfq> OkxSim::rfqs() const {
  expire_due();
  std::vector<SimRfq> out;
  out.reserve(rfqs_.size());
  for (const auto& [id, r] : rfqs_) out.push_back(r);
  return out;
}

std::size_t OkxSim::count_in_state(std::string_view state) const {
  expire_due();
  return static_cast<std::size_t>(std::count_if(
      rfqs_.begin(), rfqs_.end(), [&](const auto& kv) { return kv.second.state == state; }));
}

void OkxSim::expire_due() const {
  const auto now = clock_.now_ms();
  while (!expiry_.empty() && expiry_.begin()->first <= now) {
    const auto [valid_until, id] = *expiry_.begin();
    expiry_.erase(expiry_.begin());
    auto it = rfqs_.find(id);
    if (it == rfqs_.end() || it->second.state != "active") continue;  // stale entry
    set_state(it->second, "expired", valid_until);
  }
}

void OkxSim::set_state(SimRfq& r, std::string_view state, std::int64_t u_time_ms) const {
  r.state = state;
  r.u_time_ms = u_time_ms;
  if (state != "pending_fill") observers_.notify(r);
}

std::uint64_t OkxSim::on_rfq_change(RfqObserver observer) {
  return observers_.add(std::move(observer));
}

void OkxSim::remove_observer(std::uint64_t id) { observers_.remove(id); }

void OkxSim::tick() { expire_due(); }

// ---- WebSocket support (okx_ws_sim.cpp) ----------------------------------------------------

bool OkxSim::sprd_mass_cancel(std::string_view sprd_id) {
  if (options_.enforce_limits) {
    std::string key = "ws:sprd-mass-cancel\n" + options_.api_key;
    auto it = windows_.find(key);
    if (it == windows_.end()) {
      it = windows_
               .emplace(std::move(key), SlidingWindow(kSprdMassCancelLimit, kSprdMassCancelWindow))
               .first;
    }
    if (!it->second.try_acquire(clock_.steady_now())) return false;
  }
  auto it = sprd_mass_cancels_.find(sprd_id);
  if (it == sprd_mass_cancels_.end()) it = sprd_mass_cancels_.emplace(sprd_id, 0).first;
  ++it->second;
  const std::int64_t now = clock_.now_ms();
  for (auto& [id, order] : spread_orders_) {
    if (order.state == "live" && (sprd_id.empty() || order.sprd_id == sprd_id)) {
      order.state = "canceled";
      order.u_time_ms = now;
    }
  }
  return true;
}

std::string OkxSim::add_spread_order(std::string sprd_id) {
  if (sprd_id.empty()) throw std::invalid_argument("okx sim: a spread order needs a sprdId");
  const std::uint64_t id = next_ord_id_++;
  const std::int64_t now = clock_.now_ms();
  SimSpreadOrder o{std::to_string(id), std::move(sprd_id), "live", now, now};
  std::string ord_id = o.ord_id;
  spread_orders_.emplace(id, std::move(o));
  return ord_id;
}

std::optional<SimSpreadOrder> OkxSim::spread_order(std::string_view ord_id) const {
  std::uint64_t id = 0;
  if (!parse_u64(ord_id, id)) return std::nullopt;
  const auto it = spread_orders_.find(id);
  if (it == spread_orders_.end()) return std::nullopt;
  return it->second;
}

std::vector<SimSpreadOrder> OkxSim::spread_orders() const {
  std::vector<SimSpreadOrder> out;
  out.reserve(spread_orders_.size());
  for (const auto& [id, o] : spread_orders_) out.push_back(o);
  return out;
}

std::size_t OkxSim::sprd_mass_cancels(std::string_view sprd_id) const {
  const auto it = sprd_mass_cancels_.find(sprd_id);
  return it == sprd_mass_cancels_.end() ? 0 : it->second;
}

// splitmix64 of a counter: looks like OKX's random ids, yet a test run is reproducible.
std::string OkxSim::next_conn_id() {
  std::uint64_t z = ++next_conn_ * 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(8, '0');
  for (int i = 7; i >= 0; --i, z >>= 4) id[static_cast<std::size_t>(i)] = kHex[z & 0xF];
  return id;
}

SimRfq* OkxSim::find_by_id(std::string_view rfq_id) const {
  std::uint64_t id = 0;
  if (!parse_u64(rfq_id, id)) return nullptr;
  auto it = rfqs_.find(id);
  return it == rfqs_.end() ? nullptr : &it->second;
}

SimRfq* OkxSim::find_by_cl_id(std::string_view cl_rfq_id) const {
  auto it = by_cl_id_.find(std::string(cl_rfq_id));
  if (it == by_cl_id_.end()) return nullptr;
  auto r = rfqs_.find(it->second);
  return r == rfqs_.end() ? nullptr : &r->second;
}

}  // namespace rfq::sim
