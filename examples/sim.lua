-- The demo: `make demo` runs this with --sim, which starts the embedded simulator seeded with
-- 50 RFQs that expire over the next 20 s and points venue okx at it.
return {
  venues = {
    okx = { rest = "https://www.okx.com", business_ws = "wss://wspap.okx.com:8443/ws/v5/business",
            demo = true },
  },
  policies = {
    { script = "scripts/policies/expiry_sweep.lua", params = { window_ms = 5000, every_ms = 250 } },
  },
  timeout_ms = 5000,
  sim = { seed_rfqs = 50, seed_spread_ms = 20000 },
}
