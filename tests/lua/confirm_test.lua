-- confirm = true: on okx an accepted cancel succeeds only once the business WebSocket's rfqs
-- channel shows it canceled; on deribit the answer is already final.
local t = require "rfq.test"
local H = require "helpers"

local NOT_SHOWN =
  "cancel accepted (sCode 0), but the rfqs channel did not show it canceled before the deadline"

-- Runs one call (Lua source) and returns the ms it took followed by what it returned.
local function timed(s, call, ms)
  return H.call(s, call, ms or 2000)
end

local function okx_cancel(id, extra)
  return ("rfq.cancel{ venue = 'okx', id = %q, timeout_ms = 1000%s }"):format(id, extra or "")
end

t.case("okx: a confirmed cancel succeeds once the rfqs push shows it canceled", function(s)
  local a = s:add_rfq{ venue = "okx", client_id = "desk7a", expires_in_ms = 60000 }
  local took, res, err = timed(s, okx_cancel(a.id, ", confirm = true"))
  t.eq(err, nil)
  t.eq(took, 0)
  t.eq(math.type(res.latency_us), "integer")
  res.latency_us = nil
  t.eq(res, { venue = "okx", id = a.id, client_id = "desk7a", state = "canceled",
              venue_code = "0" })
  t.eq(s:rfq(a).state, "canceled")
end)

t.case("okx: a confirmed cancel waits for a push held back within the deadline", function(s)
  local a, b = table.unpack(H.add_many(s, 2, { venue = "okx", expires_in_ms = 60000 }))
  s:fault{ venue = "okx", endpoint = "ws-push", kind = "delay", delay_ms = 600 }
  local took, res = timed(s, okx_cancel(a.id, ", confirm = true"))
  t.eq(res.state, "canceled")
  t.eq(took, 600)
  -- Without confirm the same held-back push does not matter: accepted is enough.
  s:fault{ venue = "okx", endpoint = "ws-push", kind = "delay", delay_ms = 600 }
  took, res = timed(s, okx_cancel(b.id))
  t.eq(res.state, "canceled")
  t.eq(took, 0)
end)

t.case("okx: a dropped push makes a confirmed cancel TIMEOUT with venue_code 0", function(s)
  local a = s:add_rfq{ venue = "okx", expires_in_ms = 60000 }
  s:fault{ venue = "okx", endpoint = "ws-push", kind = "drop" }
  H.run(s, "local started = rfq.now()\n" ..
           "local res, err, code, venue_code = " .. okx_cancel(a.id, ", confirm = true") .. "\n" ..
           "emit('out', rfq.now() - started, res, err, code, venue_code)\n" ..
           "emit('open', #rfq.open{ venue = 'okx' })")
  s:advance(2000)
  t.eq({ H.one(s, "out") }, { 1000, nil, NOT_SHOWN, "TIMEOUT", "0" })
  -- The venue accepted it, and the book says so: not sent again.
  t.eq(s:rfq(a).state, "canceled")
  t.eq(H.one(s, "open"), 0)
  t.eq(#s:requests{ endpoint = "cancel-rfq" }, 1)
  local pushes = s:requests{ venue = "okx_ws", endpoint = "push" }
  t.eq(#pushes, 1)
  t.eq({ pushes[1].fault, pushes[1].rfq_id, pushes[1].state }, { "drop", a.id, "canceled" })
end)

t.case("okx: a push held back past the deadline is a TIMEOUT too", function(s)
  local a = s:add_rfq{ venue = "okx", expires_in_ms = 60000 }
  s:fault{ venue = "okx", endpoint = "ws-push", kind = "delay", delay_ms = 1500 }
  local took, res, err, code, venue_code = timed(s, okx_cancel(a.id, ", confirm = true"), 3000)
  t.eq({ took, res, err, code, venue_code }, { 1000, nil, NOT_SHOWN, "TIMEOUT", "0" })
end)

t.case("okx: with the feed down a confirmed cancel is DISCONNECTED with venue_code 0",
       function(s)
  local a = s:add_rfq{ venue = "okx", expires_in_ms = 60000 }
  -- The next two WebSocket messages (the keep-alive pings of both business connections, at
  -- 20 s) close their connections; they reconnect 250 ms later.
  s:fault{ venue = "okx", kind = "ws_close", count = 2 }
  s:advance(20000)
  t.eq(#s:requests{ venue = "okx_ws", fault = "ws_close" }, 2)
  local took, res, err, code, venue_code = timed(s, okx_cancel(a.id, ", confirm = true"))
  t.eq({ took, res, code, venue_code }, { 0, nil, "DISCONNECTED", "0" })
  t.eq(err, "cancel accepted (sCode 0), but the rfqs feed is not delivering (connection " ..
            "lost), so it cannot be confirmed")
  t.eq(s:rfq(a).state, "canceled")
end)

t.case("okx batch: an item whose push is lost fails TIMEOUT, the others are confirmed",
       function(s)
  local rfqs = H.add_many(s, 3, { venue = "okx", expires_in_ms = 60000 })
  s:fault{ venue = "okx", endpoint = "ws-push", kind = "drop" }       -- the first item's push
  local took, res =
    timed(s, "rfq.cancel_batch{ venue = 'okx', confirm = true, timeout_ms = 1000, ids = " ..
             H.ids_literal(rfqs) .. " }")
  t.eq(took, 1000)
  t.eq(res[1], { id = rfqs[1].id, ok = false, code = "TIMEOUT", venue_code = "0", err = NOT_SHOWN })
  t.eq(res[2], { id = rfqs[2].id, ok = true, venue_code = "0" })
  t.eq(res[3], { id = rfqs[3].id, ok = true, venue_code = "0" })
  t.eq({ res.canceled, res.failed, res.requests }, { 2, 1, 1 })
end)

t.case("okx cancel_all: confirmed when the channel shows every covered RFQ final", function(s)
  H.add_many(s, 2, { venue = "okx", expires_in_ms = 60000 })
  local _, summary, err = timed(s, "rfq.cancel_all{ venue = 'okx', confirm = true }")
  t.eq(err, nil)
  t.eq(summary.venues.okx, { ok = true, canceled = 2, confirmed = true })
end)

t.case("okx cancel_all: a covered RFQ the channel never shows makes it TIMEOUT", function(s)
  H.add_many(s, 2, { venue = "okx", expires_in_ms = 60000 })
  s:fault{ venue = "okx", endpoint = "ws-push", kind = "drop" }
  local took, summary, err, code =
    timed(s, "rfq.cancel_all{ venue = 'okx', confirm = true, timeout_ms = 1000 }")
  local message = "cancel-all accepted, but the rfqs channel did not show 1 of the RFQs it " ..
                  "covered in a final state (request timed out)"
  t.eq(took, 1000)
  t.eq(summary.venues.okx, { ok = false, code = "TIMEOUT", canceled = 1, err = message })
  t.eq({ err, code }, { "okx: " .. message, "TIMEOUT" })
end)

t.case("okx scoped cancel_all: confirm judges each matching RFQ as a batch does", function(s)
  local a = s:add_rfq{ venue = "okx", label = "hedge-a", expires_in_ms = 60000 }
  local b = s:add_rfq{ venue = "okx", label = "hedge-b", expires_in_ms = 60000 }
  s:fault{ venue = "okx", endpoint = "ws-push", kind = "drop" }
  local _, summary, err, code = timed(s, "rfq.cancel_all{ venue = 'okx', confirm = true, " ..
                                         "timeout_ms = 1000, where = { label_prefix = 'hedge' } }")
  t.eq(summary.venues.okx, { ok = false, code = "TIMEOUT", canceled = 1, failed = 1,
                             err = "1 of 2 failed, first: " .. NOT_SHOWN })
  t.eq({ err, code }, { "okx: 1 of 2 failed, first: " .. NOT_SHOWN, "TIMEOUT" })
  t.eq(s:rfq(a).state, "canceled")
  t.eq(s:rfq(b).state, "canceled")
end)

t.case("deribit: confirm adds no wait and the answer is final", function(s)
  local d = s:add_rfq{ venue = "deribit", expires_in_ms = 60000 }
  local took, res, err =
    timed(s, ("rfq.cancel{ venue = 'deribit', id = %s, confirm = true }"):format(d.id))
  t.eq(err, nil)
  t.eq(took, 0)
  res.latency_us = nil
  t.eq(res, { venue = "deribit", id = d.id, state = "canceled", venue_code = "0" })
  t.eq(s:rfq(d).state, "canceled")
end)

t.case("deribit: a confirmed cancel of a filled RFQ is NOT_CANCELABLE", function(s)
  local d = s:add_rfq{ venue = "deribit", expires_in_ms = 60000 }
  t.eq(s:fill(d), true)
  local _, res, err, code, venue_code =
    timed(s, ("rfq.cancel{ venue = 'deribit', id = %s, confirm = true }"):format(d.id))
  t.eq({ res, err, code, venue_code },
       { nil, "invalid_arguments: block_rfq is filled", "NOT_CANCELABLE", "11029" })
end)

t.case("deribit cancel_all with confirm is marked confirmed", function(s)
  H.add_many(s, 2, { venue = "deribit", expires_in_ms = 60000 })
  local _, summary = timed(s, "rfq.cancel_all{ venue = 'deribit', confirm = true }")
  t.eq(summary.venues.deribit, { ok = true, canceled = 2, confirmed = true })
end)

t.case("the kill switch confirms on okx and deribit, not on okx_spread", function(s)
  H.add_many(s, 2, { venue = "okx", expires_in_ms = 60000 })
  H.add_many(s, 2, { venue = "deribit", expires_in_ms = 60000 })
  local spread = s:add_rfq{ venue = "okx_spread" }
  local _, summary, err = timed(s, "rfq.cancel_all{ confirm = true }")
  t.eq(err, nil)
  t.eq(summary.venues.okx, { ok = true, canceled = 2, confirmed = true })
  t.eq(summary.venues.deribit, { ok = true, canceled = 2, confirmed = true })
  t.eq(summary.venues.okx_spread, { ok = true })
  t.eq(s:rfq(spread).state, "canceled")
end)
