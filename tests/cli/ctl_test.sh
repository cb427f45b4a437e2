#!/usr/bin/env bash
# Hot reload and `rfqd ctl` against a running `rfqd run --sim`: status (version = the file's
# sha256, state, venues and budgets), reload on file change (the policy file and a module it
# requires), a refused reload that keeps the old version serving, SIGHUP, `ctl reload`,
# pause/resume, an owner-only socket that a second daemon cannot take, and clear errors when
# no daemon answers. Waits read the daemon's log through a fifo (bounded), never sleep.
# Usage: ctl_test.sh RFQD_BINARY SOURCE_DIR
set -u
rfqd=$1
src=$2
tmp=$(mktemp -d)
run_pid=""
cleanup() {
  [ -n "$run_pid" ] && kill "$run_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
source "$src/tests/cli/tap.sh"
cd "$tmp"

sock="$tmp/ctl.sock"
cat >mod.lua <<'EOF'
return { word = "one" }
EOF
cat >p.lua <<'EOF'
local mod = require "mod"
rfq.state.version = 1
rfq.state.marker = "set by v1"
rfq.every(50, function() rfq.state.n = (rfq.state.n or 0) + 1 end)
rfq.log.info("loaded v1 with " .. mod.word)
EOF
cat >run.lua <<EOF
return {
  venues = { okx = {} },
  policies = { { script = "p.lua" } },
  control_socket = "$sock",
}
EOF

mkfifo log
"$rfqd" run --config run.lua --sim >run.out 2>log &
run_pid=$!
exec 5<log
# wait_log PATTERN: reads the daemon's log until a line matches, 10 s at most in all; the
# line is left in $line. Returns 1 when none came.
wait_log() {
  local end=$((SECONDS + 10)) left
  while left=$((end - SECONDS)) && [ "$left" -gt 0 ] && read -r -t "$left" line <&5; do
    case "$line" in *$1*) return 0 ;; esac
  done
  return 1
}
hash_of() { echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"; }
ctl() { "$rfqd" ctl --socket "$sock" "$@"; }

if wait_log "policies running"; then
  pass "rfqd run starts with a control socket"
else
  fail "rfqd run starts with a control socket" "$(cat run.out)"
fi

v1=$(hash_of p.lua)
expect "ctl status shows the policy's version (its file's sha256), state and the venues" 0 \
  "policy p  running  version $v1.*script +p\.lua.*counters +tasks [0-9]+.*venue okx  up.*cancel-rfq +[0-9]+/5 free per [0-9]+ ms" \
  -- "$rfqd" ctl status --socket "$sock"
expect "ctl status --json is the daemon's answer" 0 \
  "^\{\"policies\":\[\{\"name\":\"p\",\"script\":\"p\.lua\",\"version\":\"$v1\".*\"ok\":true" \
  -- ctl status --json
mode=$(stat -c %a "$sock")
if [ "$mode" = "600" ]; then pass "the control socket is owner-only (0600)"; else fail "the control socket is owner-only" "mode $mode"; fi

# --- reload on file change -----------------------------------------------------------------
cat >p.lua.new <<'EOF'
local mod = require "mod"
rfq.state.version = 2
rfq.every(50, function() rfq.state.n = (rfq.state.n or 0) + 1 end)
rfq.log.info("loaded v2 with " .. mod.word .. ", state carried over: " .. tostring(rfq.state.marker))
EOF
mv p.lua.new p.lua   # saved by rename, as editors do
v2=$(hash_of p.lua)
if wait_log "loaded v2 with one, state carried over: set by v1" && wait_log "reload p (file changed: " &&
  case "$line" in *"version ${v2:0:19} live in "*) true ;; *) false ;; esac; then
  pass "a changed policy file is reloaded: the new version runs with rfq.state carried over"
else
  fail "a changed policy file is reloaded" "last line: ${line:-}"
fi
expect "ctl status shows the new version and one reload" 0 \
  "policy p  running  version $v2.*reloads 1, refused 0" -- ctl status

echo 'return { word = "two" }' >mod.lua
if wait_log "loaded v2 with two"; then
  pass "a changed module the policy requires reloads the policy"
else
  fail "a changed module the policy requires reloads the policy" "last line: ${line:-}"
fi

# --- a refused reload keeps the old version ------------------------------------------------
printf 'rfq.every(50, function()\n' >p.lua
if wait_log ") failed: " && case "$line" in *"reload p (file changed: "*"p.lua) failed: "*"p.lua:"*"keeps serving"*) true ;; *) false ;; esac; then
  pass "a policy file with a syntax error is refused and logged"
else
  fail "a policy file with a syntax error is refused and logged" "last line: ${line:-}"
fi
expect "ctl status: the old version keeps serving, the refusal is shown" 0 \
  "policy p  running  version $v2.*refused 1\).*reload refused [0-9T:-]+Z  .*p\.lua:" -- ctl status
expect "ctl reload of the broken file exits 1 and says the old version keeps serving" 1 \
  "reload p: REFUSED, version $v2 after [0-9]+ us.*p\.lua:.*keeps serving" -- ctl reload p

# --- ctl reload, SIGHUP ----------------------------------------------------------------------
cat >p.lua <<'EOF'
rfq.state.version = 3
rfq.every(50, function() rfq.state.n = (rfq.state.n or 0) + 1 end)
rfq.log.info("loaded v3")
EOF
if wait_log "loaded v3"; then
  pass "a fixed policy file is reloaded"
else
  fail "a fixed policy file is reloaded" "last line: ${line:-}"
fi
v3=$(hash_of p.lua)
expect "ctl reload reloads and reports the version live" 0 \
  "reload p: ok, version $v3 live in [0-9]+ us" -- ctl reload
kill -HUP "$run_pid"
if wait_log "reload p (SIGHUP): version ${v3:0:19} live"; then
  pass "SIGHUP reloads every policy"
else
  fail "SIGHUP reloads every policy" "last line: ${line:-}"
fi

# --- pause / resume ------------------------------------------------------------------------------
expect "ctl pause" 0 "pause p: ok" -- ctl pause p
expect "ctl status shows the policy paused" 0 "policy p  paused  version $v3" -- ctl status p
expect "ctl resume" 0 "resume p: ok" -- ctl resume
expect "ctl status shows it running again" 0 "policy p  running" -- ctl status p

# --- errors ----------------------------------------------------------------------------------
expect "ctl status of an unknown policy exits 1" 1 "no policy named 'nope'" -- ctl status nope
expect "ctl of an unknown command exits 2 (usage)" 2 "command" -- ctl frobnicate
expect "a second daemon cannot take a live socket (exit 2 naming the key)" 2 \
  "config run\.lua: key 'control_socket': .*another rfqd is listening there" \
  -- "$rfqd" run --config run.lua --sim --duration 0.1
expect "ctl with --config reads control_socket" 0 "policy p  running" -- "$rfqd" ctl status --config run.lua

# --- config keys ---------------------------------------------------------------------------
cfg() { printf 'return { venues = { okx = {} }, policies = { { script = "p.lua" } }, %s }\n' "$2" >"$1"; }
cfg cs_true.lua 'control_socket = true'
expect "control_socket = true is a config error naming the key" 2 \
  "config cs_true\.lua: key 'control_socket': a path, or false to turn the socket off" \
  -- "$rfqd" run --config cs_true.lua --sim --duration 0.1
cfg cs_num.lua 'control_socket = 5'
expect "control_socket of the wrong type is a config error naming the key" 2 \
  "config cs_num\.lua: key 'control_socket': string expected" -- "$rfqd" run --config cs_num.lua --sim
cfg roc.lua 'reload_on_change = "yes"'
expect "reload_on_change of the wrong type is a config error naming the key" 2 \
  "config roc\.lua: key 'reload_on_change': boolean expected" -- "$rfqd" run --config roc.lua --sim
cfg long.lua "control_socket = \"$tmp/$(printf 'x%.0s' $(seq 1 120)).sock\""
expect "a socket path too long for a Unix socket is a config error naming the key" 2 \
  "config long\.lua: key 'control_socket': .*path too long for a Unix socket" \
  -- "$rfqd" run --config long.lua --sim --duration 0.1
cfg off.lua 'control_socket = false'
expect "control_socket = false runs without a socket" 0 "rfqd summary" \
  -- "$rfqd" run --config off.lua --sim --duration 0.2
expect "ctl --config of a config with the socket off exits 2 saying so" 2 \
  "config off\.lua: key 'control_socket': the control socket is turned off" \
  -- "$rfqd" ctl status --config off.lua

kill -TERM "$run_pid"
timeout 20 cat <&5 >/dev/null
exec 5<&-
wait "$run_pid"
rc=$?
run_pid=""
if [ "$rc" -eq 0 ] && [ ! -e "$sock" ]; then
  pass "SIGTERM exits 0 and removes the socket"
else
  fail "SIGTERM exits 0 and removes the socket" "rc=$rc, socket $(ls -l "$sock" 2>&1)"
fi
expect "ctl with no daemon at the socket exits 2" 2 "no rfqd at $sock" -- ctl status

finish
