#include "engine/venues/deribit/deribit_rpc.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>

#include "engine/core/json_get.hpp"

namespace rfq::deribit {
namespace {

namespace json = boost::json;

bool integer(const json::value* v, std::int64_t& out) {
  if (v == nullptr) return false;
  if (const auto* i = v->if_int64()) {
    out = *i;
    return true;
  }
  if (const auto* u = v->if_uint64(); u && *u <= static_cast<std::uint64_t>(INT64_MAX)) {
    out = static_cast<std::int64_t>(*u);
    return true;
  }
  if (const auto* d = v->if_double(); d && *d == static_cast<double>(static_cast<std::int64_t>(*d))) {
    out = static_cast<std::int64_t>(*d);
    return true;
  }
  return false;
}

// Amounts and ratios as the venue's decimal text ("100000", "1.5"): integers as integers,
// other numbers in their shortest round-trip form (never Boost.JSON's "1E5").
std::string number_text(const json::value* v) {
  if (v == nullptr) return {};
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_int64()) return std::to_string(v->get_int64());
  if (v->is_uint64()) return std::to_string(v->get_uint64());
  if (v->is_double()) {
    char buf[400];  // fixed notation of any double fits
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v->get_double(), std::chars_format::fixed);
    return ec == std::errc() ? std::string(buf, end) : std::string();
  }
  return {};
}

}  // namespace

std::string build_request(std::uint64_t id, std::string_view method, json::object params) {
  return json::serialize(json::object{
      {"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}});
}

json::object auth_signature_params(std::string_view client_id, std::int64_t timestamp_ms,
                                   std::string_view nonce, std::string_view signature) {
  return {{"grant_type", "client_signature"}, {"client_id", client_id},
          {"timestamp", timestamp_ms},        {"nonce", nonce},
          {"data", ""},                       {"signature", signature}};
}

json::object auth_credentials_params(std::string_view client_id, std::string_view secret) {
  return {{"grant_type", "client_credentials"}, {"client_id", client_id}, {"client_secret", secret}};
}

json::object auth_refresh_params(std::string_view refresh_token) {
  return {{"grant_type", "refresh_token"}, {"refresh_token", refresh_token}};
}

json::object open_rfqs_params(std::optional<std::int64_t> continuation) {
  json::object p{{"role", "taker"}, {"state", "open"}, {"count", kPageSize}};
  if (continuation) p["continuation"] = *continuation;
  return p;
}

json::object filled_rfqs_params(int count) {
  return {{"role", "taker"}, {"state", "filled"}, {"count", count}};
}

std::string http_target(std::string_view method, std::string_view query) {
  std::string t = "/api/v2/";
  t.append(method);
  if (!query.empty()) t.append("?").append(query);
  return t;
}

Message parse_message(std::string_view text) {
  Message m;
  boost::system::error_code jec;
  json::value doc = json::parse(json::string_view(text.data(), text.size()), jec);
  const json::object* o = jec ? nullptr : doc.if_object();
  if (o == nullptr) {
    m.problem = jec ? "not JSON" : "not a JSON object";
    return m;
  }
  if (const json::value* method = o->if_contains("method"); method != nullptr) {
    if (!method->is_string()) {
      m.problem = "method is not a string";
      return m;
    }
    m.kind = Message::Kind::notification;
    m.method = std::string(method->get_string());
    if (const json::value* p = o->if_contains("params")) m.params = *p;
    return m;
  }
  std::int64_t id = 0;
  if (integer(o->if_contains("id"), id) && id >= 0) m.id = static_cast<std::uint64_t>(id);
  if (const json::value* e = o->if_contains("error"); e != nullptr && !e->is_null()) {
    const json::object* eo = e->if_object();
    RpcError err;
    if (eo == nullptr || !integer(eo->if_contains("code"), err.code)) {
      m.problem = "error without an integer code";
      return m;
    }
    err.message = json_get::string(*eo, "message");
    if (const json::value* d = eo->if_contains("data"); d != nullptr && d->is_object()) {
      err.reason = json_get::string(d->get_object(), "reason");
      err.param = json_get::string(d->get_object(), "param");
    }
    m.kind = Message::Kind::response;
    m.error = std::move(err);
    return m;
  }
  const json::value* r = o->if_contains("result");
  if (r == nullptr) {
    m.problem = "neither result, error nor method";
    return m;
  }
  m.kind = Message::Kind::response;
  m.result = *r;
  return m;
}

Errc map_error(std::string_view method, const RpcError& e) {
  switch (e.code) {
    case 13004:
    case 13009:
    case 10000:
      return Errc::auth;
    case 10028:
      return Errc::rate_limited;
    case 13028:
    case 13503:
    case 11051:
    case 11094:
    case 10040:
    case 10047:
      return Errc::unavailable;
    case 13888:
      return Errc::timeout;
    default:
      break;
  }
  if (method == kCancelBlockRfq) {
    if (e.code == 10004) return Errc::unknown_rfq;
    if (e.code == 11029 && e.param == "block_rfq_id") return Errc::not_cancelable;
  }
  return Errc::rejected;
}

std::string normalize_state(std::string_view raw) {
  if (raw == "open" || raw == "created") return "active";
  if (raw == "cancelled" || raw == "canceled") return "canceled";
  if (raw == "filled" || raw == "traded") return "filled";
  if (raw == "expired") return "expired";
  return "failed";
}

std::string parse_block_rfq(const json::value& v, Rfq& out) {
  const json::object* o = v.if_object();
  if (o == nullptr) return "object";
  out.venue = "deribit";
  std::int64_t id = 0;
  if (!integer(o->if_contains("block_rfq_id"), id) || id <= 0) return "block_rfq_id";
  out.id = std::to_string(id);
  out.raw_state = json_get::string(*o, "state");
  if (out.raw_state.empty()) return "state";
  out.state = normalize_state(out.raw_state);
  if (!integer(o->if_contains("creation_timestamp"), out.created_ms)) return "creation_timestamp";
  if (!integer(o->if_contains("expiration_timestamp"), out.expires_ms)) {
    return "expiration_timestamp";
  }
  out.label = json_get::string(*o, "label");
  out.client_id.clear();
  out.legs.clear();
  const json::value* lv = o->if_contains("legs");
  const json::array* legs = lv ? lv->if_array() : nullptr;
  if (legs == nullptr) return "legs";
  const std::string amount = number_text(o->if_contains("amount"));
  for (const json::value& l : *legs) {
    const json::object* lo = l.if_object();
    if (lo == nullptr) return "leg";
    RfqLeg leg;
    leg.instrument = json_get::string(*lo, "instrument_name");
    leg.side = json_get::string(*lo, "direction");
    if (leg.instrument.empty() || (leg.side != "buy" && leg.side != "sell")) {
      return "leg (instrument_name, direction)";
    }
    // A leg's size is the RFQ amount times its ratio; kept as text like OKX's sz.
    const std::string ratio = number_text(lo->if_contains("ratio"));
    leg.size = ratio.empty() || ratio == "1" ? amount : amount + "x" + ratio;
    out.legs.push_back(std::move(leg));
  }
  out.trades.clear();
  const json::value* tv = o->if_contains("trades");
  if (const json::array* trades = tv ? tv->if_array() : nullptr) {
    for (const json::value& t : *trades) {
      const json::object* to = t.if_object();
      if (to == nullptr) continue;
      RfqTrade trade;
      trade.side = json_get::string(*to, "direction");
      trade.amount = number_text(to->if_contains("amount"));
      trade.price = number_text(to->if_contains("price"));
      if ((trade.side != "buy" && trade.side != "sell") || trade.amount.empty()) continue;
      out.trades.push_back(std::move(trade));
    }
  }
  return {};
}

RfqPage parse_block_rfq_page(const json::value& result) {
  RfqPage page;
  const json::object* o = result.if_object();
  const json::value* list = o ? o->if_contains("block_rfqs") : nullptr;
  if (list == nullptr || !list->is_array()) {
    page.problem = "get_block_rfqs result has no block_rfqs array";
    return page;
  }
  for (std::size_t i = 0; i < list->get_array().size(); ++i) {
    Rfq r;
    if (std::string bad = parse_block_rfq(list->get_array()[i], r); !bad.empty()) {
      page.problem = "block_rfqs item " + std::to_string(i) + ": missing or invalid " + bad;
      page.rfqs.clear();
      return page;
    }
    page.rfqs.push_back(std::move(r));
  }
  std::int64_t c = 0;
  const json::value* cv = o->if_contains("continuation");
  if (cv != nullptr && !cv->is_null()) {
    if (integer(cv, c)) {
      page.continuation = c;
    } else if (cv->is_string() && parse_rfq_id(cv->get_string(), c)) {  // an opaque token
      page.continuation = c;
    }
  }
  return page;
}

AuthResult parse_auth(const json::value& result) {
  AuthResult a;
  const json::object* o = result.if_object();
  if (o == nullptr) {
    a.problem = "auth result is not an object";
    return a;
  }
  a.access_token = json_get::string(*o, "access_token");
  a.refresh_token = json_get::string(*o, "refresh_token");
  if (a.access_token.empty() || !integer(o->if_contains("expires_in"), a.expires_in_s) ||
      a.expires_in_s <= 0) {
    a.problem = "auth result without access_token or expires_in";
  }
  return a;
}

bool parse_rfq_id(std::string_view text, std::int64_t& out) {
  if (text.empty() || text.size() > 18) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && p == text.data() + text.size() && out > 0;
}

}  // namespace rfq::deribit
