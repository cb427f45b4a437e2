-- scripts/policies/age_cap.lua: batched cancels of RFQs older than a maximum age.
local t = require "rfq.test"
local H = require "helpers"

local POLICY = "scripts/policies/age_cap.lua"
local LONG = 30 * 60000  -- an RFQ lifetime no case reaches, so only the policy ends them

t.case("without params: RFQs older than 60 s are canceled on the next 1 s tick", function(s)
  local start = s:now()
  local a = s:add_rfq{ venue = "okx", expires_in_ms = LONG }
  local d = s:add_rfq{ venue = "deribit", expires_in_ms = LONG }
  s:advance(400)
  s:load_policy(POLICY)                            -- ticks at start + 1.4 s, 2.4 s, ...
  s:advance(300)
  local late = s:add_rfq{ venue = "okx", expires_in_ms = LONG }  -- 700 ms younger
  s:advance(59600)                                 -- start + 60300: a and d are 60.3 s old
  t.eq(H.states(s, { a, d, late }), {
    ["okx:" .. a.id] = "active", ["deribit:" .. d.id] = "active", ["okx:" .. late.id] = "active",
  }, "no tick yet since a and d turned 60 s old")
  t.eq(#H.cancel_requests(s), 0)
  s:advance(100)                                   -- the tick at load + 60 s
  t.eq(s:rfq(a).state, "canceled")
  t.eq(s:rfq(d).state, "canceled")
  t.eq(s:rfq(late).state, "active", "59.7 s old at this tick")
  s:advance(1000)
  t.eq(s:rfq(late).state, "canceled")
  local sent = H.cancels(s)
  t.eq(sent["okx:" .. a.id], { start + 60400 })
  t.eq(sent["deribit:" .. d.id], { start + 60400 })
  t.eq(sent["okx:" .. late.id], { start + 61400 })
  t.eq(H.script_lines(s), {
    "age cap: RFQs older than 60000 ms, every 1000 ms (deadline 4000 ms), venue all, " ..
      "label prefix any",
    "canceled deribit RFQ " .. d.id .. ", age 60400 ms",
    "canceled okx RFQ " .. a.id .. ", age 60400 ms",
    "canceled okx RFQ " .. late.id .. ", age 60700 ms",
  })
  t.eq(#H.script_lines(s, nil, "info"), 4, "all at info level")
end)

t.case("max_age_ms decides the age; younger RFQs stay untouched", function(s)
  local start = s:now()
  local a = s:add_rfq{ venue = "okx", expires_in_ms = LONG }
  local d = s:add_rfq{ venue = "deribit", expires_in_ms = LONG }
  s:load_policy(POLICY, { max_age_ms = 5000, every_ms = 100 })
  s:advance(4950)
  t.eq(s:rfq(a).state, "active")
  t.eq(s:rfq(d).state, "active")
  t.eq(#H.cancel_requests(s), 0)
  s:advance(100)
  t.eq(s:rfq(a).state, "canceled")
  t.eq(s:rfq(d).state, "canceled")
  local sent = H.cancels(s)
  t.eq(sent["okx:" .. a.id], { start + 5000 })
  t.eq(sent["deribit:" .. d.id], { start + 5000 })
end)

t.case("over ten minutes every RFQ is canceled once, aged 60-61 s, and no younger one",
       function(s)
  s:load_policy(POLICY)
  local handles, survivors = {}, {}
  -- Every 7.013 s a new RFQ on okx and one on deribit, off the 1 s tick grid.
  for i = 1, 86 do
    handles[#handles + 1] = s:add_rfq{ venue = "okx", expires_in_ms = LONG }
    handles[#handles + 1] = s:add_rfq{ venue = "deribit", expires_in_ms = LONG }
    s:advance(7013)
    -- Nothing younger than the cap was touched so far.
    for _, h in ipairs(handles) do
      local r = s:rfq(h)
      if s:now() - r.created_ms < 60000 then
        t.eq(r.state, "active", h.venue .. " RFQ " .. h.id .. " is younger than 60 s")
      end
    end
  end
  local sent = H.cancels(s)
  local canceled = 0
  for _, h in ipairs(handles) do
    local r = s:rfq(h)
    local what = h.venue .. " RFQ " .. h.id
    local at = sent[h.venue .. ":" .. h.id]
    if s:now() - r.created_ms >= 61000 then
      t.eq(r.state, "canceled", what)
      t.eq(#at, 1, what .. " is canceled once")
      local age = at[1] - r.created_ms
      t.ok(age >= 60000 and age < 61000, what .. " canceled at age " .. age)
      canceled = canceled + 1
    elseif s:now() - r.created_ms < 60000 then
      t.eq(r.state, "active", what)
      t.eq(at, nil, what .. " never sent a cancel")
      survivors[#survivors + 1] = h
    end
  end
  t.eq(canceled, 2 * 78)
  t.eq(#survivors, 2 * 8)
  t.eq(#s:rfqs{ state = "expired" }, 0)
  local logged = 0
  for _, line in ipairs(H.script_lines(s, "^canceled", "info")) do
    local venue, id, age = line:match("^canceled (%a+) RFQ (%d+), age (%d+) ms$")
    local r = s:rfq{ venue = venue, id = id }
    t.eq(tonumber(age), sent[venue .. ":" .. id][1] - r.created_ms, line)
    logged = logged + 1
  end
  t.eq(logged, canceled)
  t.eq(#H.script_lines(s, nil, "warning"), 0)
end)

t.case("one cancel_batch per venue per tick: one okx request, one Deribit cancel per RFQ",
       function(s)
  local start = s:now()
  local o1 = s:add_rfq{ venue = "okx", expires_in_ms = LONG }
  local o2 = s:add_rfq{ venue = "okx", expires_in_ms = LONG - 2000 }
  local o3 = s:add_rfq{ venue = "okx", expires_in_ms = LONG - 1000 }
  local ds = H.add_many(s, 3, { venue = "deribit", expires_in_ms = LONG })
  s:advance(500)
  s:load_policy(POLICY)                            -- ticks at start + 1.5 s, 2.5 s, ...
  s:advance(1000)
  local o4 = s:add_rfq{ venue = "okx", expires_in_ms = LONG }
  local o5 = s:add_rfq{ venue = "okx", expires_in_ms = LONG - 500 }
  s:advance(61000)
  local batches = s:requests{ venue = "okx", endpoint = "cancel-batch-rfqs" }
  t.eq(#batches, 2, "one request for each tick that found okx RFQs due")
  t.eq(H.batch_ids(batches[1]), { o2.id, o3.id, o1.id }, "in rfq.open order (soonest expiry)")
  t.eq(batches[1].ts_ms, start + 60500)
  t.eq(H.batch_ids(batches[2]), { o5.id, o4.id })
  t.eq(batches[2].ts_ms, start + 61500)
  local d_cancels = s:requests{ venue = "deribit", endpoint = "private/cancel_block_rfq" }
  local d_ids = {}
  for i, q in ipairs(d_cancels) do
    d_ids[i] = tostring(q.params.block_rfq_id)
    t.eq(q.ts_ms, start + 60500)
  end
  table.sort(d_ids)
  t.eq(d_ids, { ds[1].id, ds[2].id, ds[3].id }, "one cancel_block_rfq per RFQ, each once")
  t.eq(#s:requests{ endpoint = "cancel-rfq" }, 0, "never single cancels")
  t.eq(#s:requests{ endpoint = "cancel-all-rfqs" }, 0, "never the account-wide cancel")
  t.eq(#s:rfqs{ state = "active" }, 0)
end)

t.case("venues go in sorted order, whatever order rfq.open lists them in", function(s)
  -- The okx RFQ expires first, so rfq.open lists it first; deribit still goes first.
  local o = s:add_rfq{ venue = "okx", expires_in_ms = LONG - 60000 }
  local d = s:add_rfq{ venue = "deribit", expires_in_ms = LONG }
  s:load_policy(POLICY)
  s:advance(60000)
  local sent = H.cancel_requests(s)
  t.eq(#sent, 2)
  t.eq({ sent[1].endpoint, sent[2].endpoint }, { "private/cancel_block_rfq", "cancel-batch-rfqs" })
  t.eq(H.script_lines(s, "^canceled"), {
    "canceled deribit RFQ " .. d.id .. ", age 60000 ms",
    "canceled okx RFQ " .. o.id .. ", age 60000 ms",
  })
end)

t.case("the venue param limits the cap to that venue", function(s)
  local a = s:add_rfq{ venue = "okx", expires_in_ms = LONG }
  local d = s:add_rfq{ venue = "deribit", expires_in_ms = LONG }
  s:load_policy(POLICY, { venue = "deribit" })
  s:advance(61000)
  t.eq(s:rfq(d).state, "canceled")
  t.eq(s:rfq(a).state, "active")
  s:advance(600000)
  t.eq(s:rfq(a).state, "active", "still untouched ten minutes later")
  t.eq(#s:requests{ venue = "okx", endpoint = "cancel-batch-rfqs" }, 0)
  t.eq(#H.cancel_requests(s), 1)

  s:load_policy(POLICY, { venue = "okx" })
  s:advance(1000)
  t.eq(s:rfq(a).state, "canceled")
  t.eq(#s:requests{ venue = "okx", endpoint = "cancel-batch-rfqs" }, 1)
end)

t.case("label_prefix leaves other desks' RFQs alone", function(s)
  local mine = {
    s:add_rfq{ venue = "okx", label = "desk7", expires_in_ms = LONG },
    s:add_rfq{ venue = "okx", label = "desk7-hedge", expires_in_ms = LONG },
    s:add_rfq{ venue = "deribit", label = "desk7d", expires_in_ms = LONG },
  }
  local others = {
    s:add_rfq{ venue = "okx", label = "desk8", expires_in_ms = LONG },
    s:add_rfq{ venue = "okx", label = "x-desk7", expires_in_ms = LONG },  -- not a prefix
    s:add_rfq{ venue = "okx", label = "desk", expires_in_ms = LONG },     -- shorter
    s:add_rfq{ venue = "okx", expires_in_ms = LONG },                     -- no label
    s:add_rfq{ venue = "deribit", label = "hedge", expires_in_ms = LONG },
    s:add_rfq{ venue = "deribit", expires_in_ms = LONG },
  }
  s:load_policy(POLICY, { label_prefix = "desk7" })
  s:advance(300000)
  for _, h in ipairs(mine) do t.eq(s:rfq(h).state, "canceled", h.venue .. " " .. h.id) end
  for _, h in ipairs(others) do t.eq(s:rfq(h).state, "active", h.venue .. " " .. h.id) end
  local sent = H.cancels(s)
  for _, h in ipairs(others) do t.eq(sent[h.venue .. ":" .. h.id], nil, "never sent") end
  t.eq(#s:requests{ venue = "okx", endpoint = "cancel-batch-rfqs" }, 1)
end)

t.case("venue and label_prefix together", function(s)
  local okx7 = s:add_rfq{ venue = "okx", label = "desk7a", expires_in_ms = LONG }
  local okx8 = s:add_rfq{ venue = "okx", label = "desk8a", expires_in_ms = LONG }
  local drb7 = s:add_rfq{ venue = "deribit", label = "desk7b", expires_in_ms = LONG }
  s:load_policy(POLICY, { venue = "okx", label_prefix = "desk7", max_age_ms = 1000,
                          every_ms = 500 })
  s:advance(120000)
  t.eq(H.states(s, { okx7, okx8, drb7 }), {
    ["okx:" .. okx7.id] = "canceled", ["okx:" .. okx8.id] = "active",
    ["deribit:" .. drb7.id] = "active",
  })
end)

t.case("logs its settings at start", function(s)
  s:load_policy(POLICY, { max_age_ms = 90000, every_ms = 250, venue = "okx",
                          label_prefix = "desk7" })
  -- 4 * 250 ms is below the 2 s floor.
  t.eq(H.script_lines(s), {
    'age cap: RFQs older than 90000 ms, every 250 ms (deadline 2000 ms), venue okx, ' ..
      'label prefix "desk7"',
  })
  t.eq(#H.script_lines(s, nil, "info"), 1)
  for _, r in ipairs(s:logs()) do
    if r.logger == "script" then
      t.match(r.message, "^%[age_cap%] scripts/policies/age_cap%.lua:%d+: age cap: ")
    end
  end
  s:load_policy(POLICY, { every_ms = 3000 })
  t.eq(H.script_lines(s, "^age cap")[2],
       "age cap: RFQs older than 60000 ms, every 3000 ms (deadline 12000 ms), venue all, " ..
         "label prefix any")
end)

t.case("a bad venue param fails at start, not in every tick", function(s)
  t.raises(function() s:load_policy(POLICY, { venue = "okex" }) end,
           "main chunk failed: .*rfq%.open: bad argument 'venue' %(unknown or unconfigured " ..
           "venue 'okex'%)")
  t.raises(function() s:load_policy(POLICY, { label_prefix = 7 }) end,
           "main chunk failed: age_cap: param 'label_prefix' must be a string")
end)

t.case("an okx RFQ filled meanwhile is logged as already ended, at info", function(s)
  local a = s:add_rfq{ venue = "okx", expires_in_ms = LONG }
  s:load_policy(POLICY, { max_age_ms = 2000, every_ms = 250 })
  -- The fill's rfqs push is lost, so the book still holds the RFQ active when it comes due
  -- (before the next REST snapshot).
  s:fault{ venue = "okx", endpoint = "ws-push", kind = "drop" }
  t.eq(s:fill(a), true)
  s:advance(2100)
  t.eq(s:rfq(a).state, "filled")
  t.eq(H.script_lines(s, "already ended", "info"), {
    "okx RFQ " .. a.id .. " already ended: The RFQ with filled status cannot be canceled",
  })
  t.eq(#s:requests{ venue = "okx", endpoint = "cancel-batch-rfqs" }, 1)
  t.eq(#H.script_lines(s, nil, "warning"), 0)
  t.eq(#H.script_lines(s, "^canceled"), 0)
end)

t.case("a Deribit RFQ the venue no longer knows is logged as already ended, at info",
       function(s)
  local d = s:add_rfq{ venue = "deribit", expires_in_ms = LONG }
  s:load_policy(POLICY)
  s:fault{ venue = "deribit", endpoint = "private/cancel_block_rfq", kind = "reject",
           code = 10004, message = "order_not_found" }
  s:advance(60500)
  t.eq(H.script_lines(s, "already ended", "info"), {
    "deribit RFQ " .. d.id .. " already ended: order_not_found",
  })
  t.eq(#H.script_lines(s, nil, "warning"), 0)
end)

t.case("any other failed item is a warning, and the RFQ is tried again at the next tick",
       function(s)
  local start = s:now()
  local a = s:add_rfq{ venue = "okx", expires_in_ms = LONG }
  s:load_policy(POLICY)
  s:fault{ venue = "okx", endpoint = "cancel-batch-rfqs", kind = "unavailable" }
  s:advance(61500)
  t.eq(s:rfq(a).state, "canceled")
  t.eq(H.script_lines(s, nil, "warning"), {
    "cancel okx RFQ " .. a.id ..
      " failed: UNAVAILABLE (Service temporarily unavailable. Please try again later.)",
  })
  local batches = s:requests{ venue = "okx", endpoint = "cancel-batch-rfqs" }
  t.eq(#batches, 2)
  t.eq({ batches[1].ts_ms, batches[1].fault }, { start + 60000, "unavailable" })
  t.eq({ batches[2].ts_ms, batches[2].code }, { start + 61000, "0" })
  t.eq(H.script_lines(s, "^canceled"), { "canceled okx RFQ " .. a.id .. ", age 61000 ms" })
end)

t.case("a batch that cannot reach the venue before its deadline is one warning per tick",
       function(s)
  local start = s:now()
  local a = s:add_rfq{ venue = "okx", expires_in_ms = LONG }
  s:load_policy(POLICY)
  -- Another policy fills the batch lane at 59.5 s: slots at 59500 (2), 61550 (2), 63600 (2).
  H.run(s, [[
    rfq.after(59500, function()
      for i = 1, 6 do
        rfq.spawn(rfq.cancel_batch, { venue = "okx", ids = { tostring(9000 + i) },
                                      timeout_ms = 20000 })
      end
    end)
  ]])
  s:advance(70000)
  -- Ticks at 60 s and 61 s find the next slot (65650) past their deadline (64000, 65000);
  -- the tick at 62 s waits for it.
  local pacing = "(cancel-batch-rfqs limit (2 per 2 s): no slot before the deadline; not sent)"
  t.eq(H.script_lines(s, nil, "warning"), {
    "cancel_batch on okx (1 RFQs) failed: RATE_LIMITED " .. pacing,
    "cancel_batch on okx (1 RFQs) failed: RATE_LIMITED " .. pacing,
  })
  t.eq(s:rfq(a).state, "canceled")
  t.eq(H.cancels(s)["okx:" .. a.id], { start + 65650 })
end)

t.case("a tick is skipped while the previous one still waits for its cancels", function(s)
  local start = s:now()
  local a = s:add_rfq{ venue = "okx", expires_in_ms = LONG }
  s:load_policy(POLICY)
  s:advance(1000)
  local d = s:add_rfq{ venue = "deribit", expires_in_ms = LONG }  -- due from 61 s
  -- okx answers 3.5 s late: within the 4 s deadline. The ticks at 61-63 s would find the
  -- okx RFQ still active in the book and cancel it again, were they not skipped.
  s:fault{ venue = "okx", endpoint = "cancel-batch-rfqs", kind = "delay", delay_ms = 3500 }
  s:advance(62000)
  t.eq(s:rfq(d).state, "active", "no tick ran while the okx batch was waiting")
  s:advance(1500)
  t.eq(s:rfq(a).state, "canceled")
  t.eq(s:rfq(d).state, "canceled")
  t.eq(#s:requests{ venue = "okx", endpoint = "cancel-batch-rfqs" }, 1)
  t.eq(H.cancels(s)["deribit:" .. d.id], { start + 64000 }, "the first tick after the wait")
  t.eq(H.script_lines(s, "^canceled okx"), { "canceled okx RFQ " .. a.id .. ", age 63500 ms" })
  t.eq(#H.script_lines(s, nil, "warning"), 0, "answered within the deadline")
end)

t.case("the deadline is 4 ticks: an okx answer later than that is a TIMEOUT warning",
       function(s)
  local a = s:add_rfq{ venue = "okx", expires_in_ms = LONG }
  s:load_policy(POLICY, { every_ms = 1000 })
  s:fault{ venue = "okx", endpoint = "cancel-batch-rfqs", kind = "delay", delay_ms = 4100 }
  s:advance(64050)
  local warned = H.script_lines(s, nil, "warning")
  t.eq(#warned, 1)
  t.match(warned[1], "^cancel okx RFQ " .. a.id .. " failed: TIMEOUT ")
end)

t.case("the deadline is at least 2 s when every_ms is small", function(s)
  local a = s:add_rfq{ venue = "okx", expires_in_ms = LONG }
  s:load_policy(POLICY, { every_ms = 100, max_age_ms = 1000 })
  s:fault{ venue = "okx", endpoint = "cancel-batch-rfqs", kind = "delay", delay_ms = 1900 }
  s:advance(3000)
  t.eq(H.script_lines(s, "^canceled"), { "canceled okx RFQ " .. a.id .. ", age 2900 ms" })
  t.eq(#H.script_lines(s, nil, "warning"), 0)
  t.eq(#s:requests{ venue = "okx", endpoint = "cancel-batch-rfqs" }, 1)
end)
