# tests/lib.sh - what the shell test scripts share (sourced): counters, checks, and
# running layerpipe with its stdout, stderr and status kept. Needs LP and tmp set.
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok - $1"; }
bad() { failed=$((failed + 1)); echo "FAIL - $1"; }
check() { # check NAME COMMAND...: pass when the command succeeds
    name=$1
    shift
    if "$@"; then ok "$name"; else bad "$name"; fi
}

jqc() { jq -e "$@" >/dev/null; }

# Run layerpipe; keep stdout, stderr and the status.
run() {
    "$LP" "$@" >"$tmp/out" 2>"$tmp/err"
    status=$?
}

expect_status() { # expect_status NAME STATUS STDERR-SUBSTRING ARGS...
    name=$1 want=$2 text=$3
    shift 3
    run "$@"
    if [ "$status" -eq "$want" ] && grep -qF -- "$text" "$tmp/err"; then
        ok "$name"
    else
        bad "$name: status $status, stderr: $(head -n 1 "$tmp/err")"
    fi
}
