#!/usr/bin/env bash
# `rfqd check` against the real binary: every finding is asserted as the exact line a user sees
# (file:line: message), with the summary and the exit code. The fixtures are in
# tests/cli/fixtures/check; the shipped policies must pass.
# Usage: check_test.sh RFQD_BINARY SOURCE_DIR
set -euo pipefail
rfqd=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")  # absolute: the checks run elsewhere
src=$2
fixtures="$src/tests/cli/fixtures/check"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$src/tests/cli/tap.sh"  # pass, fail, finish (expect is redefined below)

# run_check ARGS...: runs `rfqd check ARGS` in the fixtures folder (so findings name the
# fixtures by their short names); sets $out, $err and $rc.
run_check() {
  rc=0
  out=$(cd "$fixtures" && "$rfqd" check "$@" 2>"$tmp/stderr") || rc=$?
  err=$(cat "$tmp/stderr")
}

# expect NAME EXIT_CODE EXPECTED_STDOUT -- ARGS...: stdout must be exactly EXPECTED_STDOUT.
expect() {
  local name=$1 code=$2 want=$3
  shift 4
  run_check "$@"
  if [ "$rc" -ne "$code" ]; then
    fail "$name" "exit $rc, expected $code; stdout:
$out
stderr:
$err"
  elif [ "$out" != "$want" ]; then
    fail "$name" "stdout differs:
$(diff <(echo "$want") <(echo "$out") || true)"
  else
    pass "$name"
  fi
}

expect "a clean policy is ok (exit 0)" 0 \
  "clean.lua: ok
rfqd check: 1 script(s), 0 problem(s)" -- clean.lua

sweep="$src/scripts/policies/expiry_sweep.lua"
kill="$src/examples/kill_switch_demo.lua"
expect "the shipped policies pass" 0 \
  "$kill: ok
$sweep: ok
rfqd check: 2 script(s), 0 problem(s)" -- "$sweep" "$kill"

expect "a syntax error is reported with file:line and Lua's message" 1 \
  "syntax_error.lua:6: syntax error: unexpected symbol near ')'
rfqd check: 1 script(s), 1 problem(s)" -- syntax_error.lua

expect "unknown rfq names in bodies the main chunk never runs, nested names included" 1 \
  "unknown_names.lua:3: unknown rfq name 'rfq.cancle'
unknown_names.lua:5: unknown rfq name 'rfq.log.inf'
rfqd check: 1 script(s), 2 problem(s)" -- unknown_names.lua

expect "globals the sandbox removes: whole libraries, single fields, functions" 1 \
  "forbidden.lua:3: forbidden global 'io'
forbidden.lua:6: forbidden global 'os.execute'
forbidden.lua:7: forbidden global 'dofile'
rfqd check: 1 script(s), 3 problem(s)" -- forbidden.lua

expect "names inside strings and comments are not reported" 0 \
  "strings_and_comments.lua: ok
rfqd check: 1 script(s), 0 problem(s)" -- strings_and_comments.lua

expect "a local named rfq (or io) is the script's own" 0 \
  "shadow.lua: ok
rfqd check: 1 script(s), 0 problem(s)" -- shadow.lua

expect "an error raised by the main chunk is a runtime error at its line" 1 \
  "runtime_error.lua:3: runtime error: rfq.every: bad argument 'ms' (integer expected, got string)
rfqd check: 1 script(s), 1 problem(s)" -- runtime_error.lua

expect "a main chunk that never ends is stopped and reported" 1 \
  "runaway.lua:4: runtime error: instruction limit exceeded (10000000 per resume): runaway code stopped
rfqd check: 1 script(s), 1 problem(s)" -- runaway.lua

expect "a main chunk that keeps the loop busy forever is stopped and reported" 1 \
  "storm.lua: runtime error: the main chunk did not settle: more than 1000000 handlers ran without time moving (something keeps re-posting work, e.g. a task spawning tasks forever)
rfqd check: 1 script(s), 1 problem(s)" -- storm.lua

expect "a main chunk suspended in rfq.sleep is ok" 0 \
  "suspends.lua: ok
rfqd check: 1 script(s), 0 problem(s)" -- suspends.lua

all="clean.lua: ok
forbidden.lua:3: forbidden global 'io'
forbidden.lua:6: forbidden global 'os.execute'
forbidden.lua:7: forbidden global 'dofile'
runtime_error.lua:3: runtime error: rfq.every: bad argument 'ms' (integer expected, got string)
shadow.lua: ok
strings_and_comments.lua: ok
suspends.lua: ok
syntax_error.lua:6: syntax error: unexpected symbol near ')'
unknown_names.lua:3: unknown rfq name 'rfq.cancle'
unknown_names.lua:5: unknown rfq name 'rfq.log.inf'
rfqd check: 8 script(s), 7 problem(s)"
expect "several scripts: findings sorted by file then line, one summary" 1 "$all" -- \
  unknown_names.lua syntax_error.lua suspends.lua strings_and_comments.lua shadow.lua \
  runtime_error.lua forbidden.lua clean.lua

run_check clean.lua forbidden.lua unknown_names.lua runtime_error.lua
first=$out
run_check clean.lua forbidden.lua unknown_names.lua runtime_error.lua
if [ "$rc" -eq 1 ] && grep -q "problem(s)" <<<"$first" && [ "$out" = "$first" ]; then
  pass "the output is the same on every run"
else
  fail "the output is the same on every run" "$(diff <(echo "$first") <(echo "$out") || true)"
fi

run_check runtime_error.lua suspends.lua
if ! grep -q "rfq.every: bad argument" <<<"$err"; then
  fail "runtime logs go to stderr" "stderr:
$err"
elif grep -q "\[script\]" <<<"$out"; then
  fail "runtime logs stay off stdout" "stdout:
$out"
else
  pass "runtime logs go to stderr, never to stdout"
fi

expect "a file that cannot be read exits 2" 2 \
  "clean.lua: ok
rfqd check: 2 script(s), 0 problem(s)" -- clean.lua no_such_policy.lua
if grep -Fxq "rfqd check: cannot read no_such_policy.lua: No such file or directory" <<<"$err"; then
  pass "the unreadable file is named on stderr"
else
  fail "the unreadable file is named on stderr" "stderr: $err"
fi

expect "a folder is not a script (exit 2)" 2 "rfqd check: 1 script(s), 0 problem(s)" -- .
if [ "$err" = "rfqd check: cannot read .: is a directory" ]; then
  pass "the folder is named on stderr"
else
  fail "the folder is named on stderr" "stderr: $err"
fi

run_check
if [ "$rc" -eq 2 ] && grep -q "scripts" <<<"$err"; then
  pass "no script is a usage error (exit 2)"
else
  fail "no script is a usage error (exit 2)" "exit $rc; stderr: $err"
fi

finish
