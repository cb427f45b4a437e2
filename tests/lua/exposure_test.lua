-- rfq.exposure(), rfq.on("fill"), rfq.on("exposure") from the engine, rfq.on("venue") and
-- rfq.venues(), in virtual time against the simulated venues.
local t = require "rfq.test"
local H = require "helpers"

local LONG = 30 * 60000

-- A policy that emits every fill as ("fill", trade) and every exposure event as
-- ("x", exposure, source).
local WATCH = [[
rfq.on("fill", function(trade) emit("fill", trade) end)
rfq.on("exposure", function(x, source) emit("x", x, source) end)
]]

local function fills(s)
  local out = {}
  for i, e in ipairs(H.emitted(s, "fill")) do out[i] = e[1] end
  return out
end

local function exposures(s, source)
  local out = {}
  for _, e in ipairs(H.emitted(s, "x")) do
    if source == nil or e[2] == source then out[#out + 1] = e[1] end
  end
  return out
end

-- OKX fill lookups: GET rfqs?state=filled, sent when a snapshot misses an active RFQ.
local function lookups(s)
  local n = 0
  for _, q in ipairs(s:requests{ venue = "okx", endpoint = "rfqs" }) do
    if q.target:find("state=filled", 1, true) then n = n + 1 end
  end
  return n
end

-- ---- rfq.exposure ----------------------------------------------------------------------

t.case("rfq.exposure: open_gross per venue and underlying of the active RFQs' legs", function(s)
  s:add_rfq{ venue = "okx", expires_in_ms = LONG, legs = {
    { instrument = "BTC-USD-SWAP", side = "buy", size = "25" },
    { instrument = "BTC-USD-261225-100000-C", side = "sell", size = "5" } } }
  s:add_rfq{ venue = "okx", expires_in_ms = LONG, legs = {
    { instrument = "BTC-USDT-SWAP", side = "sell", size = "0.5" } } }
  s:add_rfq{ venue = "deribit", expires_in_ms = LONG, amount = 1000, legs = {
    { instrument = "BTC-PERPETUAL", side = "buy", ratio = 2 },
    { instrument = "ETH-PERPETUAL", side = "sell" } } }
  H.run(s, "emit('x', rfq.exposure())")
  t.eq(H.one(s, "x"), {
    okx = { ["BTC-USD"] = { filled_net = 0, open_gross = 30 },
            ["BTC-USDT"] = { filled_net = 0, open_gross = 0.5 } },
    deribit = { BTC = { filled_net = 0, open_gross = 2000 },
                ETH = { filled_net = 0, open_gross = 1000 } },
  })
end)

t.case("rfq.exposure: empty before anything, zero once everything ended", function(s)
  H.run(s, "emit('before', rfq.exposure())")
  t.eq(H.one(s, "before"), {})
  local a = s:add_rfq{ venue = "okx", expires_in_ms = 1000 }
  local b = s:add_rfq{ venue = "okx", expires_in_ms = LONG }
  H.run(s, ([[
    emit("open", rfq.exposure().okx["BTC-USD"].open_gross)
    rfq.cancel{ venue = "okx", id = %q }
    emit("canceled", rfq.exposure().okx["BTC-USD"].open_gross)
    rfq.sleep(1500)  -- a's expiry has passed: rfq.exposure() applies it, as rfq.open does
    emit("expired", rfq.exposure())
  ]]):format(b.id))
  s:advance(2000)
  t.eq(H.one(s, "open"), 50)
  t.eq(H.one(s, "canceled"), 25)
  t.eq(H.one(s, "expired"), { okx = { ["BTC-USD"] = { filled_net = 0, open_gross = 0 } } })
  t.eq(s:rfq(a).state, "expired")
end)

-- ---- rfq.on("fill") --------------------------------------------------------------------

t.case("fill: an okx fill is one event with the RFQ's legs and moves filled_net", function(s)
  local a = s:add_rfq{ venue = "okx", client_id = "desk7a", label = "hedge",
                       expires_in_ms = LONG, legs = {
    { instrument = "ETH-USD-SWAP", side = "sell", size = "3" },
    { instrument = "ETH-USD-261225-4000-C", side = "buy", size = "1.5" } } }
  H.run(s, WATCH)
  t.eq(s:fill(a), true)
  s:advance(10)
  t.eq(fills(s), { {
    venue = "okx", id = a.id, client_id = "desk7a", label = "hedge", time_ms = s:now() - 10,
    legs = { { instrument = "ETH-USD-SWAP", underlying = "ETH-USD", side = "sell", size = 3 },
             { instrument = "ETH-USD-261225-4000-C", underlying = "ETH-USD", side = "buy",
               size = 1.5 } },
  } })
  t.eq(exposures(s, "engine"),
       { { okx = { ["ETH-USD"] = { filled_net = -1.5, open_gross = 0 } } } })
end)

t.case("fill: a deribit fill carries its trade's price; a sell turns the legs round", function(s)
  local d = s:add_rfq{ venue = "deribit", amount = 50000, label = "combo", expires_in_ms = LONG,
                       legs = { { instrument = "BTC-27MAR26", side = "sell" },
                                { instrument = "BTC-PERPETUAL", side = "buy" } } }
  local one = s:add_rfq{ venue = "deribit", amount = 1000, expires_in_ms = LONG,
                         legs = { { instrument = "ETH-PERPETUAL", side = "buy" } } }
  H.run(s, WATCH)
  t.eq(s:fill(d, { price = 125.5, side = "sell", amount = 20000 }), true)
  t.eq(s:fill(one), true)  -- the sim's default trade: a buy of all of it at 1
  s:advance(10)
  local got = fills(s)
  t.eq(#got, 2)
  t.eq(got[1], {
    venue = "deribit", id = d.id, label = "combo", time_ms = s:now() - 10, price = 125.5,
    legs = { { instrument = "BTC-27MAR26", underlying = "BTC", side = "buy", size = 20000 },
             { instrument = "BTC-PERPETUAL", underlying = "BTC", side = "sell", size = 20000 } },
  })
  t.eq(got[2].price, 1)
  t.eq(got[2].legs, { { instrument = "ETH-PERPETUAL", underlying = "ETH", side = "buy",
                        size = 1000, price = 1 } })
  H.run(s, "emit('now', rfq.exposure().deribit)")
  t.eq(H.one(s, "now"), { BTC = { filled_net = 0, open_gross = 0 },
                          ETH = { filled_net = 1000, open_gross = 0 } })
end)

t.case("fill: a lost push is found by the next snapshot, and reported once", function(s)
  local a = s:add_rfq{ venue = "okx", expires_in_ms = LONG }
  H.run(s, WATCH .. [[rfq.on("rfq", function(r, previous) emit("ev", previous, r.state) end)]])
  s:fault{ venue = "okx", endpoint = "ws-push", kind = "drop" }
  t.eq(s:fill(a), true)
  s:advance(1000)
  t.eq(#fills(s), 0, "the push was lost")
  s:advance(5000)  -- the REST snapshot (every 5 s) no longer lists it: the engine looks it up
  local got = fills(s)
  t.eq(#got, 1)
  t.eq({ got[1].id, got[1].legs[1].size }, { a.id, 25 })
  t.eq(H.emitted(s, "ev"), { { "active", "filled", n = 2 } })
  t.eq(lookups(s), 1)
  s:advance(20000)
  t.eq(#fills(s), 1, "later snapshots report nothing again")
  t.eq(lookups(s), 1, "and look nothing up: nothing went missing")
end)

t.case("fill: a deribit fill during an outage is found by the snapshot after the reconnect",
       function(s)
  local d = s:add_rfq{ venue = "deribit", amount = 800, expires_in_ms = LONG,
                       legs = { { instrument = "BTC-PERPETUAL", side = "sell" } } }
  H.run(s, WATCH .. [[rfq.on("rfq", function(r, previous) emit("ev", previous, r.state) end)]])
  s:fault{ venue = "deribit", kind = "outage", duration_ms = 2000 }
  s:advance(1)
  t.eq(s:fill(d, { price = 99, side = "buy" }), true)
  s:advance(1000)
  t.eq(#fills(s), 0, "no connection: no push")
  s:advance(10000)
  local got = fills(s)
  t.eq(#got, 1)
  t.eq({ got[1].id, got[1].price, got[1].legs[1].side, got[1].legs[1].size },
       { d.id, 99, "sell", 800 })
  t.eq(H.emitted(s, "ev"), { { "active", "filled", n = 2 } })
  local lookups = 0
  for _, q in ipairs(s:requests{ endpoint = "private/get_block_rfqs" }) do
    if q.params.state == "filled" then lookups = lookups + 1 end
  end
  t.eq(lookups, 1)
end)

t.case("fill: a push held back past the snapshot that found the fill is no second fill",
       function(s)
  local a = s:add_rfq{ venue = "okx", expires_in_ms = LONG }
  H.run(s, WATCH)
  s:fault{ venue = "okx", endpoint = "ws-push", kind = "delay", delay_ms = 8000 }
  t.eq(s:fill(a), true)
  s:advance(6000)
  t.eq(#fills(s), 1, "the snapshot's lookup found it")
  t.eq(lookups(s), 1)
  local held = s:requests{ venue = "okx_ws", endpoint = "push", rfq_id = a.id }
  t.eq(#held, 1)
  t.eq({ held[1].state, held[1].fault, held[1].delay_ms }, { "filled", "delay", 8000 })
  s:advance(4000)  -- the held-back push arrives now: the book has it filled already
  t.eq(#fills(s), 1)
  H.run(s, "emit('net', rfq.exposure().okx['BTC-USD'].filled_net)")
  t.eq(H.one(s, "net"), 25)
end)

t.case("fill: a cancel refused because the RFQ filled adds no second fill", function(s)
  local d = s:add_rfq{ venue = "deribit", amount = 300, expires_in_ms = LONG }
  H.run(s, WATCH)
  t.eq(s:fill(d), true)
  H.run(s, ("emit('cancel', select(3, rfq.cancel{ venue = 'deribit', id = %s }))"):format(d.id))
  s:advance(100)
  t.eq(H.one(s, "cancel"), "NOT_CANCELABLE")
  t.eq(#fills(s), 1)
end)

-- ---- rfq.on("exposure") from the engine ------------------------------------------------

t.case("exposure: one event per burst of changes, after the burst", function(s)
  H.add_many(s, 4, { venue = "okx", expires_in_ms = LONG })
  H.run(s, WATCH)
  t.eq(#exposures(s), 0, "nothing changed since the policy started")
  H.run(s, "rfq.cancel_all{ venue = 'okx' }")
  s:advance(100)
  t.eq(exposures(s, "engine"), { { okx = { ["BTC-USD"] = { filled_net = 0, open_gross = 0 } } } })
  s:add_rfq{ venue = "okx", expires_in_ms = LONG }
  s:advance(10)
  t.eq(#exposures(s, "engine"), 2, "a new RFQ is a change of open_gross")
end)

t.case("exposure: a host-published value reaches the same handler with source 'host'",
       function(s)
  H.run(s, WATCH)
  t.eq(s:publish("exposure", { gross = 5 }), 1)
  local a = s:add_rfq{ venue = "okx", expires_in_ms = LONG }
  s:advance(10)
  local all = H.emitted(s, "x")
  t.eq(#all, 2)
  t.eq({ all[1][1], all[1][2] }, { { gross = 5 }, "host" })
  t.eq({ all[2][1], all[2][2] }, { { okx = { ["BTC-USD"] = { filled_net = 0, open_gross = 25 } } },
                                    "engine" })
  t.ok(a)
end)

-- ---- rfq.on("venue"), rfq.venues -------------------------------------------------------

t.case("venue: an outage is one down event, and one up event when the venue is back",
       function(s)
  H.run(s, [[
    local start = rfq.now()
    emit("before", rfq.venues())
    rfq.on("venue", function(venue, status)
      emit("venue", venue, status, rfq.now() - start, rfq.venues()[venue])
    end)
  ]])
  t.eq(H.one(s, "before"), { okx = "up", okx_spread = "up", deribit = "up" })
  s:fault{ venue = "deribit", kind = "outage", duration_ms = 3000 }
  s:advance(2000)
  t.eq(H.emitted(s, "venue"), { { "deribit", "down", 0, "down", n = 4 } })
  s:advance(10000)
  local got = H.emitted(s, "venue")
  t.eq(#got, 2)
  t.eq({ got[2][1], got[2][2], got[2][4] }, { "deribit", "up", "up" })
  t.ok(got[2][3] >= 3000 and got[2][3] < 10000, "back after the outage: " .. got[2][3])
end)

t.case("venue: okx and okx_spread share OKX's WebSocket and go down together", function(s)
  H.run(s, [[rfq.on("venue", function(venue, status) emit("venue", venue, status) end)]])
  s:fault{ venue = "okx_spread", kind = "outage", duration_ms = 1000 }
  s:advance(1)
  local down = {}
  for _, e in ipairs(H.emitted(s, "venue")) do down[#down + 1] = e[1] .. "=" .. e[2] end
  table.sort(down)
  t.eq(down, { "okx=down", "okx_spread=down" })
  s:advance(10000)
  t.eq(#H.emitted(s, "venue"), 4)
end)

-- ---- misuse ------------------------------------------------------------------------------

t.case("rfq.on refuses an unknown event; s:fill and the outage fault check their options",
       function(s)
  H.run(s, [[emit("on", pcall(rfq.on, "venues", print))]])
  local ok, err = H.one(s, "on")
  t.eq(ok, false)
  t.match(err, "rfq.on: bad argument 'event' %('rfq', 'fill', 'exposure' or 'venue' expected, " ..
          "got 'venues'%)")
  local a = s:add_rfq{ venue = "okx" }
  local d = s:add_rfq{ venue = "deribit" }
  t.raises(function() s:fill(a, { price = 1 }) end,
           "s:fill: bad argument 'price' %(okx fills carry no trade")
  t.raises(function() s:fill(d, { side = "short" }) end,
           "s:fill: deribit sim: fill direction must be buy or sell, not 'short'")
  t.raises(function() s:fill(d, { amount = 1e9 }) end, "s:fill: deribit sim: fill amount")
  t.raises(function() s:fill(d, { price = "1" }) end,
           "s:fill: bad argument 'price' %(number expected, got string%)")
  t.raises(function() s:fill(d, { prize = 1 }) end, "s:fill: unknown option 'prize'")
  t.raises(function() s:fault{ venue = "okx", kind = "outage" } end,
           "s:fault: bad argument 'duration_ms' %(an outage needs its duration in ms%)")
  t.raises(function() s:fault{ venue = "okx", kind = "outage", duration_ms = 0 } end,
           "s:fault: bad argument 'duration_ms' %(integer from 1 to 30 days in ms expected%)")
  t.raises(function() s:fault{ venue = "okx", kind = "outage", duration_ms = 5, count = 2 } end,
           "s:fault: unknown option 'count'")
  t.raises(function() s:fault{ venue = "kraken", kind = "outage", duration_ms = 5 } end,
           "s:fault: bad argument 'venue'")
  t.eq(s:rfq(d).state, "active", "a refused fill changes nothing")
end)
