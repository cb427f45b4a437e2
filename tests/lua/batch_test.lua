-- rfq.cancel_batch: chunking and pacing on okx, per-item results, the deadline, and deribit's
-- one-request-per-id form.
local t = require "rfq.test"
local H = require "helpers"

local OKX_PACING = "cancel-batch-rfqs limit (2 per 2 s): no slot before the deadline; not sent"
local CREDITS = "credit pool: no credits before the deadline; not sent"

-- Runs one rfq.cancel_batch call (`options` is Lua source of its table) and returns
-- results, err, code and the virtual ms it took. Once per case.
local function batch(s, options, ms)
  H.run(s, "local started = rfq.now()\n" ..
           "local res, err, code = rfq.cancel_batch(" .. options .. ")\n" ..
           "emit('batch', res, err, code, rfq.now() - started)")
  s:advance(ms or 100)
  return H.one(s, "batch")
end

-- n active okx RFQs, expiring in 10 minutes.
local function okx_rfqs(s, n)
  return H.add_many(s, n, { venue = "okx", expires_in_ms = 600000 })
end

t.case("250 okx ids go out as 100, 100 and 50, the third a pacing window later", function(s)
  local rfqs = okx_rfqs(s, 250)
  local start = s:now()
  local res, err, code, took =
    batch(s, "{ venue = 'okx', ids = " .. H.ids_literal(rfqs) .. ", timeout_ms = 10000 }", 5000)
  t.eq({ err, code }, {})
  t.eq(#res, 250)
  t.eq({ res.canceled, res.failed, res.requests }, { 250, 0, 3 })
  t.eq(took, 2050)
  local sent = s:requests{ venue = "okx", endpoint = "cancel-batch-rfqs" }
  t.eq(#sent, 3)
  local expected_sizes, next_id = { 100, 100, 50 }, 1
  for i, q in ipairs(sent) do
    local ids = H.batch_ids(q)
    t.eq(#ids, expected_sizes[i], "request " .. i)
    for _, id in ipairs(ids) do
      t.eq(id, rfqs[next_id].id, "ids go out in input order")
      next_id = next_id + 1
    end
  end
  t.eq({ sent[1].ts_ms, sent[2].ts_ms, sent[3].ts_ms }, { start, start, start + 2050 })
  for i, h in ipairs(rfqs) do
    t.eq(res[i], { id = h.id, ok = true, venue_code = "0" }, "entry " .. i)
    t.eq(s:rfq(h).state, "canceled")
  end
end)

t.case("exactly 100 ids are one request", function(s)
  local rfqs = okx_rfqs(s, 100)
  local res = batch(s, "{ venue = 'okx', ids = " .. H.ids_literal(rfqs) .. " }")
  t.eq(res.requests, 1)
  t.eq(#H.batch_ids(s:requests{ endpoint = "cancel-batch-rfqs" }[1]), 100)
end)

t.case("duplicates are sent once and reported at every position", function(s)
  local a, b = table.unpack(okx_rfqs(s, 2))
  local res = batch(s, ("{ venue = 'okx', ids = { %q, %q, %q, %s } }")
                         :format(a.id, b.id, a.id, a.id))     -- the last as an integer
  t.eq(H.batch_ids(s:requests{ endpoint = "cancel-batch-rfqs" }[1]), { a.id, b.id })
  t.eq(#res, 4)
  t.eq({ res.canceled, res.failed, res.requests }, { 4, 0, 1 })
  for i, h in ipairs{ a, b, a, a } do t.eq(res[i].id, h.id, "entry " .. i) end
end)

t.case("a mix of active, unknown, canceled and filled ids gives per-item results", function(s)
  local active, canceled, filled = table.unpack(okx_rfqs(s, 3))
  t.eq(s:fill(filled), true)
  H.run(s, ("rfq.cancel{ venue = 'okx', id = %q }"):format(canceled.id))
  s:advance(10)
  t.eq(s:rfq(canceled).state, "canceled")
  local res = batch(s, ("{ venue = 'okx', ids = { %q, '123', %q, %q } }")
                         :format(active.id, canceled.id, filled.id))
  t.eq(#res, 4)
  t.eq(res[1], { id = active.id, ok = true, venue_code = "0" })
  t.eq(res[2], { id = "123", ok = false, code = "UNKNOWN_RFQ", venue_code = "70000",
                 err = "RFQ does not exist." })
  t.eq(res[3], { id = canceled.id, ok = false, code = "NOT_CANCELABLE", venue_code = "70200",
                 err = "The RFQ with canceled status cannot be canceled" })
  t.eq(res[4], { id = filled.id, ok = false, code = "NOT_CANCELABLE", venue_code = "70200",
                 err = "The RFQ with filled status cannot be canceled" })
  t.eq({ res.canceled, res.failed, res.requests }, { 1, 3, 1 })
  t.eq(s:rfq(active).state, "canceled")
  t.eq(s:rfq(filled).state, "filled")
end)

t.case("client_ids are sent as clRfqIds and echoed with the venue's rfqId", function(s)
  local a = s:add_rfq{ venue = "okx", client_id = "desk7a", expires_in_ms = 60000 }
  local b = s:add_rfq{ venue = "okx", client_id = "desk7b", expires_in_ms = 60000 }
  local res = batch(s, "{ venue = 'okx', client_ids = { 'desk7a', 'desk7b', 'nosuch' } }")
  t.eq(s:requests{ endpoint = "cancel-batch-rfqs" }[1].body,
       '{"clRfqIds":["desk7a","desk7b","nosuch"]}')
  t.eq(res[1], { id = a.id, client_id = "desk7a", ok = true, venue_code = "0" })
  t.eq(res[2], { id = b.id, client_id = "desk7b", ok = true, venue_code = "0" })
  t.eq(res[3].client_id, "nosuch")
  t.eq({ res[3].ok, res[3].code, res[3].venue_code }, { false, "UNKNOWN_RFQ", "70000" })
end)

t.case("canceled items leave rfq.open at once", function(s)
  local rfqs = okx_rfqs(s, 3)
  H.run(s, ([[
    emit("before", #rfq.open{ venue = "okx" })
    rfq.cancel_batch{ venue = "okx", ids = { %q, %q } }
    local left = rfq.open{ venue = "okx" }
    emit("after", #left, left[1].id)
  ]]):format(rfqs[1].id, rfqs[2].id))
  s:advance(100)
  t.eq(H.one(s, "before"), 3)
  t.eq({ H.one(s, "after") }, { 1, rfqs[3].id })
end)

t.case("requests whose pacing slot falls after the deadline fail RATE_LIMITED, unsent",
       function(s)
  local rfqs = okx_rfqs(s, 450)
  local res, err, code, took =
    batch(s, "{ venue = 'okx', ids = " .. H.ids_literal(rfqs) .. ", timeout_ms = 3000 }", 5000)
  t.eq({ err, code }, {})
  -- Slots at 0, 0, 2050, 2050, then 4100: past the 3000 ms deadline.
  t.eq(res.requests, 4)
  t.eq(#s:requests{ endpoint = "cancel-batch-rfqs" }, 4)
  t.eq({ res.canceled, res.failed }, { 400, 50 })
  t.eq(took, 2050)
  t.eq(res[400], { id = rfqs[400].id, ok = true, venue_code = "0" })
  for i = 401, 450 do
    t.eq(res[i], { id = rfqs[i].id, ok = false, code = "RATE_LIMITED", err = OKX_PACING },
         "entry " .. i)
    t.eq(s:rfq(rfqs[i]).state, "active")
  end
end)

t.case("a batch none of whose requests can be paced returns nil, err, RATE_LIMITED", function(s)
  local rfqs = okx_rfqs(s, 201)
  local first, rest = {}, { rfqs[201] }
  for i = 1, 200 do first[i] = rfqs[i] end
  H.run(s, "local first, rest = " .. H.ids_literal(first) .. ", " .. H.ids_literal(rest) .. [[
    local busy = rfq.spawn(function() return rfq.cancel_batch{ venue = "okx", ids = first } end)
    rfq.sleep(0)
    emit("budget", rfq.budget("okx")["cancel-batch-rfqs"])
    local started = rfq.now()
    local late = table.pack(rfq.cancel_batch{ venue = "okx", ids = rest, timeout_ms = 1000 })
    emit("late", rfq.now() - started, table.unpack(late, 1, late.n))
    local _, res = busy:wait()
    emit("busy", res.canceled)
  ]])
  s:advance(100)
  t.eq(H.one(s, "budget"), { limit = 2, window_ms = 2050, remaining = 0, queued = 0 })
  local took, res, err, code = H.one(s, "late")
  t.eq({ took, res, err, code }, { 0, nil, OKX_PACING, "RATE_LIMITED" })
  t.eq(H.one(s, "busy"), 200)
  t.eq(#s:requests{ endpoint = "cancel-batch-rfqs" }, 2)
  t.eq(s:rfq(rfqs[201]).state, "active")
end)

t.case("a request still in flight at the deadline fails its ids with TIMEOUT", function(s)
  local rfqs = okx_rfqs(s, 150)
  -- The second request's answer is held back past the deadline.
  s:fault{ venue = "okx", endpoint = "cancel-batch-rfqs", kind = "delay", delay_ms = 10 }
  s:fault{ venue = "okx", endpoint = "cancel-batch-rfqs", kind = "delay", delay_ms = 5000 }
  local res, err, code, took =
    batch(s, "{ venue = 'okx', ids = " .. H.ids_literal(rfqs) .. ", timeout_ms = 1000 }", 6000)
  t.eq({ err, code }, {})
  t.eq(took, 1000)
  t.eq({ res.canceled, res.failed, res.requests }, { 100, 50, 2 })
  t.eq(res[100], { id = rfqs[100].id, ok = true, venue_code = "0" })
  for i = 101, 150 do
    t.eq(res[i], { id = rfqs[i].id, ok = false, code = "TIMEOUT",
                   err = "transport: request timed out" }, "entry " .. i)
  end
end)

t.case("deribit: one cancel_block_rfq per distinct id, with per-item results", function(s)
  local open1 = s:add_rfq{ venue = "deribit", expires_in_ms = 60000 }
  local open2 = s:add_rfq{ venue = "deribit", expires_in_ms = 60000 }
  local filled = s:add_rfq{ venue = "deribit", expires_in_ms = 60000 }
  t.eq(s:fill(filled), true)
  local res, err, code = batch(s, ("{ venue = 'deribit', ids = { %s, %q, 999999, %s, %s } }")
                                    :format(open1.id, open2.id, filled.id, open1.id))
  t.eq({ err, code }, {})
  t.eq(#res, 5)
  t.eq(res[1], { id = open1.id, ok = true, venue_code = "0" })
  t.eq(res[2], { id = open2.id, ok = true, venue_code = "0" })
  t.eq(res[3], { id = "999999", ok = false, code = "UNKNOWN_RFQ", venue_code = "10004",
                 err = "order_not_found: block_rfq not found" })
  t.eq(res[4], { id = filled.id, ok = false, code = "NOT_CANCELABLE", venue_code = "11029",
                 err = "invalid_arguments: block_rfq is filled" })
  t.eq(res[5], res[1], "a duplicate is reported like its first occurrence")
  t.eq({ res.canceled, res.failed, res.requests }, { 3, 2, 4 })
  local sent = s:requests{ venue = "deribit", endpoint = "private/cancel_block_rfq" }
  t.eq(#sent, 4)
  local ids = {}
  for i, q in ipairs(sent) do ids[i] = q.params.block_rfq_id end
  t.eq(ids, { tonumber(open1.id), tonumber(open2.id), 999999, tonumber(filled.id) })
  t.eq(s:rfq(open1).state, "canceled")
  t.eq(s:rfq(open2).state, "canceled")
end)

t.case("deribit: ids whose credits come after the deadline fail RATE_LIMITED, unsent",
       function(s)
  local ids = {}
  for i = 1, 150 do ids[i] = tostring(10000 + i) end
  H.run(s, "local ids = {" .. table.concat(ids, ", ") .. [[}
    emit("pool", rfq.budget("deribit")["non-matching-engine"])
    emit("batch", rfq.cancel_batch{ venue = "deribit", ids = ids, timeout_ms = 100 })
  ]])
  s:advance(500)
  local pool = H.one(s, "pool")
  t.eq({ pool.limit, pool.window_ms }, { 98, 4900 })
  local res = H.one(s, "batch")
  local sent = #s:requests{ endpoint = "private/cancel_block_rfq" }
  t.eq(res.requests, sent)
  -- What the pool holds less the one request kept for urgent ones, plus the 2 requests that
  -- 100 ms of refill (20 per second) pays for.
  t.eq(sent, pool.remaining - 1 + 2)
  local limited = 0
  for i, item in ipairs(res) do
    if item.code == "RATE_LIMITED" then
      limited = limited + 1
      t.eq(item, { id = ids[i], ok = false, code = "RATE_LIMITED", err = CREDITS })
    else
      t.eq(item.code, "UNKNOWN_RFQ")
    end
  end
  t.eq(limited, 150 - sent)
  t.eq(res.failed, 150)
end)

t.case("deribit: client_ids raise, and so does an id that is not a positive integer",
       function(s)
  H.run(s, [[
    emit("clid", pcall(rfq.cancel_batch, { venue = "deribit", client_ids = { "abc" } }))
    emit("neg", pcall(rfq.cancel_batch, { venue = "deribit", ids = { 5, "-3" } }))
    emit("float", pcall(rfq.cancel_batch, { venue = "deribit", ids = { 2.5 } }))
  ]])
  t.eq({ H.one(s, "clid") }, { false, "rfq.cancel_batch: bad argument 'client_id' " ..
       "(Deribit block RFQs have no client id; use id)" })
  t.eq({ H.one(s, "neg") }, { false, "rfq.cancel_batch: bad argument 'id' " ..
       "(Deribit block_rfq_id is a positive integer, got '-3')" })
  t.eq({ H.one(s, "float") }, { false, "rfq.cancel_batch: bad argument 'ids[1]' " ..
       "(string or integer expected, got number)" })
  t.eq(#s:requests{ endpoint = "private/cancel_block_rfq" }, 0)
end)
