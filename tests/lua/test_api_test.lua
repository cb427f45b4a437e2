-- The rfq.test module itself: the assertions and their messages, and the world handle `s`.
local t = require "rfq.test"
local H = require "helpers"

local THIS = "test_api_test%.lua:%d+: "   -- the file:line every assertion failure starts with

-- ---- assertions ----------------------------------------------------------------------------

t.case("t.eq compares tables deeply, by value", function()
  t.eq({ 1, "two", { three = 3, list = { 4, 5 } } }, { 1, "two", { three = 3, list = { 4, 5 } } })
  t.eq({}, {})
  t.eq("same", "same")
  t.eq(nil, nil)
  local cyclic_a, cyclic_b = {}, {}
  cyclic_a.self, cyclic_b.self = cyclic_a, cyclic_b
  t.eq(cyclic_a, cyclic_b)
  t.raises(function() t.eq({ 1, 2 }, { 1, 2, 3 }) end)
  t.raises(function() t.eq({ 1, 2, 3 }, { 1, 2 }) end)
  t.raises(function() t.eq({ a = { b = 1 } }, { a = { b = 2 } }) end)
  t.raises(function() t.eq({ a = 1 }, { a = 1, b = false }) end)
  t.raises(function() t.eq(1, "1") end)
  t.raises(function() t.eq(1, 1.5) end)
  t.eq(1, 1.0, "integer and float with the same value are equal, as in Lua")
end)

t.case("t.eq's failure message has file:line, expected and actual", function()
  local err = t.raises(function() t.eq({ a = 1, b = "x" }, { a = 2, b = "x" }) end)
  t.match(err, THIS .. 't%.eq: expected {a = 2, b = "x"}, got {a = 1, b = "x"}$')
  err = t.raises(function() t.eq(3, 4, "the answer") end)
  t.match(err, THIS .. "t%.eq: expected 4, got 3 %(the answer%)$")
  err = t.raises(function() t.eq("a\nb", "ab") end)
  t.match(err, 't%.eq: expected "ab", got "a\\\nb"$')
end)

t.case("the failure's file:line is the line of the failing assertion", function()
  local probe
  local err = t.raises(function()
    probe = select(2, pcall(error, "probe", 2))     -- "FILE:LINE: probe" for this very line
    t.eq(1, 2)
  end)
  local probe_file, probe_line = probe:match("^(.-):(%d+): probe$")
  t.eq(err, probe_file .. ":" .. (tonumber(probe_line) + 1) .. ": t.eq: expected 2, got 1")
  local here = tonumber(t.raises(function() t.ok(false) end):match(":(%d+): t%.ok"))
  local again = tonumber(t.raises(function() t.ok(false) end):match(":(%d+): t%.ok"))
  t.eq(again - here, 1)
end)

t.case("t.ok passes a true value through and fails on nil and false", function()
  t.eq(t.ok(42), 42)
  t.eq(t.ok(0), 0, "0 is true in Lua")
  t.match(t.raises(function() t.ok(nil) end), THIS .. "t%.ok: expected a true value, got nil$")
  t.match(t.raises(function() t.ok(false, "why") end),
          THIS .. "t%.ok: expected a true value, got false %(why%)$")
end)

t.case("t.near accepts values within the tolerance only", function()
  t.near(1.05, 1, 0.1)
  t.near(0.9, 1, 0.1)
  t.near(5, 5, 0)
  local err = t.raises(function() t.near(1.2, 1, 0.1) end)
  t.match(err, THIS .. "t%.near: expected 1 %+/%- 0%.1, got 1%.2$")
  t.match(t.raises(function() t.near("1", 1, 0.1) end), 't%.near: expected 1 %+/%- 0%.1, got "1"')
  t.match(t.raises(function() t.near(1, "1", 0.1) end),
          "t%.near: bad argument 'expected' %(number expected, got string%)")
  t.match(t.raises(function() t.near(1, 1) end),
          "t%.near: bad argument 'tolerance' %(number expected, got nil%)")
end)

t.case("t.match finds a Lua pattern and returns the text", function()
  t.eq(t.match("order 42 filled", "%d+"), "order 42 filled")
  t.match("a.b", "^a%.b$")
  local err = t.raises(function() t.match("abc", "^b") end)
  t.match(err, THIS .. 't%.match: "abc" does not match pattern "%^b"$')
  t.match(t.raises(function() t.match(nil, "x") end), 't%.match: nil does not match pattern "x"')
  t.match(t.raises(function() t.match("x", 5) end),
          "t%.match: bad argument 'pattern' %(string expected, got number%)")
end)

t.case("t.raises returns the error message, checks its pattern, and fails when nothing raises",
       function()
  t.eq(t.raises(function() error("plain", 0) end), "plain")
  t.eq(t.raises(function() error({ code = 7 }) end), "{code = 7}", "a table error is shown")
  t.eq(t.raises(function() error("boom", 0) end, "^bo"), "boom")
  local err = t.raises(function() t.raises(function() end) end)
  t.match(err, THIS .. "t%.raises: expected an error, none was raised$")
  err = t.raises(function() t.raises(function() error("other", 0) end, "^boom") end)
  t.match(err, THIS .. 't%.raises: error "other" does not match pattern "%^boom"$')
  t.match(t.raises(function() t.raises(42) end),
          "t%.raises: bad argument 'fn' %(function expected, got number%)")
end)

t.case("t.case checks its arguments", function()
  t.match(t.raises(function() t.case(1, function() end) end),
          "t%.case: bad argument 'name' %(string expected, got number%)")
  t.match(t.raises(function() t.case("x") end),
          "t%.case: bad argument 'fn' %(function expected, got nil%)")
end)

-- ---- the world -----------------------------------------------------------------------------

-- Both cases draw the same way; the second checks it got the first's numbers. (Run alone, a
-- case only records.)
local first_draws
for _, which in ipairs{ "first", "second" } do
  t.case("s:random draws the same numbers in every world of a seed (" .. which .. " world)",
         function(s)
    local draws = {}
    for i = 1, 20 do draws[i] = s:random(1, 1000000) end
    for _, v in ipairs(draws) do t.ok(v >= 1 and v <= 1000000, v) end
    local distinct = {}
    for _, v in ipairs(draws) do distinct[v] = true end
    local n = 0
    for _ in pairs(distinct) do n = n + 1 end
    t.ok(n > 15, "the draws vary")
    if first_draws then t.eq(draws, first_draws) else first_draws = draws end
    t.eq(s:random(7, 7), 7)
    t.raises(function() s:random(2, 1) end, "s:random: bad argument 'n' %(n >= m expected%)")
  end)
end

t.case("s:now starts at 2026-01-01 and moves only with s:advance", function(s)
  local start = s:now()
  t.eq(start, 1767225600000, "2026-01-01T00:00:00Z")
  t.eq(s:now(), start, "time does not pass by itself")
  s:advance(1234)
  t.eq(s:now(), start + 1234)
  s:advance(0)
  t.eq(s:now(), start + 1234)
  t.raises(function() s:advance(-1) end, "s:advance: bad argument 'ms'")
  t.raises(function() s:advance(31 * 24 * 3600 * 1000) end, "30 days")
  H.run(s, "emit('now', rfq.now())")
  t.eq(H.one(s, "now"), s:now(), "the policies' clock")
end)

t.case("s:fault refuses an unknown kind, endpoint or count", function(s)
  t.raises(function() s:fault{ venue = "okx", kind = "explode" } end,
           "s:fault: bad argument 'kind' %(delay, unavailable, drop, ws_close[%w ,]* expected, " ..
           "got 'explode'%)")
  t.raises(function() s:fault{ venue = "okx", kind = "drop", endpoint = "cancel-rfqs" } end,
           "s:fault: okx sim: no endpoint named 'cancel%-rfqs'")
  t.raises(function() s:fault{ venue = "okx", kind = "drop", count = 0 } end,
           "s:fault: bad argument 'count'")
  t.raises(function() s:fault{ venue = "kraken", kind = "drop" } end,
           "s:fault: bad argument 'venue' %(okx, okx_spread or deribit expected, got 'kraken'%)")
  t.raises(function() s:fault{ venue = "okx", kind = "drop", typo = 1 } end,
           "s:fault: unknown option 'typo'")
  -- A good fault is taken by the next matching request only.
  s:fault{ venue = "okx", kind = "unavailable", endpoint = "cancel-rfq" }
  H.run(s, [[
    emit("a", select(3, rfq.cancel{ venue = "okx", id = "1" }))
    emit("b", select(3, rfq.cancel{ venue = "okx", id = "1" }))
  ]])
  s:advance(10)
  t.eq(H.one(s, "a"), "UNAVAILABLE")
  t.eq(H.one(s, "b"), "UNKNOWN_RFQ")
end)

t.case("s:fault, s:add_rfq and s:random check their ranges", function(s)
  t.match(t.raises(function() s:fault{ venue = "okx", kind = "drop", delay_ms = 10 } end),
          "s:fault: bad argument 'delay_ms' %(only a delay fault takes one%)")
  t.match(t.raises(function()
            s:fault{ venue = "deribit", kind = "reject", code = 4294967296 }
          end), "s:fault: bad argument 'code' %(Deribit codes are 32%-bit integers%)")
  t.match(t.raises(function() s:add_rfq{ venue = "okx", expires_in_ms = math.maxinteger } end),
          "s:add_rfq: bad argument 'expires_in_ms' %(integer from 1 to 30 days in ms expected%)")
  t.match(t.raises(function()
            s:add_rfq{ venue = "deribit", legs = { { instrument = "BTC-PERPETUAL", ratio = 0 } } }
          end), "s:add_rfq: bad argument 'legs%[%]%.ratio'")
  local v = s:random(math.mininteger, math.maxinteger)
  t.eq(math.type(v), "integer")
  t.eq(s:random(math.maxinteger, math.maxinteger), math.maxinteger)
end)

t.case("s:rfq reads fields raw: a metatable on the handle runs nothing", function(s)
  local h = s:add_rfq{ venue = "okx" }
  local proxy = setmetatable({ venue = "okx" }, { __index = function() error("boom") end })
  t.match(t.raises(function() s:rfq(proxy) end),
          "s:rfq: bad argument 'rfq.id' %(string expected, got nil%)")
  t.eq(s:rfq(h).state, "active")
end)

t.case("s:requests filters on any journal field; venue also matches its other transport",
       function(s)
  H.run(s, [[
    rfq.cancel{ venue = "okx", id = "11" }
    rfq.cancel{ venue = "okx", id = "12" }
    rfq.cancel{ venue = "deribit", id = 13 }
  ]])
  s:advance(10)
  local all = s:requests()
  t.eq(#s:requests{}, #all)
  local okx = s:requests{ venue = "okx" }
  local okx_http = s:requests{ venue = "okx", method = "POST" }
  local okx_ws = s:requests{ venue = "okx_ws" }
  t.ok(#okx_ws > 0)
  local n_http = 0
  for _, q in ipairs(okx) do
    t.ok(q.venue == "okx" or q.venue == "okx_ws", q.venue)
    if q.venue == "okx" then n_http = n_http + 1 end
  end
  t.eq(n_http + #okx_ws, #okx)
  t.eq(#okx_http, 2)
  t.eq(#s:requests{ venue = "ok" }, 0, "a prefix is not a venue")
  t.ok(#s:requests{ venue = "deribit_ws" } > 0)
  t.eq(#s:requests{ venue = "deribit" }, #s:requests{ venue = "deribit_ws" },
       "every Deribit call went over the WebSocket")
  -- Several keys: all must match; values compare by type and value.
  local second = s:requests{ endpoint = "cancel-rfq", body = '{"rfqId":"12"}' }
  t.eq(#second, 1)
  t.eq(second[1].code, "1")
  t.eq(#s:requests{ endpoint = "cancel-rfq", code = 1 }, 0, "okx codes are strings")
  t.eq(#s:requests{ endpoint = "private/cancel_block_rfq", code = 10004 }, 1)
  -- A table value must equal the whole field.
  t.eq(#s:requests{ endpoint = "private/cancel_block_rfq",
                    params = { access_token = "***", block_rfq_id = 13 } }, 1)
  t.eq(#s:requests{ endpoint = "private/cancel_block_rfq", params = { block_rfq_id = 13 } }, 0)
  t.eq(#s:requests{ no_such_field = "x" }, 0)
  -- Entries come in journal order.
  local seq = 0
  for _, q in ipairs(all) do
    t.ok(q.seq > seq)
    seq = q.seq
  end
end)

t.case("s:rfq and s:rfqs show the simulator's view of every venue", function(s)
  local a = s:add_rfq{ venue = "okx", client_id = "abc1", label = "L", expires_in_ms = 5000 }
  local d = s:add_rfq{ venue = "deribit", label = "D", expires_in_ms = 5000 }
  local sp = s:add_rfq{ venue = "okx_spread", sprd_id = "ETH-USDT_ETH-USDT-SWAP" }
  t.eq({ a, d, sp }, { { venue = "okx", id = "22535" }, { venue = "deribit", id = "366" },
                       { venue = "okx_spread", id = "612000000000000001" } },
       "ids start anew in each world")
  t.eq({ s:rfq(a).venue, s:rfq(a).client_id, s:rfq(a).label, s:rfq(a).state },
       { "okx", "abc1", "L", "active" })
  t.eq({ s:rfq(d).venue, s:rfq(d).label, s:rfq(d).raw_state }, { "deribit", "D", "open" })
  t.eq({ s:rfq(sp).state, s:rfq(sp).raw_state, s:rfq(sp).sprd_id },
       { "active", "live", "ETH-USDT_ETH-USDT-SWAP" })
  t.eq(s:rfq{ venue = "okx", id = "1" }, nil, "an id the venue does not know")
  t.eq(#s:rfqs(), 3)
  t.eq(#s:rfqs{ venue = "deribit" }, 1)
  t.eq(#s:rfqs{ state = "active" }, 3)
  t.eq(s:fill(a), true)
  t.eq(s:fill(a), false, "only an active RFQ fills")
  s:advance(6000)
  t.eq(s:rfq(d).state, "expired")
  t.eq(#s:rfqs{ state = "filled" }, 1)
  t.raises(function() s:fill(sp) end, "spread orders are not filled")
  t.raises(function() s:rfqs{ venue = "kraken" } end, "s:rfqs: bad argument 'venue'")
  t.raises(function() s:add_rfq{ venue = "okx", tag = "x" } end, "s:add_rfq: unknown option 'tag'")
  t.raises(function() s:add_rfq{ venue = "okx", client_id = "abc1" } end,
           "s:add_rfq: okx sim: duplicate clRfqId abc1")
end)

t.case("s:logs and s:errors: what the policies wrote and the task errors, taken once",
       function(s)
  s:run_policy_source([[
    rfq.log.warn("careful", 1, true, nil)
    print("printed")
    rfq.after(10, function() error("late") end)
  ]])
  s:advance(20)
  local script = {}
  for _, r in ipairs(s:logs()) do
    if r.logger == "script" and r.level ~= "error" then
      script[#script + 1] = r.level .. " " .. r.message
    end
  end
  t.eq(script, { "warning [source1] source1:1: careful 1 true nil",
                 "info [source1] source1:2: printed" })
  local failed = H.script_lines(s, nil, "error")
  t.eq(#failed, 1)
  t.match(failed[1], "^%[source1%] task 'after%(10%) at source1:3' failed: source1:3: late\n" ..
                     "stack traceback:")
  local errors = s:errors()
  t.eq(#errors, 1)
  t.match(errors[1], "^%[source1%] after%(10%) at source1:3: source1:3: late")
  t.eq(s:errors(), {}, "taken")
  t.eq(#H.script_lines(s, nil, "error"), 1, "s:logs reads without taking")
end)

-- Each case checks the handle the previous one kept, then keeps its own. (Run alone, a case
-- only checks the dot call.)
local kept
for _, which in ipairs{ "first", "second" } do
  t.case("a world handle kept past its case raises when used (" .. which .. " world)",
         function(s)
    if kept then
      t.ok(kept ~= s)
      t.raises(function() kept:now() end, "s:now: this world's case has ended")
      t.raises(function() kept:add_rfq{ venue = "okx" } end,
               "s:add_rfq: this world's case has ended")
    end
    kept = s
    t.raises(function() s.now() end,
             "s:now: bad self %(the case's world expected: call it with ':'%)")
  end)
end
