#!/bin/sh
# tests/fuzz_test.sh - the fuzz harnesses as regression tests (tests/fuzz/README.md): each
# replay binary BUILD/tests/fuzz/T (the harness with tests/fuzz/replay.c, no libFuzzer;
# under ASan and UBSan in the san pass) runs over its seed corpus and every past finding.
# Then the checks are shown to bite: with LPFUZZ_INJECT set each harness breaks what its
# reader returned, and its replay must fail. Prints "ok - ..." or "FAIL - ..." per check
# and closes with "fuzz: N passed, M failed".
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/.." || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh
# The harnesses' files (and any a crash leaves behind) go to $tmp.
export TMPDIR=$tmp

targets=$(for f in tests/fuzz/*.c; do
    t=$(basename "$f" .c)
    [ "$t" = replay ] || echo "$t"
done)

for t in $targets; do
    bin=$BUILD/tests/fuzz/$t
    if [ ! -x "$bin" ]; then
        bad "$t: no $bin (make check builds it)"
        continue
    fi
    check "$t: a seed corpus and a dictionary" test -n "$(ls tests/fuzz/corpus/"$t" 2>/dev/null)" \
        -a -s "tests/fuzz/$t.dict"
    dirs=tests/fuzz/corpus/$t
    [ -d "tests/fuzz/findings/$t" ] && dirs="$dirs tests/fuzz/findings/$t"
    want=$(find $dirs -type f ! -name '.*' | wc -l)
    # shellcheck disable=SC2086
    "$bin" $dirs >"$tmp/out" 2>"$tmp/err"
    status=$?
    if [ "$status" -eq 0 ] && grep -qx "replay: $want inputs" "$tmp/out"; then
        ok "$t: replays $want inputs (corpus and findings)"
    else
        bad "$t: replay status $status: $(grep -v '^replay: ' "$tmp/err" | head -n 3 | tr '\n' ' ')"
        grep -v '^replay: tests' "$tmp/err" | head -n 30
    fi
    LPFUZZ_INJECT=1 "$bin" "tests/fuzz/corpus/$t" >"$tmp/out" 2>"$tmp/err"
    status=$?
    if [ "$status" -ne 0 ] && grep -q "fuzz check failed" "$tmp/err"; then
        ok "$t: a reader's result broken on purpose fails the replay"
    else
        bad "$t: LPFUZZ_INJECT: status $status, no failed check"
    fi
done

# The driver itself: an input it cannot read is a failure, not zero inputs.
first=$(echo "$targets" | head -n 1)
"$BUILD/tests/fuzz/$first" "$tmp/no-such-input" >/dev/null 2>&1
check "replay: a missing input fails" test $? -ne 0

echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
