---@meta rfq

--- LuaLS annotations for the `rfq` module as rfqd registers it (bindings/modules/rfq_module.cpp).
--- Reference: docs/lua-api.md. A unit test (tests/unit/bindings/annotations_test.cpp) fails when
--- a registered function and its declaration here drift apart: add or remove both together.
---
--- Misuse (wrong types, bad ids, unknown venue or option, a yielding call where it cannot
--- yield) raises `"file:line: rfq.fn: ..."`. Operational failure returns `nil, message, code`.
--- Functions marked "Yields" must run inside a task: the policy's main chunk, a timer callback
--- or an `rfq.spawn` function, not a coroutine the script created.

--- Stable failure codes (closed list).
---@alias rfq.Code
---| "UNKNOWN_RFQ"       # OKX 70000: no such RFQ
---| "NOT_CANCELABLE"    # OKX 70200: the RFQ is not active
---| "NOTHING_TO_CANCEL" # OKX 70207
---| "RATE_LIMITED"      # no pacing slot before the deadline (not sent); OKX 50011/50061; HTTP 429
---| "TIMEOUT"           # deadline passed in flight; OKX 50004 (outcome unknown)
---| "DISCONNECTED"      # connection or TLS failure; venue stopped
---| "AUTH"              # OKX 501xx; HTTP 401
---| "UNAVAILABLE"       # OKX 50001/50013/50026/70208; HTTP 5xx; unreadable reply; DNS
---| "REJECTED"          # any other venue refusal

--- Normalized RFQ state (one vocabulary for every venue).
---@alias rfq.State "active"|"canceled"|"expired"|"filled"|"pending_fill"|"failed"

--- One leg of an RFQ.
---@class rfq.Leg
---@field instrument string Venue instrument id, e.g. "BTC-USD-260327-100000-C".
---@field side "buy"|"sell"
---@field size string Size as the venue's decimal text, unchanged.

--- An RFQ from the book (`rfq.open`).
---@class rfq.Rfq
---@field venue string "okx".
---@field id string Venue RFQ id (decimal text).
---@field client_id? string OKX clRfqId; absent when the RFQ has none.
---@field state rfq.State Always "active" in `rfq.open` results.
---@field raw_state string The venue's own state word.
---@field label? string OKX tag; absent when empty.
---@field created_ms integer Creation time, Unix ms.
---@field expires_ms integer Expiry (OKX validUntil), Unix ms.
---@field legs rfq.Leg[]

--- Success result of `rfq.cancel`.
---@class rfq.CancelResult
---@field venue string
---@field id string The venue's rfqId (echoed by the venue, else the id that was sent).
---@field client_id? string clRfqId when known.
---@field state "canceled" The venue accepted the cancel (OKX sCode "0").
---@field venue_code string "0".
---@field latency_us integer Request written to answer parsed, microseconds.

--- Argument of `rfq.cancel`.
---@class rfq.CancelRequest
---@field venue string A configured venue; only "okx" exists in this version.
---@field id? string|integer OKX rfqId (decimal digits). Wins over client_id when both are set.
---@field client_id? string OKX clRfqId: 1-32 ASCII letters or digits.
---@field timeout_ms? integer Deadline for queueing + round trip; default: config `timeout_ms`.

--- Argument of `rfq.open`.
---@class rfq.OpenQuery
---@field venue? string Only this configured venue.
---@field expiring_within_ms? integer Only RFQs with expires_ms <= now + this.
---@field older_than_ms? integer Only RFQs with created_ms <= now - this.

--- A timer from `rfq.every` / `rfq.after`. Dropping it does not stop it.
---@class rfq.Timer
local Timer = {}

--- Stops future runs. A run already in progress continues. Idempotent.
--- Anywhere; does not yield.
function Timer:cancel() end

--- A task from `rfq.spawn`.
---@class rfq.Task
local Task = {}

--- Waits until the task ends. Returns `true` and the task's return values, or `false` and
--- its error (with traceback). Returns at once when the task has already ended.
--- Yields (unless the task has ended): call it inside a task.
---@return boolean ok
---@return any ... results, or the error message when ok is false
function Task:wait() end

--- The rfq module: also the global `rfq` in policy scripts, and `require "rfq"`.
---@class rfq
rfq = {}

--- Cancels one RFQ. Yields until the venue answered or the deadline passed.
--- Yields: call it inside a task.
---
--- ```lua
--- local res, err, code = rfq.cancel{ venue = "okx", id = "22535" }
--- ```
---@param req rfq.CancelRequest
---@return rfq.CancelResult|nil res
---@return string|nil err Venue text or ours, when res is nil.
---@return rfq.Code|nil code When res is nil.
---@return string|nil venue_code The venue's own code, when res is nil and the venue answered.
function rfq.cancel(req) end

--- Active, unexpired RFQs from the book, soonest expiry first. Anywhere; does not yield.
---@param query? rfq.OpenQuery
---@return rfq.Rfq[]
function rfq.open(query) end

--- Runs `fn` every `ms` (first run after `ms`), each run in its own task. A tick is skipped
--- while the previous run is still running. Anywhere; does not yield.
---@param ms integer Positive.
---@param fn fun()
---@return rfq.Timer
function rfq.every(ms, fn) end

--- Runs `fn` once after `ms`, in its own task. Anywhere; does not yield.
---@param ms integer Zero or positive.
---@param fn fun()
---@return rfq.Timer
function rfq.after(ms, fn) end

--- Suspends the calling task for `ms` milliseconds. Yields: call it inside a task.
---@param ms integer Zero or positive.
function rfq.sleep(ms) end

--- Current wall time in Unix milliseconds (virtual time under a virtual clock).
--- Anywhere; does not yield.
---@return integer
function rfq.now() end

--- Runs `fn(...)` in a new task, starting on the next loop turn. Anywhere; does not yield.
---@param fn function
---@param ... any Arguments for fn.
---@return rfq.Task
function rfq.spawn(fn, ...) end

--- A copy of `defaults` with the policy's config `params` merged over it (nested tables
--- merged key by key). Without `defaults`: the config params alone. Plain data only.
--- Anywhere; does not yield.
---@param defaults? table<string, any>
---@return table<string, any>
function rfq.params(defaults) end

--- Script logger: arguments are converted with tostring and joined with spaces; the line is
--- prefixed with the policy name and file:line. `print` logs at info level too.
---@class rfq.log
rfq.log = {}

--- Logs at debug level. Anywhere; does not yield.
---@param ... any
function rfq.log.debug(...) end

--- Logs at info level. Anywhere; does not yield.
---@param ... any
function rfq.log.info(...) end

--- Logs at warn level. Anywhere; does not yield.
---@param ... any
function rfq.log.warn(...) end

--- Logs at error level. Anywhere; does not yield.
---@param ... any
function rfq.log.error(...) end

return rfq
