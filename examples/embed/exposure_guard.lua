--[[
exposure_guard — the policy the embedding example loads: pulls every RFQ once the exposure the
host publishes goes over a limit.

params:
  limit  (1000000)  gross exposure, in the host's own unit, above which everything is canceled
]]

local cfg = rfq.params{ limit = 1000000 }
local tripped = false

rfq.on("exposure", function(e, source)
  -- The engine's own exposure (from the venues' books and fills) comes to the same event;
  -- this guard watches the host's figures only.
  if source ~= "host" then return end
  rfq.log.info(("exposure %d (limit %d)"):format(e.gross, cfg.limit))
  if tripped or e.gross <= cfg.limit then return end
  tripped = true
  local summary, err, code = rfq.cancel_all()
  for venue, outcome in pairs(summary.venues) do
    rfq.log.warn(("over the limit: %s canceled=%s code=%s"):format(
      venue, tostring(outcome.canceled), tostring(outcome.code)))
  end
  if err then rfq.log.error(("kill switch: %s (%s)"):format(err, code)) end
end)
