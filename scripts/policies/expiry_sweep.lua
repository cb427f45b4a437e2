--[[
expiry_sweep — cancel RFQs shortly before they expire, so a stale quote cannot fill them.

Every `every_ms` it asks the book for the open RFQs that expire within `window_ms` and cancels
each of them concurrently, soonest expiry first. A cancel's deadline is the RFQ's own expiry:
there is no point in a cancel that lands after the RFQ has expired anyway.

params:
  window_ms  (5000)  cancel RFQs that expire within this many ms
  every_ms   (250)   how often to look
  venue      ("")    only this venue; "" means every configured venue
]]

local cfg = rfq.params{ window_ms = 5000, every_ms = 250, venue = "" }

local function cancel_one(r)
  local left = r.expires_ms - rfq.now()
  if left <= 0 then return end
  local res, err, code = rfq.cancel{ venue = r.venue, id = r.id, timeout_ms = left }
  if res then
    rfq.log.info(("canceled %s RFQ %s, %.1f s before expiry, round trip %.2f ms")
      :format(r.venue, r.id, left / 1000, res.latency_us / 1000))
  else
    rfq.log.warn(("cancel %s RFQ %s failed: %s (%s)"):format(r.venue, r.id, code, err))
  end
end

rfq.every(cfg.every_ms, function()
  local due = rfq.open{
    venue = cfg.venue ~= "" and cfg.venue or nil,
    expiring_within_ms = cfg.window_ms,
  }
  local running = {}
  for _, r in ipairs(due) do
    running[#running + 1] = rfq.spawn(cancel_one, r)
  end
  -- The next tick is skipped while this one waits, so an RFQ is never cancelled twice at once.
  for _, t in ipairs(running) do t:wait() end
end)

rfq.log.info(("expiry sweep: every %d ms, window %d ms"):format(cfg.every_ms, cfg.window_ms))
