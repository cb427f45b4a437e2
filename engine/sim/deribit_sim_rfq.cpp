// DeribitSim's block RFQ book (PROTOCOLS.md §10): the taker's RFQs and their state machine
// (open -> filled | cancelled | expired), lazy expiry, observers, cancel-on-disconnect, and the
// two taker methods, private/cancel_block_rfq and private/get_block_rfqs.

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/core/clock.hpp"
#include "engine/sim/deribit_sim.hpp"
#include "engine/sim/deribit_sim_detail.hpp"
#include "engine/sim/journal.hpp"

namespace rfq::sim {

namespace json = boost::json;

using detail::invalid_params;
using detail::missing_param;
using detail::rpc_error;

namespace {

constexpr std::string_view kCurrencies[] = {"BTC", "ETH", "USDC", "USDT", "EURR"};
constexpr std::string_view kTakerChannelPrefix = "block_rfq.taker.";
constexpr std::string_view kTaker = "SIMTAKER";
constexpr std::string_view kMaker = "SIMMAKER";
constexpr std::int64_t kMinTradeAmount = 10;  // the docs' example value
constexpr std::int64_t kDefaultCount = 20;
constexpr std::int64_t kMaxCount = 1000;

bool is_currency(std::string_view c) {
  return std::find(std::begin(kCurrencies), std::end(kCurrencies), c) != std::end(kCurrencies);
}

// Whole amounts as integers: Boost.JSON would print 100000.0 as 1E5.
json::value amount_json(double amount) {
  if (std::floor(amount) == amount && std::fabs(amount) < 9e15) {
    return static_cast<std::int64_t>(amount);
  }
  return amount;
}

// get_block_rfqs filters. state "traded" reads as filled and "closed" as every state but open;
// role "maker" matches nothing (this account only takes).
struct RfqFilter {
  std::optional<std::string> state;
  std::optional<std::string> role;
  std::optional<std::string> currency;
  std::optional<std::int64_t> block_rfq_id;

  bool admits(const DeribitBlockRfq& r) const {
    if (block_rfq_id && r.block_rfq_id != *block_rfq_id) return false;
    if (role && *role == "maker") return false;
    if (currency && *currency != "any" && r.currency != *currency) return false;
    if (!state) return true;
    if (*state == "closed") return r.state != "open";
    if (*state == "traded") return r.state == "filled";
    return r.state == *state;
  }
};

std::optional<detail::RpcError> parse_filter(const json::object& p, RfqFilter& f) {
  static constexpr std::string_view kStates[] = {"open",      "filled",  "traded",
                                                 "cancelled", "expired", "closed"};
  static constexpr std::string_view kRoles[] = {"any", "taker", "maker"};
  if (auto bad = detail::string_param(p, "state", f.state)) return bad;
  if (auto bad = detail::string_param(p, "role", f.role)) return bad;
  if (auto bad = detail::string_param(p, "currency", f.currency)) return bad;
  if (auto bad = detail::int_param(p, "block_rfq_id", f.block_rfq_id)) return bad;
  if (f.state && std::find(std::begin(kStates), std::end(kStates), *f.state) == std::end(kStates)) {
    return invalid_params("state", "invalid state");
  }
  if (f.role && std::find(std::begin(kRoles), std::end(kRoles), *f.role) == std::end(kRoles)) {
    return invalid_params("role", "invalid role");
  }
  if (f.currency && *f.currency != "any" && !is_currency(*f.currency)) {
    return invalid_params("currency", "invalid currency");
  }
  return std::nullopt;
}

}  // namespace

// ---- shared (deribit_sim_detail.hpp) -----------------------------------------------------------

json::object detail::block_rfq_json(const DeribitBlockRfq& r) {
  json::array legs;
  for (const auto& leg : r.legs) {
    json::object l;
    l["ratio"] = leg.ratio;
    l["instrument_name"] = leg.instrument_name;
    l["direction"] = leg.direction;
    legs.push_back(std::move(l));
  }
  json::object o;
  o["block_rfq_id"] = r.block_rfq_id;
  o["creation_timestamp"] = r.creation_timestamp;
  o["expiration_timestamp"] = r.expiration_timestamp;
  o["role"] = "taker";
  o["state"] = r.state;
  o["amount"] = amount_json(r.amount);
  o["min_trade_amount"] = kMinTradeAmount;
  o["legs"] = std::move(legs);
  o["bids"] = json::array();
  o["asks"] = json::array();
  o["makers"] = json::array();
  o["combo_id"] = nullptr;
  o["label"] = r.label;
  o["disclosed"] = true;
  o["taker"] = kTaker;
  if (!r.trades.empty()) {  // only when filled, as the taker view has them
    json::array trades;
    for (const auto& t : r.trades) {
      json::object j;
      j["direction"] = t.direction;
      j["price"] = amount_json(t.price);
      j["amount"] = amount_json(t.amount);
      j["maker"] = kMaker;
      trades.push_back(std::move(j));
    }
    o["trades"] = std::move(trades);
  }
  return o;
}

std::optional<std::string_view> detail::taker_channel_currency(std::string_view channel) {
  if (!channel.starts_with(kTakerChannelPrefix)) return std::nullopt;
  const auto currency = channel.substr(kTakerChannelPrefix.size());
  if (currency != "any" && !is_currency(currency)) return std::nullopt;
  return currency;
}

// ---- methods ---------------------------------------------------------------------------------

// Errors for an unknown or non-open id are the sim's choice (UNCONFIRMED, see the header).
DeribitSim::Answer DeribitSim::on_cancel_block_rfq(Call& call) {
  std::optional<std::int64_t> id;
  if (auto bad = detail::int_param(call.params, "block_rfq_id", id)) return Answer::fail(*bad);
  if (!id) return Answer::fail(missing_param("block_rfq_id"));
  const auto it = rfqs_.find(*id);
  if (it == rfqs_.end()) {
    return Answer::fail(rpc_error(detail::kOrderNotFound, "order_not_found", "block_rfq not found",
                                  "block_rfq_id"));
  }
  auto& r = it->second;
  if (r.state != "open") {
    return Answer::fail(rpc_error(detail::kInvalidArguments, "invalid_arguments",
                                  "block_rfq is " + r.state, "block_rfq_id"));
  }
  set_state(r, "cancelled", clock_.now_ms());
  return Answer::ok(detail::block_rfq_json(r));
}

// Newest first; `continuation` returns ids below it. The answer's continuation is the lowest id
// returned while more matches lie below it, else null.
DeribitSim::Answer DeribitSim::on_get_block_rfqs(Call& call) {
  std::optional<std::int64_t> count;
  std::optional<std::int64_t> continuation;
  RfqFilter filter;
  if (auto bad = detail::int_param(call.params, "count", count)) return Answer::fail(*bad);
  if (auto bad = detail::int_param(call.params, "continuation", continuation)) {
    return Answer::fail(*bad);
  }
  if (auto bad = parse_filter(call.params, filter)) return Answer::fail(*bad);
  const auto limit = count.value_or(kDefaultCount);
  if (limit < 1 || limit > kMaxCount) {
    return Answer::fail(invalid_params("count", "must be between 1 and 1000"));
  }

  json::array out;
  std::optional<std::int64_t> lowest;
  bool more = false;
  auto it = continuation ? rfqs_.lower_bound(*continuation) : rfqs_.end();
  while (it != rfqs_.begin()) {
    --it;
    if (!filter.admits(it->second)) continue;
    if (static_cast<std::int64_t>(out.size()) == limit) {
      more = true;
      break;
    }
    out.push_back(detail::block_rfq_json(it->second));
    lowest = it->first;
  }
  json::object result;
  if (more) {
    result["continuation"] = *lowest;
  } else {
    result["continuation"] = nullptr;
  }
  result["block_rfqs"] = std::move(out);
  return Answer::ok(std::move(result));
}

// ---- the book --------------------------------------------------------------------------------

std::int64_t DeribitSim::add_rfq(NewBlockRfq rfq) {
  if (rfq.legs.empty()) throw std::invalid_argument("deribit sim: a block RFQ needs legs");
  for (const auto& leg : rfq.legs) {
    if (leg.direction != "buy" && leg.direction != "sell") {
      throw std::invalid_argument("deribit sim: leg direction must be buy or sell, not '" +
                                  leg.direction + "'");
    }
    if (leg.ratio < 1) throw std::invalid_argument("deribit sim: leg ratio must be at least 1");
  }
  if (!(rfq.amount > 0)) throw std::invalid_argument("deribit sim: amount must be positive");
  if (!is_currency(rfq.currency)) {
    throw std::invalid_argument("deribit sim: unknown currency '" + rfq.currency + "'");
  }
  expire_due();
  const auto now = clock_.now_ms();
  DeribitBlockRfq r;
  r.block_rfq_id = next_id_++;
  r.state = "open";
  r.currency = std::move(rfq.currency);
  r.label = std::move(rfq.label);
  r.amount = rfq.amount;
  r.creation_timestamp = now;
  r.expiration_timestamp = now + rfq.expires_in_ms.value_or(options_.rfq_ttl_ms);
  r.update_timestamp = now;
  r.legs = std::move(rfq.legs);
  const auto id = r.block_rfq_id;
  expiry_.emplace(r.expiration_timestamp, id);
  observers_.notify(rfqs_.emplace(id, std::move(r)).first->second);
  return id;
}

bool DeribitSim::fill(std::int64_t block_rfq_id, DeribitFill how) {
  if (how.direction != "buy" && how.direction != "sell") {
    throw std::invalid_argument("deribit sim: fill direction must be buy or sell, not '" +
                                how.direction + "'");
  }
  if (!std::isfinite(how.price) || how.price < 0) {
    throw std::invalid_argument("deribit sim: fill price must be a finite number >= 0");
  }
  expire_due();
  const auto it = rfqs_.find(block_rfq_id);
  if (it == rfqs_.end() || it->second.state != "open") return false;
  const double amount = how.amount.value_or(it->second.amount);
  if (!(amount > 0) || amount > it->second.amount) {
    throw std::invalid_argument("deribit sim: fill amount must be above 0 and at most the RFQ's");
  }
  it->second.trades.push_back({how.direction, how.price, amount});
  set_state(it->second, "filled", clock_.now_ms());
  return true;
}

std::vector<std::int64_t> DeribitSim::cancel_on_disconnect(std::string_view conn_id) {
  expire_due();
  const auto now = clock_.now_ms();
  std::vector<std::int64_t> cancelled;
  json::array ids;
  for (auto& [id, r] : rfqs_) {
    if (r.state != "open") continue;
    set_state(r, "cancelled", now);
    cancelled.push_back(id);
    ids.emplace_back(id);
  }
  json::object e;
  e["ts_ms"] = now;
  e["venue"] = "deribit_ws";
  e["transport"] = "ws";
  e["conn_id"] = conn_id;
  e["endpoint"] = "cancel_on_disconnect";
  e["cancelled"] = std::move(ids);
  e["code"] = 0;
  journal_.append(std::move(e));
  return cancelled;
}

std::optional<DeribitBlockRfq> DeribitSim::rfq(std::int64_t block_rfq_id) const {
  expire_due();
  const auto it = rfqs_.find(block_rfq_id);
  if (it == rfqs_.end()) return std::nullopt;
  return it->second;
}

std::vector<DeribitBlockRfq> DeribitSim::rfqs() const {
  expire_due();
  std::vector<DeribitBlockRfq> out;
  out.reserve(rfqs_.size());
  for (const auto& [id, r] : rfqs_) out.push_back(r);
  return out;
}

std::size_t DeribitSim::count_in_state(std::string_view state) const {
  expire_due();
  return static_cast<std::size_t>(std::count_if(
      rfqs_.begin(), rfqs_.end(), [&](const auto& kv) { return kv.second.state == state; }));
}

void DeribitSim::tick() { expire_due(); }

void DeribitSim::expire_due() const {
  const auto now = clock_.now_ms();
  while (!expiry_.empty() && expiry_.begin()->first <= now) {
    const auto [at, id] = *expiry_.begin();
    expiry_.erase(expiry_.begin());
    const auto it = rfqs_.find(id);
    if (it == rfqs_.end() || it->second.state != "open") continue;  // stale entry
    set_state(it->second, "expired", at);
  }
}

void DeribitSim::set_state(DeribitBlockRfq& r, std::string_view state, std::int64_t at_ms) const {
  r.state = state;
  r.update_timestamp = at_ms;
  observers_.notify(r);
}

std::uint64_t DeribitSim::on_rfq_change(BlockRfqObserver observer) {
  return observers_.add(std::move(observer));
}

void DeribitSim::remove_observer(std::uint64_t id) { observers_.remove(id); }

}  // namespace rfq::sim
