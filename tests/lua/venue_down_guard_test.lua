-- scripts/policies/venue_down_guard.lua: a venue down for down_after_ms pulls the RFQs on the
-- other venues, once per outage; re-armed when the venue is back.
local t = require "rfq.test"
local H = require "helpers"

local POLICY = "scripts/policies/venue_down_guard.lua"
local LONG = 30 * 60000

-- Two RFQs on okx and deribit and one spread order on okx_spread.
local function book(s)
  return {
    okx = H.add_many(s, 2, { venue = "okx", expires_in_ms = LONG }),
    deribit = H.add_many(s, 2, { venue = "deribit", expires_in_ms = LONG }),
    okx_spread = { s:add_rfq{ venue = "okx_spread" } },
  }
end

local function states(s, handles)
  local out = {}
  for _, h in ipairs(handles) do out[#out + 1] = s:rfq(h).state end
  return out
end

local function kill_switches(s, venue)
  if venue == "okx" then return #s:requests{ venue = "okx", endpoint = "cancel-all-rfqs" } end
  if venue == "okx_spread" then return #s:requests{ endpoint = "sprd-mass-cancel" } end
  return #s:requests{ endpoint = "private/cancel_block_rfq" }
end

t.case("deribit down for 5 s (the default): okx and okx_spread are canceled, once", function(s)
  local b = book(s)
  s:load_policy(POLICY)
  s:fault{ venue = "deribit", kind = "outage", duration_ms = 12000 }
  s:advance(4999)
  t.eq(states(s, b.okx), { "active", "active" }, "not yet: 5 s have not passed")
  t.eq(kill_switches(s, "okx"), 0)
  s:advance(1)
  t.eq(states(s, b.okx), { "canceled", "canceled" })
  t.eq(states(s, b.okx_spread), { "canceled" })
  t.eq(states(s, b.deribit), { "active", "active" }, "the venue that is down is left alone")
  t.eq(kill_switches(s, "okx"), 1)
  t.eq(kill_switches(s, "okx_spread"), 1)
  t.eq(kill_switches(s, "deribit"), 0)
  t.eq(H.script_lines(s, nil, "warning"), {
    "deribit down: canceling elsewhere in 5000 ms unless it comes back",
    "deribit down for 5000 ms: canceling on okx, okx_spread",
  })
  t.eq(H.script_lines(s, "^okx", "info"), { "okx: canceled 2", "okx_spread: canceled" })
  -- Still down: nothing more, whatever the RFQs created meanwhile.
  local later = s:add_rfq{ venue = "okx", expires_in_ms = LONG }
  s:advance(5000)
  t.eq(s:rfq(later).state, "active")
  t.eq(kill_switches(s, "okx"), 1)
  -- Back up: re-armed, and said so.
  s:advance(20000)
  local back = H.script_lines(s, "^deribit up again")
  t.eq(#back, 1)
  t.match(back[1], "^deribit up again after %d+ ms: guard re%-armed$")
end)

t.case("the start line names the delay, the watched venues and where it cancels", function(s)
  s:load_policy(POLICY)
  s:load_policy(POLICY, { down_after_ms = 250, watch = "okx", cancel_on = { "deribit" } })
  t.eq(H.script_lines(s, "^venue down guard"), {
    "venue down guard: acting after 5000 ms down; watching deribit, okx, okx_spread; " ..
      "canceling on the other venues",
    "venue down guard: acting after 250 ms down; watching okx; canceling on deribit",
  })
end)

t.case("a venue back within down_after_ms triggers nothing", function(s)
  local b = book(s)
  s:load_policy(POLICY, { down_after_ms = 20000 })
  s:fault{ venue = "deribit", kind = "outage", duration_ms = 3000 }
  s:advance(60000)
  t.eq(states(s, b.okx), { "active", "active" })
  t.eq(kill_switches(s, "okx") + kill_switches(s, "okx_spread"), 0)
  local back = H.script_lines(s, "^deribit up again")
  t.eq(#back, 1)
  t.match(back[1], "^deribit up again after %d+ ms: nothing canceled$")
end)

t.case("re-armed after the venue came back: the next outage triggers again", function(s)
  s:load_policy(POLICY, { down_after_ms = 1000, cancel_on = "okx" })
  local first = s:add_rfq{ venue = "okx", expires_in_ms = LONG }
  s:fault{ venue = "deribit", kind = "outage", duration_ms = 2000 }
  s:advance(30000)
  t.eq(s:rfq(first).state, "canceled")
  t.eq(kill_switches(s, "okx"), 1)
  local second = s:add_rfq{ venue = "okx", expires_in_ms = LONG }
  s:fault{ venue = "deribit", kind = "outage", duration_ms = 2000 }
  s:advance(999)
  t.eq(s:rfq(second).state, "active")
  s:advance(1)
  t.eq(s:rfq(second).state, "canceled")
  t.eq(kill_switches(s, "okx"), 2)
  t.eq(kill_switches(s, "okx_spread"), 0, "cancel_on names okx only")
  t.eq(#H.script_lines(s, "^deribit down for 1000 ms: canceling on okx$"), 2)
end)

t.case("watch: an unwatched venue's outage triggers nothing", function(s)
  local b = book(s)
  s:load_policy(POLICY, { down_after_ms = 100, watch = { "okx" } })
  s:fault{ venue = "deribit", kind = "outage", duration_ms = 5000 }
  s:advance(10000)
  t.eq(states(s, b.okx), { "active", "active" })
  t.eq(H.script_lines(s, nil, "warning"), {})
end)

t.case("okx down: deribit is canceled while okx's own feed is away", function(s)
  local b = book(s)
  s:load_policy(POLICY, { down_after_ms = 2000, watch = "okx", cancel_on = { "deribit" } })
  s:fault{ venue = "okx", kind = "outage", duration_ms = 10000 }
  s:advance(2000)
  t.eq(states(s, b.deribit), { "canceled", "canceled" })
  t.eq(states(s, b.okx), { "active", "active" })
  t.eq(H.script_lines(s, "^deribit: ", "info"), { "deribit: canceled 2" })
end)

t.case("a venue of cancel_on that is down too is tried, and its failure logged", function(s)
  book(s)
  -- okx down: okx_spread, on the same WebSocket, is down too and cannot send its mass cancel.
  s:load_policy(POLICY, { down_after_ms = 1000, watch = "okx", cancel_on = { "okx_spread" } })
  s:fault{ venue = "okx", kind = "outage", duration_ms = 10000 }
  s:advance(1000)
  local failed = H.script_lines(s, "^okx_spread: cancel_all failed", "warning")
  t.eq(#failed, 1)
  t.match(failed[1], "^okx_spread: cancel_all failed: DISCONNECTED %(")
end)

t.case("a venue already down when the policy starts counts from the start", function(s)
  local b = book(s)
  s:fault{ venue = "deribit", kind = "outage", duration_ms = 20000 }
  s:advance(100)
  s:load_policy(POLICY, { down_after_ms = 3000 })
  t.eq(H.script_lines(s, nil, "warning"),
       { "deribit down: canceling elsewhere in 3000 ms unless it comes back" })
  s:advance(2999)
  t.eq(states(s, b.okx), { "active", "active" })
  s:advance(1)
  t.eq(states(s, b.okx), { "canceled", "canceled" })
end)

t.case("bad params fail the policy at start", function(s)
  t.raises(function() s:load_policy(POLICY, { watch = { "kraken" } }) end,
           "venue_down_guard: param 'watch': unknown or unconfigured venue 'kraken'")
  t.raises(function() s:load_policy(POLICY, { cancel_on = 5 }) end,
           "venue_down_guard: param 'cancel_on' must be a venue name, a list of them or false")
  t.raises(function() s:load_policy(POLICY, { down_after_ms = -1 }) end,
           "venue_down_guard: param 'down_after_ms' must be a non%-negative integer")
  t.raises(function() s:load_policy(POLICY, { down_after_ms = 1.5 }) end,
           "param 'down_after_ms' must be a non%-negative integer")
end)
