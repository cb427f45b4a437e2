-- rfq.on("rfq") and rfq.on("exposure"), subscriptions, timers, rfq.sleep, rfq.spawn with
-- task:wait, and rfq.params, all in virtual time.
local t = require "rfq.test"
local H = require "helpers"

-- A policy that emits every rfq event as ("ev", venue, id, previous_state, state, raw_state).
local WATCH = [[
rfq.on("rfq", function(r, previous)
  emit("ev", r.venue, r.id, previous, r.state, r.raw_state)
end)
]]

-- The emitted events of one RFQ, each { previous_state, state, raw_state }.
local function events_of(s, h)
  local out = {}
  for _, e in ipairs(H.emitted(s, "ev")) do
    if e[1] == h.venue and e[2] == h.id then out[#out + 1] = { e[3], e[4], e[5] } end
  end
  return out
end

-- ---- rfq.on("rfq") -------------------------------------------------------------------------

t.case("a new RFQ is an event with no previous state and the full RFQ table", function(s)
  H.run(s, [[rfq.on("rfq", function(r, previous) emit("new", r, previous) end)]])
  local a = s:add_rfq{ venue = "okx", client_id = "desk7a", label = "hedge", expires_in_ms = 60000,
                       legs = { { instrument = "BTC-USD-261225-100000-C", side = "sell",
                                  size = "3" } } }
  s:advance(10)
  local r, previous = H.one(s, "new")
  t.eq(previous, nil)
  t.eq(r, { venue = "okx", id = a.id, client_id = "desk7a", label = "hedge", state = "active",
            raw_state = "active", created_ms = s:now() - 10, expires_ms = s:now() - 10 + 60000,
            legs = { { instrument = "BTC-USD-261225-100000-C", side = "sell", size = "3" } } })
end)

t.case("a new deribit block RFQ is an event with its id as text and raw_state open", function(s)
  H.run(s, WATCH)
  local d = s:add_rfq{ venue = "deribit", expires_in_ms = 60000 }
  s:advance(10)
  t.eq(events_of(s, d), { { nil, "active", "open" } })
end)

t.case("our own cancel is one canceled event; the feed's later push is not another",
       function(s)
  local a = s:add_rfq{ venue = "okx", expires_in_ms = 60000 }
  local d = s:add_rfq{ venue = "deribit", expires_in_ms = 60000 }
  H.run(s, WATCH .. ([[
    rfq.cancel{ venue = "okx", id = %q }
    rfq.cancel{ venue = "deribit", id = %s }
  ]]):format(a.id, d.id))
  s:advance(1000)
  t.eq(events_of(s, a), { { "active", "canceled", "canceled" } })
  t.eq(events_of(s, d), { { "active", "canceled", "cancelled" } })
end)

t.case("a fill on the venue is an active -> filled event on both venues", function(s)
  local a = s:add_rfq{ venue = "okx", expires_in_ms = 60000 }
  local d = s:add_rfq{ venue = "deribit", expires_in_ms = 60000 }
  H.run(s, WATCH)
  t.eq(s:fill(a), true)
  t.eq(s:fill(d), true)
  s:advance(10)
  t.eq(events_of(s, a), { { "active", "filled", "filled" } })
  t.eq(events_of(s, d), { { "active", "filled", "filled" } })
end)

t.case("an RFQ running out is an active -> expired event within a second", function(s)
  local a = s:add_rfq{ venue = "okx", expires_in_ms = 1500 }
  local d = s:add_rfq{ venue = "deribit", expires_in_ms = 1500 }
  H.run(s, WATCH .. [[
    rfq.on("rfq", function(r) if r.state == "expired" then emit("at", r.id, rfq.now()) end end)
  ]])
  local start = s:now()
  s:advance(1400)
  t.eq(#H.emitted(s, "ev"), 0)
  s:advance(1200)
  t.eq(events_of(s, a), { { "active", "expired", "expired" } })
  t.eq(events_of(s, d), { { "active", "expired", "expired" } })
  -- The simulated venues push expiries on their 1 s session tick, not at expires_ms itself.
  local at = H.emitted(s, "at")
  t.eq(#at, 2)
  for _, e in ipairs(at) do
    t.ok(e[2] >= start + 1500 and e[2] <= start + 2500, "id " .. e[1] .. " at " .. e[2] - start)
  end
end)

t.case("reading the book after expiry marks the RFQ expired before the venue says so",
       function(s)
  local a = s:add_rfq{ venue = "okx", expires_in_ms = 1500 }
  H.run(s, WATCH .. [[
    rfq.after(1600, function() emit("open", #rfq.open(), rfq.now()) end)
    rfq.on("rfq", function(r) if r.state == "expired" then emit("at", rfq.now()) end end)
  ]])
  local start = s:now()
  s:advance(3000)
  t.eq({ H.one(s, "open") }, { 0, start + 1600 })
  t.eq(H.one(s, "at"), start + 1600)
  t.eq(events_of(s, a), { { "active", "expired", "expired" } }, "the venue's push is no event")
end)

t.case("a lost fill push: the next snapshot misses the RFQ and finds it filled", function(s)
  local a = s:add_rfq{ venue = "okx", expires_in_ms = 60000 }
  H.run(s, WATCH .. "rfq.every(1000, function() emit('open', #rfq.open{ venue = 'okx' }) end)")
  s:fault{ venue = "okx", endpoint = "ws-push", kind = "drop" }
  t.eq(s:fill(a), true)
  s:advance(7000)
  local open = {}
  for i, e in ipairs(H.emitted(s, "open")) do open[i] = e[1] end
  -- The book refreshes its REST snapshot every 5 s (book_refresh_ms); an active RFQ it no
  -- longer lists is looked up among the filled ones (GET rfqs?state=filled).
  t.eq(open, { 1, 1, 1, 1, 0, 0, 0 })
  t.eq(events_of(s, a), { { "active", "filled", "filled" } })
end)

t.case("handlers run in registration order, each with its own copy of the RFQ", function(s)
  H.run(s, [[
    rfq.on("rfq", function(r) emit("first", r.state); r.state = "mangled"; r.legs[1] = nil end)
    rfq.on("rfq", function(r) emit("second", r.state, #r.legs) end)
  ]])
  s:add_rfq{ venue = "okx", expires_in_ms = 60000 }
  s:advance(10)
  t.eq(H.one(s, "first"), "active")
  t.eq({ H.one(s, "second") }, { "active", 1 })
  local order = {}
  for _, line in ipairs(H.script_lines(s, "^@@")) do order[#order + 1] = line:match("^@@(%a+)") end
  t.eq(order, { "first", "second" })
end)

t.case("a handler runs in its own task and may cancel the RFQ it was told about", function(s)
  H.run(s, [[
    rfq.on("rfq", function(r, previous)
      if previous == nil and r.label == "bad" then
        emit("cancel", r.id, rfq.cancel{ venue = r.venue, id = r.id })
      end
    end)
  ]])
  local bad = s:add_rfq{ venue = "okx", label = "bad", expires_in_ms = 60000 }
  local good = s:add_rfq{ venue = "okx", label = "good", expires_in_ms = 60000 }
  s:advance(100)
  local id, res = H.one(s, "cancel")
  t.eq(id, bad.id)
  t.eq(res.state, "canceled")
  t.eq(s:rfq(bad).state, "canceled")
  t.eq(s:rfq(good).state, "active")
end)

t.case("sub:cancel stops the handler; another subscription keeps receiving", function(s)
  H.run(s, [[
    local sub
    sub = rfq.on("rfq", function(r) emit("once", r.id); sub:cancel(); sub:cancel() end)
    rfq.on("rfq", function(r) emit("all", r.id) end)
  ]])
  local first = s:add_rfq{ venue = "okx", expires_in_ms = 60000 }
  s:add_rfq{ venue = "okx", expires_in_ms = 60000 }
  s:add_rfq{ venue = "deribit", expires_in_ms = 60000 }
  s:advance(10)
  t.eq(H.one(s, "once"), first.id)
  t.eq(#H.emitted(s, "all"), 3)
end)

t.case("subscription:cancel called with a dot raises", function(s)
  H.run(s, [[
    local sub = rfq.on("rfq", function() end)
    emit("dot", pcall(sub.cancel))
  ]])
  t.eq({ H.one(s, "dot") }, { false, "subscription:cancel: bad self (subscription expected)" })
end)

t.case("an error in a handler is a task error; the handler stays registered", function(s)
  H.run(s, [[
    rfq.on("rfq", function(r)
      if r.label == "boom" then error("handler exploded") end
      emit("seen", r.label)
    end)
  ]])
  s:add_rfq{ venue = "okx", label = "boom", expires_in_ms = 60000 }
  s:advance(10)
  s:add_rfq{ venue = "okx", label = "fine", expires_in_ms = 60000 }
  s:advance(10)
  t.eq(H.one(s, "seen"), "fine")
  H.expect_errors(s, { "^%[source%d+%] on%(rfq%) at source%d+:1: source%d+:2: handler exploded" })
end)

-- ---- rfq.on("exposure") --------------------------------------------------------------------

t.case("an exposure value reaches every handler as a plain-data copy", function(s)
  H.run(s, [[
    rfq.on("exposure", function(v)
      emit("one", v, getmetatable(v))
      v.delta = -1
      v.book[1] = "changed"
    end)
    rfq.on("exposure", function(v) emit("two", v.delta, v.book[1]) end)
  ]])
  local value = { delta = 2.5, limit = 10, hedged = true, venue = "okx", book = { "a", "b" },
                  nested = { deep = { n = 1 } } }
  t.eq(s:publish("exposure", value), 2)
  s:advance(10)
  local got, mt = H.one(s, "one")
  t.eq(got, value)
  t.eq(mt, nil)
  t.eq({ H.one(s, "two") }, { 2.5, "a" }, "the first handler's changes are its own")
  t.eq(value.delta, 2.5, "the test's table is untouched")
end)

t.case("exposure numbers keep their kind, and every policy's handlers get the value",
       function(s)
  local source = [[rfq.on("exposure", function(v)
    emit("kinds", math.type(v.n), math.type(v.f), v.missing, #v.list)
  end)]]
  H.run(s, source)
  H.run(s, source .. "\n" .. source)
  t.eq(s:publish("exposure", { n = 3, f = 2.5, list = { 1, 2, 3 } }), 3)
  local all = H.emitted(s, "kinds")
  t.eq(#all, 3)
  for _, e in ipairs(all) do t.eq({ e[1], e[2], e[3], e[4] }, { "integer", "float", nil, 3 }) end
end)

t.case("an error in an exposure handler is a task error named on(exposure)", function(s)
  H.run(s, [[rfq.on("exposure", function(e) assert(e.btc, "exposure without btc") end)]])
  t.eq(s:publish("exposure", { eth = 1 }), 1)
  H.expect_errors(s, { "^%[source%d+%] on%(exposure%) at source%d+:1: " ..
                       "source%d+:1: exposure without btc" })
end)

t.case("publishing with no exposure handler starts nothing", function(s)
  H.run(s, [[rfq.on("rfq", function() end)]])
  t.eq(s:publish("exposure", { delta = 1 }), 0)
  local sub_src = [[local sub = rfq.on("exposure", function(v) emit("x", v) end); sub:cancel()]]
  H.run(s, sub_src)
  t.eq(s:publish("exposure", 5), 0)
  s:advance(10)
  t.eq(#H.emitted(s, "x"), 0)
end)

t.case("s:publish refuses other events and values that are not plain data", function(s)
  t.raises(function() s:publish("fill", {}) end,
           "s:publish: bad argument 'event' %('exposure' expected, got 'fill'%)")
  t.raises(function() s:publish("exposure", { f = print }) end,
           "s:publish: bad argument 'value' %(value%.f: a function is not plain data%)")
  t.raises(function() s:publish("exposure") end, "s:publish: bad argument 'value'")
end)

-- ---- timers, sleep, spawn ------------------------------------------------------------------

t.case("rfq.every runs every ms of virtual time until timer:cancel", function(s)
  local start = s:now()
  H.run(s, [[
    local n = 0
    local timer
    timer = rfq.every(100, function()
      n = n + 1
      emit("tick", rfq.now())
      if n == 3 then timer:cancel(); timer:cancel() end
    end)
  ]])
  s:advance(1000)
  local at = {}
  for i, e in ipairs(H.emitted(s, "tick")) do at[i] = e[1] - start end
  t.eq(at, { 100, 200, 300 })
end)

t.case("rfq.every skips ticks while the previous run is still running", function(s)
  local start = s:now()
  H.run(s, [[
    rfq.every(100, function()
      emit("run", rfq.now())
      rfq.sleep(250)
    end)
  ]])
  s:advance(1000)
  local at = {}
  for i, e in ipairs(H.emitted(s, "run")) do at[i] = e[1] - start end
  t.eq(at, { 100, 400, 700, 1000 })
end)

t.case("rfq.after runs once, and timer:cancel before it fires prevents the run", function(s)
  local start = s:now()
  H.run(s, [[
    rfq.after(250, function() emit("after", rfq.now()) end)
    local doomed = rfq.after(300, function() emit("doomed", rfq.now()) end)
    rfq.after(0, function() emit("zero", rfq.now()) end)
    rfq.after(100, function() doomed:cancel() end)
    emit("main", rfq.now())
  ]])
  s:advance(1000)
  t.eq(H.one(s, "after"), start + 250)
  t.eq(H.one(s, "zero"), start)
  t.eq(#H.emitted(s, "doomed"), 0)
  local order = {}
  for _, line in ipairs(H.script_lines(s, "^@@")) do order[#order + 1] = line:match("^@@(%a+)") end
  t.eq(order, { "main", "zero", "after" }, "after(0) runs after the main chunk")
end)

t.case("rfq.sleep suspends the task for exactly that much virtual time", function(s)
  local start = s:now()
  H.run(s, [[
    rfq.sleep(500)
    emit("woke", rfq.now())
    rfq.sleep(0)
    emit("zero", rfq.now())
  ]])
  s:advance(499)
  t.eq(#H.emitted(s, "woke"), 0)
  s:advance(1)
  t.eq(H.one(s, "woke"), start + 500)
  t.eq(H.one(s, "zero"), start + 500)
end)

t.case("rfq.now is the world's virtual time", function(s)
  s:advance(12345)
  H.run(s, "emit('now', rfq.now())")
  t.eq(H.one(s, "now"), s:now())
end)

t.case("rfq.spawn starts later; task:wait gives its results to every waiter", function(s)
  H.run(s, [[
    local order = {}
    local task = rfq.spawn(function(a, b)
      order[#order + 1] = "task"
      rfq.sleep(100)
      return a + b, "sum"
    end, 40, 2)
    order[#order + 1] = "after spawn"
    local other = rfq.spawn(function() return task:wait() end)
    emit("wait", task:wait())
    emit("other", other:wait())
    emit("again", task:wait())
    emit("order", order)
  ]])
  s:advance(200)
  t.eq({ H.one(s, "wait") }, { true, 42, "sum" })
  t.eq({ H.one(s, "other") }, { true, true, 42, "sum" })
  t.eq({ H.one(s, "again") }, { true, 42, "sum" })
  t.eq(H.one(s, "order"), { "after spawn", "task" })
end)

t.case("task:wait of a task that failed gives false and the error", function(s)
  H.run(s, [[
    local task = rfq.spawn(function() rfq.sleep(10); error("spawned failure") end)
    local ok, err = task:wait()
    emit("wait", ok, err)
    emit("self", pcall(function() return rfq.spawn(function() end) end))
  ]])
  s:advance(100)
  local ok, err = H.one(s, "wait")
  t.eq(ok, false)
  t.match(err, "spawned failure")
  t.match(err, "stack traceback")
  H.expect_errors(s, { "^%[source%d+%] spawn at source%d+:1: source%d+:1: spawned failure" })
end)

-- ---- rfq.params ----------------------------------------------------------------------------

t.case("rfq.params merges the config's params over the defaults", function(s)
  H.run(s, [[
    local defaults = { window_ms = 5000, every_ms = 250, venue = "",
                       limits = { okx = 1, deribit = 2 }, tags = { "a", "b", "c" } }
    local cfg = rfq.params(defaults)
    emit("cfg", cfg)
    emit("defaults", defaults)
    emit("none", rfq.params())
  ]], { window_ms = 2000, limits = { deribit = 9 }, tags = { "z" }, extra = true })
  t.eq(H.one(s, "cfg"), { window_ms = 2000, every_ms = 250, venue = "",
                          limits = { okx = 1, deribit = 9 }, tags = { "z" }, extra = true })
  t.eq(H.one(s, "defaults"), { window_ms = 5000, every_ms = 250, venue = "",
                               limits = { okx = 1, deribit = 2 }, tags = { "a", "b", "c" } },
       "defaults are not modified")
  t.eq(H.one(s, "none"), { window_ms = 2000, limits = { deribit = 9 }, tags = { "z" },
                           extra = true })
  t.eq(H.script_lines(s, "not among", "warning"),
       { "param 'extra' is not among the policy's defaults" })
end)

t.case("rfq.params without config params returns the defaults' values", function(s)
  H.run(s, [[emit("cfg", rfq.params{ a = 1, b = { c = "x" } }) emit("none", rfq.params())]])
  t.eq(H.one(s, "cfg"), { a = 1, b = { c = "x" } })
  t.eq(H.one(s, "none"), {})
  t.eq(#H.script_lines(s, nil, "warning"), 0)
end)

t.case("s:load_policy hands its params to the policy's rfq.params", function(s)
  s:load_policy("scripts/policies/expiry_sweep.lua", { every_ms = 125, window_ms = 750 })
  t.eq(H.script_lines(s), { "expiry sweep: every 125 ms, window 750 ms" })
end)
