--[[
exposure_trigger — a kill switch over an exposure limit, with hysteresis so it does not flap.

It listens to the "exposure" values the host publishes (rfq.on("exposure"); under `rfqd test`,
s:publish("exposure", value)). The value is a table such as
  { gross = 1250000, net = -30000, ... }
of which it watches the number at `key`, or a plain number. When that number goes over `limit`
it pulls everything: rfq.cancel_all() on every configured venue (okx RFQs, okx_spread spread
orders, deribit block RFQs), or rfq.cancel_all{ venue = venue } with `venue` set, and logs
each venue's outcome. Then it stays tripped: values over the limit do nothing until the
exposure has gone below `rearm_below`, which re-arms it. So a value that hovers around the
limit triggers once, not on every crossing.

While a cancel_all runs, further values start no other one; they are remembered, and when the
cancel_all has finished the last of them re-arms the trigger if it is below `rearm_below`.
The deadline is the config's timeout_ms (5000 by default), per venue. A venue whose cancel
failed is logged at warn and the trigger stays tripped all the same: it does not retry; the
next trigger needs the exposure to come back below `rearm_below` first.

params:
  limit        (1000000)      exposure, in the quote currency, above which everything is
                              canceled (a value equal to the limit is not over it)
  rearm_below  (0.8 * limit)  after a trigger, re-arm only once the exposure is below this;
                              must not be above limit (false in the defaults below: unset)
  key          ("gross")      which number of a published table to watch (value[key]); a
                              published plain number is taken as it is
  venue        ("")           "" = the kill switch over every venue; else only this venue

logs:
  info  at start: "exposure trigger: limit 1000000, re-arm below 800000, key 'gross',
        venue all (kill switch)"
  warn  "exposure 1250000 over limit 1000000: canceling everything"
  info  per venue, sorted: "okx: canceled 3", "okx_spread: canceled" (no count),
        "deribit: nothing to cancel (no open block RFQ)"
  warn  per failed venue: "okx: cancel_all failed: CODE (MESSAGE)[, N canceled]"
  info  "cancel_all took 12 ms"
  error "cancel_all raised: MESSAGE" (should not happen: the venue is checked at start)
  info  "re-armed: exposure 700000 below 800000"
  warn  "ignoring exposure value: ..." for a value without a number where expected
]]

local cfg = rfq.params{ limit = 1000000, rearm_below = false, key = "gross", venue = "" }

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

local tripped = false   -- triggered, and not yet back below rearm_below
local running = false   -- a cancel_all is in flight
local latest            -- the last valid exposure, for re-arming after the cancel_all

local function rearm_if_below(v)
  if tripped and v < rearm_below then
    tripped = false
    rfq.log.info(("re-armed: exposure %s below %s"):format(amount(v), amount(rearm_below)))
  end
end

local function log_outcomes(summary)
  local venues = {}
  for venue in pairs(summary.venues) do venues[#venues + 1] = venue end
  table.sort(venues)  -- pairs order is not reproducible
  for _, venue in ipairs(venues) do
    local o = summary.venues[venue]
    if not o.ok then
      rfq.log.warn(("%s: cancel_all failed: %s (%s)%s"):format(venue, o.code, o.err,
                   o.canceled and (", %d canceled"):format(o.canceled) or ""))
    elseif o.code == "NOTHING_TO_CANCEL" then
      rfq.log.info(("%s: nothing to cancel (%s)"):format(venue, o.err))
    elseif o.canceled then
      rfq.log.info(("%s: canceled %d"):format(venue, o.canceled))
    else
      rfq.log.info(("%s: canceled"):format(venue))  -- okx_spread reports no count
    end
  end
end

local function trigger(v)
  tripped, running = true, true
  rfq.log.warn(("exposure %s over limit %s: canceling everything"):format(amount(v),
                                                                          amount(cfg.limit)))
  local started = rfq.now()
  -- pcall: whatever happens, `running` is cleared and the trigger can work again.
  local ok, summary = pcall(rfq.cancel_all, cfg.venue ~= "" and { venue = cfg.venue } or nil)
  running = false
  if not ok then
    rfq.log.error("cancel_all raised: " .. tostring(summary))
  else
    log_outcomes(summary)
    rfq.log.info(("cancel_all took %d ms"):format(rfq.now() - started))
  end
  rearm_if_below(latest)
end

rfq.on("exposure", function(value)
  local v, why = exposure_of(value)
  if not v then
    rfq.log.warn(why)
    return
  end
  latest = v
  if running then return end  -- the cancel_all in flight covers it; see trigger()
  if not tripped and v > cfg.limit then
    trigger(v)
  else
    rearm_if_below(v)
  end
end)

rfq.log.info(("exposure trigger: limit %s, re-arm below %s, key '%s', venue %s"):format(
  amount(cfg.limit), amount(rearm_below), cfg.key,
  cfg.venue ~= "" and cfg.venue or "all (kill switch)"))
