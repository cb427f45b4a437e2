--[[
venue_down_guard — when a venue's connection or feed has been down for a while, pull the RFQs
on the other venues: with one venue blind, what is open elsewhere is no longer watched and
hedged as it should be.

It follows rfq.on("venue") events (a venue went "down": its connection, login or state feed
was lost; it came back "up"), and at start rfq.venues() for venues that are down already
(their downtime counts from the policy's start). When a watched venue has stayed down for
`down_after_ms`, it cancels everything on the venues of `cancel_on` (by default every other
configured venue), one rfq.cancel_all{ venue = V } per venue, all at once, and logs each
venue's outcome. Then it does nothing more for that venue while it stays down; once the
venue is up again the guard re-arms for it. A venue that comes back within down_after_ms
triggers nothing. Each watched venue has its own timer and its own trigger.

A venue of `cancel_on` that is down too is tried all the same (okx's cancel-all goes over
REST, which may well answer while its feed is away; okx and okx_spread share OKX's business
WebSocket, so when one is down the other usually is too, and its cancel then fails
DISCONNECTED, logged at warn). The deadline is the config's timeout_ms (5000 by default), per
venue. A failed cancel is not retried.

params:
  down_after_ms  (5000)   how long (ms) a venue must stay down before the others are canceled
  watch          (false)  the venues whose downtime triggers: a name or a list of names;
                          false: every configured venue
  cancel_on      (false)  the venues to cancel on: a name or a list of names (the venue that
                          is down is always left out); false: every other configured venue

logs:
  info  at start: "venue down guard: acting after 5000 ms down; watching deribit, okx,
        okx_spread; canceling on the other venues"
  warn  "okx down: canceling elsewhere in 5000 ms unless it comes back"
  warn  "okx down for 5000 ms: canceling on deribit, okx_spread"
  info  per venue, sorted: "deribit: canceled 2", "okx_spread: canceled" (no count),
        "deribit: nothing to cancel (no open block RFQ)"
  warn  per failed venue: "okx_spread: cancel_all failed: CODE (MESSAGE)[, N canceled]"
  error "deribit: cancel_all raised: MESSAGE" (should not happen: venues are checked at start)
  info  "okx up again after 7750 ms: guard re-armed" (after it acted) or
        "okx up again after 1200 ms: nothing canceled" (back in time)
]]

local report = require "cancel_report"  -- scripts/lib: one log line per venue of a cancel_all

local cfg = rfq.params{ down_after_ms = 5000, watch = false, cancel_on = false }

local function need(ok, message)
  if not ok then error("venue_down_guard: " .. message, 0) end
end

local down_after = math.tointeger(cfg.down_after_ms)
need(down_after and down_after >= 0, "param 'down_after_ms' must be a non-negative integer")

local status = rfq.venues()  -- every configured venue, with its status now
local configured = {}
for venue in pairs(status) do configured[#configured + 1] = venue end
table.sort(configured)  -- pairs order is not reproducible

-- A param naming venues: false, a name or a list of names, each configured. Sorted.
local function venue_list(param, value)
  if value == false then return nil end
  if type(value) == "string" then value = { value } end
  need(type(value) == "table",
       ("param '%s' must be a venue name, a list of them or false"):format(param))
  local out = {}
  for _, venue in ipairs(value) do
    need(status[venue] ~= nil,
         ("param '%s': unknown or unconfigured venue '%s'"):format(param, tostring(venue)))
    out[#out + 1] = venue
  end
  table.sort(out)
  return out
end

local watch = venue_list("watch", cfg.watch) or configured
local cancel_on = venue_list("cancel_on", cfg.cancel_on)
local watched = {}
for _, venue in ipairs(watch) do watched[venue] = true end

local outages = {}  -- venue -> { since = ms, timer = timer, acted = bool } while it is down

local function cancel_elsewhere(down, outage)
  outage.acted = true
  local targets = {}
  for _, venue in ipairs(cancel_on or configured) do
    if venue ~= down then targets[#targets + 1] = venue end
  end
  local took = rfq.now() - outage.since
  if #targets == 0 then
    rfq.log.warn(("%s down for %d ms: no other venue to cancel on"):format(down, took))
    return
  end
  rfq.log.warn(("%s down for %d ms: canceling on %s"):format(down, took,
                                                             table.concat(targets, ", ")))
  local tasks = {}
  for i, venue in ipairs(targets) do tasks[i] = rfq.spawn(rfq.cancel_all, { venue = venue }) end
  for i, task in ipairs(tasks) do
    local ok, summary = task:wait()
    if not ok then
      rfq.log.error(("%s: cancel_all raised: %s"):format(targets[i], tostring(summary)))
    else
      report.venue(targets[i], summary.venues[targets[i]])
    end
  end
end

local function on_down(venue)
  if not watched[venue] or outages[venue] then return end  -- not watched, or known down
  local outage = { since = rfq.now(), acted = false }
  outages[venue] = outage
  rfq.log.warn(("%s down: canceling elsewhere in %d ms unless it comes back"):format(venue,
                                                                                   down_after))
  outage.timer = rfq.after(down_after, function()
    if outages[venue] == outage then cancel_elsewhere(venue, outage) end
  end)
end

local function on_up(venue)
  local outage = outages[venue]
  if not outage then return end
  outages[venue] = nil  -- re-armed: the next outage is a new one
  outage.timer:cancel()
  rfq.log.info(("%s up again after %d ms: %s"):format(venue, rfq.now() - outage.since,
               outage.acted and "guard re-armed" or "nothing canceled"))
end

rfq.on("venue", function(venue, state)
  if state == "down" then
    on_down(venue)
  elseif state == "up" then
    on_up(venue)
  end
end)

rfq.log.info(("venue down guard: acting after %d ms down; watching %s; canceling on %s"):format(
  down_after, table.concat(watch, ", "),
  cancel_on and table.concat(cancel_on, ", ") or "the other venues"))

for _, venue in ipairs(watch) do
  if status[venue] == "down" then on_down(venue) end
end
