-- The demo: `make demo` runs this with --sim, which starts the embedded simulator seeded with
-- 50 OKX RFQs and 50 Deribit block RFQs that expire over the next 20 s, and points every venue
-- at it. The expiry sweep cancels what is about to expire; at 12 s the kill switch pulls what
-- is left on okx, okx_spread and deribit at once.
return {
  venues = {
    okx = { rest = "https://www.okx.com", business_ws = "wss://wspap.okx.com:8443/ws/v5/business",
            demo = true },
    okx_spread = { business_ws = "wss://wspap.okx.com:8443/ws/v5/business" },
    deribit = { ws = "wss://test.deribit.com/ws/api/v2" },
  },
  policies = {
    { script = "scripts/policies/expiry_sweep.lua", params = { window_ms = 5000, every_ms = 250 } },
    { script = "examples/kill_switch_demo.lua", params = { after_ms = 12000 } },
  },
  timeout_ms = 5000,
  sim = { seed_rfqs = 50, seed_spread_ms = 20000 },
}
