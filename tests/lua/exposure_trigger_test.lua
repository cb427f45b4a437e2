-- scripts/policies/exposure_trigger.lua: a kill switch over an exposure limit, with hysteresis.
local t = require "rfq.test"
local H = require "helpers"

local POLICY = "scripts/policies/exposure_trigger.lua"
local LONG = 30 * 60000

-- One RFQ on okx and deribit and one spread order on okx_spread, as a list of handles.
local function one_each(s)
  return {
    s:add_rfq{ venue = "okx", expires_in_ms = LONG },
    s:add_rfq{ venue = "deribit", expires_in_ms = LONG },
    s:add_rfq{ venue = "okx_spread" },
  }
end

-- How many times the kill switch went out: OKX cancel-all-rfqs requests.
local function kill_switches(s)
  return #s:requests{ venue = "okx", endpoint = "cancel-all-rfqs" }
end

local function triggers(s)
  return H.script_lines(s, "over limit .*: canceling everything$", "warning")
end

t.case("below or at the default limit of 1000000 nothing happens", function(s)
  local handles = one_each(s)
  s:load_policy(POLICY)
  for _, v in ipairs{ 0, 999999, 1000000, 1000000.0, 999999.99 } do
    t.eq(s:publish("exposure", { gross = v, net = 5000000 }), 1)
    s:publish("exposure", v)
  end
  s:advance(10000)
  t.eq(#H.cancel_requests(s), 0)
  t.eq(#s:requests{ endpoint = "private/get_block_rfqs" }, 1, "the engine's start-up listing")
  for _, h in ipairs(handles) do t.eq(s:rfq(h).state, "active", h.venue) end
  t.eq(H.script_lines(s), {
    "exposure trigger: limit 1000000, re-arm below 800000, key 'gross', venue all (kill switch)",
  })
end)

t.case("over the limit: every RFQ on okx and deribit and every spread order is canceled",
       function(s)
  local okx = H.add_many(s, 2, { venue = "okx", expires_in_ms = LONG })
  local deribit = H.add_many(s, 2, { venue = "deribit", expires_in_ms = LONG })
  local spreads = {
    s:add_rfq{ venue = "okx_spread", sprd_id = "BTC-USDT_BTC-USDT-SWAP" },
    s:add_rfq{ venue = "okx_spread", sprd_id = "ETH-USDT_ETH-USDT-SWAP" },
  }
  s:load_policy(POLICY)
  t.eq(s:publish("exposure", { gross = 1000001, net = -20 }), 1)
  s:advance(100)
  t.eq(#s:rfqs{ state = "active" }, 0)
  for _, h in ipairs(okx) do t.eq(s:rfq(h).state, "canceled", "okx " .. h.id) end
  for _, h in ipairs(deribit) do t.eq(s:rfq(h).state, "canceled", "deribit " .. h.id) end
  for _, h in ipairs(spreads) do t.eq(s:rfq(h).state, "canceled", "spread " .. h.id) end
  -- The kill switch: each venue's account-wide cancel, once.
  t.eq(kill_switches(s), 1)
  t.eq(s:requests{ venue = "okx", endpoint = "cancel-all-rfqs" }[1].body, "{}")
  local mass = s:requests{ venue = "okx_ws", endpoint = "sprd-mass-cancel" }
  t.eq(#mass, 1)
  t.match(mass[1].body, '"args":%[{}%]', "every spread")
  t.eq(#s:requests{ endpoint = "private/cancel_block_rfq" }, 2)
  t.eq(#s:requests{ endpoint = "cancel-batch-rfqs" }, 0)
  t.eq(H.script_lines(s, nil, "warning"),
       { "exposure 1000001 over limit 1000000: canceling everything" })
  t.eq(H.script_lines(s, "^[%a_]+: ", "info"), {
    "deribit: canceled 2", "okx: canceled 2", "okx_spread: canceled",
  }, "each venue's outcome, venues sorted")
  t.eq(#H.script_lines(s, "^cancel_all took %d+ ms$", "info"), 1)
end)

t.case("values oscillating around the limit trigger once", function(s)
  one_each(s)
  s:load_policy(POLICY, { limit = 1000 })          -- re-arms below 800
  s:publish("exposure", { gross = 1001 })
  s:advance(100)
  t.eq(#s:rfqs{ state = "active" }, 0)
  local later = one_each(s)
  for _, v in ipairs{ 999, 1500, 801, 800, 1200, 950, 2000, 800.0, 1001 } do
    s:publish("exposure", { gross = v })
    s:advance(50)
  end
  t.eq(kill_switches(s), 1)
  t.eq(#H.cancel_requests(s), 1 + 1 + 1, "okx cancel-all, sprd-mass-cancel, one deribit")
  for _, h in ipairs(later) do t.eq(s:rfq(h).state, "active", h.venue) end
  t.eq(#triggers(s), 1)
  t.eq(#H.script_lines(s, "re%-armed"), 0, "800 is not below 800")
end)

t.case("below rearm_below (default 0.8 * limit) re-arms; the next crossing triggers again",
       function(s)
  one_each(s)
  s:load_policy(POLICY)
  s:publish("exposure", { gross = 1200000 })
  s:advance(100)
  local later = one_each(s)
  s:publish("exposure", { gross = 800000 })
  s:publish("exposure", { gross = 1100000 })
  s:advance(100)
  t.eq(kill_switches(s), 1, "800000 is not below 800000: still tripped")
  s:publish("exposure", { gross = 799999 })
  s:advance(100)
  t.eq(H.script_lines(s, "re%-armed", "info"), { "re-armed: exposure 799999 below 800000" })
  for _, h in ipairs(later) do t.eq(s:rfq(h).state, "active", "re-arming cancels nothing") end
  s:publish("exposure", { gross = 950000 })       -- re-armed, but not over the limit
  s:advance(100)
  t.eq(kill_switches(s), 1)
  s:publish("exposure", { gross = 1000001 })
  s:advance(100)
  t.eq(kill_switches(s), 2)
  for _, h in ipairs(later) do t.eq(s:rfq(h).state, "canceled", h.venue) end
  t.eq(triggers(s), {
    "exposure 1200000 over limit 1000000: canceling everything",
    "exposure 1000001 over limit 1000000: canceling everything",
  })
end)

t.case("the rearm_below param sets the hysteresis band", function(s)
  s:load_policy(POLICY, { limit = 500, rearm_below = 100 })
  t.eq(H.script_lines(s)[1],
       "exposure trigger: limit 500, re-arm below 100, key 'gross', venue all (kill switch)")
  for _, v in ipairs{ 600, 200, 600, 100, 700 } do
    s:publish("exposure", v)
    s:advance(100)
  end
  t.eq(kill_switches(s), 1, "200 and 100 are not below 100")
  s:publish("exposure", 99)
  s:publish("exposure", 501)
  s:advance(100)
  t.eq(kill_switches(s), 2)
  t.eq(H.script_lines(s, "re%-armed"), { "re-armed: exposure 99 below 100" })
end)

t.case("venue = okx cancels only okx's RFQs", function(s)
  local okx, deribit, spread = table.unpack(one_each(s))
  s:load_policy(POLICY, { venue = "okx" })
  t.eq(H.script_lines(s)[1],
       "exposure trigger: limit 1000000, re-arm below 800000, key 'gross', venue okx")
  s:publish("exposure", { gross = 2000000 })
  s:advance(1000)
  t.eq(s:rfq(okx).state, "canceled")
  t.eq(s:rfq(deribit).state, "active")
  t.eq(s:rfq(spread).state, "active")
  t.eq(kill_switches(s), 1)
  t.eq(#H.cancel_requests(s), 1)
  t.eq(#s:requests{ endpoint = "private/get_block_rfqs" }, 1, "no Deribit listing")
  t.eq(H.script_lines(s, "^[%a_]+: ", "info"), { "okx: canceled 1" })
end)

t.case("venue = okx_spread cancels only the spread orders", function(s)
  local okx, deribit, spread = table.unpack(one_each(s))
  s:load_policy(POLICY, { venue = "okx_spread" })
  s:publish("exposure", { gross = 2000000 })
  s:advance(1000)
  t.eq(H.states(s, { okx, deribit, spread }), {
    ["okx:" .. okx.id] = "active", ["deribit:" .. deribit.id] = "active",
    ["okx_spread:" .. spread.id] = "canceled",
  })
  t.eq(#H.cancel_requests(s), 1)
  t.eq(H.script_lines(s, "^[%a_]+: ", "info"), { "okx_spread: canceled" })
end)

t.case("a plain number is the exposure itself", function(s)
  one_each(s)
  s:load_policy(POLICY)
  s:publish("exposure", 1000000)
  t.eq(kill_switches(s), 0)
  s:publish("exposure", 1000000.5)
  s:advance(100)
  t.eq(kill_switches(s), 1)
  t.eq(#s:rfqs{ state = "active" }, 0)
  t.eq(triggers(s), { "exposure 1000000.50 over limit 1000000: canceling everything" })
end)

t.case("the key param picks the number of the published table", function(s)
  one_each(s)
  s:load_policy(POLICY, { key = "net", limit = 5000 })
  t.eq(H.script_lines(s)[1],
       "exposure trigger: limit 5000, re-arm below 4000, key 'net', venue all (kill switch)")
  s:publish("exposure", { gross = 9000000, net = 4999 })
  s:advance(100)
  t.eq(kill_switches(s), 0, "gross is not watched")
  t.eq(#s:rfqs{ state = "active" }, 3)
  s:publish("exposure", { gross = 0, net = 5001 })
  s:advance(100)
  t.eq(kill_switches(s), 1)
  t.eq(#s:rfqs{ state = "active" }, 0)
  t.eq(#H.script_lines(s, nil, "warning"), 1, "the trigger line only")
end)

t.case("a value without a number is logged at warn and ignored", function(s)
  one_each(s)
  s:load_policy(POLICY)
  local prefix = "ignoring exposure value: a number or a table with a number at 'gross' " ..
                 "expected, got "
  local bad = {
    { "2000000", '"2000000"' },
    { { gross = "2000000" }, "a table whose 'gross' is \"2000000\"" },
    { { net = 2000000 }, "a table whose 'gross' is nil" },
    { { gross = { 2000000 } }, "a table whose 'gross' is a table" },
    { { 2000000 }, "a table whose 'gross' is nil" },
    { true, "true" },
    { nil, "nil" },
  }
  for _, case in ipairs(bad) do
    t.eq(s:publish("exposure", case[1]), 1)
  end
  s:advance(100)
  t.eq(s:errors(), {}, "no task error")
  t.eq(#H.cancel_requests(s), 0)
  local expected = {}
  for i, case in ipairs(bad) do expected[i] = prefix .. case[2] end
  t.eq(H.script_lines(s, "^ignoring", "warning"), expected)
  -- It still works.
  s:publish("exposure", { gross = 2000000 })
  s:advance(100)
  t.eq(kill_switches(s), 1)
  t.eq(#s:rfqs{ state = "active" }, 0)
end)

t.case("a burst of values while the cancel_all runs starts no second one", function(s)
  one_each(s)
  s:load_policy(POLICY)
  -- OKX answers the cancel-all a second late, so the kill switch runs that long.
  s:fault{ venue = "okx", endpoint = "cancel-all-rfqs", kind = "delay", delay_ms = 1000 }
  s:publish("exposure", { gross = 2000000 })
  s:advance(100)
  -- Values that would re-arm and trigger again, were the first kill switch over.
  for _, v in ipairs{ 0, 3000000, 100, 2500000, 10, 1500000 } do
    s:publish("exposure", { gross = v })
    s:advance(50)
  end
  s:advance(2000)
  t.eq(kill_switches(s), 1)
  t.eq(#s:requests{ venue = "okx_ws", endpoint = "sprd-mass-cancel" }, 1)
  t.eq(#s:requests{ endpoint = "private/get_block_rfqs" }, 2, "start-up + one listing")
  t.eq(#triggers(s), 1)
  t.eq(#H.script_lines(s, "re%-armed"), 0, "the last value, 1500000, keeps it tripped")
  t.eq(H.script_lines(s, "^okx: "), { "okx: canceled 1" })
  -- Once it has finished, the usual rules apply again.
  s:publish("exposure", { gross = 500000 })
  s:publish("exposure", { gross = 1500000 })
  s:advance(2000)
  t.eq(kill_switches(s), 2)
end)

t.case("a value below rearm_below during the cancel_all re-arms once it has finished",
       function(s)
  one_each(s)
  s:load_policy(POLICY)
  s:fault{ venue = "okx", endpoint = "cancel-all-rfqs", kind = "delay", delay_ms = 1000 }
  s:publish("exposure", { gross = 2000000 })
  s:advance(500)
  s:publish("exposure", { gross = 100 })
  t.eq(#H.script_lines(s, "re%-armed"), 0, "not while the cancel_all runs")
  s:advance(1000)
  local lines = H.script_lines(s)
  t.eq(lines[#lines], "re-armed: exposure 100 below 800000", "right after the outcome lines")
  t.match(lines[#lines - 1], "^cancel_all took 1000 ms$")
  local later = one_each(s)
  s:publish("exposure", { gross = 1000001 })
  s:advance(2000)
  t.eq(kill_switches(s), 2)
  for _, h in ipairs(later) do t.eq(s:rfq(h).state, "canceled", h.venue) end
end)

t.case("a venue that fails is logged at warn; the others at info", function(s)
  local okx, deribit, spread = table.unpack(one_each(s))
  s:load_policy(POLICY)
  s:fault{ venue = "okx", endpoint = "cancel-all-rfqs", kind = "unavailable" }
  s:publish("exposure", { gross = 2000000 })
  s:advance(100)
  t.eq(s:rfq(okx).state, "active")
  t.eq(s:rfq(deribit).state, "canceled")
  t.eq(s:rfq(spread).state, "canceled")
  t.eq(H.script_lines(s, nil, "warning"), {
    "exposure 2000000 over limit 1000000: canceling everything",
    "okx: cancel_all failed: UNAVAILABLE (Service temporarily unavailable. Please try again " ..
      "later.)",
  })
  t.eq(H.script_lines(s, "^[%a_]+: ", "info"), { "deribit: canceled 1", "okx_spread: canceled" })
end)

t.case("nothing to cancel is logged per venue", function(s)
  s:load_policy(POLICY)
  s:publish("exposure", { gross = 2000000 })
  s:advance(100)
  t.eq(H.script_lines(s, "^[%a_]+: ", "info"), {
    "deribit: nothing to cancel (no open block RFQ)",
    "okx: nothing to cancel (Cancellation failed as you do not have any active RFQs.)",
    "okx_spread: canceled",
  })
  t.eq(#H.script_lines(s, nil, "warning"), 1, "the trigger line only")
end)

t.case("bad params fail at start", function(s)
  t.raises(function() s:load_policy(POLICY, { limit = 1000, rearm_below = 1001 }) end,
           "main chunk failed: exposure_trigger: param 'rearm_below' %(1001%) must not be " ..
           "above 'limit' %(1000%)")
  t.raises(function() s:load_policy(POLICY, { limit = "1000000" }) end,
           "main chunk failed: exposure_trigger: param 'limit' must be a number")
  t.raises(function() s:load_policy(POLICY, { venue = "okex" }) end,
           "main chunk failed: .*rfq%.budget: bad argument 'venue' %(unknown or unconfigured " ..
           "venue 'okex'%)")
  t.raises(function() s:load_policy(POLICY, { key = "" }) end,
           "main chunk failed: exposure_trigger: param 'key' must be a non%-empty string")
end)

t.case("bad source params fail at start", function(s)
  t.raises(function() s:load_policy(POLICY, { source = "feed" }) end,
           "main chunk failed: exposure_trigger: param 'source' must be \"host\" or \"engine\"")
  t.raises(function() s:load_policy(POLICY, { source = "engine", key = "net" }) end,
           "main chunk failed: exposure_trigger: param 'key' must be \"gross\", " ..
           "\"filled_net\" or \"open_gross\" with source \"engine\"")
end)

-- ---- source = "engine": rfqd's own exposure ------------------------------------------------

local function okx_rfq(s, size, instrument)
  return s:add_rfq{ venue = "okx", expires_in_ms = LONG, legs = {
    { instrument = instrument or "BTC-USD-SWAP", side = "buy", size = tostring(size) } } }
end

t.case("engine: open_gross of one underlying over the limit pulls everything, then re-arms",
       function(s)
  local a = okx_rfq(s, 60)
  local d = s:add_rfq{ venue = "deribit", amount = 90, expires_in_ms = LONG }
  s:load_policy(POLICY, { source = "engine", key = "open_gross", limit = 100 })
  t.eq(H.script_lines(s), {
    "exposure trigger: limit 100, re-arm below 80, engine exposure, key 'open_gross', " ..
      "venue all (kill switch)",
  })
  -- okx BTC-USD 60 + 50 = 110 > 100 (deribit's BTC is another bucket, at 90).
  local b = okx_rfq(s, 50, "BTC-USD-261225-100000-C")
  s:advance(100)
  t.eq(H.states(s, { a, b, d }), { ["okx:" .. a.id] = "canceled", ["okx:" .. b.id] = "canceled",
                                   ["deribit:" .. d.id] = "canceled" })
  t.eq(kill_switches(s), 1)
  t.eq(triggers(s), { "exposure 110 over limit 100 (okx BTC-USD): canceling everything" })
  -- Everything canceled: open_gross is 0, below 80.
  t.eq(H.script_lines(s, "^re%-armed"), { "re-armed: exposure 0 below 80" })
  okx_rfq(s, 101)
  s:advance(100)
  t.eq(kill_switches(s), 2)
end)

t.case("engine: filled_net stays over the limit after the kill switch: tripped for good",
       function(s)
  local a = okx_rfq(s, 30)
  s:load_policy(POLICY, { source = "engine", key = "filled_net", limit = 20 })
  okx_rfq(s, 5)
  s:advance(10)
  t.eq(kill_switches(s), 0, "open RFQs are not filled_net")
  t.eq(s:fill(a), true)  -- |+30| > 20
  s:advance(100)
  t.eq(kill_switches(s), 1)
  t.eq(triggers(s), { "exposure 30 over limit 20 (okx BTC-USD): canceling everything" })
  okx_rfq(s, 1)
  s:advance(100)
  t.eq(kill_switches(s), 1, "still 30 filled: no re-arm, no second trigger")
  t.eq(H.script_lines(s, "^re%-armed"), {})
end)

t.case("engine: over the limit already at start triggers at once", function(s)
  local d = s:add_rfq{ venue = "deribit", amount = 500, expires_in_ms = LONG }
  s:load_policy(POLICY, { source = "engine", limit = 400 })
  s:advance(100)
  t.eq(s:rfq(d).state, "canceled")
  t.eq(triggers(s), { "exposure 500 over limit 400 (deribit BTC): canceling everything" })
end)

t.case("engine: venue narrows the watched exposure to that venue's", function(s)
  s:add_rfq{ venue = "deribit", amount = 500, expires_in_ms = LONG }
  local a = okx_rfq(s, 10)
  s:load_policy(POLICY, { source = "engine", limit = 100, venue = "okx" })
  s:advance(100)
  t.eq(triggers(s), {}, "deribit's 500 is not watched")
  okx_rfq(s, 95)
  s:advance(100)
  t.eq(s:rfq(a).state, "canceled")
  t.eq(#s:rfqs{ venue = "deribit", state = "active" }, 1, "only okx is canceled")
end)

t.case("each source ignores the other's events, silently", function(s)
  s:load_policy(POLICY, { source = "engine", limit = 100 })
  s:load_policy(POLICY, { limit = 100 })  -- source "host"
  t.eq(s:publish("exposure", { gross = 1000 }), 2)
  s:advance(100)
  t.eq(kill_switches(s), 1, "the host-source policy only")
  okx_rfq(s, 40)
  okx_rfq(s, 20)
  s:advance(100)
  t.eq(kill_switches(s), 1, "60 is under both limits; the host one never reads it")
  t.eq(H.script_lines(s, "^ignoring"), {}, "engine events are no 'ignoring' warnings")
end)
