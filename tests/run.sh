#!/bin/sh
# Run every test against the build in $1 (default build/): the cmocka unit
# tests, then the command-line and co-simulation tests. Prints one closing line
# "tests: N passed, M failed" and exits non-zero on any failure.
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/.." || exit 1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
passed=0
failed=0
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    echo "== $t"
    "$t" >"$log" 2>&1
    status=$?
    cat "$log"
    p=$(grep -o '\[  PASSED  \] [0-9]*' "$log" | awk '{s += $4} END {print s + 0}')
    f=$(grep -o '\[  FAILED  \] [0-9]* test' "$log" | awk '{s += $4} END {print s + 0}')
    if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "$t exited with status $status"
        f=1
    fi
    passed=$((passed + p))
    failed=$((failed + f))
done
for script in layout_test lint_test cli_test input_test config_limits_test fuzz_test verify_test report_test sweep_test write_test; do
    echo "== tests/$script.sh"
    sh "tests/$script.sh" "$BUILD" >"$log" 2>&1
    status=$?
    cat "$log"
    p=$(sed -n 's/^[a-z]*: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$log" | tail -n 1)
    f=$(sed -n 's/^[a-z]*: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$log" | tail -n 1)
    if [ -z "$p" ] || { [ "$status" -ne 0 ] && [ "${f:-0}" -eq 0 ]; }; then
        echo "tests/$script.sh exited with status $status"
        p=${p:-0}
        f=$((${f:-0} + 1))
    fi
    passed=$((passed + p))
    failed=$((failed + f))
done
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
