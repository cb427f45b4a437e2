--[[
exposure_trigger — a kill switch over an exposure limit, with hysteresis so it does not flap.

It listens to rfq.on("exposure") events from one `source`:
  "host"    (the default) the values the host publishes (under `rfqd test`,
            s:publish("exposure", value)): a table such as { gross = 1250000, net = -30000 }
            of which it watches the number at `key`, or a plain number. rfqd's own exposure
            events are ignored.
  "engine"  rfqd's own exposure (rfq.exposure(): per venue and underlying, filled_net and
            open_gross, in the venue's size units), sent after every change: it watches the
            largest, over the underlyings of `venue` (of every venue when ""), of
            |filled_net| + open_gross (key "gross"), |filled_net| (key "filled_net") or
            open_gross (key "open_gross"), and looks once at start (rfq.exposure()).
            Host-published values are ignored.
When that number goes over `limit` it pulls everything: rfq.cancel_all() on every configured
venue (okx RFQs, okx_spread spread orders, deribit block RFQs), or
rfq.cancel_all{ venue = venue } with `venue` set, and logs each venue's outcome. Then it stays
tripped: values over the limit do nothing until the exposure has gone below `rearm_below`,
which re-arms it. So a value that hovers around the limit triggers once, not on every
crossing.

While a cancel_all runs, further values start no other one; they are remembered, and when the
cancel_all has finished the last of them re-arms the trigger if it is below `rearm_below`.
The deadline is the config's timeout_ms (5000 by default), per venue. A venue whose cancel
failed is logged at warn and the trigger stays tripped all the same: it does not retry; the
next trigger needs the exposure to come back below `rearm_below` first.

params:
  limit        (1000000)      exposure (the host's unit; with source "engine" the venue's size
                              unit) above which everything is canceled (a value equal to the
                              limit is not over it)
  rearm_below  (0.8 * limit)  after a trigger, re-arm only once the exposure is below this;
                              must not be above limit (false in the defaults below: unset)
  key          ("gross")      which number to watch: of a published table value[key] (a
                              published plain number is taken as it is); with source
                              "engine" "gross", "filled_net" or "open_gross" (above)
  venue        ("")           "" = the kill switch over every venue; else only this venue (and
                              with source "engine", only its exposure is watched)
  source       ("host")       "host" or "engine" (above)

logs:
  info  at start: "exposure trigger: limit 1000000, re-arm below 800000, key 'gross',
        venue all (kill switch)" (source "engine": "..., engine exposure, key 'gross', ...")
  warn  "exposure 1250000 over limit 1000000: canceling everything" (source "engine":
        "exposure 30 over limit 25 (okx BTC-USD): canceling everything")
  info  per venue, sorted: "okx: canceled 3", "okx_spread: canceled" (no count),
        "deribit: nothing to cancel (no open block RFQ)"
  warn  per failed venue: "okx: cancel_all failed: CODE (MESSAGE)[, N canceled]"
  info  "cancel_all took 12 ms"
  error "cancel_all raised: MESSAGE" (should not happen: the venue is checked at start)
  info  "re-armed: exposure 700000 below 800000"
  warn  "ignoring exposure value: ..." for a value without a number where expected
]]

local report = require "cancel_report"  -- scripts/lib: one log line per venue of a cancel_all

local cfg = rfq.params{ limit = 1000000, rearm_below = false, key = "gross", venue = "",
                        source = "host" }

local function need(ok, message)
  if not ok then error("exposure_trigger: " .. message, 0) end
end
need(type(cfg.limit) == "number" and cfg.limit == cfg.limit, "param 'limit' must be a number")
local rearm_below = cfg.rearm_below or 0.8 * cfg.limit
need(type(rearm_below) == "number" and rearm_below == rearm_below,
     "param 'rearm_below' must be a number")
need(rearm_below <= cfg.limit, ("param 'rearm_below' (%s) must not be above 'limit' (%s)")
     :format(rearm_below, cfg.limit))
need(type(cfg.key) == "string" and cfg.key ~= "", "param 'key' must be a non-empty string")
need(type(cfg.venue) == "string", "param 'venue' must be a string (\"\" for every venue)")
need(cfg.source == "host" or cfg.source == "engine",
     "param 'source' must be \"host\" or \"engine\"")
local ENGINE_KEYS = { gross = true, filled_net = true, open_gross = true }
need(cfg.source ~= "engine" or ENGINE_KEYS[cfg.key],
     "param 'key' must be \"gross\", \"filled_net\" or \"open_gross\" with source \"engine\"")
if cfg.venue ~= "" then
  rfq.budget(cfg.venue)  -- raises now, at start, for a venue that is not configured
end

-- Whole amounts without a fraction, others with two decimals.
local function amount(v)
  local i = math.tointeger(v)
  return i and ("%d"):format(i) or ("%.2f"):format(v)
end

local function describe(v)
  if type(v) == "string" then return ("%q"):format(v) end
  if type(v) == "table" then return "a table" end
  return tostring(v)  -- nil, a boolean, NaN
end

-- The number to compare with the limit, or nil and why not.
local function exposure_of(value)
  local v = value
  if type(value) == "table" then v = value[cfg.key] end
  if type(v) ~= "number" or v ~= v then
    local what = type(value) == "table"
        and ("a table whose '%s' is %s"):format(cfg.key, describe(v)) or describe(value)
    return nil, ("ignoring exposure value: a number or a table with a number at '%s' " ..
                 "expected, got %s"):format(cfg.key, what)
  end
  return v
end

-- The engine's exposure: the largest watched number over the venue's (or every venue's)
-- underlyings, and which bucket it is ("okx BTC-USD"; nil when there is none).
local function engine_exposure(x)
  local worst, where = 0, nil
  for venue, underlyings in pairs(x) do
    if cfg.venue == "" or venue == cfg.venue then
      for underlying, b in pairs(underlyings) do
        local v = cfg.key == "filled_net" and math.abs(b.filled_net)
            or cfg.key == "open_gross" and b.open_gross
            or math.abs(b.filled_net) + b.open_gross
        local name = venue .. " " .. underlying
        -- Ties go to the first name in sorted order: pairs order is not reproducible.
        if v > worst or (v == worst and where and name < where) then worst, where = v, name end
      end
    end
  end
  return worst, where
end

local tripped = false   -- triggered, and not yet back below rearm_below
local running = false   -- a cancel_all is in flight
local latest            -- the last valid exposure, for re-arming after the cancel_all

local function rearm_if_below(v)
  if tripped and v < rearm_below then
    tripped = false
    rfq.log.info(("re-armed: exposure %s below %s"):format(amount(v), amount(rearm_below)))
  end
end

local function trigger(v, where)
  tripped, running = true, true
  rfq.log.warn(("exposure %s over limit %s%s: canceling everything"):format(amount(v),
               amount(cfg.limit), where and (" (%s)"):format(where) or ""))
  local started = rfq.now()
  -- pcall: whatever happens, `running` is cleared and the trigger can work again.
  local ok, summary = pcall(rfq.cancel_all, cfg.venue ~= "" and { venue = cfg.venue } or nil)
  running = false
  if not ok then
    rfq.log.error("cancel_all raised: " .. tostring(summary))
  else
    report.summary(summary)
    rfq.log.info(("cancel_all took %d ms"):format(rfq.now() - started))
  end
  rearm_if_below(latest)
end

local function on_exposure(value, source)
  if source ~= cfg.source then return end  -- the other source's events are not ours
  local v, where, why
  if source == "engine" then
    v, where = engine_exposure(value)
  else
    v, why = exposure_of(value)
  end
  if not v then
    rfq.log.warn(why)
    return
  end
  latest = v
  if running then return end  -- the cancel_all in flight covers it; see trigger()
  if not tripped and v > cfg.limit then
    trigger(v, where)
  else
    rearm_if_below(v)
  end
end

rfq.on("exposure", on_exposure)

rfq.log.info(("exposure trigger: limit %s, re-arm below %s, %skey '%s', venue %s"):format(
  amount(cfg.limit), amount(rearm_below), cfg.source == "engine" and "engine exposure, " or "",
  cfg.key, cfg.venue ~= "" and cfg.venue or "all (kill switch)"))

-- The engine's exposure is there before any change: look at it once.
if cfg.source == "engine" then on_exposure(rfq.exposure(), "engine") end
