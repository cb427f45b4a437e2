---@meta rfq

--- LuaLS annotations for the `rfq` module as rfqd registers it (bindings/modules/rfq_module.cpp,
--- bindings/modules/rfq_bulk.cpp, bindings/modules/rfq_events.cpp).
--- Reference: docs/lua-api.md. A unit test (tests/unit/bindings/annotations_test.cpp) fails when
--- a registered function and its declaration here drift apart: add or remove both together.
---
--- Misuse (wrong types, bad ids, unknown venue or option, a yielding call where it cannot
--- yield) raises `"file:line: rfq.fn: ..."`. Operational failure returns `nil, message, code`
--- (rfq.cancel_batch reports per RFQ, rfq.cancel_all per venue: see their entries).
--- Functions marked "Yields" must run inside a task: the policy's main chunk, a timer callback,
--- an `rfq.spawn` function or an `rfq.on` handler, not a coroutine the script created.

--- Venue names rfqd knows (each must also be configured to be used).
---@alias rfq.Venue
---| "okx"        # OKX block-trading RFQs (taker)
---| "okx_spread" # OKX spread orders: rfq.cancel_all only
---| "deribit"    # Deribit block RFQs (taker)

--- Stable failure codes (closed list).
---@alias rfq.Code
---| "UNKNOWN_RFQ"       # OKX 70000; Deribit 10004 (UNCONFIRMED for block RFQs): no such RFQ
---| "NOT_CANCELABLE"    # OKX 70200; Deribit 11029 on block_rfq_id (UNCONFIRMED): not active; confirm: it ended otherwise
---| "NOTHING_TO_CANCEL" # OKX 70207; Deribit: no open block RFQ; no RFQ matches: rfq.cancel_all counts it as ok
---| "RATE_LIMITED"      # no pacing slot / Deribit credits before the deadline (not sent); OKX 50011/50061; HTTP 429; Deribit 10028
---| "TIMEOUT"           # deadline passed in flight; OKX 50004 (outcome unknown); Deribit 13888; confirm: cancel not shown in time
---| "DISCONNECTED"      # connection or TLS failure; venue stopped; Deribit WebSocket down; confirm: the rfqs feed is not delivering
---| "AUTH"              # OKX 501xx; HTTP 401; Deribit 13004/13009/10000
---| "UNAVAILABLE"       # OKX 50001/50013/50026/70208; HTTP 5xx; unreadable reply; DNS; Deribit 13028/13503/11051/11094/10040/10047
---| "REJECTED"          # any other venue refusal (venue_code carries the venue's code)

--- Normalized RFQ state (one vocabulary for every venue).
---@alias rfq.State "active"|"canceled"|"expired"|"filled"|"pending_fill"|"failed"

--- One leg of an RFQ.
---@class rfq.Leg
---@field instrument string Venue instrument id: OKX instId ("BTC-USD-260327-100000-C"), Deribit instrument_name ("BTC-PERPETUAL").
---@field side "buy"|"sell" OKX side, Deribit direction.
---@field size string OKX sz as the venue's decimal text, unchanged; Deribit: the RFQ's amount ("100000"), or "AMOUNTxRATIO" when the leg's ratio is not 1.

--- An RFQ from the book (`rfq.open`, and the `r` of an `rfq.on("rfq")` handler).
---@class rfq.Rfq
---@field venue rfq.Venue "okx" or "deribit".
---@field id string Venue RFQ id as decimal text: OKX rfqId, Deribit block_rfq_id ("366").
---@field client_id? string OKX clRfqId; absent when the RFQ has none, always absent on deribit.
---@field state rfq.State Always "active" in `rfq.open` results; the new state in an `rfq.on` event.
---@field raw_state string The venue's own state word (Deribit "open", "cancelled", ...; on okx "canceled"/"expired" when the book set it itself).
---@field label? string OKX tag, Deribit label; absent when empty.
---@field created_ms integer Creation time (OKX cTime, Deribit creation_timestamp), Unix ms.
---@field expires_ms integer Expiry (OKX validUntil, Deribit expiration_timestamp), Unix ms.
---@field legs rfq.Leg[]

--- One leg of a fill: what was bought or sold.
---@class rfq.FillLeg
---@field instrument string As in the RFQ's leg.
---@field underlying string As rfq.exposure groups it: okx "BTC-USD" (first two parts), deribit "BTC" (the part before the first dash).
---@field side "buy"|"sell" The direction filled (deribit: turned round by a "sell" trade).
---@field size number Filled size in the venue's unit (okx sz; deribit trade amount x ratio); 0 when unreadable.
---@field price? number Only on a one-leg deribit RFQ: the trade price.

--- A fill (the `trade` of an `rfq.on("fill")` handler), reported once per filled RFQ.
---@class rfq.Fill
---@field venue rfq.Venue "okx" or "deribit".
---@field id string The RFQ's id.
---@field client_id? string As in the RFQ.
---@field label? string As in the RFQ.
---@field time_ms integer When rfqd learnt of the fill, Unix ms.
---@field price? number deribit: the structure's price, amount-weighted over its trades; absent on okx.
---@field legs rfq.FillLeg[]

--- Exposure of one underlying on one venue.
---@class rfq.ExposureBucket
---@field filled_net number Signed sum of filled leg sizes: buy +, sell -.
---@field open_gross number Sum of |size| over the legs of active RFQs.

--- `rfq.exposure()`: venue -> underlying -> bucket (e.g. `x.okx["BTC-USD"].open_gross`).
---@alias rfq.Exposure table<string, table<string, rfq.ExposureBucket>>

--- A venue's status: "starting" (before its first connect and book load), "up", "down".
---@alias rfq.VenueStatus "starting"|"up"|"down"

--- Success result of `rfq.cancel`.
---@class rfq.CancelResult
---@field venue rfq.Venue
---@field id string OKX: the rfqId echoed by the venue, else the id that was sent. Deribit: the block_rfq_id sent, as decimal text.
---@field client_id? string OKX clRfqId when known; absent on deribit.
---@field state "canceled" The venue accepted the cancel (OKX sCode "0"; with confirm, the rfqs channel showed it canceled). Deribit: the answer showed the block RFQ "cancelled".
---@field venue_code? string "0"; absent under `rfqd run --dry-run`.
---@field latency_us integer Request written to answer parsed, microseconds (0 in a dry run).
---@field dry_run? boolean true under `rfqd run --dry-run`: nothing was sent.

--- Argument of `rfq.cancel`.
---@class rfq.CancelRequest
---@field venue rfq.Venue A configured venue: "okx" or "deribit" ("okx_spread" raises: cancel_all only).
---@field id? string|integer OKX rfqId (decimal digits; wins over client_id when both are set). Deribit block_rfq_id: a positive integer, or its decimal digits as a string; required.
---@field client_id? string OKX clRfqId: 1-32 ASCII letters or digits. Not for deribit: block RFQs have no client id (raises).
---@field timeout_ms? integer Deadline for queueing (pacing slot / Deribit credits) + round trip (+ confirmation); default: config `timeout_ms`.
---@field confirm? boolean okx: succeed only once the rfqs channel shows the RFQ canceled (needs venues.okx.business_ws; raises without it). deribit: accepted, no extra wait (the answer is final).

--- Argument of `rfq.cancel_batch`. `ids` wins over `client_ids` (even an empty `ids`).
---@class rfq.BatchRequest
---@field venue rfq.Venue A configured venue: "okx" or "deribit" ("okx_spread" raises: cancel_all only).
---@field ids? (string|integer)[] OKX rfqIds (decimal digits) or Deribit block_rfq_ids (positive integers). Non-empty.
---@field client_ids? (string|integer)[] OKX clRfqIds (1-32 ASCII letters or digits); read only without `ids`. Not for deribit (raises).
---@field timeout_ms? integer Deadline for the whole batch (every request paced and sent, + confirmation); default: config `timeout_ms`.
---@field confirm? boolean okx: an accepted item is ok only once the rfqs channel shows it canceled (needs venues.okx.business_ws; raises without it). deribit: accepted, no extra wait.

--- One entry of `rfq.cancel_batch`'s results, at the position of its id in the input.
---@class rfq.BatchItem
---@field id? string The rfqId given or echoed by the venue (deribit: the block_rfq_id given); absent when unknown.
---@field client_id? string The clRfqId given or echoed by the venue; absent when unknown or empty, always on deribit.
---@field ok boolean The venue accepted the cancel (item sCode "0"; with confirm, and the rfqs channel showed it canceled). Deribit: the answer showed it "cancelled".
---@field code? rfq.Code When ok is false.
---@field err? string When ok is false: the venue's sMsg/msg (Deribit: error message[: data.reason]) or ours.
---@field venue_code? string Item sCode, or the request's code when the request failed as a whole (Deribit: its error code as text); absent when nothing came back.

--- Result of `rfq.cancel_batch`: one rfq.BatchItem per input id, in input order, plus counts.
---@class rfq.BatchResults
---@field [integer] rfq.BatchItem
---@field canceled integer Entries with ok == true.
---@field dry_run? boolean true under `rfqd run --dry-run`: nothing was sent.
---@field failed integer Entries with ok == false (canceled + failed == #results).
---@field requests integer okx: HTTP requests sent (chunks of at most 100 ids; resends after 50011 included). deribit: single cancel_block_rfq requests sent (one per distinct id at most).

--- Argument of `rfq.cancel_all`. Without `venue`: every configured venue (the kill switch).
--- `where` needs a venue; it cancels only the matching open RFQs of the book, by urgent batch
--- requests (never the account-wide endpoint). Deribit has no taker cancel-all: account-wide on
--- deribit lists the open taker block RFQs (get_block_rfqs) and cancels each.
---@class rfq.CancelAllOptions
---@field venue? rfq.Venue A configured venue; required with `where`.
---@field where? { client_id_prefix?: string, label_prefix?: string, ids?: (string|integer)[] }|fun(r: rfq.Rfq): any
---@field spread_id? string Only for venue okx_spread: the spread whose orders are cancelled (raises with any other venue).
---@field timeout_ms? integer Deadline per venue; default: config `timeout_ms`.
---@field confirm? boolean Succeed only once the venue shows the cancels (okx: its rfqs channel; deribit: always, the answers are final). A named venue that cannot raises; the kill switch confirms where it can.

--- The outcome of `rfq.cancel_all` for one venue.
---@class rfq.VenueOutcome
---@field ok boolean Succeeded, or nothing to cancel (code "NOTHING_TO_CANCEL").
---@field code? rfq.Code Present unless a plain success (so also with NOTHING_TO_CANCEL).
---@field err? string Present with code.
---@field canceled? integer RFQs marked canceled (account-wide okx: those the book knew as active; with confirm, those the rfqs channel showed canceled; account-wide deribit: listed open RFQs whose cancel succeeded; 0 for NOTHING_TO_CANCEL; absent when the cancel-all request or the listing failed, and on okx_spread). Scoped: RFQs cancelled (confirmed, with confirm).
---@field failed? integer Scoped only, when > 0: matching RFQs whose cancel failed.
---@field confirmed? boolean true when confirm = true was applied on this venue and the outcome is a plain success (ok, no code); absent otherwise.

--- Result of `rfq.cancel_all`.
---@class rfq.CancelAllSummary
---@field venues table<string, rfq.VenueOutcome> One entry per venue involved.
---@field dry_run? boolean true under `rfqd run --dry-run`: nothing was sent.

--- One pacing lane of `rfq.budget` (counts are requests of this process, not RFQs).
---@class rfq.LaneBudget
---@field limit integer okx: requests per window (OKX's documented limit). deribit: requests rfqd's full credit pool pays for (98 by default: the pool is modelled 100 ms of refill smaller than credit_pool).
---@field window_ms integer okx: the enforced window, documented 2000 ms + 50 ms margin = 2050. deribit: time to refill rfqd's pool from empty (4900 ms by default).
---@field remaining integer Requests that could be sent now (0 while closed after a 50011; deribit: credits now / credit_cost, 0 right after a 10028). Urgent-only slots/credits included.
---@field queued integer Requests waiting for a slot (deribit: for credits).

--- Argument of `rfq.open`.
---@class rfq.OpenQuery
---@field venue? rfq.Venue Only this configured venue.
---@field expiring_within_ms? integer Only RFQs with expires_ms <= now + this.
---@field older_than_ms? integer Only RFQs with created_ms <= now - this.

--- A timer from `rfq.every` / `rfq.after`. Dropping it does not stop it.
---@class rfq.Timer
local Timer = {}

--- Stops future runs. A run already in progress continues. Idempotent.
--- Anywhere; does not yield.
function Timer:cancel() end

--- A subscription from `rfq.on`. Dropping it does not stop the handler.
---@class rfq.Subscription
local Subscription = {}

--- Stops further events for this handler; tasks already started for earlier events run on.
--- Idempotent. Anywhere; does not yield.
function Subscription:cancel() end

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

--- Cancels one RFQ. Yields until the venue answered or the deadline passed (with
--- `confirm = true`: until the rfqs channel shows the RFQ canceled; an accepted cancel it does
--- not confirm fails TIMEOUT, DISCONNECTED or NOT_CANCELABLE with venue_code "0").
--- Yields: call it inside a task.
---
--- On deribit: private/cancel_block_rfq over the WebSocket (HTTP GET, signed deri-hmac-sha256,
--- while the WebSocket is not ready), paced by the credit pool; the answer is final.
---
--- ```lua
--- local res, err, code = rfq.cancel{ venue = "okx", id = "22535" }
--- local res2 = rfq.cancel{ venue = "okx", client_id = "desk7rfq42", confirm = true }
--- local res3 = rfq.cancel{ venue = "deribit", id = 366 }
--- ```
---@param req rfq.CancelRequest
---@return rfq.CancelResult|nil res
---@return string|nil err Venue text or ours, when res is nil.
---@return rfq.Code|nil code When res is nil.
---@return string|nil venue_code The venue's own code, when res is nil and the venue answered.
function rfq.cancel(req) end

--- Cancels any number of RFQs of one venue: duplicates sent once; okx: chunks of at most 100
--- ids, paced 2 per 2.05 s; deribit: one cancel_block_rfq per id, in parallel, each paced by
--- the credit pool. Results in input order. `nil, err, code` only when no request reached
--- the venue. Yields: call it inside a task.
---
--- ```lua
--- local res, err, code = rfq.cancel_batch{ venue = "okx", ids = { "22535", "22536" } }
--- if res then print(res.canceled, res.failed, res.requests) end
--- ```
---@param req rfq.BatchRequest
---@return rfq.BatchResults|nil results
---@return string|nil err When results is nil.
---@return rfq.Code|nil code When results is nil.
function rfq.cancel_batch(req) end

--- Cancels every active RFQ: of every configured venue at once (no `venue`: the kill switch,
--- okx, okx_spread and deribit concurrently), of one venue (account-wide cancel-all, urgent;
--- deribit: list the open taker block RFQs, then cancel each), or only those matching `where`
--- (urgent batch cancels). Always returns the summary; `err, code` follow it when a venue failed
--- (`err` = "VENUE: MESSAGE" of the first failing venue). With `confirm = true` a venue
--- succeeds only once its state feed shows the cancels (`summary.venues[v].confirmed`).
--- Yields: call it inside a task.
---
--- ```lua
--- local summary, err, code = rfq.cancel_all()
--- rfq.cancel_all{ venue = "okx", where = { client_id_prefix = "desk7" } }
--- rfq.cancel_all{ venue = "deribit", where = { label_prefix = "hedge-" } }
--- rfq.cancel_all{ confirm = true }
--- ```
---@param opts? rfq.CancelAllOptions
---@return rfq.CancelAllSummary summary
---@return string|nil err When a venue failed.
---@return rfq.Code|nil code When a venue failed.
function rfq.cancel_all(opts) end

--- This process's pacing lanes of one venue, keyed by endpoint ("cancel-rfq",
--- "cancel-batch-rfqs", "cancel-all-rfqs", "rfqs" for okx; one "non-matching-engine" entry,
--- the credit pool, for deribit). Anywhere; does not yield.
---@param venue rfq.Venue A configured venue.
---@return table<string, rfq.LaneBudget>
function rfq.budget(venue) end

--- Active, unexpired RFQs from the book, soonest expiry first. Anywhere; does not yield.
---@param query? rfq.OpenQuery
---@return rfq.Rfq[]
function rfq.open(query) end

--- Exposure per venue and underlying from the book: `filled_net` (fills, buy +, sell -) and
--- `open_gross` (|size| over the legs of active RFQs; expiry applied first). Sizes in the
--- venue's unit. A fresh table; empty before any RFQ was active or filled. Anywhere; does not
--- yield.
---@return rfq.Exposure
function rfq.exposure() end

--- Every configured venue's status now: `{ okx = "up", deribit = "down", ... }`. Anywhere;
--- does not yield.
---@return table<rfq.Venue, rfq.VenueStatus>
function rfq.venues() end

--- Registers a handler; each event runs it in a new task (it may yield). Events are posted,
--- one task per handler in registration order, each with its own copy of the tables.
---
--- "rfq": `fn(r, previous_state)` for every RFQ state change the book records: an RFQ new
--- to the book (previous_state nil), a state pushed by the venue (okx rfqs feed, deribit
--- block_rfq.taker channel), a fill a snapshot found, this process's own accepted cancels,
--- expiry applied by the book. One event per change.
---
--- "fill": `fn(trade)` once per fill (feed push, cancel answer or snapshot; never twice).
---
--- "exposure": `fn(exposure, "engine")` with `rfq.exposure()` after it changed (at most once
--- per loop turn: a burst of changes is one event); `fn(value, "host")` for every value the
--- embedding host publishes (plain data; under `rfqd test`, `s:publish("exposure", value)`).
---
--- "venue": `fn(venue, status)` when a venue goes "down" (connection, login or state feed
--- lost) or comes back "up". Anywhere; does not yield.
---
--- ```lua
--- local sub = rfq.on("rfq", function(r, previous) rfq.log.info(r.id, previous, "->", r.state) end)
--- rfq.on("fill", function(t) rfq.log.info("filled", t.venue, t.id, t.legs[1].size) end)
--- rfq.on("exposure", function(x, source)
---   if source == "engine" and x.okx and x.okx["BTC-USD"].open_gross > 1000 then rfq.cancel_all() end
--- end)
--- rfq.on("venue", function(venue, status) rfq.log.warn(venue, status) end)
--- ```
---@param event "rfq"
---@param fn fun(r: rfq.Rfq, previous_state: rfq.State|nil)
---@return rfq.Subscription
---@overload fun(event: "fill", fn: fun(trade: rfq.Fill)): rfq.Subscription
---@overload fun(event: "exposure", fn: fun(exposure: rfq.Exposure|any, source: "engine"|"host")): rfq.Subscription
---@overload fun(event: "venue", fn: fun(venue: rfq.Venue, status: "up"|"down")): rfq.Subscription
function rfq.on(event, fn) end

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

--- Plain data a hot reload copies into the new version of the policy (nil, booleans, numbers,
--- strings and tables of these; a function, userdata or coroutine in it refuses the reload).
--- Empty when the policy first loads.
---@type table<any, any>
rfq.state = {}

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
