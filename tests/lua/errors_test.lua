-- The closed list of codes (docs/lua-api.md "Codes") as the simulator produces them, through
-- rfq.cancel (and rfq.cancel_batch items / rfq.cancel_all outcomes where they differ).
-- REJECTED comes from a "reject" fault (a venue code outside the closed list).
local t = require "rfq.test"
local H = require "helpers"

-- Runs `call` (Lua source of one rfq.* call) in a fresh policy, lets `ms` of virtual time pass
-- and returns what the call returned, plus the virtual ms it took.
local function outcome(s, call, ms)
  local took, res, err, code, venue_code = H.call(s, call, ms or 100)
  return res, err, code, venue_code, took
end

-- ---- UNKNOWN_RFQ ---------------------------------------------------------------------------

t.case("okx: canceling an id the venue does not know gives UNKNOWN_RFQ 70000", function(s)
  local res, err, code, venue_code = outcome(s, [[rfq.cancel{ venue = "okx", id = "999999" }]])
  t.eq(res, nil)
  t.eq(code, "UNKNOWN_RFQ")
  t.eq(err, "RFQ does not exist.")
  t.eq(venue_code, "70000")
  local sent = s:requests{ venue = "okx", endpoint = "cancel-rfq" }
  t.eq(#sent, 1)
  t.eq(sent[1].body, '{"rfqId":"999999"}')
end)

t.case("okx: canceling an unknown client id gives UNKNOWN_RFQ 70000", function(s)
  local res, err, code, venue_code =
    outcome(s, [[rfq.cancel{ venue = "okx", client_id = "nosuch42" }]])
  t.eq({ res, err, code, venue_code }, { nil, "RFQ does not exist.", "UNKNOWN_RFQ", "70000" })
  t.eq(s:requests{ endpoint = "cancel-rfq" }[1].body, '{"clRfqId":"nosuch42"}')
end)

t.case("deribit: canceling an id the venue does not know gives UNKNOWN_RFQ 10004", function(s)
  local res, err, code, venue_code = outcome(s, [[rfq.cancel{ venue = "deribit", id = 999999 }]])
  t.eq(res, nil)
  t.eq(code, "UNKNOWN_RFQ")
  t.eq(err, "order_not_found: block_rfq not found")
  t.eq(venue_code, "10004")
  local sent = s:requests{ venue = "deribit", endpoint = "private/cancel_block_rfq" }
  t.eq(#sent, 1)
  t.eq(sent[1].params.block_rfq_id, 999999)
  t.eq(sent[1].code, 10004)
end)

-- ---- NOT_CANCELABLE ------------------------------------------------------------------------

t.case("okx: canceling an RFQ already canceled gives NOT_CANCELABLE 70200", function(s)
  local a = s:add_rfq{ venue = "okx", expires_in_ms = 60000 }
  local call = ("rfq.cancel{ venue = 'okx', id = %q }"):format(a.id)
  local first = outcome(s, call)
  t.eq(first.state, "canceled")
  local res, err, code, venue_code = outcome(s, call)
  t.eq({ res, err, code, venue_code },
       { nil, "The RFQ with canceled status cannot be canceled", "NOT_CANCELABLE", "70200" })
end)

t.case("okx: canceling a filled RFQ gives NOT_CANCELABLE 70200", function(s)
  local a = s:add_rfq{ venue = "okx", expires_in_ms = 60000 }
  t.eq(s:fill(a), true)
  local res, err, code, venue_code =
    outcome(s, ("rfq.cancel{ venue = 'okx', id = %q }"):format(a.id))
  t.eq({ res, err, code, venue_code },
       { nil, "The RFQ with filled status cannot be canceled", "NOT_CANCELABLE", "70200" })
  t.eq(s:rfq(a).state, "filled")
end)

t.case("okx: canceling an expired RFQ gives NOT_CANCELABLE 70200", function(s)
  local a = s:add_rfq{ venue = "okx", expires_in_ms = 1000 }
  s:advance(2000)
  local res, err, code, venue_code =
    outcome(s, ("rfq.cancel{ venue = 'okx', id = %q }"):format(a.id))
  t.eq({ res, err, code, venue_code },
       { nil, "The RFQ with expired status cannot be canceled", "NOT_CANCELABLE", "70200" })
end)

t.case("deribit: canceling an RFQ already canceled gives NOT_CANCELABLE 11029", function(s)
  local d = s:add_rfq{ venue = "deribit", expires_in_ms = 60000 }
  local call = ("rfq.cancel{ venue = 'deribit', id = %s }"):format(d.id)
  t.eq(outcome(s, call).state, "canceled")
  local res, err, code, venue_code = outcome(s, call)
  t.eq({ res, err, code, venue_code },
       { nil, "invalid_arguments: block_rfq is cancelled", "NOT_CANCELABLE", "11029" })
end)

t.case("deribit: canceling a filled RFQ gives NOT_CANCELABLE 11029", function(s)
  local d = s:add_rfq{ venue = "deribit", expires_in_ms = 60000 }
  t.eq(s:fill(d), true)
  local res, err, code, venue_code =
    outcome(s, ("rfq.cancel{ venue = 'deribit', id = %q }"):format(d.id))
  t.eq({ res, err, code, venue_code },
       { nil, "invalid_arguments: block_rfq is filled", "NOT_CANCELABLE", "11029" })
end)

t.case("batch items carry UNKNOWN_RFQ and NOT_CANCELABLE with the item's own sCode", function(s)
  local live = s:add_rfq{ venue = "okx", expires_in_ms = 60000 }
  local filled = s:add_rfq{ venue = "okx", expires_in_ms = 60000 }
  t.eq(s:fill(filled), true)
  local res = outcome(s, ("rfq.cancel_batch{ venue = 'okx', ids = { %q, %q, '4242' } }")
                           :format(live.id, filled.id))
  t.eq(res[1], { id = live.id, ok = true, venue_code = "0" })
  t.eq(res[2], { id = filled.id, ok = false, code = "NOT_CANCELABLE", venue_code = "70200",
                 err = "The RFQ with filled status cannot be canceled" })
  t.eq(res[3], { id = "4242", ok = false, code = "UNKNOWN_RFQ", venue_code = "70000",
                 err = "RFQ does not exist." })
end)

-- ---- NOTHING_TO_CANCEL ---------------------------------------------------------------------

t.case("cancel_all with nothing open is NOTHING_TO_CANCEL and counts as success", function(s)
  local summary, err, code = outcome(s, [[rfq.cancel_all{ venue = "okx" }]])
  t.eq(err, nil)
  t.eq(code, nil)
  t.eq(summary.venues.okx, { ok = true, code = "NOTHING_TO_CANCEL", canceled = 0,
                             err = "Cancellation failed as you do not have any active RFQs." })
  t.eq(s:requests{ endpoint = "cancel-all-rfqs" }[1].code, "70207")
end)

t.case("deribit cancel_all with nothing open is NOTHING_TO_CANCEL", function(s)
  local summary, err = outcome(s, [[rfq.cancel_all{ venue = "deribit" }]])
  t.eq(err, nil)
  t.eq(summary.venues.deribit,
       { ok = true, code = "NOTHING_TO_CANCEL", err = "no open block RFQ", canceled = 0 })
  t.eq(#s:requests{ endpoint = "private/cancel_block_rfq" }, 0)
end)

-- ---- RATE_LIMITED --------------------------------------------------------------------------

t.case("okx: a cancel whose pacing slot comes after its deadline is RATE_LIMITED, unsent",
       function(s)
  local rfqs = H.add_many(s, 7, { venue = "okx", expires_in_ms = 60000 })
  H.run(s, "local ids = " .. H.ids_literal(rfqs) .. [[
    local tasks = {}
    for i, id in ipairs(ids) do
      tasks[i] = rfq.spawn(function()
        return rfq.cancel{ venue = "okx", id = id, timeout_ms = 1000 }
      end)
    end
    for i, task in ipairs(tasks) do emit("r" .. i, rfq.now(), select(2, task:wait())) end
  ]])
  s:advance(1500)
  -- cancel-rfq allows 5 per 2 s: the first five go out at once, the last two fail at once.
  for i = 1, 5 do
    local _, res = H.one(s, "r" .. i)
    t.eq(res.state, "canceled", "cancel " .. i)
  end
  for i = 6, 7 do
    local at, res, err, code, venue_code = H.one(s, "r" .. i)
    t.eq(at, s:now() - 1500, "fails without waiting for its deadline")
    t.eq({ res, err, code, venue_code }, { nil,
         "cancel-rfq limit (5 per 2 s): no slot before the deadline; not sent", "RATE_LIMITED" })
    t.eq(s:rfq(rfqs[i]).state, "active")
  end
  t.eq(#s:requests{ endpoint = "cancel-rfq" }, 5)
end)

t.case("okx: with a deadline past the next window the sixth cancel waits instead", function(s)
  local rfqs = H.add_many(s, 6, { venue = "okx", expires_in_ms = 60000 })
  local start = s:now()
  H.run(s, "local ids = " .. H.ids_literal(rfqs) .. [[
    for i, id in ipairs(ids) do
      rfq.spawn(function()
        local res = rfq.cancel{ venue = "okx", id = id, timeout_ms = 3000 }
        emit("r" .. i, res and res.state)
      end)
    end
  ]])
  s:advance(3000)
  for i = 1, 6 do t.eq(H.one(s, "r" .. i), "canceled") end
  local sent = s:requests{ endpoint = "cancel-rfq" }
  t.eq(#sent, 6)
  t.eq(sent[5].ts_ms, start)
  t.eq(sent[6].ts_ms, start + 2050)
end)

t.case("deribit: a cancel whose credits come after its deadline is RATE_LIMITED, unsent",
       function(s)
  H.run(s, [[
    local counts, first = {}, nil
    local tasks = {}
    for i = 1, 110 do
      tasks[i] = rfq.spawn(function()
        return rfq.cancel{ venue = "deribit", id = 5000 + i, timeout_ms = 50 }
      end)
    end
    for i = 1, 110 do
      local _, res, err, code, venue_code = tasks[i]:wait()
      counts[code] = (counts[code] or 0) + 1
      if code == "RATE_LIMITED" and not first then first = { err, venue_code } end
    end
    emit("counts", counts, first)
  ]])
  s:advance(200)
  local counts, first = H.one(s, "counts")
  t.ok(counts.RATE_LIMITED and counts.RATE_LIMITED > 0, "some cancels ran out of credits")
  t.eq(counts.UNKNOWN_RFQ + counts.RATE_LIMITED, 110)
  t.eq(first, { "credit pool: no credits before the deadline; not sent" })
  t.eq(#s:requests{ endpoint = "private/cancel_block_rfq" }, counts.UNKNOWN_RFQ)
end)

-- ---- TIMEOUT, DISCONNECTED, UNAVAILABLE ----------------------------------------------------

t.case("okx: an answer later than timeout_ms gives TIMEOUT at the deadline", function(s)
  local a = s:add_rfq{ venue = "okx", expires_in_ms = 60000 }
  s:fault{ venue = "okx", kind = "delay", delay_ms = 3000, endpoint = "cancel-rfq" }
  local res, err, code, venue_code, took =
    outcome(s, ("rfq.cancel{ venue = 'okx', id = %q, timeout_ms = 1000 }"):format(a.id), 4000)
  t.eq({ res, err, code, venue_code }, { nil, "transport: request timed out", "TIMEOUT" })
  t.eq(took, 1000)
  -- The venue did process it (a delay only holds the answer back).
  t.eq(s:rfq(a).state, "canceled")
  t.eq(s:requests{ endpoint = "cancel-rfq" }[1].fault, "delay")
end)

t.case("okx: an answer just inside timeout_ms is a success", function(s)
  local a = s:add_rfq{ venue = "okx", expires_in_ms = 60000 }
  s:fault{ venue = "okx", kind = "delay", delay_ms = 900, endpoint = "cancel-rfq" }
  local res, err, _, _, took =
    outcome(s, ("rfq.cancel{ venue = 'okx', id = %q, timeout_ms = 1000 }"):format(a.id), 2000)
  t.eq(err, nil)
  t.eq(res.state, "canceled")
  t.eq(took, 900)
end)

t.case("deribit: an answer later than timeout_ms gives TIMEOUT", function(s)
  local d = s:add_rfq{ venue = "deribit", expires_in_ms = 60000 }
  s:fault{ venue = "deribit", kind = "delay", delay_ms = 3000,
           endpoint = "private/cancel_block_rfq" }
  local res, err, code, venue_code, took =
    outcome(s, ("rfq.cancel{ venue = 'deribit', id = %s, timeout_ms = 1000 }"):format(d.id), 4000)
  t.eq({ res, err, code, venue_code }, { nil, "request timed out", "TIMEOUT" })
  t.eq(took, 1000)
end)

t.case("deribit: a dropped message is never answered, so it is a TIMEOUT", function(s)
  local d = s:add_rfq{ venue = "deribit", expires_in_ms = 60000 }
  s:fault{ venue = "deribit", kind = "drop", endpoint = "private/cancel_block_rfq" }
  local res, err, code, venue_code, took =
    outcome(s, ("rfq.cancel{ venue = 'deribit', id = %s, timeout_ms = 800 }"):format(d.id), 1000)
  t.eq({ res, err, code, venue_code }, { nil, "request timed out", "TIMEOUT" })
  t.eq(took, 800)
  t.eq(s:rfq(d).state, "active")
end)

t.case("okx: a connection closed without an answer gives DISCONNECTED", function(s)
  local a = s:add_rfq{ venue = "okx", expires_in_ms = 60000 }
  s:fault{ venue = "okx", kind = "drop", endpoint = "cancel-rfq" }
  local res, err, code, venue_code, took =
    outcome(s, ("rfq.cancel{ venue = 'okx', id = %q, timeout_ms = 1000 }"):format(a.id))
  t.eq({ res, err, code, venue_code }, { nil, "transport: connection lost", "DISCONNECTED" })
  t.eq(took, 0, "fails when the connection closes, not at the deadline")
  t.eq(s:rfq(a).state, "active")
  local sent = s:requests{ endpoint = "cancel-rfq" }
  t.eq(#sent, 1, "not sent again")
  t.eq(sent[1].status, 0)
end)

t.case("deribit: a WebSocket closed under the cancel gives DISCONNECTED", function(s)
  local d = s:add_rfq{ venue = "deribit", expires_in_ms = 60000 }
  s:fault{ venue = "deribit", kind = "ws_close", endpoint = "private/cancel_block_rfq" }
  local res, err, code, venue_code =
    outcome(s, ("rfq.cancel{ venue = 'deribit', id = %s, timeout_ms = 1000 }"):format(d.id))
  t.eq({ res, err, code, venue_code }, { nil, "connection lost", "DISCONNECTED" })
  t.eq(s:rfq(d).state, "active")
end)

t.case("deribit: while the WebSocket is down a cancel goes over the signed HTTP fallback",
       function(s)
  local d = s:add_rfq{ venue = "deribit", expires_in_ms = 60000 }
  s:fault{ venue = "deribit", kind = "ws_close", endpoint = "private/cancel_block_rfq" }
  H.run(s, ([[
    emit("first", rfq.cancel{ venue = "deribit", id = %s })
    emit("second", rfq.cancel{ venue = "deribit", id = %s })
  ]]):format(d.id, d.id))
  s:advance(10)
  t.eq({ select(2, H.one(s, "first")) }, { "connection lost", "DISCONNECTED" })
  t.eq(H.one(s, "second").state, "canceled")
  t.eq(s:rfq(d).state, "canceled")
  local http = s:requests{ venue = "deribit", transport = "http" }
  t.eq(#http, 1)
  t.eq({ http[1].endpoint, http[1].auth, http[1].status, http[1].code },
       { "private/cancel_block_rfq", "deri-hmac-sha256", 200, 0 })
end)

t.case("deribit: with both the WebSocket down and HTTP dropped a cancel is DISCONNECTED",
       function(s)
  local d = s:add_rfq{ venue = "deribit", expires_in_ms = 60000 }
  s:fault{ venue = "deribit", kind = "ws_close", endpoint = "private/cancel_block_rfq" }
  s:fault{ venue = "deribit", kind = "drop", endpoint = "private/cancel_block_rfq" }
  H.run(s, ([[
    emit("first", rfq.cancel{ venue = "deribit", id = %s })
    emit("second", rfq.cancel{ venue = "deribit", id = %s })
    rfq.sleep(1000)
    emit("later", rfq.cancel{ venue = "deribit", id = %s })
  ]]):format(d.id, d.id, d.id))
  s:advance(2000)
  t.eq({ select(2, H.one(s, "second")) }, { "connection lost", "DISCONNECTED" })
  t.eq(s:requests{ venue = "deribit", transport = "http" }[1].fault, "drop")
  t.eq(H.one(s, "later").state, "canceled", "after the reconnect")
end)

t.case("okx: a 503 answer gives UNAVAILABLE 50001", function(s)
  local a = s:add_rfq{ venue = "okx", expires_in_ms = 60000 }
  s:fault{ venue = "okx", kind = "unavailable", endpoint = "cancel-rfq" }
  local res, err, code, venue_code =
    outcome(s, ("rfq.cancel{ venue = 'okx', id = %q }"):format(a.id))
  t.eq({ res, err, code, venue_code }, { nil,
       "Service temporarily unavailable. Please try again later.", "UNAVAILABLE", "50001" })
  t.eq(s:rfq(a).state, "active")
  t.eq(s:requests{ endpoint = "cancel-rfq" }[1].status, 503)
end)

t.case("deribit: temporarily_unavailable gives UNAVAILABLE 13028", function(s)
  local d = s:add_rfq{ venue = "deribit", expires_in_ms = 60000 }
  s:fault{ venue = "deribit", kind = "unavailable", endpoint = "private/cancel_block_rfq" }
  local res, err, code, venue_code =
    outcome(s, ("rfq.cancel{ venue = 'deribit', id = %s }"):format(d.id))
  t.eq({ res, err, code, venue_code }, { nil, "temporarily_unavailable", "UNAVAILABLE", "13028" })
  t.eq(s:rfq(d).state, "active")
end)

t.case("a request-level failure gives every item of that batch request the same code",
       function(s)
  local rfqs = H.add_many(s, 3, { venue = "okx", expires_in_ms = 60000 })
  s:fault{ venue = "okx", kind = "unavailable", endpoint = "cancel-batch-rfqs" }
  local res = outcome(s, "rfq.cancel_batch{ venue = 'okx', ids = " .. H.ids_literal(rfqs) .. " }")
  t.eq(res.failed, 3)
  for i, h in ipairs(rfqs) do
    t.eq(res[i], { id = h.id, ok = false, code = "UNAVAILABLE", venue_code = "50001",
                   err = "Service temporarily unavailable. Please try again later." })
  end
end)

t.case("cancel_all reports a failing venue as summary, 'VENUE: MESSAGE' and its code",
       function(s)
  s:add_rfq{ venue = "okx", expires_in_ms = 60000 }
  s:fault{ venue = "okx", kind = "drop", endpoint = "cancel-all-rfqs" }
  local summary, err, code = outcome(s, [[rfq.cancel_all{ venue = "okx", timeout_ms = 1000 }]])
  t.eq(summary.venues.okx,
       { ok = false, code = "DISCONNECTED", err = "transport: connection lost" })
  t.eq(err, "okx: transport: connection lost")
  t.eq(code, "DISCONNECTED")
end)

-- ---- AUTH ----------------------------------------------------------------------------------

t.case("okx: a revoked key (401, 50111) gives AUTH and nothing is canceled", function(s)
  local a = s:add_rfq{ venue = "okx", expires_in_ms = 60000 }
  s:fault{ venue = "okx", kind = "auth", endpoint = "cancel-rfq" }
  local res, err, code, venue_code =
    outcome(s, ("rfq.cancel{ venue = 'okx', id = %q }"):format(a.id))
  t.eq({ res, err, code, venue_code }, { nil, "Invalid OK-ACCESS-KEY", "AUTH", "50111" })
  t.eq(s:rfq(a).state, "active")
  local sent = s:requests{ endpoint = "cancel-rfq" }
  t.eq({ #sent, sent[1].status, sent[1].code, sent[1].fault }, { 1, 401, "50111", "auth" })
end)

t.case("deribit: unauthorized (13009) gives AUTH", function(s)
  local d = s:add_rfq{ venue = "deribit", expires_in_ms = 60000 }
  s:fault{ venue = "deribit", kind = "auth", endpoint = "private/cancel_block_rfq" }
  local res, err, code, venue_code =
    outcome(s, ("rfq.cancel{ venue = 'deribit', id = %s }"):format(d.id))
  t.eq({ res, err, code, venue_code }, { nil, "unauthorized", "AUTH", "13009" })
  t.eq(s:rfq(d).state, "active")
end)

t.case("an AUTH answer to a batch request fails each of its items with AUTH", function(s)
  local a = s:add_rfq{ venue = "okx", expires_in_ms = 60000 }
  s:fault{ venue = "okx", kind = "auth", endpoint = "cancel-batch-rfqs" }
  local res = outcome(s, ("rfq.cancel_batch{ venue = 'okx', ids = { %q, '5' } }"):format(a.id))
  t.eq(res[1], { id = a.id, ok = false, code = "AUTH", venue_code = "50111",
                 err = "Invalid OK-ACCESS-KEY" })
  t.eq(res[2], { id = "5", ok = false, code = "AUTH", venue_code = "50111",
                 err = "Invalid OK-ACCESS-KEY" })
  t.eq({ res.canceled, res.failed, res.requests }, { 0, 2, 1 })
end)

t.case("the kill switch reports AUTH for okx and still cancels on deribit", function(s)
  local a = s:add_rfq{ venue = "okx", expires_in_ms = 60000 }
  local d = s:add_rfq{ venue = "deribit", expires_in_ms = 60000 }
  s:fault{ venue = "okx", kind = "auth", endpoint = "cancel-all-rfqs" }
  local summary, err, code = outcome(s, "rfq.cancel_all()")
  t.eq(summary.venues.okx, { ok = false, code = "AUTH", err = "Invalid OK-ACCESS-KEY" })
  t.eq(summary.venues.deribit, { ok = true, canceled = 1 })
  t.eq({ err, code }, { "okx: Invalid OK-ACCESS-KEY", "AUTH" })
  t.eq(s:rfq(a).state, "active")
  t.eq(s:rfq(d).state, "canceled")
end)

-- ---- REJECTED ------------------------------------------------------------------------------

-- A venue refusal outside the closed list (a "reject" fault answers with the code it is given).
t.case("okx: a refusal with any other code gives REJECTED with the venue's code and text",
       function(s)
  local a = s:add_rfq{ venue = "okx", expires_in_ms = 60000 }
  s:fault{ venue = "okx", endpoint = "cancel-rfq", kind = "reject", code = "51008",
           message = "Order failed. Insufficient balance." }
  local res, err, code, venue_code =
    outcome(s, ("rfq.cancel{ venue = 'okx', id = %q }"):format(a.id))
  t.eq({ res, err, code, venue_code },
       { nil, "Order failed. Insufficient balance.", "REJECTED", "51008" })
  t.eq(s:rfq(a).state, "active")
  t.eq(s:requests{ endpoint = "cancel-rfq" }[1].fault, "reject")
end)

t.case("deribit: an error with any other code gives REJECTED with the venue's code", function(s)
  local d = s:add_rfq{ venue = "deribit", expires_in_ms = 60000 }
  s:fault{ venue = "deribit", endpoint = "private/cancel_block_rfq", kind = "reject",
           code = 10009, message = "not_enough_funds" }
  local res, err, code, venue_code =
    outcome(s, ("rfq.cancel{ venue = 'deribit', id = %s }"):format(d.id))
  t.eq({ res, code, venue_code }, { nil, "REJECTED", "10009" })
  t.match(err, "not_enough_funds")
  t.eq(s:rfq(d).state, "active")
end)

t.case("a REJECTED batch request fails each of its items with REJECTED", function(s)
  local a = s:add_rfq{ venue = "okx", expires_in_ms = 60000 }
  local b = s:add_rfq{ venue = "okx", expires_in_ms = 60000 }
  s:fault{ venue = "okx", endpoint = "cancel-batch-rfqs", kind = "reject", code = "51000",
           message = "Parameter rfqIds error" }
  local res = outcome(s, ("rfq.cancel_batch{ venue = 'okx', ids = { %q, %q } }"):format(a.id, b.id))
  t.eq(#res, 2)
  for i, id in ipairs{ a.id, b.id } do
    t.eq({ res[i].id, res[i].ok, res[i].code, res[i].venue_code }, { id, false, "REJECTED", "51000" })
  end
end)

-- The simulator's own refusals (51000 more than 100 ids, 50014 no ids, 50015 neither rfqId nor
-- clRfqId) are requests rfqd never builds: they are refused as misuse first.
t.case("the requests that would be REJECTED are refused before anything is sent", function(s)
  H.run(s, [[
    emit("neither", pcall(rfq.cancel, { venue = "okx" }))
    emit("empty", pcall(rfq.cancel_batch, { venue = "okx", ids = {} }))
  ]])
  s:advance(10)
  local ok1, e1 = H.one(s, "neither")
  t.eq(ok1, false)
  t.match(e1, "rfq%.cancel: bad argument 'id' %(id or client_id is required%)")
  local ok2, e2 = H.one(s, "empty")
  t.eq(ok2, false)
  t.match(e2, "rfq%.cancel_batch: bad argument 'ids'")
  t.eq(#s:requests{ endpoint = "cancel-rfq" }, 0)
  t.eq(#s:requests{ endpoint = "cancel-batch-rfqs" }, 0)
end)

-- Without a fault, AUTH does not arise from rfqd itself: it signs at send time and renews
-- its Deribit token, even after long waits.
t.case("cancels queued for 30 s and a Deribit token past its lifetime never give AUTH",
       function(s)
  H.run(s, [[
    local tasks, codes = {}, {}
    for i = 1, 80 do
      tasks[i] = rfq.spawn(function()
        return rfq.cancel{ venue = "okx", id = tostring(7000 + i), timeout_ms = 60000 }
      end)
    end
    for i = 1, 80 do
      local _, _, _, code = tasks[i]:wait()
      codes[code] = (codes[code] or 0) + 1
    end
    emit("okx", codes, rfq.now())
  ]])
  local start = s:now()
  s:advance(40000)
  local codes, done = H.one(s, "okx")
  t.eq(codes, { UNKNOWN_RFQ = 80 })
  t.eq(done - start, 15 * 2050, "80 cancels take 16 windows of 5")
  s:advance(1000000)                                -- the first token lived 900 s
  local _, _, code, venue_code = outcome(s, [[rfq.cancel{ venue = "deribit", id = 5 }]])
  t.eq({ code, venue_code }, { "UNKNOWN_RFQ", "10004" })
end)
