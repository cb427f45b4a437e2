#pragma once
// Copies plain data from one Lua state to another (rfq.state across a hot reload): nil,
// booleans, numbers (integers stay integers), strings and tables of these, keys included.
// Shared tables stay shared and cycles are kept; metatables are not copied. Functions,
// userdata and threads are refused with a message naming where they are ("rfq.state.x[2]").

#include <string>

struct lua_State;

namespace rfq::lua {

// Pushes onto `to` a copy of the value at `index` of `from` and returns true; on refusal (or
// when `to` runs out of memory) pushes nothing and returns false with the reason in `error`.
// `path` names the value in messages.
bool copy_plain(lua_State* from, int index, lua_State* to, const std::string& path,
                std::string& error);

}  // namespace rfq::lua
