#!/usr/bin/env bash
# The `rfqd test` contract, against the real binary: the shipped suite passes in one run, two
# runs with the same seed print byte-identical TAP, a deliberately broken copy of the expiry
# sweep fails its test with a readable message, --junit writes XML, and usage errors exit 2.
# Usage: test_command_test.sh RFQD_BINARY SOURCE_DIR
set -u
rfqd=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$src" || exit 2
source "$src/tests/cli/tap.sh"

expect "the whole suite passes in one run" 0 '# [0-9]+ cases, [0-9]+ passed, 0 failed' \
  -- "$rfqd" test tests/lua

"$rfqd" test tests/lua --seed 7 >"$tmp/run1.tap" 2>&1
"$rfqd" test tests/lua --seed 7 >"$tmp/run2.tap" 2>&1
if cmp -s "$tmp/run1.tap" "$tmp/run2.tap" && [ -s "$tmp/run1.tap" ]; then
  pass "two runs with the same seed print identical TAP"
else
  fail "two runs with the same seed print identical TAP" "$(diff "$tmp/run1.tap" "$tmp/run2.tap" | head -20)"
fi

# The expiry sweep with its window check inverted: it sweeps the open RFQs that do NOT expire
# within the window.
mkdir -p "$tmp/broken/scripts/policies"
sed -e 's/local due = rfq.open{/local soon = rfq.open{/' \
    -e '/^  local by_venue = {}/i\  local due, is_soon = {}, {}\n  for _, r in ipairs(soon) do is_soon[r.id] = true end\n  for _, r in ipairs(rfq.open{}) do if not is_soon[r.id] then due[#due + 1] = r end end' \
  scripts/policies/expiry_sweep.lua >"$tmp/broken/scripts/policies/expiry_sweep.lua"
if ! grep -q 'if not is_soon' "$tmp/broken/scripts/policies/expiry_sweep.lua"; then
  fail "the broken copy inverts the window check" "sed did not apply"
fi
cp tests/lua/*.lua "$tmp/broken/"  # the test and the helpers it requires
expect "a broken expiry sweep fails its test with expected and actual" 1 \
  'not ok [0-9]+ - expiry_sweep_test.lua: sweeps RFQs expiring within the window.  ---.  message: \|-.    expiry_sweep_test.lua:[0-9]+: t.eq: expected "(canceled|active)", got "(active|canceled)"' \
  -- bash -c "cd '$tmp/broken' && '$rfqd' test expiry_sweep_test.lua"

expect "--junit writes one testcase per case" 0 'ok 1 - ' \
  -- "$rfqd" test tests/lua/expiry_sweep_test.lua --junit "$tmp/junit.xml" --filter "within the window"
if grep -q '<testcase classname="tests/lua/expiry_sweep_test.lua" name="sweeps RFQs expiring within the window"' "$tmp/junit.xml" \
   && grep -q '<testsuites name="rfqd test" tests="1" failures="0">' "$tmp/junit.xml"; then
  pass "--junit XML names the case"
else
  fail "--junit XML names the case" "$(cat "$tmp/junit.xml")"
fi

expect "a missing path is a usage error" 2 'no such file or folder: nope' -- "$rfqd" test nope
expect "a filter that matches nothing is a usage error" 2 "no case matches --filter 'no such case'" \
  -- "$rfqd" test tests/lua/expiry_sweep_test.lua --filter "no such case"
printf 'local t = require "rfq.test"\nt.case("x", function(s) end\n' >"$tmp/syntax_test.lua"
expect "a test file that does not compile fails, naming file and line" 1 \
  'not ok 1 - [^ ]*syntax_test.lua: \(loading the file\).  ---.  message: \|-.    [^ ]*syntax_test.lua:[0-9]+: [^.]*expected' \
  -- "$rfqd" test "$tmp/syntax_test.lua"

printf 'local t = require "rfq.test"\nmath = nil\nprint("a", 1)\nt.case("x", function(s) t.eq(1, 1) end)\n' \
  >"$tmp/nomath_test.lua"
expect "a test file may replace globals the runner uses; print writes TAP comments" 0 \
  '# a.1.ok 1 - [^ ]*nomath_test.lua: x' -- "$rfqd" test "$tmp/nomath_test.lua"

finish
