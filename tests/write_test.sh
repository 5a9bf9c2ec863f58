#!/bin/sh
# Write failures and damaged sweep databases. Each kind of output is written once, then
# written again under a file-size limit (ulimit -f, with SIGXFSZ ignored by layerpipe):
# the run must exit 2 naming the file and the reason, leave the earlier output
# byte-identical and leave no temporary behind. A sweep database that is truncated,
# damaged, not SQLite, or of another sweep file is refused with status 2 and left as it
# is. The report needs synthesis: it reuses build/syn, which tests/report_test.sh fills
# for the same config (cold, the first run here synthesises for minutes). Prints
# "ok - ..." or "FAIL - ..." per check and closes with "write: N passed, M failed".
set -u
BUILD=${1:-build}
LP=$(cd "$(dirname "$BUILD/layerpipe")" && pwd)/layerpipe
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh
src=$(pwd)

# limited BLOCKS STDOUT ARGS...: layerpipe under `ulimit -f BLOCKS` (512-byte blocks in
# dash), stdout to STDOUT; status in $status, stderr in $tmp/err. stderr goes through a
# pipe, which the limit does not touch.
limited() {
    blocks=$1 o=$2
    shift 2
    { (ulimit -f "$blocks" && exec "$LP" "$@" >"$o" 2>&3); echo $? >"$tmp/status"; } 3>&1 |
        cat >"$tmp/err"
    status=$(cat "$tmp/status")
}

# expect_refused NAME TEXT: the last run exited 2 with TEXT and "cannot write" in stderr.
expect_refused() {
    if [ "$status" -eq 2 ] && grep -qF -- "$2" "$tmp/err"; then
        ok "$1"
    else
        bad "$1: status $status, stderr: $(head -n 2 "$tmp/err")"
    fi
}

# same NAME DIR: DIR is as it was in DIR.before, and holds no temporary.
same() {
    check "$1: the earlier output is unchanged" diff -r "$2.before" "$2"
    check "$1: no temporary left" test -z "$(find "$2" -name '*.tmp*')"
}

tiny=tests/configs/tiny-synth.yaml

# ---- train --out
"$LP" train "$tiny" --epochs 1 --out "$tmp/t" >/dev/null 2>&1
cp -a "$tmp/t" "$tmp/t.before"
limited 0 /dev/null train "$tiny" --epochs 2 --out "$tmp/t"
expect_refused "train --out past a file-size limit" "$tmp/t/metrics.csv: cannot write: File too large"
same "train --out" "$tmp/t"
# 512 bytes: the new metrics.csv (419) is written, summary.json (551) is not; the
# directory's files are replaced together or not at all, so metrics.csv is put back
limited 1 /dev/null train "$tiny" --epochs 2 --out "$tmp/t"
expect_refused "train --out: a later file past the limit" "$tmp/t/summary.json: cannot write: File too large"
same "train --out, a file written before the failure" "$tmp/t"

# ---- tracegen: vectors.bin (35 KB) fails part way
"$LP" tracegen tests/configs/trace-m2-stash.yaml --steps 2 --out "$tmp/tr" >/dev/null
cp -a "$tmp/tr" "$tmp/tr.before"
limited 16 /dev/null tracegen tests/configs/trace-m2-stash.yaml --steps 4 --out "$tmp/tr"
expect_refused "tracegen past a file-size limit" "$tmp/tr/vectors.bin: cannot write: File too large"
same "tracegen" "$tmp/tr"

# ---- stdout into a file: plan, sim
limited 0 "$tmp/plan.txt" plan "$tiny"
expect_refused "plan > file past a file-size limit" "standard output: cannot write: File too large"
limited 0 "$tmp/sim.json" sim "$tiny" --json
expect_refused "sim --json > file past a file-size limit" "standard output: cannot write: File too large"

# ---- report: report.md fails first; then a limit of 30 KB that only an SVG passes,
# which gnuplot leaves incomplete and still exits 0
small=$tmp/fmnist-mlp4.yaml
sed 's/mac_rows: 16/mac_rows: 2/; s/mac_cols: 16/mac_cols: 2/' configs/fmnist-mlp4.yaml >"$small"
run report "$small" --out "$tmp/r"
check "report runs" test "$status" -eq 0
cp -a "$tmp/r" "$tmp/r.before"
limited 0 /dev/null report "$small" --out "$tmp/r"
expect_refused "report past a file-size limit" "$tmp/r/report.md: cannot write: File too large"
same "report" "$tmp/r"
limited 60 /dev/null report "$small" --out "$tmp/r"
expect_refused "report: a plot gnuplot cannot finish" "area.svg: cannot write: File too large (gnuplot left it incomplete)"
same "report (gnuplot)" "$tmp/r"

# ---- sweep: the database, a result file, the job list, the Pareto files
cat >"$tmp/s.yaml" <<EOF
base: $src/$tiny
axes:
  hardware.mac_rows: [1, 2, 4, 8, 16, 32]
  pipeline.policy: [sequential, stale, stash, ema]
EOF
sed 's/32\]/64]/' "$tmp/s.yaml" >"$tmp/s2.yaml"
limited 0 /dev/null sweep "$tmp/s.yaml" --out "$tmp/new" --jobs 1
expect_refused "a new sweep database past a file-size limit" "$tmp/new/sweep.db: cannot write: File too large"
check "no half-made database is left" test ! -e "$tmp/new/sweep.db"
run sweep "$tmp/s.yaml" --out "$tmp/w" --jobs 1
check "sweep runs" grep -q "24 points, 24 ok" "$tmp/out"
"$LP" sweep --pareto "$tmp/w" >/dev/null 2>&1
"$LP" sweep "$tmp/s.yaml" --out "$tmp/w" --point 3 >/dev/null
cp -a "$tmp/w" "$tmp/w.before"
limited 0 /dev/null sweep "$tmp/s.yaml" --out "$tmp/w" --point 3
expect_refused "sweep --point past a file-size limit" "$tmp/w/results/3.json: cannot write: File too large"
limited 0 /dev/null sweep --pareto "$tmp/w"
expect_refused "sweep --pareto past a file-size limit" "cannot write: File too large"
same "sweep" "$tmp/w"
# A resume whose commit fails: every point pending again, then run under a limit that
# the write-ahead log passes part way.
sqlite3 "$tmp/w/sweep.db" "UPDATE points SET status = 'pending'"
cp "$tmp/w/sweep.db" "$tmp/pending.db"
limited 40 /dev/null sweep "$tmp/s.yaml" --out "$tmp/w" --jobs 1
expect_refused "a sweep whose commit fails" "$tmp/w/sweep.db: cannot write"
check "the database is as of its last commit" cmp -s "$tmp/w/sweep.db" "$tmp/pending.db"
check "... and whole" test "$(sqlite3 "$tmp/w/sweep.db" 'PRAGMA quick_check')" = ok

# ---- damaged sweep databases: refused, status 2, the file left as it was
run sweep "$tmp/s.yaml" --out "$tmp/g" --jobs 1
good=$tmp/g/sweep.db
sqlite3 "$tmp/foreign.db" "CREATE TABLE t (a); INSERT INTO t VALUES (1);"
for kind in truncated damaged text foreign other; do
    rm -rf "$tmp/b" && mkdir "$tmp/b"
    f=$tmp/s.yaml
    case $kind in
    truncated) head -c 1000 "$good" >"$tmp/b/sweep.db"; says="is damaged" ;;
    damaged) # a page in the middle of the file: its b-tree header overwritten
        cp "$good" "$tmp/b/sweep.db"
        printf '\377\377\377\377\377\377\377\377' |
            dd of="$tmp/b/sweep.db" bs=1 seek=8192 conv=notrunc 2>/dev/null
        says="is damaged (SQLite's quick_check" ;;
    text) echo "not a database" >"$tmp/b/sweep.db"; says="not a SQLite database" ;;
    foreign) cp "$tmp/foreign.db" "$tmp/b/sweep.db"; says="not a layerpipe sweep's" ;;
    other) cp "$good" "$tmp/b/sweep.db"; f=$tmp/s2.yaml
        says="was made from another sweep file ($tmp/s.yaml" ;;
    esac
    cp "$tmp/b/sweep.db" "$tmp/b.db"
    expect_status "sweep on a $kind database: refused" 2 "$says" sweep "$f" --out "$tmp/b" --jobs 1
    check "sweep on a $kind database: says what to do" grep -q "remove it .* or give another --out" "$tmp/err"
    check "sweep on a $kind database: left as it was" cmp -s "$tmp/b/sweep.db" "$tmp/b.db"
    check "sweep on a $kind database: nothing beside it" test ! -e "$tmp/b/sweep.db-wal"
    if [ "$kind" != other ]; then
        expect_status "sweep --merge on a $kind database: refused" 2 "$says" sweep --merge "$tmp/b"
        check "sweep --merge on a $kind database: left as it was" cmp -s "$tmp/b/sweep.db" "$tmp/b.db"
    fi
done

echo "write: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
