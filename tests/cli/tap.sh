# TAP helpers shared by the CLI contract scripts (sourced): pass, fail, expect, and the plan.
failures=0
count=0
pass() { count=$((count + 1)); echo "ok $count - $1"; }
fail() {
  count=$((count + 1))
  echo "not ok $count - $1"
  echo "$2" | sed 's/^/    /'
  failures=$((failures + 1))
}

# expect NAME EXIT_CODE PATTERN -- CMD...   (PATTERN is an extended regex over stdout+stderr,
# read as one string: '.' also matches a newline)
expect() {
  local name=$1 code=$2 pattern=$3
  shift 4
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [ "$rc" -ne "$code" ]; then
    fail "$name" "exit $rc, expected $code; output:
$out"
  elif ! grep -Ezq -- "$pattern" <<<"$out"; then
    fail "$name" "output lacks /$pattern/:
$out"
  else
    pass "$name"
  fi
}

# Prints the plan; the script's exit status is whether every check passed.
finish() {
  echo "1..$count"
  [ "$failures" -eq 0 ]
}
