#include "engine/venues/okx/okx_rest.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <string>

#include "engine/auth/okx_signer.hpp"
#include "engine/core/json_get.hpp"

namespace rfq::okx {
namespace {

namespace json = boost::json;

bool is_ascii_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// RFC 3986 unreserved characters pass; everything else becomes %XX.
std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (is_ascii_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      auto u = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0x0F]);
    }
  }
  return out;
}

bool is_2xx(unsigned http_status) { return http_status >= 200 && http_status < 300; }

// OKX sends codes as strings; tolerate an integer from a proxy or an older gateway.
// Returns false when the key is absent or of another type.
bool get_code(const json::object& o, std::string_view key, std::string& out) {
  const json::value* v = o.if_contains(key);
  if (!v) return false;
  if (const auto* s = v->if_string()) {
    out.assign(s->data(), s->size());
    return true;
  }
  if (const auto* i = v->if_int64()) {
    out = std::to_string(*i);
    return true;
  }
  if (const auto* u = v->if_uint64()) {
    out = std::to_string(*u);
    return true;
  }
  return false;
}

bool get_required_string(const json::object& o, std::string_view key, std::string& out) {
  const json::value* v = o.if_contains(key);
  if (!v || !v->is_string()) return false;
  const auto& s = v->get_string();
  out.assign(s.data(), s.size());
  return true;
}

// Unix ms as OKX sends it: a string of decimal digits (an integer is tolerated).
bool get_ms(const json::object& o, std::string_view key, std::int64_t& out) {
  const json::value* v = o.if_contains(key);
  if (!v) return false;
  if (const auto* i = v->if_int64()) {
    if (*i < 0) return false;
    out = *i;
    return true;
  }
  const auto* s = v->if_string();
  if (!s || s->empty()) return false;
  for (char c : *s) {
    if (c < '0' || c > '9') return false;
  }
  auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), out);
  return ec == std::errc() && p == s->data() + s->size();
}

std::string status_text(unsigned http_status) { return std::to_string(http_status); }

// Message for a reply we could not read as an OKX envelope.
std::string unreadable_message(unsigned http_status, std::string_view body, bool is_json) {
  std::string m = "HTTP " + status_text(http_status) + ": ";
  if (body.empty()) return m + "empty reply body";
  if (is_json) return m + "reply is valid JSON but not an OKX envelope (no code)";
  return m + "reply was not valid JSON";
}

// The stable code for a reply that is not an OKX envelope: only the HTTP status speaks, and a
// body that is not even a JSON object under a status that maps to nothing better is a gateway
// fault, not a refusal (the same rule parse_cancel_rfq applies inline).
Errc unreadable_errc(unsigned http_status, bool is_object) {
  Errc e = is_2xx(http_status) ? Errc::unavailable : map_code("", http_status);
  if (e == Errc::rejected && !is_object) e = Errc::unavailable;
  return e;
}

// An answer parsed as an OKX envelope: its top-level object and code. The value lives in the
// caller's storage (a stack arena on the cancel path), which must outlive it.
struct Envelope {
  json::value doc;
  const json::object* top = nullptr;
  std::string code;
  bool valid_json = false;
  bool code_missing = true;
  bool ok() const { return top != nullptr && !code_missing; }
};

Envelope open_envelope(std::string_view body, json::storage_ptr sp = {}) {
  Envelope env;
  boost::system::error_code jec;
  env.doc = json::parse(json::string_view(body.data(), body.size()), jec, std::move(sp));
  env.valid_json = !jec;
  env.top = jec ? nullptr : env.doc.if_object();
  env.code_missing = env.top == nullptr || !get_code(*env.top, "code", env.code);
  return env;
}

// data[0] when it is an object: the one item single cancels and cancel-all answer with.
const json::object* first_data_item(const json::object& top) {
  const json::value* d = top.if_contains("data");
  const json::array* arr = d ? d->if_array() : nullptr;
  return arr && !arr->empty() ? (*arr)[0].if_object() : nullptr;
}

// "0" all ok, "1" all failed, "2" partial: the codes under which cancel-batch items speak.
bool is_batch_code(std::string_view code) { return code == "0" || code == "1" || code == "2"; }

bool all_items_have_scode(const json::array& arr) {
  std::string s_code;
  for (const json::value& v : arr) {
    const json::object* o = v.if_object();
    if (!o || !get_code(*o, "sCode", s_code)) return false;
  }
  return true;
}

}  // namespace

bool valid_client_id(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  for (char c : s) {
    if (!is_ascii_alnum(c)) return false;
  }
  return true;
}

std::string build_cancel_rfq_body(std::string_view id, std::string_view client_id) {
  json::object o;
  if (!id.empty()) o.emplace("rfqId", json::string_view(id.data(), id.size()));
  if (!client_id.empty())
    o.emplace("clRfqId", json::string_view(client_id.data(), client_id.size()));
  return json::serialize(o);
}

std::string rfqs_target(std::string_view state, std::string_view end_id) {
  std::string t(kRfqsPath);
  t.push_back('?');
  if (!state.empty()) t.append("state=").append(percent_encode(state)).push_back('&');
  t.append("limit=").append(std::to_string(kRfqsPageLimit));
  if (!end_id.empty()) t.append("&endId=").append(percent_encode(end_id));
  return t;
}

Headers auth_headers(const auth::OkxCredentials& creds, std::int64_t unix_ms,
                     std::string_view method, std::string_view target, std::string_view body,
                     bool demo) {
  // The prehash needs the method in upper case; the caller must send the same word.
  std::string m(method);
  for (char& c : m) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  std::string ts = auth::okx_timestamp(unix_ms);
  std::string sign = auth::okx_sign(creds.secret.reveal(), auth::okx_prehash(ts, m, target, body));
  Headers h;
  h.reserve(6);
  h.emplace_back("OK-ACCESS-KEY", creds.api_key);
  h.emplace_back("OK-ACCESS-SIGN", std::move(sign));
  h.emplace_back("OK-ACCESS-TIMESTAMP", std::move(ts));
  h.emplace_back("OK-ACCESS-PASSPHRASE", creds.passphrase.reveal());
  if (m != "GET") h.emplace_back("Content-Type", "application/json");
  if (demo) h.emplace_back("x-simulated-trading", "1");
  return h;
}

Errc map_code(std::string_view code, unsigned http_status) {
  // A known venue code is more specific than the HTTP status (50013 comes with HTTP 429 but
  // means "busy", not "slow down").
  if (code == "70000") return Errc::unknown_rfq;
  if (code == "70200") return Errc::not_cancelable;
  if (code == "70207") return Errc::nothing_to_cancel;
  if (code == "50011" || code == "50061") return Errc::rate_limited;
  if (code.size() == 5 && code.substr(0, 3) == "501") return Errc::auth;
  if (code == "50001" || code == "50013" || code == "50026" || code == "70208") {
    return Errc::unavailable;
  }
  if (code == "50004") return Errc::timeout;
  if (http_status == 429) return Errc::rate_limited;
  if (http_status == 401) return Errc::auth;
  if (http_status >= 500 && http_status < 600) return Errc::unavailable;
  if (code == "0" && is_2xx(http_status)) return Errc::ok;
  return Errc::rejected;
}

CancelResult parse_cancel_rfq(unsigned http_status, std::string_view body, std::string_view req_id,
                              std::string_view req_client_id) {
  CancelResult r;
  r.sent = true;  // we hold an answer, so the request reached the venue
  r.id = std::string(req_id);
  r.client_id = std::string(req_client_id);

  auto fail = [&](Errc e, std::string venue_code, std::string message) {
    r.ec = make_error_code(e);
    r.venue_code = std::move(venue_code);
    r.message = std::move(message);
    if (r.message.empty()) r.message = r.ec.message();
    return r;
  };

  // The answer is small: parse it into a stack buffer, no heap allocation on the cancel path
  // (the resource falls back to the heap for an unusually large body).
  unsigned char scratch[4096];
  json::monotonic_resource arena(scratch, sizeof scratch);
  const Envelope env = open_envelope(body, &arena);
  if (!env.ok()) {
    // Gateway pages (HTML 502/504), empty bodies, truncated JSON: only the status speaks.
    return fail(unreadable_errc(http_status, env.top), status_text(http_status),
                unreadable_message(http_status, body, env.valid_json));
  }
  const json::object* top = env.top;
  const std::string& code = env.code;
  std::string msg = json_get::string(*top, "msg");

  // Per-item results are authoritative when the status is 2xx and the item carries sCode.
  const json::object* item = first_data_item(*top);
  std::string s_code;
  if (item && is_2xx(http_status) && get_code(*item, "sCode", s_code)) {
    if (std::string id = json_get::string(*item, "rfqId"); !id.empty()) r.id = std::move(id);
    if (std::string cl = json_get::string(*item, "clRfqId"); !cl.empty()) {
      r.client_id = std::move(cl);
    }
    std::string s_msg = json_get::string(*item, "sMsg");
    if (s_code == "0") {
      r.state = "canceled";
      r.venue_code = "0";
      r.message = std::move(s_msg);
      return r;
    }
    return fail(map_code(s_code, http_status), s_code, s_msg.empty() ? msg : s_msg);
  }

  Errc e = map_code(code, http_status);
  if (e == Errc::ok) {
    r.state = "canceled";
    r.venue_code = code;
    r.message = std::move(msg);
    return r;
  }
  return fail(e, code, std::move(msg));
}

std::string parse_rfq_item(const json::object& it, Rfq& q) {
  q.venue = "okx";
  if (!get_required_string(it, "rfqId", q.id) || q.id.empty()) return "rfqId";
  if (!get_required_string(it, "state", q.raw_state) || q.raw_state.empty()) return "state";
  if (!get_ms(it, "cTime", q.created_ms)) return "cTime";
  if (!get_ms(it, "validUntil", q.expires_ms)) return "validUntil";
  q.client_id = json_get::string(it, "clRfqId");
  q.label = json_get::string(it, "tag");
  q.state = normalize_state(q.raw_state);
  const json::value* lv = it.if_contains("legs");
  const json::array* legs = lv ? lv->if_array() : nullptr;
  if (!legs) return "legs";
  q.legs.reserve(legs->size());
  for (const json::value& l : *legs) {
    const json::object* lo = l.if_object();
    RfqLeg leg;
    if (!lo || !get_required_string(*lo, "instId", leg.instrument) ||
        !get_required_string(*lo, "side", leg.side) ||
        !get_required_string(*lo, "sz", leg.size)) {
      return "leg (instId, side, sz)";
    }
    q.legs.push_back(std::move(leg));
  }
  return {};
}

RfqPage parse_rfqs(unsigned http_status, std::string_view body) {
  RfqPage page;
  auto fail = [&](Errc e, std::string venue_code, std::string message) {
    page.ec = make_error_code(e);
    page.venue_code = std::move(venue_code);
    page.message = std::move(message);
    if (page.message.empty()) page.message = page.ec.message();
    page.rfqs.clear();
    return page;
  };

  const Envelope env = open_envelope(body);
  if (!env.ok()) {
    return fail(unreadable_errc(http_status, env.top), status_text(http_status),
                unreadable_message(http_status, body, env.valid_json));
  }
  const json::object* top = env.top;
  const std::string& code = env.code;
  page.venue_code = code;
  if (Errc e = map_code(code, http_status); e != Errc::ok) {
    return fail(e, code, json_get::string(*top, "msg"));
  }
  const json::value* d = top->if_contains("data");
  const json::array* arr = d ? d->if_array() : nullptr;
  if (!arr) return fail(Errc::unavailable, code, "rfqs reply has no data array");

  page.rfqs.reserve(arr->size());
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const json::object* it = (*arr)[i].if_object();
    Rfq q;
    std::string bad = it ? parse_rfq_item(*it, q) : std::string("object");
    if (!bad.empty()) {
      return fail(Errc::unavailable, code,
                  "rfqs item " + std::to_string(i) + ": missing or invalid " + bad);
    }
    page.rfqs.push_back(std::move(q));
  }
  return page;
}

std::string normalize_state(std::string_view raw) {
  if (raw == "active" || raw == "canceled" || raw == "expired" || raw == "filled" ||
      raw == "pending_fill" || raw == "failed") {
    return std::string(raw);
  }
  if (raw == "cancelled") return "canceled";
  // traded_away (maker-only) and any word we do not know: not open, not ours to cancel.
  return "failed";
}

bool parse_public_time(std::string_view body, std::int64_t& server_ms) {
  const Envelope env = open_envelope(body);
  if (!env.ok() || env.code != "0") return false;
  const json::value* d = env.top->if_contains("data");
  const json::array* arr = d ? d->if_array() : nullptr;
  if (!arr || arr->empty()) return false;
  const json::object* item = (*arr)[0].if_object();
  std::int64_t ms = 0;
  if (!item || !get_ms(*item, "ts", ms)) return false;
  server_ms = ms;
  return true;
}

std::string build_cancel_batch_body(const std::vector<std::string>& ids, bool client_ids) {
  json::array arr;
  arr.reserve(ids.size());
  for (const std::string& id : ids) arr.emplace_back(json::string_view(id.data(), id.size()));
  json::object o;
  o.emplace(client_ids ? "clRfqIds" : "rfqIds", std::move(arr));
  return json::serialize(o);
}

BatchAnswer parse_cancel_batch(unsigned http_status, std::string_view body) {
  BatchAnswer a;
  auto fail = [&](Errc e, std::string venue_code, std::string message) {
    a.ec = make_error_code(e);
    a.venue_code = std::move(venue_code);
    a.message = std::move(message);
    if (a.message.empty()) a.message = a.ec.message();
    a.items.clear();
    return a;
  };

  // Up to kBatchMax items: a larger stack buffer than cancel-rfq's; the resource falls back to
  // the heap beyond it.
  unsigned char scratch[16384];
  json::monotonic_resource arena(scratch, sizeof scratch);
  const Envelope env = open_envelope(body, &arena);
  if (!env.ok()) {
    return fail(unreadable_errc(http_status, env.top), status_text(http_status),
                unreadable_message(http_status, body, env.valid_json));
  }
  const json::object* top = env.top;
  const std::string& code = env.code;
  std::string msg = json_get::string(*top, "msg");
  const json::value* d = top->if_contains("data");
  const json::array* arr = d ? d->if_array() : nullptr;

  // Items are the per-RFQ results (PROTOCOLS §5) when the status is 2xx and they carry sCode;
  // under "0"/"1"/"2" an item without one is a malformed reply, not a whole-request verdict.
  bool items_speak = is_2xx(http_status) && arr && !arr->empty() &&
                     (is_batch_code(code) || all_items_have_scode(*arr));
  if (!items_speak) {
    Errc e = map_code(code, http_status);
    if (e == Errc::ok && !arr) {
      return fail(Errc::unavailable, code, "cancel-batch reply has no data array");
    }
    if (e == Errc::ok) {  // "0" with no items: nothing reported, nothing failed
      a.venue_code = code;
      a.message = std::move(msg);
      return a;
    }
    if (code == "2" && is_2xx(http_status)) {
      // Some RFQs were canceled but we cannot tell which: the outcome is unknown, not refused.
      return fail(Errc::unavailable, code, "cancel-batch partial result without items: " + msg);
    }
    return fail(e, code, std::move(msg));
  }

  a.venue_code = code;
  a.items.reserve(arr->size());
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const json::object* it = (*arr)[i].if_object();
    BatchItemAnswer item;
    if (!it || !get_code(*it, "sCode", item.venue_code) || item.venue_code.empty()) {
      return fail(Errc::unavailable, code,
                  "cancel-batch item " + std::to_string(i) + ": missing or invalid sCode");
    }
    item.id = json_get::string(*it, "rfqId");
    item.client_id = json_get::string(*it, "clRfqId");
    item.message = json_get::string(*it, "sMsg");
    if (item.venue_code != "0") {
      item.ec = make_error_code(map_code(item.venue_code, http_status));
      if (item.message.empty()) item.message = msg;
      if (item.message.empty()) item.message = item.ec.message();
    }
    a.items.push_back(std::move(item));
  }
  a.message = std::move(msg);
  return a;
}

CancelAllAnswer parse_cancel_all(unsigned http_status, std::string_view body) {
  CancelAllAnswer a;
  auto fail = [&](Errc e, std::string venue_code, std::string message) {
    a.ec = make_error_code(e);
    a.venue_code = std::move(venue_code);
    a.message = std::move(message);
    if (a.message.empty()) a.message = a.ec.message();
    a.ts = 0;
    return a;
  };

  unsigned char scratch[4096];
  json::monotonic_resource arena(scratch, sizeof scratch);
  const Envelope env = open_envelope(body, &arena);
  if (!env.ok()) {
    return fail(unreadable_errc(http_status, env.top), status_text(http_status),
                unreadable_message(http_status, body, env.valid_json));
  }
  const json::object* top = env.top;
  const std::string& code = env.code;
  std::string msg = json_get::string(*top, "msg");
  const json::object* item = first_data_item(*top);

  // 70207 may come top-level or as data[0].sCode (PROTOCOLS §3, unconfirmed which): an item
  // sCode under a 2xx status wins, as for cancel-rfq.
  std::string s_code;
  if (item && is_2xx(http_status) && get_code(*item, "sCode", s_code) && s_code != "0") {
    std::string s_msg = json_get::string(*item, "sMsg");
    return fail(map_code(s_code, http_status), s_code, s_msg.empty() ? msg : s_msg);
  }
  if (s_code.empty()) {
    if (Errc e = map_code(code, http_status); e != Errc::ok) return fail(e, code, std::move(msg));
  }
  // Success ("0", or an item sCode "0"). ts is informational: a missing or odd ts leaves 0
  // rather than turning a done cancel-all into a failure.
  a.venue_code = s_code.empty() ? code : s_code;
  a.message = std::move(msg);
  if (item) get_ms(*item, "ts", a.ts);
  return a;
}

}  // namespace rfq::okx
