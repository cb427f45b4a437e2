#!/usr/bin/env bash
# The rfqd command-line contract, against the real binary: exit codes, messages that name the
# file and key, and `rfqd run` against a separately started `rfqd sim` with credentials taken
# from the environment (as against any OKX-compatible server).
# Usage: cli_test.sh RFQD_BINARY SOURCE_DIR
set -u
rfqd=$1
src=$2
tmp=$(mktemp -d)
sim_pid=""
cleanup() {
  [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
source "$src/tests/cli/tap.sh"

cd "$tmp"
mkdir -p policies
cat >policies/ok.lua <<'EOF'
rfq.every(100, function() end)
EOF
cat >policies/syntax.lua <<'EOF'
local x = 1
rfq.every(100, function()
  if x then
end)
EOF
cat >policies/fails_at_start.lua <<'EOF'
local cfg = rfq.params{ window_ms = 5000 }
rfq.every(cfg.window_ms, "not a function")
EOF
cat >policies/timer_error.lua <<'EOF'
local n = 0
rfq.every(100, function()
  n = n + 1
  if n == 2 then error("tick two is broken") end
  rfq.log.info("tick " .. n)
end)
EOF

write_config() {  # write_config FILE VENUE_TABLE POLICY [MORE_TOP_LEVEL_KEYS]
  cat >"$1" <<EOF
return {
  venues = { $2 },
  policies = { { script = "$3" } },
  timeout_ms = 2000, ${4:-}
}
EOF
}

expect "missing config file exits 2 naming the file" 2 "config nope\.lua: file not found" \
  -- "$rfqd" run --config nope.lua

printf 'return {\n  venues = {\n    okx = { rest = "http://x" \n}\n' >broken.lua
expect "config syntax error exits 2 with file:line" 2 "config broken\.lua: broken\.lua:[0-9]+:" \
  -- "$rfqd" run --config broken.lua

write_config badkey.lua 'okx = { resst = "http://127.0.0.1:1" }' policies/ok.lua
expect "unknown venue key exits 2 naming file and key" 2 \
  "config badkey\.lua: key 'venues\.okx\.resst': unknown key" -- "$rfqd" run --config badkey.lua

write_config badvenue.lua 'kraken = {}' policies/ok.lua
expect "unknown venue exits 2 naming it" 2 "key 'venues\.kraken': unknown venue" \
  -- "$rfqd" run --config badvenue.lua

write_config badtype.lua 'okx = { demo = "yes" }' policies/ok.lua
expect "wrong value type exits 2 naming the key" 2 "key 'venues\.okx\.demo': boolean expected" \
  -- "$rfqd" run --config badtype.lua

write_config nopolicy.lua 'okx = {}' policies/missing.lua
expect "missing policy script exits 2 naming the key" 2 \
  "key 'policies\[1\]\.script': file not found" -- "$rfqd" run --config nopolicy.lua

write_config noenv.lua 'okx = { rest = "http://127.0.0.1:1", key_env = "RFQD_TEST_UNSET_KEY" }' \
  policies/ok.lua
expect "missing credential variable exits 2 naming it" 2 \
  "key 'venues\.okx\.key_env': environment variable RFQD_TEST_UNSET_KEY is not set" \
  -- env -u RFQD_TEST_UNSET_KEY "$rfqd" run --config noenv.lua

write_config syntax.lua 'okx = {}' policies/syntax.lua
expect "policy syntax error exits 2 at start with file:line" 2 \
  "policy policies/syntax\.lua: policies/syntax\.lua:[0-9]+:" -- "$rfqd" run --config syntax.lua --sim

write_config start.lua 'okx = {}' policies/fails_at_start.lua
expect "policy whose main chunk fails exits 2 at start" 2 \
  "failed at start: .*fails_at_start\.lua:2: rfq\.every: bad argument 'fn'" \
  -- "$rfqd" run --config start.lua --sim --duration 5

write_config timer.lua 'okx = {}' policies/timer_error.lua
expect "a runtime error in a timer is logged and the policy keeps running" 0 \
  "tick two is broken.*tick 3.*tick 5" -- "$rfqd" run --config timer.lua --sim --duration 0.75

cat >policies/runaway.lua <<'EOF'
local n = 0
rfq.every(100, function() n = n + 1; rfq.log.info("tick " .. n) end)
rfq.after(150, function() while true do end end)
EOF
write_config runaway.lua 'okx = {}' policies/runaway.lua
expect "a handler stuck in a loop is stopped by the watchdog; the policy's other handlers go on" 0 \
  "after\(150\).{0,80}ran for more than 40 ms without waiting: runaway code stopped.*tick 5" \
  -- "$rfqd" run --config runaway.lua --sim --duration 0.75

# --log-json: every line one JSON object, a multi-line traceback escaped inside it
"$rfqd" run --config timer.lua --sim --duration 0.35 --log-json >json.out 2>json.err
if grep -vq '^{"ts":"[0-9T:.-]*Z","level":"[a-z]*","logger":"[a-z.]*","msg":".*"}$' json.err; then
  fail "--log-json writes one JSON object per line" "$(grep -v '^{' json.err | head -3)"
elif ! grep -q 'tick two is broken\\nstack traceback:\\n\\t' json.err; then
  fail "--log-json escapes the traceback's newlines" "$(grep broken json.err)"
else
  pass "--log-json writes one JSON object per line, tracebacks escaped"
fi

# SIGHUP is not fatal: it reloads the policies, and the run still ends cleanly with its summary
mkfifo hup_log
"$rfqd" run --config timer.lua --sim --duration 3 >hup.out 2>hup_log &
run_pid=$!
exec 4<hup_log
got_running=0
while read -r -t 10 l <&4; do
  case "$l" in *"policies running"*) got_running=1; break ;; esac
done
kill -HUP "$run_pid"
while read -r -t 10 l <&4; do
  case "$l" in *"reload timer_error (SIGHUP): version sha256:"*" live in "*) hup_seen=1; kill -TERM "$run_pid"; break ;; esac
done
cat <&4 >/dev/null
wait "$run_pid"
rc=$?
if [ "$got_running" -eq 1 ] && [ "${hup_seen:-0}" -eq 1 ] && [ "$rc" -eq 0 ] &&
  grep -q "rfqd summary" hup.out; then
  pass "SIGHUP reloads the policies without ending the run; SIGTERM then exits 0 with the summary"
else
  fail "SIGHUP reloads the policies without ending the run" "running=$got_running hup=${hup_seen:-0} rc=$rc"
fi

cat >policies/kill.lua <<'EOF2'
rfq.after(200, function()
  local s = rfq.cancel_all()
  local names = {}
  for venue, o in pairs(s.venues) do names[#names + 1] = venue .. "=" .. tostring(o.ok) end
  table.sort(names)
  rfq.log.info("kill", table.concat(names, " "))
end)
EOF2
write_config kill.lua 'okx = {}, okx_spread = {}, deribit = {}' policies/kill.lua
expect "the kill switch cancels on okx, okx_spread and deribit at once" 0 \
  "kill deribit=true okx=true okx_spread=true.*cancel-all 3" \
  -- "$rfqd" run --config kill.lua --sim --duration 0.6

write_config baddrb.lua 'deribit = { grant = "password" }' policies/ok.lua
expect "deribit grant is checked" 2 "key 'venues\.deribit\.grant'" -- "$rfqd" run --config baddrb.lua
write_config baddrbhb.lua 'deribit = { heartbeat_s = 5 }' policies/ok.lua
expect "deribit heartbeat below 10 s is refused" 2 "key 'venues\.deribit\.heartbeat_s'" \
  -- "$rfqd" run --config baddrbhb.lua
write_config drbenv.lua 'deribit = { client_id_env = "RFQD_NO_SUCH_VAR" }' policies/ok.lua
expect "deribit credentials come from the environment" 2 \
  "key 'venues\.deribit\.client_id_env': environment variable RFQD_NO_SUCH_VAR is not set" \
  -- "$rfqd" run --config drbenv.lua

write_config badws.lua 'okx_spread = { business_ws = "https://x" }' policies/ok.lua
expect "okx_spread needs a ws:// or wss:// URL" 2 "key 'venues\.okx_spread\.business_ws'" \
  -- "$rfqd" run --config badws.lua

write_config badokxws.lua 'okx = { business_ws = "http://x" }' policies/ok.lua
expect "okx's feed needs a ws:// or wss:// URL" 2 "key 'venues\.okx\.business_ws'" \
  -- "$rfqd" run --config badokxws.lua

write_config reserve.lua 'okx = { batch_reserve = 2 }' policies/ok.lua
expect "batch_reserve above 1 is refused" 2 "key 'venues\.okx\.batch_reserve': 0 or 1" \
  -- "$rfqd" run --config reserve.lua

# ---- audit log, dry run, cancel_on_exit: config and flags ----------------------------------
write_config auditnum.lua 'okx = {}' policies/ok.lua 'audit_log = 5,'
expect "audit_log must be a string" 2 "config auditnum\.lua: key 'audit_log': string expected" \
  -- "$rfqd" run --config auditnum.lua --sim
write_config auditdir.lua 'okx = {}' policies/ok.lua 'audit_log = "no-such-dir/audit.jsonl",'
expect "an audit_log that cannot be opened exits 2 naming the key" 2 \
  "config auditdir\.lua: key 'audit_log': cannot open 'no-such-dir/audit\.jsonl' for appending" \
  -- "$rfqd" run --config auditdir.lua --sim --duration 0.1
write_config exitstr.lua 'okx = {}' policies/ok.lua 'cancel_on_exit = "yes",'
expect "cancel_on_exit must be a boolean" 2 "key 'cancel_on_exit': boolean expected" \
  -- "$rfqd" run --config exitstr.lua --sim
expect "rfqd run --help documents --dry-run, audit_log and cancel_on_exit" 0 \
  "--dry-run.*audit_log.*cancel_on_exit" -- "$rfqd" run --help
expect "--dry-run: the kill switch is decided, logged and counted, nothing is sent" 0 \
  "would cancel_all okx.*kill deribit=true okx=true okx_spread=true.*cancel-all 0\).*dry run +3 decisions, none sent" \
  -- "$rfqd" run --config kill.lua --sim --duration 0.6 --dry-run

expect "unknown option is a usage error (exit 2)" 2 "bogus" -- "$rfqd" run --bogus
expect "no subcommand is a usage error (exit 2)" 2 "subcommand" -- "$rfqd"

# ---- rfqd run against a separately started rfqd sim, credentials from the environment -----
# http_get PORT TARGET: the raw answer (status line, headers, body) to one GET on 127.0.0.1.
http_get() {
  exec 4<>"/dev/tcp/127.0.0.1/$1" || return 1
  printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$2" >&4
  timeout 5 cat <&4
  exec 4<&-
}
# http_post PORT TARGET JSON: likewise for one POST (the simulators' /sim/ control API).
http_post() {
  exec 4<>"/dev/tcp/127.0.0.1/$1" || return 1
  printf 'POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
    "$2" "${#3}" "$3" >&4
  timeout 5 cat <&4
  exec 4<&-
}

expect "rfqd sim --help documents --deribit-port" 0 "--deribit-port" -- "$rfqd" sim --help

export OKX_API_KEY=cli-test-key OKX_SECRET_KEY=cli-test-secret OKX_PASSPHRASE=cli-test-pass
mkfifo ready
# Deribit served too (built-in Deribit credentials): OKX must work unchanged beside it.
env -u DERIBIT_CLIENT_ID -u DERIBIT_CLIENT_SECRET -u DERIBIT_CLIENT_ID_FILE \
  -u DERIBIT_CLIENT_SECRET_FILE "$rfqd" sim --okx-port 0 --deribit-port 0 --seed-rfqs 6 \
  --seed-spread-ms 3000 --journal journal.jsonl --log-level warn >ready &
sim_pid=$!
exec 3<ready
if ! read -r -t 10 line <&3; then
  fail "rfqd sim prints its ready line" "no line within 10 s"
else
  pass "rfqd sim prints its ready line"
  port=$(sed -E 's/.*"okx_port":([0-9]+).*/\1/' <<<"$line")
  deribit_port=$(sed -nE 's/.*"deribit_port":([0-9]+).*/\1/p' <<<"$line")
  if [ -n "$deribit_port" ] && [ "$deribit_port" != "$port" ] &&
    http_get "$deribit_port" /api/v2/public/test | grep -q '"version":"1.2.26"'; then
    pass "rfqd sim --deribit-port serves Deribit on its own port (ready line: deribit_port)"
  else
    fail "rfqd sim --deribit-port serves Deribit on its own port" "ready line: $line"
  fi
  cat >live.lua <<EOF
return {
  venues = { okx = { rest = "http://127.0.0.1:$port" } },
  policies = { { script = "$src/scripts/policies/expiry_sweep.lua",
                 params = { window_ms = 5000, every_ms = 100 } } },
}
EOF
  expect "rfqd run cancels on a separate simulator with env credentials, no auth failures" 0 \
    "RFQs canceled +6.*auth failures +0" -- "$rfqd" run --config live.lua --duration 1.5
  ok=$(grep -c '"endpoint":"cancel-batch-rfqs".*"code":"0"' journal.jsonl)
  auth=$(grep -c '"code":"501' journal.jsonl)
  if [ "$ok" -ge 1 ] && [ "$auth" -eq 0 ]; then
    pass "the simulator journal shows accepted signed cancels ($ok) and no auth errors"
  else
    fail "the simulator journal shows accepted signed cancels" "ok=$ok auth=$auth"
  fi
  if ! grep -q "cli-test-secret" journal.jsonl; then
    pass "the secret never appears in the journal"
  else
    fail "the secret never appears in the journal" "found it"
  fi

  # cancel_on_exit: a policy that never cancels, SIGTERM, and the simulator must hold no active
  # RFQ on either venue afterwards. The RFQs live 10 minutes, so only the exit can end them
  # (on deribit, some of the seeded ones may still be open too: canceled counts at least 3).
  http_post "$port" /sim/rfqs '{"count":5,"expires_in_ms":600000}' >/dev/null
  http_post "$deribit_port" /sim/deribit/rfqs '{"count":3,"expires_in_ms":600000}' >/dev/null
  okx_before=$(http_get "$port" /sim/rfqs | grep -o '"state":"active"' | wc -l)
  drb_before=$(http_get "$deribit_port" /sim/deribit/rfqs | grep -o '"state":"open"' | wc -l)
  cat >exit.lua <<EOF
return {
  venues = { okx = { rest = "http://127.0.0.1:$port" },
             deribit = { ws = "ws://127.0.0.1:$deribit_port/ws/api/v2" } },
  policies = { { script = "policies/ok.lua" } },
  cancel_on_exit = true,
  audit_log = "exit_audit.jsonl",
}
EOF
  mkfifo exit_log
  DERIBIT_CLIENT_ID=sim-deribit-client DERIBIT_CLIENT_SECRET=sim-deribit-secret \
    "$rfqd" run --config exit.lua >exit.out 2>exit_log &
  run_pid=$!
  exec 6<exit_log
  running=0
  while read -r -t 10 l <&6; do
    case "$l" in *"policies running"*) running=1; break ;; esac
  done
  kill -TERM "$run_pid"
  cat <&6 >exit.err
  exec 6<&-
  wait "$run_pid"
  rc=$?
  okx_after=$(http_get "$port" /sim/rfqs | grep -o '"state":"active"' | wc -l)
  drb_after=$(http_get "$deribit_port" /sim/deribit/rfqs | grep -o '"state":"open"' | wc -l)
  if [ "$running" -eq 1 ] && [ "$rc" -eq 0 ] && [ "$okx_before" -ge 5 ] && [ "$drb_before" -ge 3 ] &&
    [ "$okx_after" -eq 0 ] && [ "$drb_after" -eq 0 ]; then
    pass "SIGTERM with cancel_on_exit leaves no active RFQ in the simulator, exit 0"
  else
    fail "SIGTERM with cancel_on_exit leaves no active RFQ in the simulator" \
      "running=$running rc=$rc okx active $okx_before -> $okx_after, deribit open $drb_before -> $drb_after
$(cat exit.err)"
  fi
  exit_lines=$(grep -c '"policy":"rfqd","script_hash":"","venue":"[a-z]*","request":"cancel_all"' \
    exit_audit.jsonl)
  if [ "$exit_lines" -eq 2 ] &&
    grep -q '"venue":"okx","request":"cancel_all".*"sent":true,"dry_run":false,"outcome":"ok".*"venue_code":"0"' exit_audit.jsonl &&
    grep -Eq '"venue":"deribit","request":"cancel_all".*"outcome":"ok".*"canceled":([3-9]|[1-9][0-9])\}' exit_audit.jsonl &&
    [ "$(grep -c '"endpoint":"cancel-all-rfqs".*"code":"0"' journal.jsonl)" -eq 1 ] &&
    grep -q "cancel-all 2" exit.out && ! grep -q "cli-test-secret" exit_audit.jsonl; then
    pass "the exit's cancel_all is audited once per venue as rfqd's, and the venues got it"
  else
    fail "the exit's cancel_all is audited once per venue as rfqd's" \
      "$(cat exit_audit.jsonl; grep cancel-all journal.jsonl; cat exit.out)"
  fi
fi
kill -TERM "$sim_pid"
wait "$sim_pid"
rc=$?
sim_pid=""
[ "$rc" -eq 0 ] && pass "rfqd sim exits 0 on SIGTERM" || fail "rfqd sim exits 0 on SIGTERM" "exit $rc"

finish
