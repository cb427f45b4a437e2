-- Shared helpers of the tests in this folder (`require "helpers"`; not a test file itself).
--
-- A policy and its test live in different Lua states, so values travel as log lines: policy
-- sources run through H.run get a global `emit(tag, ...)` that writes the values as a Lua
-- literal on the script logger ("@@tag=..."), and H.emitted / H.one read them back from
-- s:logs(). Tables are written with sorted keys, so the text never depends on `pairs` order.
local t = require "rfq.test"

local H = {}

-- Prepended to policy sources. One line, no newline: line numbers in messages stay the
-- source's own.
H.PRELUDE = ([==[
local __ser
local function __key(k)
  if type(k) == 'string' then return string.format('%q', k) end
  return __ser(k)
end
__ser = function(v, depth)
  depth = depth or 0
  local kind = type(v)
  if kind == 'string' then return (string.format('%q', v):gsub('\\\n', '\\n')) end
  if kind == 'number' then
    if math.type(v) == 'integer' then return string.format('%d', v) end
    if v ~= v then return '(0/0)' end
    if v == math.huge then return 'math.huge' elseif v == -math.huge then return '-math.huge' end
    return string.format('%.17g', v)
  end
  if kind == 'boolean' or kind == 'nil' then return tostring(v) end
  if kind ~= 'table' or depth > 20 then return string.format('%q', '<' .. kind .. '>') end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    local ta, tb = type(a), type(b)
    if ta ~= tb then return ta < tb end
    if ta == 'number' or ta == 'string' then return a < b end
    return tostring(a) < tostring(b)
  end)
  local parts = {}
  for _, k in ipairs(keys) do
    parts[#parts + 1] = '[' .. __key(k) .. ']=' .. __ser(v[k], depth + 1)
  end
  return '{' .. table.concat(parts, ',') .. '}'
end
function emit(tag, ...) rfq.log.info('@@' .. tag .. '=' .. __ser(table.pack(...))) end
]==]):gsub("\n", " ")

-- Runs policy source (with emit) in its own policy state, as s:run_policy_source does.
function H.run(s, source, params)
  return s:run_policy_source(H.PRELUDE .. source, params)
end

-- The text of a script log message after its "[POLICY] FILE:LINE: " prefix.
local function body(message)
  return message:match("^%[[^%]]*%] [^:]*:%d+: (.*)$") or message
end
H.body = body

-- Every value list emitted under `tag` (each a table.pack result), in emission order.
function H.emitted(s, tag)
  local out = {}
  for _, r in ipairs(s:logs()) do
    if r.logger == "script" then
      local got, literal = body(r.message):match("^@@([%w_%.%-]+)=(.*)$")
      if got == tag then
        local chunk = assert(load("return " .. literal, "=emit", "t", { math = math }))
        out[#out + 1] = chunk()
      end
    end
  end
  return out
end

-- The values of the one emission under `tag` (fails the case when there is not exactly one).
function H.one(s, tag)
  local all = H.emitted(s, tag)
  if #all ~= 1 then
    error(string.format("expected one emission '%s', got %d", tag, #all), 2)
  end
  return table.unpack(all[1], 1, all[1].n)
end

-- Runs one call (Lua source of an expression, e.g. "rfq.cancel{...}") in a fresh policy, lets
-- `ms` of virtual time pass and returns the virtual ms the call took followed by what it
-- returned.
local calls = 0
function H.call(s, call, ms)
  calls = calls + 1
  local tag = "call" .. calls
  H.run(s, "local started = rfq.now()\n" ..
           "local r = table.pack(" .. call .. ")\n" ..
           "emit('" .. tag .. "', rfq.now() - started, table.unpack(r, 1, r.n))")
  s:advance(ms)
  return H.one(s, tag)
end

-- Script log messages (prefix stripped) that match `pattern`, optionally of one level.
function H.script_lines(s, pattern, level)
  local out = {}
  for _, r in ipairs(s:logs()) do
    if r.logger == "script" and (level == nil or r.level == level) then
      local text = body(r.message)
      if pattern == nil or text:find(pattern) then out[#out + 1] = text end
    end
  end
  return out
end

-- The rfqIds of an OKX cancel-batch-rfqs journal entry, in the order sent.
function H.batch_ids(entry)
  local list = entry.body:match('"rfqIds":%[(.-)%]')
  local ids = {}
  if list then
    for id in list:gmatch('"(%d+)"') do ids[#ids + 1] = id end
  end
  return ids
end

-- The ids of `handles` (from s:add_rfq), as a Lua list literal for policy sources.
function H.ids_literal(handles)
  local parts = {}
  for i, h in ipairs(handles) do parts[i] = string.format("%q", h.id) end
  return "{" .. table.concat(parts, ", ") .. "}"
end

-- n RFQs on one venue, created now with the same options.
function H.add_many(s, n, options)
  local out = {}
  for i = 1, n do out[i] = s:add_rfq(options) end
  return out
end

-- Takes the case's policy task errors and checks there is exactly one per pattern, in order.
-- Failures are reported at the caller's line.
function H.expect_errors(s, patterns)
  local errors = s:errors()
  local ok, err = pcall(function()
    t.eq(#errors, #patterns, "policy task errors: " .. table.concat(errors, "\n---\n"))
    for i, p in ipairs(patterns) do t.match(errors[i], p) end
  end)
  if not ok then error((tostring(err):gsub("^[^:]*:%d+: ", "")), 2) end
  return errors
end

-- Cancel requests of every kind the simulated venues received, in arrival order: OKX
-- cancel-rfq, cancel-batch-rfqs and cancel-all-rfqs, okx_spread sprd-mass-cancel, Deribit
-- cancel_block_rfq (WebSocket or HTTP). Deribit's get_block_rfqs listings are not cancels.
local CANCEL_ENDPOINTS = {
  ["cancel-rfq"] = true, ["cancel-batch-rfqs"] = true, ["cancel-all-rfqs"] = true,
  ["sprd-mass-cancel"] = true, ["private/cancel_block_rfq"] = true,
}
function H.cancel_requests(s)
  local out = {}
  for _, q in ipairs(s:requests()) do
    if CANCEL_ENDPOINTS[q.endpoint] then out[#out + 1] = q end
  end
  return out
end

-- Every batch cancel the simulators received (okx batches, deribit single cancels), as
-- { [venue .. ":" .. id] = { ts_ms, ... } }.
function H.cancels(s)
  local out = {}
  local function add(key, ts)
    out[key] = out[key] or {}
    table.insert(out[key], ts)
  end
  for _, q in ipairs(s:requests{ venue = "okx", endpoint = "cancel-batch-rfqs" }) do
    for _, id in ipairs(H.batch_ids(q)) do add("okx:" .. id, q.ts_ms) end
  end
  for _, q in ipairs(s:requests{ venue = "deribit", endpoint = "private/cancel_block_rfq" }) do
    add("deribit:" .. tostring(q.params.block_rfq_id), q.ts_ms)
  end
  return out
end

-- The keys of a table, sorted.
function H.sorted_keys(tbl)
  local keys = {}
  for k in pairs(tbl) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

-- The state of each handle on its simulated venue, as { ["venue:id"] = state }.
function H.states(s, handles)
  local out = {}
  for _, h in ipairs(handles) do out[h.venue .. ":" .. h.id] = s:rfq(h).state end
  return out
end

return H
