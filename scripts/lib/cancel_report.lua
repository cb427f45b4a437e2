--[[
cancel_report — logs the outcome of rfq.cancel_all per venue, the way the ready policies
report it (require "cancel_report"):

  info  "deribit: canceled 2", "okx_spread: canceled" (okx_spread reports no count),
        "okx: nothing to cancel (MESSAGE)"
  warn  "okx: cancel_all failed: CODE (MESSAGE)[, N canceled]"
]]

local M = {}

-- One venue's entry of a cancel_all summary (summary.venues[venue]).
function M.venue(venue, o)
  if not o.ok then
    rfq.log.warn(("%s: cancel_all failed: %s (%s)%s"):format(venue, o.code, o.err,
                 o.canceled and (", %d canceled"):format(o.canceled) or ""))
  elseif o.code == "NOTHING_TO_CANCEL" then
    rfq.log.info(("%s: nothing to cancel (%s)"):format(venue, o.err))
  elseif o.canceled then
    rfq.log.info(("%s: canceled %d"):format(venue, o.canceled))
  else
    rfq.log.info(("%s: canceled"):format(venue))
  end
end

-- Every venue of a summary, in name order (pairs order is not reproducible).
function M.summary(summary)
  local venues = {}
  for venue in pairs(summary.venues) do venues[#venues + 1] = venue end
  table.sort(venues)
  for _, venue in ipairs(venues) do M.venue(venue, summary.venues[venue]) end
end

return M
