-- s:reload: a hot reload in virtual time, as rfqd run does it on a file change. The new
-- version gets rfq.state; a task of the old version suspended in rfq.cancel never resumes
-- (its request is still answered); a refused version leaves the old one serving.
local t = require "rfq.test"
local H = require "helpers"

local V1 = "fixtures/reload/sweep_v1.lua"
local V2 = "fixtures/reload/sweep_v2.lua"

local function cancels(s) return #s:requests{ venue = "okx", endpoint = "cancel-rfq" } end

t.case("a reload while v1 waits in rfq.cancel: answered, v1 never resumes, v2 runs", function(s)
  local r = s:add_rfq{ venue = "okx", expires_in_ms = 4000 }
  s:fault{ venue = "okx", endpoint = "cancel-rfq", kind = "delay", delay_ms = 1000 }
  s:load_policy(V1)
  s:advance(150)                -- v1 asked; the venue holds the answer for 1 s
  t.eq(cancels(s), 1)
  t.eq(s:reload("sweep_v1", V2), true)
  t.eq(H.script_lines(s, "^v2 loaded"), { "v2 loaded, asked carried over: 1" })
  s:advance(2000)
  t.eq(s:rfq(r).state, "canceled", "the venue answered the request v1 sent")
  t.eq(cancels(s), 1, "v2 does not ask again: rfq.state.asked came over")
  t.eq(H.script_lines(s, "^v1 resumed"), {}, "the old task never resumes")
  t.eq(H.script_lines(s, "^v2 canceled"), {})
end)

t.case("after a reload only the new version's timers run", function(s)
  s:load_policy(V1)
  t.ok(s:reload(V1, V2))        -- named by the path it was loaded from
  local r = s:add_rfq{ venue = "okx", expires_in_ms = 3000 }
  s:advance(200)
  t.eq(H.script_lines(s, "^v2 canceled"), { "v2 canceled: canceled" })
  t.eq(H.script_lines(s, "^v1"), {})
  t.eq(s:rfq(r).state, "canceled")
  t.eq(cancels(s), 1)
end)

t.case("a version that does not compile is refused; the old one keeps serving", function(s)
  s:load_policy(V1)
  local ok, err = s:reload("sweep_v1", "fixtures/reload/broken.lua")
  t.eq(ok, nil)
  t.match(err, "broken%.lua:%d+: .*expected")
  local r = s:add_rfq{ venue = "okx", expires_in_ms = 3000 }
  s:advance(200)
  t.eq(s:rfq(r).state, "canceled", "v1 still sweeps")
  t.eq(H.script_lines(s, "^v1 resumed"), { "v1 resumed: canceled" })
end)

t.case("a version whose main chunk fails is refused, and is not a task error of the case",
  function(s)
    s:load_policy(V1)
    local ok, err = s:reload("sweep_v1", "fixtures/reload/fails.lua")
    t.eq(ok, nil)
    t.match(err, "fails%.lua:3: v3 cannot start")
    t.eq(s:errors(), {})
    local r = s:add_rfq{ venue = "okx", expires_in_ms = 3000 }
    s:advance(200)
    t.eq(s:rfq(r).state, "canceled", "v1 still sweeps")
  end)

t.case("rfq.state that is not plain data refuses the reload, naming where", function(s)
  s:load_policy("fixtures/reload/keeps_function.lua")
  s:advance(250)
  local ok, err = s:reload("keeps_function", V2)
  t.eq(ok, nil)
  t.match(err, "^rfq%.state%.cb: a function is not plain data")
  s:advance(200)
  t.eq(H.script_lines(s, "^v2"), {})
end)

t.case("reloading the same file again restarts the policy with its state", function(s)
  s:load_policy(V2)
  s:advance(350)
  t.ok(s:reload("sweep_v2"))
  t.eq(H.script_lines(s, "^v2 loaded"), {
    "v2 loaded, asked carried over: 0", "v2 loaded, asked carried over: 0" })
end)

t.case("s:reload misuse and a source policy without a path", function(s)
  t.match(t.raises(function() s:reload("nope") end),
          "s:reload: bad argument 'policy' %(no policy 'nope' is loaded%)")
  t.match(t.raises(function() s:reload(42) end), "s:reload: bad argument 'policy' %(string expected")
  s:run_policy_source("rfq.every(100, function() end)")
  t.match(t.raises(function() s:reload("source1", "fixtures/reload/none.lua") end),
          "s:reload: bad argument 'path' %(no file 'fixtures/reload/none%.lua'")
  local ok, err = s:reload("source1")
  t.eq(ok, nil)
  t.match(err, "give a path")
  t.ok(s:reload("source1", V2))
end)
