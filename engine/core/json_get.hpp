#pragma once
// Tolerant field readers for venue answers (okx_rest, okx_ws, deribit_rpc): a missing field or
// one of an unexpected type reads as "", and the parser decides whether "" is an error. Which
// types count as text is part of each venue's contract, so each rule has its own name.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <string_view>

namespace rfq::json_get {

// A string field; "" when absent or not a string.
inline std::string string(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = o.if_contains(key);
  if (v == nullptr) return {};
  if (const auto* s = v->if_string()) return std::string(s->data(), s->size());
  return {};
}

// As string(), but a (signed 64-bit) integer reads as its decimal text: OKX WebSocket codes
// and ids may arrive as numbers.
inline std::string string_or_int(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = o.if_contains(key);
  if (v == nullptr) return {};
  if (const auto* s = v->if_string()) return std::string(s->data(), s->size());
  if (const auto* i = v->if_int64()) return std::to_string(*i);
  return {};
}

}  // namespace rfq::json_get
