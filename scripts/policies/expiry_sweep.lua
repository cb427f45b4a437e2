--[[
expiry_sweep — cancel RFQs shortly before they expire, so a stale quote cannot fill them.

Every `every_ms` it asks the book for the open RFQs that expire within `window_ms` and cancels
them with one rfq.cancel_batch per venue (chunked and paced by the engine: on OKX, 100 ids per
request, 2 requests per 2 s). The batch's deadline is the latest expiry among them: there is no
point in a cancel that lands after every RFQ in it has expired anyway.

params:
  window_ms  (5000)  cancel RFQs that expire within this many ms
  every_ms   (250)   how often to look
  venue      ("")    only this venue; "" means every configured venue
]]

local cfg = rfq.params{ window_ms = 5000, every_ms = 250, venue = "" }

local function sweep(venue, due)
  local ids, latest = {}, 0
  for _, r in ipairs(due) do
    ids[#ids + 1] = r.id
    latest = math.max(latest, r.expires_ms)
  end
  local left = latest - rfq.now()
  if left <= 0 then return end
  local results, err, code = rfq.cancel_batch{ venue = venue, ids = ids, timeout_ms = left }
  if not results then
    rfq.log.warn(("cancel_batch on %s (%d RFQs) failed: %s (%s)"):format(venue, #ids, code, err))
    return
  end
  for i, item in ipairs(results) do
    local r = due[i]
    if item.ok then
      rfq.log.info(("canceled %s RFQ %s, %.1f s before expiry"):format(
        venue, item.id, (r.expires_ms - rfq.now()) / 1000))
    elseif item.code == "NOT_CANCELABLE" or item.code == "UNKNOWN_RFQ" then
      -- Ended meanwhile (filled, expired, or pulled by another policy's cancel_all).
      rfq.log.info(("%s RFQ %s already ended: %s"):format(venue, item.id, item.err))
    else
      rfq.log.warn(("cancel %s RFQ %s failed: %s (%s)"):format(venue, item.id, item.code, item.err))
    end
  end
end

rfq.every(cfg.every_ms, function()
  local due = rfq.open{
    venue = cfg.venue ~= "" and cfg.venue or nil,
    expiring_within_ms = cfg.window_ms,
  }
  local by_venue = {}
  for _, r in ipairs(due) do
    by_venue[r.venue] = by_venue[r.venue] or {}
    table.insert(by_venue[r.venue], r)
  end
  local venues = {}
  for venue in pairs(by_venue) do venues[#venues + 1] = venue end
  table.sort(venues)  -- the same order on every run (pairs order is not)
  local running = {}
  for _, venue in ipairs(venues) do
    running[#running + 1] = rfq.spawn(sweep, venue, by_venue[venue])
  end
  -- The next tick is skipped while this one waits, so an RFQ is never cancelled twice at once.
  for _, t in ipairs(running) do t:wait() end
end)

rfq.log.info(("expiry sweep: every %d ms, window %d ms"):format(cfg.every_ms, cfg.window_ms))
