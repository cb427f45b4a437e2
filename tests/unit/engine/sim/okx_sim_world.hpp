#pragma once
// Shared by the OkxSim unit tests: a model on a VirtualClock with its journal, requests signed
// the way every reference client signs (over exactly the bytes sent), and reply readers.

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "engine/auth/okx_signer.hpp"
#include "engine/core/clock.hpp"
#include "engine/sim/journal.hpp"
#include "engine/sim/okx_sim.hpp"

namespace rfq::sim::test {

namespace json = boost::json;

inline constexpr std::int64_t kStartMs = 1700000000000;  // 2023-11-14T22:13:20.000Z

struct World {
  explicit World(OkxSimOptions options = {}) : okx(clock, journal, std::move(options)) {}

  std::string add(std::string cl_id = "", std::int64_t expires_in_ms = 60000) {
    NewRfq rfq;
    rfq.cl_rfq_id = std::move(cl_id);
    rfq.legs = {{"BTC-USD-260327-100000-C", "buy", "25"}};
    rfq.expires_in_ms = expires_in_ms;
    return okx.add_rfq(std::move(rfq));
  }

  boost::asio::io_context io;
  VirtualClock clock{io, kStartMs};
  Journal journal;
  OkxSim okx;
};

// Signs exactly the bytes it sends, like every reference client.
inline SimHttpRequest signed_request(const Clock& clock, std::string method, std::string target,
                                     std::string body, const OkxSimOptions& creds = {}) {
  const auto ts = auth::okx_timestamp(clock.now_ms());
  const auto sign = auth::okx_sign(creds.secret, auth::okx_prehash(ts, method, target, body));
  SimHttpRequest r{std::move(method), std::move(target), std::move(body), {}};
  r.headers = {{"OK-ACCESS-KEY", creds.api_key},
               {"OK-ACCESS-SIGN", sign},
               {"OK-ACCESS-TIMESTAMP", ts},
               {"OK-ACCESS-PASSPHRASE", creds.passphrase}};
  if (r.method == "POST") r.headers.emplace_back("Content-Type", "application/json");
  return r;
}

inline SimHttpRequest cancel_request(const Clock& clock, std::string body) {
  return signed_request(clock, "POST", "/api/v5/rfq/cancel-rfq", std::move(body));
}

inline void set_header(SimHttpRequest& r, const std::string& name, const std::string& value) {
  for (auto& [k, v] : r.headers) {
    if (k == name) {
      v = value;
      return;
    }
  }
  r.headers.emplace_back(name, value);
}

inline void remove_header(SimHttpRequest& r, const std::string& name) {
  std::erase_if(r.headers, [&](const auto& h) { return h.first == name; });
}

inline json::object body_of(const SimHttpReply& reply) {
  return json::parse(reply.body).as_object();
}

inline std::string code_of(const SimHttpReply& reply) {
  return std::string(body_of(reply).at("code").as_string());
}

inline json::object item_of(const SimHttpReply& reply, std::size_t i = 0) {
  return body_of(reply).at("data").as_array().at(i).as_object();
}

inline std::string str(const json::object& o, std::string_view key) {
  return std::string(o.at(key).as_string());
}

inline std::vector<std::string> ids_of(const SimHttpReply& reply) {
  std::vector<std::string> ids;
  const auto body = body_of(reply);
  for (const auto& item : body.at("data").as_array()) {
    ids.push_back(str(item.as_object(), "rfqId"));
  }
  return ids;
}

}  // namespace rfq::sim::test
