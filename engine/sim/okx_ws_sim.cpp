#include "engine/sim/okx_ws_sim.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <utility>

#include "engine/auth/okx_signer.hpp"
#include "engine/core/log.hpp"
#include "engine/sim/journal.hpp"
#include "engine/sim/okx_sim.hpp"
#include "engine/sim/okx_sim_detail.hpp"

namespace rfq::sim {

namespace json = boost::json;

namespace {

constexpr std::string_view kRfqsChannel = "rfqs";
constexpr std::string_view kSprdOrdersChannel = "sprd-orders";
constexpr std::string_view kMassCancelOp = "sprd-mass-cancel";
constexpr std::size_t kMaxIdLength = 32;
// Far beyond any clock (a timestamp in ms or us still parses, and is then 60006); it keeps the
// conversion to ms in range.
constexpr std::int64_t kMaxTimestampSeconds = 99999999999999;

// The documented error texts (PROTOCOLS.md §2).
constexpr std::string_view kPleaseLogIn = "Please log in";
constexpr std::string_view kInvalidArgs = "Invalid args";

struct LoginRefusal {
  std::string_view code;
  std::string_view msg;
};
constexpr LoginRefusal kBadTimestamp{"60004", "Invalid timestamp"};
constexpr LoginRefusal kExpired{"60006", "Timestamp request expired"};
constexpr LoginRefusal kBadKey{"60005", "Invalid apiKey"};
constexpr LoginRefusal kBadPassphrase{"60024", "Wrong passphrase"};
constexpr LoginRefusal kBadSign{"60007", "Invalid sign"};

bool is_known_channel(std::string_view channel) {
  return channel == kRfqsChannel || channel == kSprdOrdersChannel;
}

// OKX's id rule: case-sensitive letters and digits, 1-32 characters.
bool is_valid_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  for (const char c : id) {
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alnum) return false;
  }
  return true;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// "1538054050" or "1538054050.975" (the docs' JS hint divides Date.now() by 1000) -> Unix ms.
bool parse_seconds(std::string_view text, std::int64_t& ms) {
  const auto dot = text.find('.');
  const auto whole = text.substr(0, dot);
  const auto fraction = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (!all_digits(whole) || (dot != std::string_view::npos && !all_digits(fraction))) {
    return false;
  }
  std::int64_t seconds = 0;
  const auto [end, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), seconds);
  if (ec != std::errc() || seconds > kMaxTimestampSeconds) return false;
  std::int64_t millis = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    millis = millis * 10 + (i < fraction.size() ? fraction[i] - '0' : 0);
  }
  ms = seconds * 1000 + millis;
  return true;
}

// The timestamp's decimal text, as the client signed it: a string as sent; an integer in
// decimal; a fractional number in its shortest round-trip form, which is what JavaScript's
// String(n) and Python's repr() print for numbers of this size. nullopt for anything else.
std::optional<std::string> timestamp_text(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_int64()) return std::to_string(v.get_int64());
  if (v.is_uint64()) return std::to_string(v.get_uint64());
  if (v.is_double() && std::isfinite(v.get_double())) {
    char buf[64];
    const auto [end, ec] =
        std::to_chars(buf, buf + sizeof buf, v.get_double(), std::chars_format::fixed);
    if (ec == std::errc()) return std::string(buf, end);
  }
  return std::nullopt;
}

std::optional<std::string_view> string_at(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string_view(v->get_string());
}

// args: a non-empty array of objects.
const json::array* object_args(const json::object& msg) {
  const auto* args = msg.if_contains("args");
  if (args == nullptr || !args->is_array() || args->get_array().empty()) return nullptr;
  for (const auto& arg : args->get_array()) {
    if (!arg.is_object()) return nullptr;
  }
  return &args->get_array();
}

}  // namespace

// One client message, parsed as far as the envelope goes.
struct OkxWsSession::Request {
  std::string_view text;
  json::object msg;               // the message when `parsed`
  bool parsed = false;            // a JSON object with a string "op"
  std::string endpoint;           // the op, "ping", or "invalid"
  std::optional<std::string> id;  // "id" when it is a string (echoed even when invalid)
  bool has_bad_id = false;        // "id" present but not 1-32 letters/digits
};

OkxWsSession::OkxWsSession(OkxSim& okx, SendFn send, CloseFn close)
    : okx_(okx),
      send_(std::move(send)),
      close_(std::move(close)),
      conn_id_(okx.next_conn_id()),
      last_received_(okx.clock().steady_now()) {}

OkxWsSession::~OkxWsSession() { stop_watching(); }

void OkxWsSession::on_text(std::string_view text) {
  if (closed_) return;
  last_received_ = okx_.clock().steady_now();
  Request req;
  req.text = text;
  if (text == "ping") {
    req.endpoint = "ping";
  } else {
    json::error_code ec;
    json::value v = json::parse(text, ec);
    if (!ec && v.is_object() && string_at(v.get_object(), "op")) {
      req.msg = std::move(v.get_object());
      req.parsed = true;
      req.endpoint = *string_at(req.msg, "op");
      if (const auto* id = req.msg.if_contains("id")) {
        if (id->is_string()) req.id = std::string(id->get_string());
        req.has_bad_id = !req.id || !is_valid_id(*req.id);
      }
    } else {
      req.endpoint = "invalid";
    }
  }
  // An injected fault strikes before the message is looked at, like a gateway dying under it.
  if (okx_.take_ws_close()) {
    record(req, "", true);
    return close(kWsCloseInternalError, "Internal error (sim fault)");
  }
  std::string code;
  if (req.endpoint == "ping") {
    send("pong");
  } else if (!req.parsed) {
    code = invalid_request(req);
  } else {
    code = dispatch(req);
  }
  record(req, code, false);
}

std::string OkxWsSession::dispatch(const Request& req) {
  const auto& op = req.endpoint;
  const bool is_subscribe = op == "subscribe";
  if (op == "login") return on_login(req);
  if (!is_subscribe && op != "unsubscribe" && op != kMassCancelOp) {
    return send_error(req, "60019", "Invalid op: " + op);
  }
  if (!logged_in_) return send_error(req, "60011", kPleaseLogIn);
  if (op == kMassCancelOp) return on_sprd_mass_cancel(req);
  return on_subscribe(req, is_subscribe);
}

void OkxWsSession::check_idle() {
  if (closed_) return;
  if (okx_.clock().steady_now() - last_received_ > kWsIdleTimeout) {
    close(kWsCloseIdle, "No data received in 30s");
  }
}

// ---- ops -----------------------------------------------------------------------------------

// Refusals are checked in the REST order (PROTOCOLS.md §1 as the sim applies it): timestamp
// format, window, key, passphrase, sign. Malformed args (not one object of the four fields) are
// 60012 and keep the connection open: the client's bug, not a failed login.
std::string OkxWsSession::on_login(const Request& req) {
  if (logged_in_) {
    return send_error(req, "60031",
                      "The WebSocket endpoint does not allow multiple or repeated logins.");
  }
  const auto* args = object_args(req.msg);
  if (req.has_bad_id || args == nullptr || args->size() != 1) return invalid_request(req);
  const auto& a = args->front().get_object();
  const auto key = string_at(a, "apiKey");
  const auto passphrase = string_at(a, "passphrase");
  const auto sign = string_at(a, "sign");
  const auto* ts = a.if_contains("timestamp");
  if (!key || !passphrase || !sign || ts == nullptr) return invalid_request(req);

  const auto refusal = [&]() -> std::optional<LoginRefusal> {
    const auto& opts = okx_.options();
    const auto text = timestamp_text(*ts);
    std::int64_t ts_ms = 0;
    if (!text || !parse_seconds(*text, ts_ms)) return kBadTimestamp;
    if (std::llabs(okx_.clock().now_ms() - ts_ms) > kWsLoginWindowMs) return kExpired;
    if (!auth::equal_ct(*key, opts.api_key)) return kBadKey;
    if (!auth::equal_ct(*passphrase, opts.passphrase)) return kBadPassphrase;
    if (!auth::equal_ct(*sign, auth::okx_ws_login_sign(opts.secret, *text))) return kBadSign;
    return std::nullopt;
  }();
  if (refusal) {
    send_error(req, refusal->code, refusal->msg);
    close(kWsCloseLoginFailed, "Login Failed");
    return std::string(refusal->code);
  }
  logged_in_ = true;
  json::object o;
  if (req.id) o["id"] = *req.id;
  o["event"] = "login";
  o["code"] = "0";
  o["msg"] = "";
  o["connId"] = conn_id_;
  send(json::serialize(o));
  return "0";
}

// All or nothing: every arg must name a known channel before any is (un)subscribed; then one
// answer per arg, echoing the arg as sent. Subscribing twice is answered twice, pushed once.
std::string OkxWsSession::on_subscribe(const Request& req, bool subscribe) {
  const auto* args = object_args(req.msg);
  if (req.has_bad_id || args == nullptr) return invalid_request(req);
  for (const auto& arg : *args) {
    const auto channel = string_at(arg.get_object(), "channel");
    if (!channel) return invalid_request(req);
    if (!is_known_channel(*channel)) {
      return send_error(req, "60018",
                        "Wrong URL or channel:" + std::string(*channel) +
                            " doesn't exist. Please use the correct URL, channel and parameters "
                            "referring to API document.");
    }
  }
  for (const auto& arg : *args) {
    const std::string channel(*string_at(arg.get_object(), "channel"));
    if (subscribe) {
      channels_.insert(channel);
    } else {
      channels_.erase(channel);
    }
    json::object o;
    if (req.id) o["id"] = *req.id;
    o["event"] = subscribe ? "subscribe" : "unsubscribe";
    o["arg"] = arg;
    o["connId"] = conn_id_;
    send(json::serialize(o));
  }
  if (subscribed(kRfqsChannel) && !observer_) {
    observer_ = okx_.on_rfq_change([this](const SimRfq& rfq) { push_rfq(rfq); });
  } else if (!subscribed(kRfqsChannel)) {
    stop_watching();
  }
  return "0";
}

// args: exactly one object; sprdId absent, null or "" means every spread.
std::string OkxWsSession::on_sprd_mass_cancel(const Request& req) {
  const auto* args = object_args(req.msg);
  if (!req.id || req.has_bad_id || args == nullptr || args->size() != 1) {
    return mass_cancel_reply(req, "60013", kInvalidArgs);
  }
  std::string_view sprd_id;
  if (const auto* v = args->front().get_object().if_contains("sprdId"); v && !v->is_null()) {
    if (!v->is_string()) return mass_cancel_reply(req, "60013", kInvalidArgs);
    sprd_id = v->get_string();
  }
  if (!okx_.sprd_mass_cancel(sprd_id)) {
    return mass_cancel_reply(req, "60014", "Requests too frequent");
  }
  return mass_cancel_reply(req, "0", "");
}

// ---- answers -------------------------------------------------------------------------------

std::string OkxWsSession::send_error(const Request& req, std::string_view code,
                                     std::string_view msg) {
  json::object o;
  if (req.id) o["id"] = *req.id;
  o["event"] = "error";
  o["code"] = code;
  o["msg"] = msg;
  o["connId"] = conn_id_;
  send(json::serialize(o));
  return std::string(code);
}

std::string OkxWsSession::invalid_request(const Request& req) {
  return send_error(req, "60012", "Invalid request: " + std::string(req.text));
}

// The trade-op envelope: always "id" ("" when the client sent none) and "op"; data has the one
// result item only on success.
std::string OkxWsSession::mass_cancel_reply(const Request& req, std::string_view code,
                                            std::string_view msg) {
  json::object o;
  o["id"] = req.id.value_or("");
  o["op"] = kMassCancelOp;
  json::array data;
  if (code == "0") data.push_back(json::object{{"result", true}});
  o["data"] = std::move(data);
  o["code"] = code;
  o["msg"] = msg;
  send(json::serialize(o));
  return std::string(code);
}

// A ws-push fault strikes between OKX and this connection, like a gateway that loses or holds
// a frame: the RFQ's state has changed either way.
void OkxWsSession::push_rfq(const SimRfq& rfq) {
  const auto fault = okx_.take_push_fault();
  if (fault) record_push(rfq, *fault);
  if (fault && fault->kind == FaultKind::drop) return;
  json::object arg;
  arg["channel"] = kRfqsChannel;
  arg["uid"] = okx_.options().uid;
  json::object o;
  o["arg"] = std::move(arg);
  o["data"] = json::array{detail::rfq_item(rfq)};
  auto text = json::serialize(o);
  if (fault) return hold_push(std::move(text), fault->delay_ms);
  if (held_.empty()) return send(std::move(text));
  held_.push_back({std::move(text), TimerHandle()});  // keeps its place behind a held push
}

// `this` in the timer callback is safe: held_ owns the handle, so the callback cannot outlive
// the session or a close() that cleared the queue.
void OkxWsSession::hold_push(std::string text, std::int64_t delay_ms) {
  auto timer = okx_.clock().schedule(Millis(delay_ms), [this] { release_pushes(); });
  held_.push_back({std::move(text), std::move(timer)});
}

// Sends the queue's head while it is no longer held. A timer is inactive from the moment its
// callback starts, so the push whose timer fired goes out, then those queued behind it, up to
// the next push still held.
void OkxWsSession::release_pushes() {
  while (!held_.empty() && !held_.front().timer.active()) {
    auto text = std::move(held_.front().text);
    held_.pop_front();
    send(std::move(text));
  }
}

void OkxWsSession::send(std::string text) {
  if (!closed_) send_(std::move(text));
}

void OkxWsSession::close(int code, std::string reason) {
  if (closed_) return;
  closed_ = true;
  stop_watching();
  held_.clear();  // held pushes die with the connection; their timers are cancelled
  log::get("sim")->debug("okx ws {}: close {} {}", conn_id_, code, reason);
  close_(code, std::move(reason));
}

void OkxWsSession::stop_watching() {
  if (observer_) okx_.remove_observer(*observer_);
  observer_.reset();
}

void OkxWsSession::record(const Request& req, std::string_view code, bool fault) {
  json::object entry;
  entry["ts_ms"] = okx_.clock().now_ms();
  entry["venue"] = "okx_ws";
  entry["conn_id"] = conn_id_;
  entry["endpoint"] = req.endpoint;
  if (req.id) entry["id"] = *req.id;
  // A login carries the passphrase and sign, and unparsed text may be a broken login.
  if (req.parsed && req.endpoint != "login") entry["body"] = req.text;
  entry["code"] = code;
  if (fault) entry["fault"] = to_string(FaultKind::ws_close);
  okx_.journal().append(std::move(entry));
  log::get("sim")->debug("okx ws {} {} -> code={}{}", conn_id_, req.endpoint, code,
                         fault ? " fault=ws_close" : "");
}

void OkxWsSession::record_push(const SimRfq& rfq, const OkxFault& fault) {
  json::object entry;
  entry["ts_ms"] = okx_.clock().now_ms();
  entry["venue"] = "okx_ws";
  entry["conn_id"] = conn_id_;
  entry["endpoint"] = "push";
  entry["channel"] = kRfqsChannel;
  entry["rfq_id"] = rfq.rfq_id;
  entry["state"] = rfq.state;
  entry["fault"] = to_string(fault.kind);
  if (fault.kind == FaultKind::delay) entry["delay_ms"] = fault.delay_ms;
  okx_.journal().append(std::move(entry));
  log::get("sim")->debug("okx ws {} push rfq {} {} fault={}", conn_id_, rfq.rfq_id, rfq.state,
                         to_string(fault.kind));
}

}  // namespace rfq::sim
