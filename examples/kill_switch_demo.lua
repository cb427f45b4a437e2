--[[
kill_switch_demo — the demo's second policy: once, after `after_ms`, pull everything on every
configured venue at once with rfq.cancel_all() and log each venue's outcome.

params:
  after_ms  (12000)  when to pull everything
]]

local cfg = rfq.params{ after_ms = 12000 }

rfq.after(cfg.after_ms, function()
  local t0 = rfq.now()
  local summary, err, code = rfq.cancel_all{ timeout_ms = 5000 }
  local took = rfq.now() - t0
  if not summary then
    rfq.log.warn(("kill switch failed: %s (%s)"):format(code, err))
    return
  end
  for venue, o in pairs(summary.venues) do
    rfq.log.info(("kill switch %s: ok=%s canceled=%s%s"):format(
      venue, tostring(o.ok), tostring(o.canceled or "n/a"), o.code and (" " .. o.code) or ""))
  end
  rfq.log.info(("kill switch across every venue took %d ms"):format(took))
end)
