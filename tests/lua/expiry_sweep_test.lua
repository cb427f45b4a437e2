-- scripts/policies/expiry_sweep.lua: batched cancels of RFQs about to expire.
local t = require "rfq.test"
local H = require "helpers"

local POLICY = "scripts/policies/expiry_sweep.lua"

t.case("sweeps RFQs expiring within the window", function(s)
  local a = s:add_rfq{ venue = "okx", expires_in_ms = 4000 }
  local b = s:add_rfq{ venue = "okx", expires_in_ms = 60000 }
  s:load_policy(POLICY, { window_ms = 5000 })
  s:advance(1000)                                  -- virtual ms
  t.eq(s:rfq(a).state, "canceled")
  t.eq(s:rfq(b).state, "active")
  local batches = s:requests{ venue = "okx", endpoint = "cancel-batch-rfqs" }
  t.eq(#batches, 1)
  t.eq(H.batch_ids(batches[1]), { a.id })
end)

t.case("sweeps okx and deribit RFQs in the same tick", function(s)
  local start = s:now()
  local a = s:add_rfq{ venue = "okx", expires_in_ms = 3000 }
  local b = s:add_rfq{ venue = "okx", expires_in_ms = 4000 }
  local far_okx = s:add_rfq{ venue = "okx", expires_in_ms = 90000 }
  local d = s:add_rfq{ venue = "deribit", expires_in_ms = 3000 }
  local far_deribit = s:add_rfq{ venue = "deribit", expires_in_ms = 90000 }
  s:load_policy(POLICY)
  s:advance(1000)
  for _, h in ipairs{ a, b, d } do t.eq(s:rfq(h).state, "canceled", h.venue .. " " .. h.id) end
  t.eq(s:rfq(far_okx).state, "active")
  t.eq(s:rfq(far_deribit).state, "active")
  -- One okx batch with both due ids (soonest expiry first), one Deribit cancel, both on the
  -- first tick (every_ms 250).
  local batches = s:requests{ venue = "okx", endpoint = "cancel-batch-rfqs" }
  t.eq(#batches, 1)
  t.eq(H.batch_ids(batches[1]), { a.id, b.id })
  t.eq(batches[1].ts_ms, start + 250)
  local d_cancels = s:requests{ venue = "deribit", endpoint = "private/cancel_block_rfq" }
  t.eq(#d_cancels, 1)
  t.eq(tostring(d_cancels[1].params.block_rfq_id), d.id)
  t.eq(d_cancels[1].ts_ms, start + 250)
end)

t.case("the window param decides how early an RFQ is canceled", function(s)
  local start = s:now()
  local a = s:add_rfq{ venue = "okx", expires_in_ms = 10000 }
  local d = s:add_rfq{ venue = "deribit", expires_in_ms = 10000 }
  s:load_policy(POLICY, { window_ms = 2000, every_ms = 100 })
  s:advance(7950)                                  -- 2050 ms before expiry: not yet due
  t.eq(s:rfq(a).state, "active")
  t.eq(s:rfq(d).state, "active")
  t.eq(#H.cancel_requests(s), 0)
  s:advance(200)
  t.eq(s:rfq(a).state, "canceled")
  t.eq(s:rfq(d).state, "canceled")
  local sent = H.cancels(s)
  t.eq(sent["okx:" .. a.id], { start + 8000 })
  t.eq(sent["deribit:" .. d.id], { start + 8000 })
end)

t.case("without params the window is 5 s", function(s)
  local start = s:now()
  local a = s:add_rfq{ venue = "okx", expires_in_ms = 20000 }
  s:load_policy(POLICY)
  s:advance(14900)
  t.eq(s:rfq(a).state, "active")
  s:advance(400)
  t.eq(s:rfq(a).state, "canceled")
  t.eq(H.cancels(s)["okx:" .. a.id], { start + 15000 })
end)

t.case("the venue param limits the sweep to that venue", function(s)
  local a = s:add_rfq{ venue = "okx", expires_in_ms = 3000 }
  local d = s:add_rfq{ venue = "deribit", expires_in_ms = 3000 }
  s:load_policy(POLICY, { venue = "deribit" })
  s:advance(1000)
  t.eq(s:rfq(d).state, "canceled")
  t.eq(s:rfq(a).state, "active")
  s:advance(5000)
  -- Nobody canceled the okx RFQ: it ran out.
  t.eq(s:rfq(a).state, "expired")
  t.eq(#s:requests{ venue = "okx", endpoint = "cancel-batch-rfqs" }, 0)
  t.eq(#s:requests{ venue = "deribit", endpoint = "private/cancel_block_rfq" }, 1)
end)

t.case("RFQs outside the window stay untouched over a long run", function(s)
  local a = s:add_rfq{ venue = "okx", expires_in_ms = 600000 }
  local d = s:add_rfq{ venue = "deribit", expires_in_ms = 600000 }
  s:load_policy(POLICY)
  s:advance(594000)
  t.eq(s:rfq(a).state, "active")
  t.eq(s:rfq(d).state, "active")
  t.eq(#H.cancel_requests(s), 0, "no cancel of any kind while nothing is due")
  t.eq(#H.script_lines(s, "canceled"), 0)
  s:advance(2000)
  t.eq(s:rfq(a).state, "canceled")
  t.eq(s:rfq(d).state, "canceled")
end)

t.case("over ten minutes each RFQ is canceled shortly before expiry and none expires",
       function(s)
  local handles = {}
  -- Every minute, new RFQs that expire 7-53 s (okx) and 11-46 s (deribit) later; plus a few
  -- long-lived ones from the start. Expiries fall between the sweep's ticks.
  for _, ms in ipairs{ 120133, 300077, 598911 } do
    handles[#handles + 1] = s:add_rfq{ venue = "okx", expires_in_ms = ms }
    handles[#handles + 1] = s:add_rfq{ venue = "deribit", expires_in_ms = ms - 1000 }
  end
  s:load_policy(POLICY)
  for minute = 0, 9 do
    for k = 0, 5 do
      handles[#handles + 1] = s:add_rfq{ venue = "okx", expires_in_ms = 7013 + k * 9071 }
    end
    for k = 0, 2 do
      handles[#handles + 1] = s:add_rfq{ venue = "deribit", expires_in_ms = 11101 + k * 17029 }
    end
    s:advance(60000)
  end
  t.eq(#handles, 96)
  t.eq(#s:rfqs{ state = "expired" }, 0)
  local sent = H.cancels(s)
  for _, h in ipairs(handles) do
    local r = s:rfq(h)
    local what = h.venue .. " RFQ " .. h.id
    t.eq(r.state, "canceled", what)
    local at = sent[h.venue .. ":" .. h.id]
    t.eq(#at, 1, what .. " is canceled once")
    -- Due at expires_ms - 5000; the next tick (every 250 ms) cancels it.
    local left = r.expires_ms - at[1]
    t.ok(left > 4750 and left <= 5000, what .. " canceled " .. left .. " ms before expiry")
  end
  t.eq(#H.script_lines(s, "^canceled %a+ RFQ %d+, [45]%.%d s before expiry$", "info"), 96)
  t.eq(#H.script_lines(s, nil, "warning"), 0)
end)

t.case("more than 200 due okx RFQs are paced over two windows, all before expiry", function(s)
  local rfqs = {}
  for i = 1, 250 do rfqs[i] = s:add_rfq{ venue = "okx", expires_in_ms = 3990 + i } end
  s:load_policy(POLICY)
  s:advance(3000)
  for i, h in ipairs(rfqs) do t.eq(s:rfq(h).state, "canceled", "RFQ " .. i) end
  local sent = s:requests{ venue = "okx", endpoint = "cancel-batch-rfqs" }
  t.eq(#sent, 3)
  -- The deadline is the latest expiry, so the third request may wait for its slot.
  t.eq(sent[3].ts_ms - sent[1].ts_ms, 2050)
  t.eq(#H.batch_ids(sent[3]), 50)
  t.eq(#H.script_lines(s, nil, "warning"), 0)
end)

t.case("due RFQs the pacing cannot reach before they expire are logged RATE_LIMITED",
       function(s)
  local rfqs = H.add_many(s, 450, { venue = "okx", expires_in_ms = 4000 })
  s:load_policy(POLICY)
  s:advance(6000)
  -- Slots at 0, 0, 2050, 2050 carry 400 ids; the fifth (4100) comes after every expiry.
  t.eq(#s:requests{ venue = "okx", endpoint = "cancel-batch-rfqs" }, 4)
  t.eq(#s:rfqs{ venue = "okx", state = "canceled" }, 400)
  t.eq(#s:rfqs{ venue = "okx", state = "expired" }, 50)
  local pacing = "(cancel-batch-rfqs limit (2 per 2 s): no slot before the deadline; not sent)"
  local limited = H.script_lines(s, "^cancel okx RFQ %d+ failed: RATE_LIMITED", "warning")
  t.eq(#limited, 50)
  t.eq(limited[1]:match("failed: .*$"), "failed: RATE_LIMITED " .. pacing)
  -- Exactly the RFQs that expired were the ones logged.
  local logged, expired = {}, {}
  for _, line in ipairs(limited) do logged[#logged + 1] = line:match("RFQ (%d+)") end
  for _, h in ipairs(rfqs) do
    if s:rfq(h).state == "expired" then expired[#expired + 1] = h.id end
  end
  table.sort(logged)
  table.sort(expired)
  t.eq(logged, expired)
  -- Later ticks try the 50 again while the lane is still busy: nothing of it is sent.
  local retries = H.script_lines(s, "^cancel_batch on okx", "warning")
  t.ok(#retries >= 1)
  t.eq(retries[1], "cancel_batch on okx (50 RFQs) failed: RATE_LIMITED " .. pacing)
end)

t.case("logs its settings at start and each canceled RFQ", function(s)
  local a = s:add_rfq{ venue = "okx", expires_in_ms = 4250 }
  local d = s:add_rfq{ venue = "deribit", expires_in_ms = 3650 }
  s:load_policy(POLICY, { window_ms = 4000, every_ms = 150 })
  s:advance(400)
  -- Ticks at 150 and 300: d is due at the first (3.5 s left), a at the second (3.95 s).
  t.eq(H.script_lines(s), {
    "expiry sweep: every 150 ms, window 4000 ms",
    "canceled deribit RFQ " .. d.id .. ", 3.5 s before expiry",
    "canceled okx RFQ " .. a.id .. ", 4.0 s before expiry",
  })
  t.eq(#H.script_lines(s, nil, "info"), 3, "all at info level")
  for _, r in ipairs(s:logs()) do
    if r.logger == "script" then
      t.match(r.message, "^%[expiry_sweep%] scripts/policies/expiry_sweep%.lua:%d+: ")
    end
  end
end)

t.case("an RFQ filled meanwhile is logged as already ended", function(s)
  local a = s:add_rfq{ venue = "okx", expires_in_ms = 6000 }
  s:load_policy(POLICY)
  -- The fill's rfqs push is lost, so the book still holds the RFQ active when it comes due.
  s:fault{ venue = "okx", endpoint = "ws-push", kind = "drop" }
  t.eq(s:fill(a), true)
  s:advance(1100)
  t.eq(s:rfq(a).state, "filled")
  local ended = H.script_lines(s, "already ended")
  t.eq(ended[1], "okx RFQ " .. a.id ..
       " already ended: The RFQ with filled status cannot be canceled", "info line")
  t.eq(#H.script_lines(s, "already ended", "info"), #ended)
  t.eq(#H.script_lines(s, nil, "warning"), 0)
  t.eq(#H.script_lines(s, "^canceled"), 0)
end)

t.case("a Deribit RFQ filled before it is due is never sent a cancel", function(s)
  local d = s:add_rfq{ venue = "deribit", expires_in_ms = 6000 }
  s:load_policy(POLICY)
  t.eq(s:fill(d), true)
  s:advance(3000)
  -- Deribit pushes the fill, so the book no longer lists the RFQ when it comes due.
  t.eq(s:rfq(d).state, "filled")
  t.eq(#s:requests{ venue = "deribit", endpoint = "private/cancel_block_rfq" }, 0)
  t.eq(#H.script_lines(s, "RFQ " .. d.id), 0)
end)

t.case("a failed batch request is logged and retried on the next tick", function(s)
  local a = s:add_rfq{ venue = "okx", expires_in_ms = 4000 }
  s:fault{ venue = "okx", endpoint = "cancel-batch-rfqs", kind = "unavailable" }
  s:load_policy(POLICY)
  s:advance(600)
  t.eq(s:rfq(a).state, "canceled")
  t.eq(H.script_lines(s, nil, "warning"), {
    "cancel okx RFQ " .. a.id ..
      " failed: UNAVAILABLE (Service temporarily unavailable. Please try again later.)",
  })
  local batches = s:requests{ venue = "okx", endpoint = "cancel-batch-rfqs" }
  t.eq(#batches, 2)
  t.eq(batches[1].fault, "unavailable")
  t.eq(batches[2].code, "0")
  t.eq(#H.script_lines(s, "^canceled okx RFQ " .. a.id), 1)
end)

t.case("a lost Deribit connection is logged, and the RFQ canceled on the next tick over HTTP",
       function(s)
  local d = s:add_rfq{ venue = "deribit", expires_in_ms = 6000 }
  s:load_policy(POLICY)
  -- The cancel's own message closes the WebSocket; the next tick finds it still down and
  -- cancels through the signed HTTP fallback.
  s:fault{ venue = "deribit", kind = "ws_close", endpoint = "private/cancel_block_rfq" }
  s:advance(2000)
  t.eq(s:rfq(d).state, "canceled")
  t.eq(H.script_lines(s, nil, "warning"), {
    "cancel deribit RFQ " .. d.id .. " failed: DISCONNECTED (connection lost)",
  })
  t.eq(#H.script_lines(s, "^canceled deribit RFQ " .. d.id .. ", 4%.8 s before expiry$"), 1)
  t.eq(#s:requests{ venue = "deribit", transport = "http", endpoint = "private/cancel_block_rfq" }, 1)
end)
