--[[
age_cap — cancel RFQs that have been open longer than a maximum age, so a forgotten RFQ cannot
be filled at a price that went stale long ago.

Every `every_ms` it asks the book for the open RFQs created at least `max_age_ms` ago
(rfq.open{ older_than_ms = max_age_ms }), keeps those of `venue` whose label starts with
`label_prefix`, and cancels them with one rfq.cancel_batch per venue, venues in sorted order
(the engine chunks and paces each batch: on OKX 100 ids per request, 2 requests per 2 s).
A tick is skipped while the previous one still waits for its cancels, so an RFQ is never
canceled twice at once; what a tick could not cancel is due again at the next one.

Deadline: each batch gets timeout_ms = max(4 * every_ms, 2000). Four ticks bound how long a
slow or stuck venue holds up the sweep (the ticks in between are skipped), and the default
4000 ms lets an OKX batch use two pacing windows (about 200 ids at once, 200 more 2.05 s
later). The 2000 ms floor leaves room for a real venue round trip when every_ms is small.

params:
  max_age_ms    (60000)  cancel RFQs created at least this many ms ago
  every_ms      (1000)   how often to look
  venue         ("")     only this venue; "" means every configured venue
  label_prefix  ("")     only RFQs whose label (OKX tag, Deribit label) starts with this, to
                         leave other desks' RFQs alone; "" means every RFQ, labeled or not

logs:
  info  at start: "age cap: RFQs older than 60000 ms, every 1000 ms (deadline 4000 ms),
        venue all, label prefix any"
  info  "canceled okx RFQ 22535, age 60250 ms"                    per canceled RFQ
  info  "okx RFQ 22535 already ended: MESSAGE"                     NOT_CANCELABLE, UNKNOWN_RFQ
  warn  "cancel okx RFQ 22535 failed: CODE (MESSAGE)"              any other failed item
  warn  "cancel_batch on okx (3 RFQs) failed: CODE (MESSAGE)"      nothing reached the venue
]]

local cfg = rfq.params{ max_age_ms = 60000, every_ms = 1000, venue = "", label_prefix = "" }

if type(cfg.venue) ~= "string" then
  error("age_cap: param 'venue' must be a string (\"\" for every venue)", 0)
end
if type(cfg.label_prefix) ~= "string" then
  error("age_cap: param 'label_prefix' must be a string (\"\" for every RFQ)", 0)
end

local venue_filter = cfg.venue ~= "" and cfg.venue or nil
local deadline_ms = math.max(4 * cfg.every_ms, 2000)
-- A bad venue or max_age_ms raises here, at start, rather than in every tick.
rfq.open{ venue = venue_filter, older_than_ms = cfg.max_age_ms }

local function labeled(r)
  return (r.label or ""):sub(1, #cfg.label_prefix) == cfg.label_prefix
end

local function cancel_old(venue, old)
  local ids = {}
  for i, r in ipairs(old) do ids[i] = r.id end
  local results, err, code = rfq.cancel_batch{ venue = venue, ids = ids, timeout_ms = deadline_ms }
  if not results then
    rfq.log.warn(("cancel_batch on %s (%d RFQs) failed: %s (%s)"):format(venue, #ids, code, err))
    return
  end
  for i, item in ipairs(results) do
    local r = old[i]  -- results come in input order
    if item.ok then
      rfq.log.info(("canceled %s RFQ %s, age %d ms"):format(
        venue, r.id, rfq.now() - r.created_ms))
    elseif item.code == "NOT_CANCELABLE" or item.code == "UNKNOWN_RFQ" then
      -- Ended meanwhile (filled, expired, or pulled by another policy's cancel_all).
      rfq.log.info(("%s RFQ %s already ended: %s"):format(venue, r.id, item.err))
    else
      rfq.log.warn(("cancel %s RFQ %s failed: %s (%s)"):format(venue, r.id, item.code, item.err))
    end
  end
end

rfq.every(cfg.every_ms, function()
  local by_venue, venues = {}, {}
  for _, r in ipairs(rfq.open{ venue = venue_filter, older_than_ms = cfg.max_age_ms }) do
    if labeled(r) then
      if not by_venue[r.venue] then
        by_venue[r.venue] = {}
        venues[#venues + 1] = r.venue
      end
      table.insert(by_venue[r.venue], r)
    end
  end
  table.sort(venues)  -- the same order on every run
  local running = {}
  for _, venue in ipairs(venues) do
    running[#running + 1] = rfq.spawn(cancel_old, venue, by_venue[venue])
  end
  -- Waiting here makes rfq.every skip the ticks that come meanwhile.
  for _, t in ipairs(running) do t:wait() end
end)

rfq.log.info(("age cap: RFQs older than %d ms, every %d ms (deadline %d ms), venue %s, " ..
              "label prefix %s"):format(cfg.max_age_ms, cfg.every_ms, deadline_ms,
                                        venue_filter or "all",
                                        cfg.label_prefix ~= "" and ("%q"):format(cfg.label_prefix)
                                          or "any"))
