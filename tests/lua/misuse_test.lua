-- Misuse raises, naming the function and the argument; task errors end only their task; a
-- policy that fails to compile or to start makes loading it raise; runaway code and memory
-- bombs are stopped; the sandbox.
local t = require "rfq.test"
local H = require "helpers"

-- { call, message }: each call, run inside a function of its own chunk "misuseN", raises
-- "misuseN:1: " .. message.
local MISUSE = {
  { "rfq.cancel(5)", "rfq.cancel: bad argument 'request' (table expected, got number)" },
  { "rfq.cancel{ venue = 'okx', id = '1', tiemout_ms = 5 }",
    "rfq.cancel: unknown option 'tiemout_ms'" },
  { "rfq.cancel{ id = '1' }", "rfq.cancel: bad argument 'venue' (string expected, got nil)" },
  { "rfq.cancel{ venue = 'kraken', id = '1' }",
    "rfq.cancel: bad argument 'venue' (unknown or unconfigured venue 'kraken')" },
  { "rfq.cancel{ venue = 'okx' }", "rfq.cancel: bad argument 'id' (id or client_id is required)" },
  { "rfq.cancel{ venue = 'okx', id = '' }",
    "rfq.cancel: bad argument 'id' (id or client_id is required)" },
  { "rfq.cancel{ venue = 'okx', id = 2.5 }",
    "rfq.cancel: bad argument 'id' (string or integer expected, got number)" },
  { "rfq.cancel{ venue = 'okx', id = 'abc' }",
    "rfq.cancel: bad argument 'id' (OKX rfqId is a decimal number, got 'abc')" },
  { "rfq.cancel{ venue = 'okx', client_id = 'has space' }",
    "rfq.cancel: bad argument 'client_id' (1-32 ASCII letters or digits expected, " ..
    "got 'has space')" },
  { "rfq.cancel{ venue = 'okx', client_id = 7 }",
    "rfq.cancel: bad argument 'client_id' (string expected, got number)" },
  { "rfq.cancel{ venue = 'deribit', id = '5', client_id = 'x' }",
    "rfq.cancel: bad argument 'client_id' (Deribit block RFQs have no client id; use id)" },
  { "rfq.cancel{ venue = 'deribit' }", "rfq.cancel: bad argument 'id' (id is required)" },
  { "rfq.cancel{ venue = 'deribit', id = '0' }",
    "rfq.cancel: bad argument 'id' (Deribit block_rfq_id is a positive integer, got '0')" },
  { "rfq.cancel{ venue = 'okx_spread', id = '1' }",
    "rfq.cancel: bad argument 'venue' (okx_spread has only cancel_all: use " ..
    "rfq.cancel_all{ venue = 'okx_spread' })" },
  { "rfq.cancel{ venue = 'okx', id = '1', timeout_ms = 'soon' }",
    "rfq.cancel: bad argument 'timeout_ms' (integer expected, got string)" },
  { "rfq.cancel{ venue = 'okx', id = '1', timeout_ms = 0 }",
    "rfq.cancel: bad argument 'timeout_ms' (positive integer up to 30 days in ms expected)" },
  { "rfq.cancel{ venue = 'okx', id = '1', confirm = 'yes' }",
    "rfq.cancel: bad argument 'confirm' (boolean expected, got string)" },
  { "rfq.cancel_batch{ venue = 'okx', ids = 'x' }",
    "rfq.cancel_batch: bad argument 'ids' (list expected, got string)" },
  { "rfq.cancel_batch{ venue = 'okx', ids = { '1', true } }",
    "rfq.cancel_batch: bad argument 'ids[2]' (string or integer expected, got boolean)" },
  { "rfq.cancel_batch{ venue = 'okx', ids = { '1', '' } }",
    "rfq.cancel_batch: bad argument 'id' (id or client_id is required)" },
  { "rfq.cancel_batch{ venue = 'okx', ids = { '1' }, tiemout_ms = 1 }",
    "rfq.cancel_batch: unknown option 'tiemout_ms'" },
  { "rfq.cancel_all(5)", "rfq.cancel_all: bad argument 'options' (table expected, got number)" },
  { "rfq.cancel_all{ venue = 'okx', where = 5 }",
    "rfq.cancel_all: bad argument 'where' (table or function expected)" },
  { "rfq.cancel_all{ venue = 'okx', where = { label_prefix = 5 } }",
    "rfq.cancel_all: bad argument 'label_prefix' (string expected, got number)" },
  { "rfq.open{ venue = 'okx', older = 5 }", "rfq.open: unknown option 'older'" },
  { "rfq.open{ expiring_within_ms = -1 }",
    "rfq.open: bad argument 'expiring_within_ms' (integer from 0 to 30 days in ms expected)" },
  { "rfq.open(5)", "rfq.open: bad argument 'options' (table expected, got number)" },
  { "rfq.on()", "rfq.on: bad argument 'event' (string expected, got no value)" },
  { "rfq.on('rfqs', print)",
    "rfq.on: bad argument 'event' ('rfq', 'fill', 'exposure' or 'venue' expected, got 'rfqs')" },
  { "rfq.on('rfq')", "rfq.on: bad argument 'fn' (function expected, got no value)" },
  { "rfq.every(0, print)",
    "rfq.every: bad argument 'ms' (positive integer up to 30 days in ms expected)" },
  { "rfq.every(2.5, print)", "rfq.every: bad argument 'ms' (integer expected, got number)" },
  { "rfq.every(10, 'f')", "rfq.every: bad argument 'fn' (function expected, got string)" },
  { "rfq.after(-1, print)",
    "rfq.after: bad argument 'ms' (non-negative integer up to 30 days in ms expected)" },
  { "rfq.after(10)", "rfq.after: bad argument 'fn' (function expected, got no value)" },
  { "rfq.sleep('1')", "rfq.sleep: bad argument 'ms' (integer expected, got string)" },
  { "rfq.sleep(-5)", "rfq.sleep: bad argument 'ms' (integer from 0 to 30 days in ms expected)" },
  { "rfq.spawn(5)", "rfq.spawn: bad argument 'fn' (function expected, got number)" },
  { "rfq.budget()", "rfq.budget: bad argument 'venue' (string expected, got no value)" },
  { "rfq.budget('kraken')",
    "rfq.budget: bad argument 'venue' (unknown or unconfigured venue 'kraken')" },
  { "rfq.params(5)", "rfq.params: bad argument 'defaults' (table expected, got number)" },
  { "rfq.params{ 1, 2 }", "rfq.params: bad argument 'defaults' (table with string keys expected)" },
  { "rfq.params{ f = print }", "rfq.params: defaults.f: a function is not plain data" },
  { "rfq.after(100000, print).cancel()", "timer:cancel: bad self (timer expected)" },
  { "rfq.spawn(function() end).wait()", "task:wait: bad self (task expected)" },
}

t.case("misuse raises naming the function and the argument, and sends nothing", function(s)
  local calls = {}
  for i, m in ipairs(MISUSE) do calls[i] = string.format("%q", m[1]) end
  H.run(s, "local calls = {" .. table.concat(calls, ",\n") .. [[}
    for i, call in ipairs(calls) do
      local f = load("return function() " .. call .. " end", "=misuse" .. i)()
      emit("m" .. i, pcall(f))
    end
  ]])
  s:advance(10)
  for i, m in ipairs(MISUSE) do
    local ok, err = H.one(s, "m" .. i)
    t.eq(ok, false, m[1])
    t.eq(err, "misuse" .. i .. ":1: " .. m[2], m[1])
  end
  for _, endpoint in ipairs{ "cancel-rfq", "cancel-batch-rfqs", "cancel-all-rfqs",
                             "private/cancel_block_rfq", "sprd-mass-cancel" } do
    t.eq(#s:requests{ endpoint = endpoint }, 0, endpoint)
  end
end)

t.case("a misuse error called straight from pcall has no file:line prefix", function(s)
  H.run(s, [[emit("direct", pcall(rfq.cancel, { venue = "okx" }))]])
  t.eq({ H.one(s, "direct") },
       { false, "rfq.cancel: bad argument 'id' (id or client_id is required)" })
end)

t.case("uncaught misuse ends its task: s:errors names the task, file:line and argument",
       function(s)
  H.run(s, [[
    rfq.after(10, function() rfq.cancel{ venue = "okx", id = "x1" } end)
    rfq.spawn(function() rfq.cancel_batch{ venue = "deribit", client_ids = { "a" } } end)
    rfq.every(1000, function() emit("alive", rfq.now()) end)
  ]])
  s:advance(2000)
  H.expect_errors(s, {
    "^%[source%d+%] spawn at source%d+:2: source%d+:2: rfq%.cancel_batch: bad argument " ..
      "'client_id' %(Deribit block RFQs have no client id; use id%)\nstack traceback:",
    "^%[source%d+%] after%(10%) at source%d+:1: source%d+:1: rfq%.cancel: bad argument 'id' " ..
      "%(OKX rfqId is a decimal number, got 'x1'%)\nstack traceback:",
  })
  t.eq(#H.emitted(s, "alive"), 2, "the policy keeps running")
  t.eq(#H.script_lines(s, "task '.*' failed", "error"), 2, "each failure is logged")
end)

t.case("cannot yield from a coroutine the script created, a sort comparator or at task level",
       function(s)
  H.run(s, [[
    emit("wrap", pcall(coroutine.wrap(function() rfq.sleep(1) end)))
    emit("sort", pcall(table.sort, { 3, 2, 1 }, function(a, b) rfq.sleep(1) return a < b end))
    emit("after", rfq.now())
    rfq.spawn(function() coroutine.yield() end)
  ]])
  s:advance(10)
  local ok, err = H.one(s, "wrap")
  t.eq(ok, false)
  t.match(err, "rfq%.sleep: cannot yield here %(call it from the policy's main chunk, a timer " ..
               "callback or an rfq%.spawn function, not from a coroutine the script created%)$")
  ok, err = H.one(s, "sort")
  t.eq(ok, false)
  t.match(err, "^source%d+:2: rfq%.sleep: cannot yield here %(inside a C function such as " ..
               "table%.sort, string%.gsub, a metamethod or a module being required%)$")
  t.eq(H.one(s, "after"), s:now() - 10, "the task carried on after catching it")
  H.expect_errors(s, { "spawn at source%d+:4: attempt to yield from a policy task outside an " ..
                       "rfq%.%* call %(coroutine%.yield at task level is not allowed; use " ..
                       "rfq%.sleep%)" })
end)

t.case("a task cannot resume its own coroutine", function(s)
  H.run(s, [[emit("resume", pcall(coroutine.resume, coroutine.running()))]])
  local ok, err = H.one(s, "resume")
  t.eq(ok, false)
  t.match(err, "coroutine%.resume: cannot resume a policy task")
end)

-- ---- loading a policy ----------------------------------------------------------------------

t.case("a main chunk that raises makes s:run_policy_source raise", function(s)
  local err = t.raises(function() s:run_policy_source("local x = 1\nerror('boom: ' .. x)") end)
  -- s:* errors carry the test's own file:line first, like any Lua error.
  t.match(err, "^[^\n]*misuse_test%.lua:%d+: s:run_policy_source: main chunk failed: " ..
               "source%d+:2: boom: 1\nstack traceback:")
  err = t.raises(function() s:run_policy_source("rfq.cancel{ venue = 'okx' }") end)
  t.match(err, "main chunk failed: source%d+:1: rfq%.cancel: bad argument 'id'")
  t.eq(s:errors(), {}, "a load failure is not also an unexpected task error")
end)

t.case("a policy file whose main chunk raises makes s:load_policy raise", function(s)
  local err = t.raises(function() s:load_policy("fixtures/raising_main.lua") end)
  t.match(err, "misuse_test%.lua:%d+: s:load_policy: main chunk failed: [^\n]*" ..
               "fixtures/raising_main%.lua:4: refusing to start: no reason")
  t.raises(function() s:load_policy("fixtures/raising_main.lua", { reason = "param" }) end,
           "refusing to start: param")
  t.eq(#H.script_lines(s, "^starting$"), 2, "it ran until the error")
end)

t.case("a main chunk that fails after its first yield is an ordinary task error", function(s)
  s:run_policy_source("rfq.sleep(10)\nerror('late failure')")
  s:advance(20)
  H.expect_errors(s, { "^%[source%d+%] main chunk: source%d+:2: late failure" })
end)

t.case("a compile error makes loading raise with file:line", function(s)
  local err = t.raises(function() s:run_policy_source("local ok = true\nlocal x = = 1") end)
  t.match(err, "misuse_test%.lua:%d+: s:run_policy_source: source%d+:2: unexpected symbol " ..
               "near '='$")
  err = t.raises(function() s:load_policy("fixtures/syntax_error.lua") end)
  t.match(err, "misuse_test%.lua:%d+: s:load_policy: [^\n]*fixtures/syntax_error%.lua:3: " ..
               "unexpected symbol near '='$")
  t.raises(function() s:load_policy("fixtures/no_such_policy.lua") end,
           "s:load_policy: bad argument 'path' %(no file 'fixtures/no_such_policy%.lua'")
end)

-- ---- runaway code and memory ---------------------------------------------------------------

t.case("a runaway handler fails only its task; the policy's other handlers keep working",
       function(s)
  H.run(s, [[
    rfq.every(100, function() emit("tick", rfq.now()) end)
    rfq.on("rfq", function(r)
      if r.label == "spin" then
        local ok = pcall(function() while true do end end)   -- pcall cannot swallow it
        emit("swallowed", ok)
      end
      emit("event", r.label)
    end)
  ]])
  s:add_rfq{ venue = "okx", label = "spin", expires_in_ms = 60000 }
  s:advance(250)
  s:add_rfq{ venue = "okx", label = "calm", expires_in_ms = 60000 }
  s:advance(250)
  -- Caught inside the pcall at line 4, it strikes again at the next instruction (line 5).
  H.expect_errors(s, { "^%[source%d+%] on%(rfq%) at source%d+:2: source%d+:5: instruction " ..
                       "limit exceeded %(%d+ per resume%): runaway code stopped" })
  t.eq(#H.emitted(s, "swallowed"), 0)
  t.eq(H.one(s, "event"), "calm")
  t.eq(#H.emitted(s, "tick"), 5)
end)

t.case("a memory bomb stops with 'not enough memory' and the policy carries on", function(s)
  H.run(s, [[

    rfq.after(10, function() local huge = string.rep("x", 300 * 1024 * 1024) end)
    rfq.after(20, function()
      local s = "y"
      while true do s = s .. s end
    end)
    rfq.after(30, function()
      collectgarbage()
      local fine = {}
      for i = 1, 16 do fine[i] = string.rep("z", 1024 * 1024) .. i end
      emit("after", #fine, #fine[16])
    end)
  ]])
  s:advance(100)
  H.expect_errors(s, {
    "^%[source%d+%] after%(10%) at source%d+:2: not enough memory",
    "^%[source%d+%] after%(20%) at source%d+:3: not enough memory",
  })
  t.eq({ H.one(s, "after") }, { 16, 1024 * 1024 + 2 })
end)

-- ---- the sandbox ---------------------------------------------------------------------------

t.case("the sandbox removes io, debug, package and the dangerous os functions", function(s)
  H.run(s, [[
    emit("gone", type(io), type(debug), type(package), type(dofile), type(loadfile),
         type(os.execute), type(os.exit), type(os.getenv), type(os.remove))
    emit("kept", type(os.time), type(os.clock), type(string.format), type(coroutine.wrap))
    emit("binary", load(string.dump(function() end)))
  ]])
  t.eq({ H.one(s, "gone") }, { "nil", "nil", "nil", "nil", "nil", "nil", "nil", "nil", "nil" })
  t.eq({ H.one(s, "kept") }, { "function", "function", "function", "function" })
end)

t.case("require finds modules beside the policy and caches them", function(s)
  s:load_policy("fixtures/uses_module.lua")
  t.eq(H.script_lines(s), { "module says hello 1", "cached true" })
  local err = t.raises(function() s:run_policy_source("require 'no.such.module'") end)
  t.match(err, "require: module 'no%.such%.module' not found:")
  err = t.raises(function() s:run_policy_source("require '../escape'") end)
  t.match(err, "require: bad module name '%.%./escape' %(letters, digits, _ and %. only%)")
end)

t.case("a finalizer cannot be set: Lua runs __gc outside the instruction limit", function(s)
  H.run(s, [[
    emit("gc", pcall(setmetatable, {}, { __gc = function() while true do end end }))
    emit("plain", getmetatable(setmetatable({}, { __index = { x = 1 } })).__index.x)
  ]])
  local ok, err = H.one(s, "gc")
  t.eq(ok, false)
  t.match(err, "setmetatable: __gc is not allowed %(finalizers run outside the instruction limit%)")
  t.eq(H.one(s, "plain"), 1)
end)

t.case("an error object with a runaway __tostring is described by its type, not run", function(s)
  s:run_policy_source([[
    rfq.after(10, function()
      error(setmetatable({}, { __tostring = function() while true do end end }))
    end)
  ]])
  s:advance(20)
  local errors = s:errors()
  t.eq(#errors, 1)
  t.match(errors[1], "^%[source%d+%] after%(10%) at source%d+:1: %(error object is a table value%)")
end)

t.case("a runaway inside a coroutine stops the task that caught it too", function(s)
  H.run(s, [[
    rfq.after(10, function()
      local ok = pcall(coroutine.wrap(function() while true do end end))
      emit("swallowed", ok)
    end)
    rfq.after(20, function() emit("other", "still running") end)
  ]])
  s:advance(30)
  t.eq(#H.emitted(s, "swallowed"), 0)
  t.eq(H.one(s, "other"), "still running")
  H.expect_errors(s, { "instruction limit exceeded %(10000000 per resume%): runaway code stopped" })
end)

t.case("a task re-arming a zero-delay timer forever fails the world, which stays unusable",
       function(s)
  s:run_policy_source([[ local function again() rfq.after(0, again) end again() ]])
  t.match(t.raises(function() s:advance(10) end),
          "s:advance: the world did not settle: more than 1000000 handlers ran without time moving")
  t.match(t.raises(function() s:now() end),
          "s:now: this world did not settle earlier; the case cannot go on")
end)
