-- rfq.cancel_all: the kill switch over okx, okx_spread and deribit, the one-venue account-wide
-- form, and the scoped form (where = prefixes, ids or a function).
local t = require "rfq.test"
local H = require "helpers"

-- Runs one rfq.cancel_all call (`args` is Lua source of its argument list) and returns
-- summary, err, code.
local function cancel_all(s, args, ms)
  return select(2, H.call(s, "rfq.cancel_all(" .. (args or "") .. ")", ms or 100))
end

local function sorted_keys(tbl)
  local keys = {}
  for k in pairs(tbl) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

t.case("the kill switch cancels every RFQ and spread order on every venue", function(s)
  local okx = H.add_many(s, 2, { venue = "okx", expires_in_ms = 60000 })
  local deribit = H.add_many(s, 2, { venue = "deribit", expires_in_ms = 60000 })
  local btc = s:add_rfq{ venue = "okx_spread", sprd_id = "BTC-USDT_BTC-USDT-SWAP" }
  local eth = s:add_rfq{ venue = "okx_spread", sprd_id = "ETH-USDT_ETH-USDT-SWAP" }
  t.eq(s:rfq(btc).state, "active")
  local summary, err, code = cancel_all(s)
  t.eq({ err, code }, {}, "every venue succeeded: summary alone")
  t.eq(sorted_keys(summary.venues), { "deribit", "okx", "okx_spread" })
  t.eq(summary.venues.okx, { ok = true, canceled = 2 })
  t.eq(summary.venues.deribit, { ok = true, canceled = 2 })
  t.eq(summary.venues.okx_spread, { ok = true })
  for _, h in ipairs{ okx[1], okx[2], deribit[1], deribit[2], btc, eth } do
    t.eq(s:rfq(h).state, "canceled", h.venue .. " " .. h.id)
  end
  t.eq(s:rfq(eth).sprd_id, "ETH-USDT_ETH-USDT-SWAP")
  -- Each venue's account-wide form: one cancel-all-rfqs, one sprd-mass-cancel for every
  -- spread, a Deribit listing then one cancel per listed RFQ.
  local all = s:requests{ endpoint = "cancel-all-rfqs" }
  t.eq(#all, 1)
  t.eq(all[1].body, "{}")
  local mass = s:requests{ venue = "okx_ws", endpoint = "sprd-mass-cancel" }
  t.eq(#mass, 1)
  t.match(mass[1].body, '"args":%[{}%]')
  t.eq(#s:requests{ endpoint = "private/get_block_rfqs", params = {
    access_token = "***", count = 1000, role = "taker", state = "open" } }, 2)  -- start + listing
  t.eq(#s:requests{ endpoint = "private/cancel_block_rfq" }, 2)
  t.eq(#s:requests{ endpoint = "cancel-batch-rfqs" }, 0, "never the scoped form")
end)

t.case("the kill switch also cancels RFQs the book has not seen", function(s)
  local known = s:add_rfq{ venue = "okx", expires_in_ms = 60000 }
  -- Its creation push is lost: the venue has it, the book does not.
  s:fault{ venue = "okx", endpoint = "ws-push", kind = "drop" }
  local unseen = s:add_rfq{ venue = "okx", expires_in_ms = 60000 }
  local d = s:add_rfq{ venue = "deribit", expires_in_ms = 60000 }
  H.run(s, "emit('open', #rfq.open{ venue = 'okx' })")
  t.eq(H.one(s, "open"), 1)
  local summary = cancel_all(s)
  t.eq(s:rfq(known).state, "canceled")
  t.eq(s:rfq(unseen).state, "canceled")
  t.eq(s:rfq(d).state, "canceled")
  -- canceled counts what the book knew as active.
  t.eq(summary.venues.okx.canceled, 1)
end)

t.case("the kill switch with nothing open is NOTHING_TO_CANCEL on okx and deribit", function(s)
  local summary, err, code = cancel_all(s)
  t.eq({ err, code }, {})
  t.eq(summary.venues.okx, { ok = true, code = "NOTHING_TO_CANCEL", canceled = 0,
                             err = "Cancellation failed as you do not have any active RFQs." })
  t.eq(summary.venues.deribit,
       { ok = true, code = "NOTHING_TO_CANCEL", err = "no open block RFQ", canceled = 0 })
  t.eq(summary.venues.okx_spread, { ok = true })
  t.eq(#s:requests{ endpoint = "private/cancel_block_rfq" }, 0)
end)

t.case("the kill switch reports a failing venue and still cancels the others", function(s)
  local a = s:add_rfq{ venue = "okx", expires_in_ms = 60000 }
  local d = s:add_rfq{ venue = "deribit", expires_in_ms = 60000 }
  s:fault{ venue = "okx", endpoint = "cancel-all-rfqs", kind = "unavailable" }
  local summary, err, code = cancel_all(s)
  local message = "Service temporarily unavailable. Please try again later."
  t.eq(summary.venues.okx, { ok = false, code = "UNAVAILABLE", err = message })
  t.eq(summary.venues.deribit, { ok = true, canceled = 1 })
  t.eq(err, "okx: " .. message)
  t.eq(code, "UNAVAILABLE")
  t.eq(s:rfq(a).state, "active")
  t.eq(s:rfq(d).state, "canceled")
end)

t.case("one venue, account-wide: only that venue is involved", function(s)
  local a = s:add_rfq{ venue = "okx", expires_in_ms = 60000 }
  local d = s:add_rfq{ venue = "deribit", expires_in_ms = 60000 }
  local summary, err = cancel_all(s, "{ venue = 'deribit' }")
  t.eq(err, nil)
  t.eq(sorted_keys(summary.venues), { "deribit" })
  t.eq(summary.venues.deribit, { ok = true, canceled = 1 })
  t.eq(s:rfq(d).state, "canceled")
  t.eq(s:rfq(a).state, "active")
  t.eq(#s:requests{ endpoint = "cancel-all-rfqs" }, 0)
end)

t.case("scoped by label_prefix: only the matching RFQs, through batch cancels", function(s)
  local hedge1 = s:add_rfq{ venue = "okx", label = "hedge-1", expires_in_ms = 60000 }
  local hedge2 = s:add_rfq{ venue = "okx", label = "hedge-2", expires_in_ms = 50000 }
  local other = s:add_rfq{ venue = "okx", label = "other", expires_in_ms = 60000 }
  local unlabeled = s:add_rfq{ venue = "okx", expires_in_ms = 60000 }
  local d_hedge = s:add_rfq{ venue = "deribit", label = "hedge-d", expires_in_ms = 60000 }
  local summary, err = cancel_all(s, "{ venue = 'okx', where = { label_prefix = 'hedge' } }")
  t.eq(err, nil)
  t.eq(sorted_keys(summary.venues), { "okx" })
  t.eq(summary.venues.okx, { ok = true, canceled = 2 })
  t.eq(s:rfq(hedge1).state, "canceled")
  t.eq(s:rfq(hedge2).state, "canceled")
  t.eq(s:rfq(other).state, "active")
  t.eq(s:rfq(unlabeled).state, "active")
  t.eq(s:rfq(d_hedge).state, "active", "another venue")
  local sent = s:requests{ endpoint = "cancel-batch-rfqs" }
  t.eq(#sent, 1)
  t.eq(H.batch_ids(sent[1]), { hedge2.id, hedge1.id }, "soonest expiry first, as rfq.open")
  t.eq(#s:requests{ endpoint = "cancel-all-rfqs" }, 0, "never the account-wide cancel")
end)

t.case("scoped on deribit by label_prefix: single cancels of the matching block RFQs",
       function(s)
  local hedge = s:add_rfq{ venue = "deribit", label = "hedge-7", expires_in_ms = 60000 }
  local other = s:add_rfq{ venue = "deribit", label = "other", expires_in_ms = 60000 }
  local summary = cancel_all(s, "{ venue = 'deribit', where = { label_prefix = 'hedge-' } }")
  t.eq(summary.venues.deribit, { ok = true, canceled = 1 })
  t.eq(s:rfq(hedge).state, "canceled")
  t.eq(s:rfq(other).state, "active")
  local sent = s:requests{ endpoint = "private/cancel_block_rfq" }
  t.eq(#sent, 1)
  t.eq(sent[1].params.block_rfq_id, tonumber(hedge.id))
  t.eq(#s:requests{ endpoint = "private/get_block_rfqs" }, 1, "no listing: the book decides")
end)

t.case("scoped by client_id_prefix and label_prefix: both must match", function(s)
  local both = s:add_rfq{ venue = "okx", client_id = "desk7a", label = "hedge",
                          expires_in_ms = 60000 }
  local client_only = s:add_rfq{ venue = "okx", client_id = "desk7b", expires_in_ms = 60000 }
  local label_only = s:add_rfq{ venue = "okx", client_id = "desk8a", label = "hedge",
                                expires_in_ms = 60000 }
  local summary = cancel_all(s, [[{ venue = 'okx',
    where = { client_id_prefix = 'desk7', label_prefix = 'hedge' } }]])
  t.eq(summary.venues.okx, { ok = true, canceled = 1 })
  t.eq(s:rfq(both).state, "canceled")
  t.eq(s:rfq(client_only).state, "active")
  t.eq(s:rfq(label_only).state, "active")
  summary = cancel_all(s, "{ venue = 'okx', where = { client_id_prefix = 'desk7' } }")
  t.eq(summary.venues.okx, { ok = true, canceled = 1 })
  t.eq(s:rfq(client_only).state, "canceled")
  t.eq(s:rfq(label_only).state, "active")
end)

t.case("scoped by ids: exactly these, and an id that failed makes the venue fail", function(s)
  local a, b, c = table.unpack(H.add_many(s, 3, { venue = "okx", expires_in_ms = 60000 }))
  local summary, err, code =
    cancel_all(s, ("{ venue = 'okx', where = { ids = { %q, %s, '999' } } }"):format(a.id, c.id))
  t.eq(summary.venues.okx, { ok = false, code = "UNKNOWN_RFQ", canceled = 2, failed = 1,
                             err = "1 of 3 failed, first: RFQ does not exist." })
  t.eq(err, "okx: 1 of 3 failed, first: RFQ does not exist.")
  t.eq(code, "UNKNOWN_RFQ")
  t.eq(s:rfq(a).state, "canceled")
  t.eq(s:rfq(b).state, "active")
  t.eq(s:rfq(c).state, "canceled")
  t.eq(H.batch_ids(s:requests{ endpoint = "cancel-batch-rfqs" }[1]), { a.id, c.id, "999" })
end)

t.case("scoped by a function: it sees each open RFQ of the venue, true cancels it", function(s)
  local btc = s:add_rfq{ venue = "okx", expires_in_ms = 60000,
                         legs = { { instrument = "BTC-USD-261225-100000-C" } } }
  local eth = s:add_rfq{ venue = "okx", expires_in_ms = 30000,
                         legs = { { instrument = "ETH-USD-261225-4000-P", side = "sell",
                                    size = "7" } } }
  s:add_rfq{ venue = "deribit", expires_in_ms = 60000 }
  H.run(s, [[
    local seen = {}
    local summary = rfq.cancel_all{ venue = "okx", where = function(r)
      seen[#seen + 1] = { r.venue, r.id, r.legs[1].instrument, r.legs[1].side, r.legs[1].size }
      return r.legs[1].instrument:find("^ETH%-") ~= nil
    end }
    emit("fn", summary, seen)
  ]])
  s:advance(100)
  local summary, seen = H.one(s, "fn")
  t.eq(summary.venues.okx, { ok = true, canceled = 1 })
  -- Soonest expiry first, as rfq.open lists them; only this venue's.
  t.eq(seen, { { "okx", eth.id, "ETH-USD-261225-4000-P", "sell", "7" },
               { "okx", btc.id, "BTC-USD-261225-100000-C", "buy", "25" } })
  t.eq(s:rfq(eth).state, "canceled")
  t.eq(s:rfq(btc).state, "active")
end)

t.case("scoped with no match is NOTHING_TO_CANCEL and sends nothing", function(s)
  s:add_rfq{ venue = "okx", label = "other", expires_in_ms = 60000 }
  local summary, err = cancel_all(s, "{ venue = 'okx', where = { label_prefix = 'hedge' } }")
  t.eq(err, nil)
  local nothing = { ok = true, code = "NOTHING_TO_CANCEL", canceled = 0,
                    err = "no open RFQ matches 'where'" }
  t.eq(summary.venues.okx, nothing)
  summary = cancel_all(s, "{ venue = 'okx', where = { ids = {} } }")
  t.eq(summary.venues.okx, nothing)
  summary = cancel_all(s, "{ venue = 'deribit', where = function() return true end }")
  t.eq(summary.venues.deribit, nothing)
  t.eq(#s:requests{ endpoint = "cancel-batch-rfqs" }, 0)
  t.eq(#s:requests{ endpoint = "cancel-all-rfqs" }, 0)
  t.eq(#s:requests{ endpoint = "private/cancel_block_rfq" }, 0)
end)

t.case("scoped cancel_all goes ahead of batch requests queued in the same lane", function(s)
  local queued = H.add_many(s, 500, { venue = "okx", expires_in_ms = 600000 })
  local urgent = s:add_rfq{ venue = "okx", label = "urgent", expires_in_ms = 600000 }
  local start = s:now()
  H.run(s, "local ids = " .. H.ids_literal(queued) .. [[
    local bulk = rfq.spawn(function()
      return rfq.cancel_batch{ venue = "okx", ids = ids, timeout_ms = 10000 }
    end)
    rfq.sleep(10)
    local summary = rfq.cancel_all{ venue = "okx", where = { label_prefix = "urgent" } }
    emit("urgent", rfq.now(), summary.venues.okx)
    local _, res = bulk:wait()
    emit("bulk", res.canceled, res.requests)
  ]])
  s:advance(8000)
  local at, outcome = H.one(s, "urgent")
  t.eq(outcome, { ok = true, canceled = 1 })
  t.eq(at, start + 2050, "the first free slot")
  t.eq({ H.one(s, "bulk") }, { 500, 5 })
  local sent = s:requests{ endpoint = "cancel-batch-rfqs" }
  t.eq(#sent, 6)
  t.eq(H.batch_ids(sent[3]), { urgent.id }, "third request: before the queued ones")
end)

t.case("okx_spread: spread_id cancels only that spread's orders", function(s)
  local btc1 = s:add_rfq{ venue = "okx_spread", sprd_id = "BTC-USDT_BTC-USDT-SWAP" }
  local btc2 = s:add_rfq{ venue = "okx_spread" }                    -- the default spread
  local eth = s:add_rfq{ venue = "okx_spread", sprd_id = "ETH-USDT_ETH-USDT-SWAP" }
  local a = s:add_rfq{ venue = "okx", expires_in_ms = 60000 }
  local summary, err =
    cancel_all(s, "{ venue = 'okx_spread', spread_id = 'ETH-USDT_ETH-USDT-SWAP' }")
  t.eq(err, nil)
  t.eq(sorted_keys(summary.venues), { "okx_spread" })
  t.eq(summary.venues.okx_spread, { ok = true })
  t.eq(s:rfq(eth).state, "canceled")
  t.eq(s:rfq(btc1).state, "active")
  t.eq(s:rfq(btc2).state, "active")
  t.eq(s:rfq(btc2).sprd_id, "BTC-USDT_BTC-USDT-SWAP")
  t.eq(s:rfq(a).state, "active")
  local mass = s:requests{ endpoint = "sprd-mass-cancel" }
  t.eq(#mass, 1)
  t.match(mass[1].body, '"args":%[{"sprdId":"ETH%-USDT_ETH%-USDT%-SWAP"}%]')
  -- Without spread_id: every spread.
  summary = cancel_all(s, "{ venue = 'okx_spread' }")
  t.eq(summary.venues.okx_spread, { ok = true })
  t.eq(s:rfq(btc1).state, "canceled")
  t.eq(s:rfq(btc2).state, "canceled")
  t.eq(#s:rfqs{ venue = "okx_spread", state = "active" }, 0)
end)

t.case("misused options raise before anything is sent", function(s)
  H.run(s, [[
    emit("spread", pcall(rfq.cancel_all, { venue = "okx", spread_id = "X" }))
    emit("where", pcall(rfq.cancel_all, { where = { label_prefix = "x" } }))
    emit("empty", pcall(rfq.cancel_all, { venue = "okx", where = { tag = "x" } }))
    emit("venue", pcall(rfq.cancel_all, { venue = "kraken" }))
    emit("confirm", pcall(rfq.cancel_all, { venue = "okx_spread", confirm = true }))
  ]])
  s:advance(10)
  local function err(tag)
    local ok, e = H.one(s, tag)
    t.eq(ok, false, tag)
    return e
  end
  t.match(err("spread"), "rfq%.cancel_all: bad argument 'spread_id' %(only for venue okx_spread%)")
  t.match(err("where"), "rfq%.cancel_all: bad argument 'where' %(needs a venue%)")
  t.match(err("empty"), "rfq%.cancel_all: unknown option 'tag'")
  t.match(err("venue"),
          "rfq%.cancel_all: bad argument 'venue' %(unknown or unconfigured venue 'kraken'%)")
  t.match(err("confirm"),
          "rfq%.cancel_all: bad argument 'confirm' %(venue okx_spread has no state feed")
  for _, endpoint in ipairs{ "cancel-all-rfqs", "cancel-batch-rfqs", "sprd-mass-cancel" } do
    t.eq(#s:requests{ endpoint = endpoint }, 0, endpoint)
  end
end)
