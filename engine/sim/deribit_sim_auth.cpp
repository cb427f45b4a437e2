// DeribitSim's authentication (PROTOCOLS.md §8): public/auth and its three grants, access and
// refresh tokens on the Clock, single-use nonces, and the HTTP Authorization schemes (Bearer,
// deri-hmac-sha256, Basic). Signatures are checked over the raw bytes received.

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/json/object.hpp>
#include <charconv>
#include <cstdlib>
#include <string>

#include "engine/auth/okx_signer.hpp"  // equal_ct
#include "engine/core/clock.hpp"
#include "engine/sim/deribit_sim.hpp"
#include "engine/sim/deribit_sim_detail.hpp"

namespace rfq::sim {

namespace json = boost::json;

using detail::missing_param;
using detail::rpc_error;
using detail::unauthorized;

namespace detail {

std::string hmac_sha256_hex(std::string_view secret, std::string_view message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &mac_len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * mac_len);
  for (unsigned int i = 0; i < mac_len; ++i) {
    out.push_back(kHex[mac[i] >> 4]);
    out.push_back(kHex[mac[i] & 0xF]);
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the zero bytes the padding stands for.
  std::size_t pad = 0;
  if (text.back() == '=') ++pad;
  if (text.size() >= 2 && text[text.size() - 2] == '=') ++pad;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

}  // namespace detail

namespace {

constexpr std::string_view kScope = "connection mainaccount";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool parse_i64(std::string_view s, std::int64_t& out) {
  if (s.empty()) return false;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::string hex16(std::uint64_t z) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, z >>= 4) s[static_cast<std::size_t>(i)] = kHex[z & 0xF];
  return s;
}

detail::RpcError invalid_credentials() {
  return rpc_error(detail::kInvalidCredentials, "invalid_credentials");
}

// A required string parameter.
std::optional<detail::RpcError> required_string(const json::object& params, std::string_view name,
                                                std::string& out) {
  std::optional<std::string> v;
  if (auto bad = detail::string_param(params, name, v)) return bad;
  if (!v) return missing_param(name);
  out = std::move(*v);
  return std::nullopt;
}

struct HmacFields {
  std::string_view id, ts, sig, nonce;
};

// "id=..,ts=..,sig=..,nonce=..": by key, in any order, spaces allowed around each field.
bool parse_hmac_fields(std::string_view text, HmacFields& out) {
  while (!text.empty()) {
    const auto comma = text.find(',');
    const auto field = trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const auto eq = field.find('=');
    if (eq == std::string_view::npos) return false;
    const auto key = trim(field.substr(0, eq));
    const auto value = trim(field.substr(eq + 1));
    if (key == "id") {
      out.id = value;
    } else if (key == "ts") {
      out.ts = value;
    } else if (key == "sig") {
      out.sig = value;
    } else if (key == "nonce") {
      out.nonce = value;
    }
  }
  return !out.id.empty() && !out.ts.empty() && !out.sig.empty() && !out.nonce.empty();
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>((c >= 'a' && c <= 'z') ? c - 32 : c);
  return out;
}

}  // namespace

// ---- public/auth -----------------------------------------------------------------------------

DeribitSim::Answer DeribitSim::on_auth(Call& call) {
  const auto& p = call.params;
  std::string grant;
  if (auto bad = required_string(p, "grant_type", grant)) return Answer::fail(*bad);

  if (grant == "client_credentials") {
    std::string id;
    std::string secret;
    if (auto bad = required_string(p, "client_id", id)) return Answer::fail(*bad);
    if (auto bad = required_string(p, "client_secret", secret)) return Answer::fail(*bad);
    if (!auth::equal_ct(id, options_.client_id) ||
        !auth::equal_ct(secret, options_.client_secret)) {
      return Answer::fail(invalid_credentials());
    }
    return issue_tokens(call.ctx, id);
  }

  if (grant == "client_signature") {
    std::string id;
    std::string signature;
    std::string nonce;
    std::optional<std::string> data;
    std::optional<std::int64_t> ts;
    if (auto bad = required_string(p, "client_id", id)) return Answer::fail(*bad);
    if (auto bad = detail::int_param(p, "timestamp", ts)) return Answer::fail(*bad);
    if (!ts) return Answer::fail(missing_param("timestamp"));
    if (auto bad = required_string(p, "signature", signature)) return Answer::fail(*bad);
    if (auto bad = required_string(p, "nonce", nonce)) return Answer::fail(*bad);
    if (auto bad = detail::string_param(p, "data", data)) return Answer::fail(*bad);
    if (!auth::equal_ct(id, options_.client_id)) return Answer::fail(invalid_credentials());
    if (auto refused = check_timestamp(*ts)) return Answer::fail(*refused);
    const auto expected = detail::hmac_sha256_hex(
        options_.client_secret, std::to_string(*ts) + "\n" + nonce + "\n" + data.value_or(""));
    if (!auth::equal_ct(signature, expected))
      return Answer::fail(unauthorized("invalid signature"));
    if (auto refused = use_nonce(id, nonce)) return Answer::fail(*refused);
    return issue_tokens(call.ctx, id);
  }

  if (grant == "refresh_token") {
    std::string refresh;
    if (auto bad = required_string(p, "refresh_token", refresh)) return Answer::fail(*bad);
    const auto it = refresh_.find(refresh);
    if (it == refresh_.end()) return Answer::fail(unauthorized("invalid refresh_token"));
    const auto client_id = it->second.client_id;
    tokens_.erase(it->second.access_token);  // the token it renews stops working now
    refresh_.erase(it);
    return issue_tokens(call.ctx, client_id);
  }

  return Answer::fail(detail::invalid_params(
      "grant_type", "must be client_credentials, client_signature or refresh_token"));
}

// A fresh access + refresh pair. On a WebSocket the connection is now authenticated with it.
DeribitSim::Answer DeribitSim::issue_tokens(DeribitSessionCtx& ctx, const std::string& client_id) {
  const auto now = clock_.now_ms();
  std::erase_if(tokens_, [&](const auto& kv) { return kv.second.expires_at_ms <= now; });
  const auto stamp = std::to_string(now);
  ++next_token_;
  auto access = stamp + ".sim." + hex16(detail::splitmix64(next_token_ * 2));
  auto refresh = stamp + ".simr." + hex16(detail::splitmix64(next_token_ * 2 + 1));
  tokens_[access] = Token{client_id, now + options_.token_ttl_s * 1000, refresh};
  refresh_[refresh] = Refresh{access, client_id};
  if (ctx.transport == DeribitTransport::ws) ctx.access_token = access;

  json::object result;
  result["access_token"] = access;
  result["token_type"] = "bearer";
  result["expires_in"] = options_.token_ttl_s;
  result["refresh_token"] = refresh;
  result["scope"] = kScope;
  return Answer::ok(std::move(result));
}

// ---- private calls ---------------------------------------------------------------------------

DeribitSim::Refusal DeribitSim::authorize(const DeribitSessionCtx& ctx, const json::object& params,
                                          std::string& client_id) {
  if (ctx.transport == DeribitTransport::http) {
    if (ctx.http == nullptr) return unauthorized("authorization required");
    return check_http_auth(*ctx.http, client_id);
  }
  if (const auto* token = params.if_contains("access_token"); token && !token->is_null()) {
    if (!token->is_string()) return unauthorized("invalid_token");
    return check_token(token->get_string(), client_id);
  }
  if (ctx.access_token.empty()) return unauthorized("access_token required");
  return check_token(ctx.access_token, client_id);
}

DeribitSim::Refusal DeribitSim::check_token(std::string_view token, std::string& client_id) {
  const auto it = tokens_.find(std::string(token));
  if (it == tokens_.end()) return unauthorized("invalid_token");
  if (clock_.now_ms() >= it->second.expires_at_ms) return unauthorized("token_expired");
  client_id = it->second.client_id;
  return std::nullopt;
}

DeribitSim::Refusal DeribitSim::check_http_auth(const SimHttpRequest& request,
                                                std::string& client_id) {
  const auto value = trim(find_header(request, "Authorization").value_or(""));
  if (value.empty()) return unauthorized("authorization required");
  const auto space = value.find(' ');
  const auto scheme = value.substr(0, space);
  const auto rest =
      space == std::string_view::npos ? std::string_view() : trim(value.substr(space));
  if (iequals(scheme, "bearer")) return check_token(rest, client_id);
  if (iequals(scheme, "deri-hmac-sha256")) return check_hmac_header(request, rest, client_id);
  if (iequals(scheme, "basic")) return check_basic(rest, client_id);
  return unauthorized("unsupported authorization scheme");
}

DeribitSim::Refusal DeribitSim::check_hmac_header(const SimHttpRequest& request,
                                                  std::string_view fields, std::string& client_id) {
  HmacFields f;
  if (!parse_hmac_fields(fields, f)) return unauthorized("malformed deri-hmac-sha256 header");
  if (!auth::equal_ct(f.id, options_.client_id)) return invalid_credentials();
  std::int64_t ts = 0;
  if (!parse_i64(f.ts, ts)) return unauthorized("invalid timestamp");
  if (auto refused = check_timestamp(ts)) return refused;
  std::string to_sign;
  to_sign.append(f.ts).append("\n").append(f.nonce).append("\n");
  to_sign.append(upper(request.method)).append("\n").append(request.target).append("\n");
  to_sign.append(request.body).append("\n");
  if (!auth::equal_ct(f.sig, detail::hmac_sha256_hex(options_.client_secret, to_sign))) {
    return unauthorized("invalid signature");
  }
  if (auto refused = use_nonce(options_.client_id, f.nonce)) return refused;
  client_id = options_.client_id;
  return std::nullopt;
}

DeribitSim::Refusal DeribitSim::check_basic(std::string_view credentials,
                                            std::string& client_id) const {
  const auto decoded = detail::base64_decode(credentials);
  const auto colon = decoded ? decoded->find(':') : std::string::npos;
  if (colon == std::string::npos) return unauthorized("malformed basic credentials");
  const std::string_view text = *decoded;
  if (!auth::equal_ct(text.substr(0, colon), options_.client_id) ||
      !auth::equal_ct(text.substr(colon + 1), options_.client_secret)) {
    return invalid_credentials();
  }
  client_id = options_.client_id;
  return std::nullopt;
}

DeribitSim::Refusal DeribitSim::check_timestamp(std::int64_t timestamp_ms) const {
  if (std::llabs(clock_.now_ms() - timestamp_ms) > options_.timestamp_tolerance_ms) {
    return unauthorized("timestamp outside the allowed window");
  }
  return std::nullopt;
}

// A nonce is remembered while a request carrying it could still pass the timestamp check: a
// timestamp accepted now stays acceptable for at most twice the tolerance.
DeribitSim::Refusal DeribitSim::use_nonce(const std::string& client_id, std::string_view nonce) {
  const auto now = clock_.now_ms();
  while (!nonce_expiry_.empty() && nonce_expiry_.begin()->first <= now) {
    nonces_.erase(nonce_expiry_.begin()->second);
    nonce_expiry_.erase(nonce_expiry_.begin());
  }
  auto key = client_id + "\n" + std::string(nonce);
  if (nonces_.count(key) != 0) return unauthorized("nonce already used");
  nonces_.insert(key);
  nonce_expiry_.emplace(now + 2 * options_.timestamp_tolerance_ms + 1, std::move(key));
  return std::nullopt;
}

}  // namespace rfq::sim
