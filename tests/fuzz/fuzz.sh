#!/bin/sh
# tests/fuzz/fuzz.sh FUZZ_BUILD SECONDS TARGET... - `make fuzz` (tests/fuzz/README.md).
# Runs each libFuzzer harness FUZZ_BUILD/bin/TARGET for SECONDS on a fresh copy of
# tests/fuzz/corpus/TARGET (the committed corpus never grows) with tests/fuzz/TARGET.dict,
# one target at a time. libFuzzer runs in fork mode (one worker) and goes on after a
# finding, so each target gets its whole time; an allocation above -malloc_limit_mb is
# an oom finding rather than a machine out of memory. Findings (crash-, leak-, timeout-,
# oom- files) go to FUZZ_BUILD/findings/TARGET/, emptied first. Prints per target the
# executions, coverage (libFuzzer's cov and ft at the end) and findings; exits 1 when
# any target found something.
set -u
if [ $# -lt 3 ]; then
    echo "usage: $0 FUZZ_BUILD SECONDS TARGET..." >&2
    exit 2
fi
FB=$1 SECS=$2
shift 2
cd "$(dirname "$0")/../.." || exit 2
found=0
summary=""
tmpbase=${TMPDIR:-}
if [ -z "$tmpbase" ]; then
    if [ -w /dev/shm ]; then tmpbase=/dev/shm; else tmpbase=/tmp; fi
fi
for t in "$@"; do
    work=$FB/work/$t out=$FB/findings/$t
    rm -rf "$work" "$out"
    mkdir -p "$work/corpus" "$out"
    cp tests/fuzz/corpus/"$t"/* "$work/corpus/"
    # The harness's own files and libFuzzer's fork-mode directory: removed afterwards,
    # even when a crash skipped the harness's cleanup.
    scratch=$(mktemp -d "$tmpbase/lpfuzz-run.XXXXXX")
    echo "== fuzz $t for ${SECS}s"
    TMPDIR=$scratch "$FB/bin/$t" -dict="tests/fuzz/$t.dict" -max_total_time="$SECS" \
        -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 -print_final_stats=1 \
        -fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 \
        -artifact_prefix="$out/" "$work/corpus" >"$work/log" 2>&1
    status=$?
    last=$(grep '^#[0-9]*: cov:' "$work/log" | tail -n 1)
    execs=$(echo "$last" | sed -n 's/^#\([0-9]*\):.*/\1/p')
    cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\) .*/\1/p')
    ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\) .*/\1/p')
    n=$(find "$out" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
        -o -name 'oom-*' \) | wc -l)
    if [ -z "$last" ]; then
        echo "$t: libFuzzer did not run (status $status); the log is $work/log:"
        tail -n 5 "$work/log"
        n=$((n + 1))
    fi
    # Fork mode keeps the workers' reports to itself: each finding is run once more for
    # what it is and where (the first frame in model/ or sw/).
    for f in $(find "$out" -type f | sort); do
        TMPDIR=$scratch timeout 60 "$FB/bin/$t" -timeout=10 -rss_limit_mb=2048 \
            -malloc_limit_mb=2048 "$f" >"$work/finding.log" 2>&1
        what=$(grep -m 1 -E 'ERROR: |runtime error: |fuzz check failed' "$work/finding.log" |
               sed 's/^==[0-9]*== *//')
        where=$(grep -E '^ *#[0-9]+ .* in [^ ]+ [^ ]*/(sw|model)/' "$work/finding.log" |
                head -n 1 | sed 's/.* in \([^ ]*\) [^ ]*\/\(sw\|model\)\//\1 \2\//')
        echo "  finding: $f"
        echo "    ${what:-no report on a rerun}${where:+ at $where}"
    done
    rm -rf "$scratch"
    line=$(printf '%-14s %10s execs  cov %5s  ft %5s  findings %s' "$t" "${execs:-0}" \
        "${cov:-?}" "${ft:-?}" "$n")
    echo "$line"
    summary="$summary$line
"
    found=$((found + n))
done
echo "== fuzz: ${SECS}s per target (log of each: $FB/work/TARGET/log)"
printf '%s' "$summary"
if [ "$found" -gt 0 ]; then
    echo "fuzz: $found findings, in $FB/findings/"
    exit 1
fi
echo "fuzz: no findings"
