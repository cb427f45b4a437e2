#pragma once
// Plain data between Lua and the engine: boost::json values <-> Lua tables. Used to carry
// config params into a policy state (states never share Lua values).

#include <boost/json/value.hpp>
#include <string>

struct lua_State;

namespace rfq::lua {

// Pushes v: objects become tables, arrays become sequences, integers stay integers.
void push_json(lua_State* L, const boost::json::value& v);

// Converts the value at idx. Tables with keys 1..n only become arrays; other tables objects
// (string keys only). Functions, userdata, threads and cycles are refused with a message that
// names the path ("params.window.x").
bool to_json(lua_State* L, int idx, boost::json::value& out, std::string& error,
             const std::string& path = "value");

}  // namespace rfq::lua
