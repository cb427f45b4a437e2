---@meta rfq.test

--- LuaLS annotations for `require "rfq.test"`, the module of scripted regression tests that
--- `rfqd test` runs (bindings/modules/rfq_test.cpp). Reference: docs/lua-api.md, section
--- "Module rfq.test". A unit test (tests/unit/bindings/annotations_test.cpp) fails when a
--- registered function or world method and its declaration here drift apart: add or remove both
--- together.
---
--- The name after `---@meta` is what makes `require "rfq.test"` resolve to this file in LuaLS
--- (a named meta file is found by that name, whatever the file is called); `require` then has
--- the type of the `return` at the end.
---
--- A test file is not a policy: it runs in its own sandboxed state (no `rfq` global). Each case
--- gets `s`, a fresh simulated world; policies run in their own states, so a test reads what
--- they did through `s:rfq`, `s:rfqs`, `s:requests`, `s:logs` and `s:errors`. Nothing here
--- yields. Misuse raises `"file:line: s:method: ..."` / `"file:line: t.fn: ..."`.

--- The venues of a test world (all three always present).
---@alias rfq.TestVenue
---| "okx"        # OKX block-trading RFQs (REST + the business WebSocket's rfqs channel)
---| "okx_spread" # OKX spread orders (business WebSocket, sprd-mass-cancel)
---| "deribit"    # Deribit block RFQs (JSON-RPC WebSocket)

--- Fault kinds of `s:fault`.
---@alias rfq.TestFaultKind
---| "delay"       # processed normally, the answer held back delay_ms
---| "unavailable" # not processed: OKX HTTP 503 code 50001; Deribit 13028 temporarily_unavailable
---| "drop"        # not processed, no answer (HTTP hangs up; a WebSocket message is ignored)
---| "ws_close"    # WebSocket only: not processed, the connection closes with 1011
---| "auth"        # not processed: OKX 401 50111, Deribit 13009 (AUTH)
---| "reject"      # not processed: the venue refuses with `code` and `message` (REJECTED)
---| "outage"      # not queued: the venue's WebSocket closes now and refuses reconnects for duration_ms (venue down, then up)

--- What `s:add_rfq` returns: enough to name the RFQ to `s:rfq` and `s:fill`.
---@class rfq.TestRfqHandle
---@field venue rfq.TestVenue
---@field id string okx rfqId ("22535"), deribit block_rfq_id as text ("366"), okx_spread ordId.

--- One leg for `s:add_rfq`.
---@class rfq.TestLeg
---@field instrument string okx instId / deribit instrument_name. Required.
---@field side? "buy"|"sell" Default "buy" (okx does not check it; deribit raises on another word).
---@field size? string okx only: sz as decimal text. Default "25".
---@field ratio? integer deribit only: the leg's ratio, at least 1. Default 1.

--- Argument of `s:add_rfq`. Keys other than those of the venue raise `unknown option`.
---@class rfq.TestNewRfq
---@field venue rfq.TestVenue Required.
---@field expires_in_ms? integer okx, deribit: lifetime from now. Default okx: 10 min when every leg is an option, else 2 min; deribit 5 min.
---@field client_id? string okx only: clRfqId, unique among the world's RFQs.
---@field label? string okx tag / deribit label.
---@field legs? rfq.TestLeg[] okx, deribit. Default: one BTC-USD-261225-100000-C buy 25 leg (okx), one BTC-PERPETUAL buy leg (deribit).
---@field amount? integer deribit only: the block RFQ's amount, positive. Default 100000.
---@field currency? "BTC"|"ETH"|"USDC"|"USDT"|"EURR" deribit only. Default "BTC".
---@field sprd_id? string okx_spread only: the order's spread. Default "BTC-USDT_BTC-USDT-SWAP".

--- The simulator's view of an RFQ or spread order (`s:rfq`, `s:rfqs`): the fields of
--- rfq.Rfq, read from the venue, not from the engine's book.
---@class rfq.TestRfq : rfq.Rfq
---@field venue rfq.TestVenue
---@field sprd_id? string okx_spread: the spread of the order.

--- Options of `s:fill` on deribit: the one trade that fills the block RFQ.
---@class rfq.TestFill
---@field price? number >= 0, of the whole structure. Default 1.
---@field side? "buy"|"sell" The taker's direction of the structure ("sell" turns every leg round). Default "buy".
---@field amount? number Above 0, at most the RFQ's amount. Default: all of it.

--- Filter of `s:rfqs`; both keys optional and combined.
---@class rfq.TestRfqFilter
---@field venue? rfq.TestVenue
---@field state? rfq.State Normalized state, e.g. "active", "canceled".

--- Argument of `s:fault`: queues a fault for the next `count` matching requests.
---@class rfq.TestFault
---@field venue rfq.TestVenue Required. "okx_spread" takes only ws_close and outage (OKX's business WebSocket: okx goes down too).
---@field kind rfq.TestFaultKind Required.
---@field endpoint? string okx: "cancel-rfq", "cancel-batch-rfqs", "cancel-all-rfqs", "rfqs", "time", "ws" (ws_close), "ws-push" (delay/drop of rfqs pushes); deribit: a method, e.g. "private/cancel_block_rfq". "" or absent: any.
---@field count? integer 1 to 1000000. Default 1.
---@field delay_ms? integer delay only, 0 to 600000. Default 0.
---@field code? string|integer reject only, required: OKX code text ("51008"), Deribit integer (10009).
---@field message? string reject only. Default "rejected by the simulator".
---@field duration_ms? integer outage only, required: 1 ms to 30 days; the only other keys it takes are venue and kind.

--- One entry of the simulators' journal (`s:requests`). Fields depend on the venue: okx (REST)
--- has method, target, body, status, code (string); okx_ws has conn_id, id, body, code (string);
--- deribit / deribit_ws have transport, id, params (secrets "***"), code (integer, or nil when
--- unanswered), and status for HTTP. Every entry has seq, ts_ms, venue, endpoint; a faulted one
--- has fault (and delay_ms).
---@class rfq.TestRequest
---@field seq integer 1, 2, ... in journal order.
---@field ts_ms integer Virtual time of the request, Unix ms.
---@field venue "okx"|"okx_ws"|"deribit"|"deribit_ws"
---@field endpoint string
---@field fault? rfq.TestFaultKind
---@field [string] any

--- One log record (`s:logs`).
---@class rfq.TestLogRecord
---@field logger string "script" for policies (also "engine", "net", "venue.okx", "sim", ...).
---@field level "debug"|"info"|"warning"|"error"|"critical" spdlog's names (rfq.log.warn is "warning").
---@field message string The line without time stamp, e.g. "[source1] source1:1: hello".

--- `s`: the world of one case (okx, okx_spread and deribit simulated in-process, the engine,
--- a virtual clock from 2026-01-01T00:00:00Z, the policies the case loads). Valid only during
--- its case: a copy kept for later raises "this world's case has ended".
---@class rfq.TestWorld
local World = {}

--- Creates an RFQ (okx, deribit) or a live spread order (okx_spread) on the simulated venue, as
--- if the account had created it, and lets the engine see it before returning.
---
--- ```lua
--- local r = s:add_rfq{ venue = "okx", client_id = "desk7a", expires_in_ms = 4000 }
--- ```
---@param options rfq.TestNewRfq
---@return rfq.TestRfqHandle
function World:add_rfq(options) end

--- The simulator's view of one RFQ or spread order, or nil when the venue does not know it.
---@param rfq rfq.TestRfqHandle|rfq.TestRfq Any table with venue and id (string or integer).
---@return rfq.TestRfq|nil
function World:rfq(rfq) end

--- Every RFQ and spread order the simulators hold (every state, oldest first per venue; okx,
--- then okx_spread, then deribit), optionally filtered.
---@param filter? rfq.TestRfqFilter
---@return rfq.TestRfq[]
function World:rfqs(filter) end

--- Loads a policy file as `rfqd run` would (own state, `rfq` module, `params` for rfq.params)
--- and runs its main chunk until it ends or first waits. Raises when the file is missing, does
--- not compile or its main chunk fails.
---@param path string As given, else relative to the test file's folder.
---@param params? table<string, any> Plain data with string keys.
function World:load_policy(path, params) end

--- Like `s:load_policy` with the policy's text instead of a file; the policy is named
--- "source1", "source2", ... (its chunk name and log prefix).
---@param source string
---@param params? table<string, any>
function World:run_policy_source(source, params) end

--- A hot reload of a loaded policy, as rfqd run does it: the new version (from `path`, or the
--- policy's own file again) is built with rfq.state copied over and replaces the old one when
--- its main chunk succeeds; otherwise the old one keeps serving. `policy`: its name, the path
--- it was loaded from, or that path's file name.
---@param policy string
---@param path? string
---@return true|nil ok
---@return string? err Why the new version was refused.
function World:reload(policy, path) end

--- Moves virtual time forward by `ms`, running every timer, answer and task due on the way.
---@param ms integer 0 to 30 days in ms.
function World:advance(ms) end

--- Virtual time now, Unix ms (1767225600000 when the case starts).
---@return integer
function World:now() end

--- Fills an active RFQ on the simulated venue (okx, deribit), as if a quote had been executed;
--- the rfq, fill and exposure handlers have run (to their first wait) when it returns.
--- Returns false when the venue does not know it or it is no longer active.
---@param rfq rfq.TestRfqHandle|rfq.TestRfq
---@param options? rfq.TestFill deribit only (okx raises for any): the trade.
---@return boolean filled
function World:fill(rfq, options) end

--- Queues a fault for the next `count` matching requests of a simulated venue (kind "outage":
--- starts at once).
---@param fault rfq.TestFault
function World:fault(fault) end

--- Delivers a plain-data value to every `rfq.on(event, fn)` handler of every loaded policy as
--- `fn(value, "host")`, each in a new task, and runs them until they end or first wait.
--- Returns the handlers started.
---@param event "exposure"
---@param value any Plain data (nil, boolean, number, string, tables of them); copied into each policy.
---@return integer started
function World:publish(event, value) end

--- The simulators' journal since the world started (start-up traffic included), in order,
--- as tables; entries whose fields equal every key of `filter`. `venue = "okx"` also matches
--- "okx_ws" and `venue = "deribit"` "deribit_ws".
---@param filter? table<string, any>
---@return rfq.TestRequest[]
function World:requests(filter) end

--- Every log record of the world so far (debug and above, every logger), in order.
---@return rfq.TestLogRecord[]
function World:logs() end

--- Takes the policy task errors recorded since the last call ("[POLICY] TASK: MESSAGE" with
--- the traceback). A case fails when errors remain that it did not take.
---@return string[]
function World:errors() end

--- A random integer in [m, n] from the world's generator, seeded by `rfqd test --seed`.
---@param m integer
---@param n integer At least m.
---@return integer
function World:random(m, n) end

--- The module: `local t = require "rfq.test"`.
---@class rfq.test
local t = {}

--- Registers a case. Call it from the test file's main chunk; the runner calls `fn(s)` later,
--- once, with a fresh world.
---
--- ```lua
--- t.case("sweeps an RFQ that expires within the window", function(s)
---   local r = s:add_rfq{ venue = "okx", expires_in_ms = 4000 }
---   s:load_policy("scripts/policies/expiry_sweep.lua", { window_ms = 5000 })
---   s:advance(1000)
---   t.eq(s:rfq(r).state, "canceled")
--- end)
--- ```
---@param name string
---@param fn fun(s: rfq.TestWorld)
function t.case(name, fn) end

--- Fails unless `actual` equals `expected`: `==`, or tables with equal keys and values (deep).
---@param actual any
---@param expected any
---@param msg? any Appended to the failure message.
function t.eq(actual, expected, msg) end

--- Fails unless `value` is true in Lua's sense (not nil or false). Returns `value`.
---@generic T
---@param value T
---@param msg? any
---@return T
function t.ok(value, msg) end

--- Fails unless `actual` is a number within `tolerance` of `expected`.
---@param actual any
---@param expected number
---@param tolerance number
---@param msg? any
function t.near(actual, expected, tolerance, msg) end

--- Fails unless `text` is a string in which the Lua pattern `pattern` is found
--- (`string.find`). Returns `text`.
---@param text any
---@param pattern string
---@param msg? any
---@return string
function t.match(text, pattern, msg) end

--- Calls `fn()` and fails unless it raises (and, with `pattern`, unless the error text
--- matches it). Returns the error text.
---@param fn fun()
---@param pattern? string
---@param msg? any
---@return string err
function t.raises(fn, pattern, msg) end

return t
