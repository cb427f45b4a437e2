#include "engine/venues/okx/okx_ws.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "engine/auth/okx_signer.hpp"
#include "engine/core/json_get.hpp"
#include "engine/venues/okx/okx_rest.hpp"

namespace rfq::okx {
namespace {

namespace json = boost::json;

}  // namespace

std::string build_ws_login(const auth::OkxCredentials& creds, std::int64_t unix_seconds) {
  const std::string ts = std::to_string(unix_seconds);
  json::object arg{{"apiKey", creds.api_key},
                   {"passphrase", creds.passphrase.reveal()},
                   {"timestamp", ts},
                   {"sign", auth::okx_ws_login_sign(creds.secret.reveal(), ts)}};
  return json::serialize(json::object{{"op", "login"}, {"args", json::array{std::move(arg)}}});
}

std::string build_ws_subscribe(std::string_view id, std::string_view channel) {
  json::object arg{{"channel", channel}};
  return json::serialize(
      json::object{{"id", id}, {"op", "subscribe"}, {"args", json::array{std::move(arg)}}});
}

std::string build_sprd_mass_cancel(std::string_view id, std::string_view sprd_id) {
  json::object arg;
  if (!sprd_id.empty()) arg["sprdId"] = sprd_id;
  return json::serialize(
      json::object{{"id", id}, {"op", "sprd-mass-cancel"}, {"args", json::array{std::move(arg)}}});
}

Errc map_ws_code(std::string_view code) {
  if (code == "0") return Errc::ok;
  if (code == "60014" || code == "60023") return Errc::rate_limited;
  if (code == "60011" || code == "60009" || code == "60005" || code == "60007" ||
      code == "60024" || code == "60006" || code == "60004" || code == "60032") {
    return Errc::auth;
  }
  if (code == "63999" || code == "64007" || code == "64008") return Errc::unavailable;
  return Errc::rejected;
}

WsFrame parse_ws_frame(std::string_view text) {
  WsFrame f;
  boost::system::error_code jec;
  json::value doc = json::parse(json::string_view(text.data(), text.size()), jec);
  const json::object* o = jec ? nullptr : doc.if_object();
  if (o == nullptr) {
    f.kind = WsFrame::Kind::unreadable;
    f.message = jec ? "not JSON" : "not a JSON object";
    return f;
  }
  f.id = json_get::string_or_int(*o, "id");
  f.code = json_get::string_or_int(*o, "code");
  f.message = json_get::string_or_int(*o, "msg");
  if (const json::value* a = o->if_contains("arg"); a != nullptr && a->is_object()) {
    f.channel = json_get::string_or_int(a->get_object(), "channel");
  }
  const std::string event = json_get::string_or_int(*o, "event");
  if (!event.empty()) {
    if (event == "login") f.kind = WsFrame::Kind::login;
    else if (event == "subscribe") f.kind = WsFrame::Kind::subscribe;
    else if (event == "error") f.kind = WsFrame::Kind::error;
    else if (event == "notice") f.kind = WsFrame::Kind::notice;
    return f;
  }
  if (f.op = json_get::string_or_int(*o, "op"); !f.op.empty()) {
    f.kind = WsFrame::Kind::op_answer;
    return f;
  }
  const json::value* d = o->if_contains("data");
  if (f.channel.empty() || d == nullptr) return f;
  f.kind = WsFrame::Kind::push;
  if (f.channel != "rfqs") return f;
  const json::array* arr = d->if_array();
  if (arr == nullptr) {
    f.kind = WsFrame::Kind::unreadable;
    f.message = "rfqs push has no data array";
    return f;
  }
  f.rfqs.reserve(arr->size());
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const json::object* item = (*arr)[i].if_object();
    Rfq q;
    std::string bad = item ? parse_rfq_item(*item, q) : std::string("object");
    if (!bad.empty()) {
      f.kind = WsFrame::Kind::unreadable;
      f.message = "rfqs push item " + std::to_string(i) + ": missing or invalid " + bad;
      f.rfqs.clear();
      return f;
    }
    f.rfqs.push_back(std::move(q));
  }
  return f;
}

}  // namespace rfq::okx
