#pragma once
// OKX business WebSocket (/ws/v5/business, PROTOCOLS.md §2-§4): pure message builders and one
// frame parser, shared by venue okx (the rfqs channel) and venue okx_spread (sprd-mass-cancel).
// No I/O here; tested offline against recorded frames.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/auth/credentials.hpp"
#include "engine/book/rfq.hpp"
#include "engine/core/error.hpp"

namespace rfq::okx {

// {"op":"login","args":[{"apiKey","passphrase","timestamp","sign"}]}: timestamp is Unix seconds
// as a string; sign = Base64(HMAC-SHA256(secret, timestamp + "GET" + "/users/self/verify")).
std::string build_ws_login(const auth::OkxCredentials& creds, std::int64_t unix_seconds);

// {"id":id,"op":"subscribe","args":[{"channel":channel}]}; id 1-32 letters/digits.
std::string build_ws_subscribe(std::string_view id, std::string_view channel);

// {"id":id,"op":"sprd-mass-cancel","args":[{"sprdId"?}]}; no sprdId when sprd_id is empty.
std::string build_sprd_mass_cancel(std::string_view id, std::string_view sprd_id);

// A WebSocket answer or event code -> stable code: "0" ok; 60014/60023 RATE_LIMITED; the login
// refusals (60004-60007, 60009, 60011, 60024, 60032) AUTH; 63999/64007/64008 UNAVAILABLE;
// anything else REJECTED.
Errc map_ws_code(std::string_view code);

struct WsFrame {
  enum class Kind {
    unreadable,  // not JSON, not an object, or a push whose items do not parse (see message)
    login,       // {"event":"login","code":"0",...}
    subscribe,   // {"event":"subscribe","arg":{"channel"}}
    error,       // {"event":"error","code","msg"}
    notice,      // {"event":"notice","code":"64008",...}: the server will close soon
    op_answer,   // {"id","op","code","msg","data"}: the answer to an op such as sprd-mass-cancel
    push,        // {"arg":{"channel"},"data":[...]}
    other,       // anything else (unsubscribe answers, channel-conn-count, ...)
  };
  Kind kind = Kind::other;
  std::string id;       // request id echoed, when present
  std::string op;       // op_answer
  std::string code;     // login, error, notice, op_answer
  std::string message;  // msg; for unreadable, what was wrong
  std::string channel;  // subscribe, push
  std::vector<Rfq> rfqs;  // push on channel "rfqs": the items, venue "okx", state normalized
};

// Parses one text frame. A push on "rfqs" with an item that does not parse is unreadable as a
// whole (message names the item and field), so a half-read state change never reaches the book.
WsFrame parse_ws_frame(std::string_view text);

}  // namespace rfq::okx
