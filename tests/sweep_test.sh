#!/bin/sh
# layerpipe sweep: points into SQLite, resumed after kill -9 and Ctrl-C, a dead worker,
# the GNU parallel job list and the Slurm array run here and merged, the Pareto front
# against SQL, training and area columns, and bad input. Prints "ok - ..." or
# "FAIL - ..." per check and closes with "sweep: N passed, M failed".
set -u
BUILD=${1:-build}
LP=$(cd "$(dirname "$BUILD/layerpipe")" && pwd)/layerpipe
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh
src=$(pwd)

q() { sqlite3 "$1/sweep.db" "$2"; }
# The database's content: the schema and every row.
dump() { sqlite3 "$1/sweep.db" .dump; }

# 40 points, each slow enough (300000 minibatches through the cycle model) that a sweep
# can be stopped part way.
cat >"$tmp/slow.yaml" <<EOF
base: $src/tests/configs/tiny-synth.yaml
minibatches: 300000
axes:
  hardware.mac_rows: [1, 2, 4, 8, 16]
  pipeline.policy: [sequential, stale, stash, ema]
  training.batch: [8, 16]
EOF
# 36 quick points over the default config: ranges, a filter, a list index.
cat >"$tmp/s.yaml" <<EOF
base: $src/configs/fmnist-mlp4.yaml
axes:
  hardware.mac_rows: [4, 8, 16]
  hardware.mac_cols: {from: 4, to: 16, times: 2}
  pipeline.policy: [stash, ema, sequential]
  network.layers.0.out: {from: 128, to: 256, step: 128}
filters:
  - hardware.mac_rows <= hardware.mac_cols
EOF

# ---- the built-in runner
run sweep "$tmp/s.yaml" --out "$tmp/a" --jobs 2
check "sweep runs 36 points" grep -q "36 points, 36 ok, 0 failed" "$tmp/out"
check "one row per point, ids 0..35" test "$(q "$tmp/a" "select count(*), count(distinct id), min(id), max(id) from points")" = "36|36|0|35"
check "the filter holds in every row" test "$(q "$tmp/a" "select count(*) from points where \"hardware.mac_rows\" > \"hardware.mac_cols\"")" = 0
check "axis values keep their types" test "$(q "$tmp/a" "select typeof(\"hardware.mac_rows\"), typeof(\"pipeline.policy\") from points where id = 0")" = "integer|text"
check "every figure of a point is there" test "$(q "$tmp/a" "select count(*) from points where status = 'ok' and total_cycles > 0 and cycles_per_step > 0 and memory_bytes > 0 and config like '%schema_version: 1%'")" = 36
# A point's figures are the ones `layerpipe sim` gives its config.
q "$tmp/a" "select config from points where id = 7" >"$tmp/p7.yaml"
"$LP" sim "$tmp/p7.yaml" --json --steps 7 >"$tmp/p7.json"
check "point 7 = layerpipe sim on its config" test \
    "$(jq -r '"\(.total_cycles)|\(.steady_step_cycles)|\(.memory_words[.policy].total_bytes)"' "$tmp/p7.json")" = \
    "$(q "$tmp/a" "select total_cycles, cycles_per_step, memory_bytes from points where id = 7")"
run sweep "$tmp/s.yaml" --out "$tmp/a2" --jobs 1
check "one worker or two: the same database" test "$(dump "$tmp/a")" = "$(dump "$tmp/a2")"
run sweep "$tmp/s.yaml" --out "$tmp/a" --jobs 2
check "a finished sweep runs nothing again" grep -q "this run: 0 points" "$tmp/out"

# ---- kill -9 part way, then the same command again: every point exactly once
"$LP" sweep "$tmp/slow.yaml" --out "$tmp/ref" --jobs 2 >/dev/null 2>&1
"$LP" sweep "$tmp/slow.yaml" --out "$tmp/k" --jobs 2 >/dev/null 2>&1 &
pid=$!
i=0
while [ "$(q "$tmp/k" "select count(*) from points where status = 'ok'" 2>/dev/null || echo 0)" -lt 6 ] \
    && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 $pid
wait $pid 2>/dev/null
left=$(q "$tmp/k" "select count(*) from points where status = 'pending'")
check "kill -9 part way leaves points pending ($left of 40)" test "$left" -gt 0 -a "$left" -lt 40
check "the killed sweep's database is whole" test "$(q "$tmp/k" "pragma integrity_check")" = ok
run sweep "$tmp/slow.yaml" --out "$tmp/k" --jobs 2
check "the rerun resumes" grep -q "recorded before this run" "$tmp/out"
check "after the rerun every point is there exactly once" \
    test "$(q "$tmp/k" "select count(*), count(distinct id), sum(status = 'ok') from points")" = "40|40|40"
check "killed and resumed = run at once" test "$(dump "$tmp/k")" = "$(dump "$tmp/ref")"

# ---- Ctrl-C: status 130, what is done is kept
"$LP" sweep "$tmp/slow.yaml" --out "$tmp/c" --jobs 2 >"$tmp/c.out" 2>&1 &
pid=$!
i=0
while [ "$(q "$tmp/c" "select count(*) from points where status = 'ok'" 2>/dev/null || echo 0)" -lt 2 ] \
    && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
kill -INT $pid
wait $pid
status=$?
check "SIGINT: status 130 and a note to resume" test "$status" -eq 130
check "SIGINT: the note" grep -q "run the same command again" "$tmp/c.out"
run sweep "$tmp/slow.yaml" --out "$tmp/c" --jobs 2
check "after SIGINT the rerun completes = run at once" test "$(dump "$tmp/c")" = "$(dump "$tmp/ref")"

# ---- a worker killed: its point fails with the signal, the others go on
"$LP" sweep "$tmp/slow.yaml" --out "$tmp/w" --jobs 2 >/dev/null 2>&1 &
pid=$!
i=0
while [ -z "$(pgrep -P $pid | head -n 1)" ] && [ $i -lt 200 ]; do sleep 0.02; i=$((i + 1)); done
sleep 0.3
kill -9 "$(pgrep -P $pid | head -n 1)"
wait $pid
check "a dead worker's point is failed with the signal" \
    test "$(q "$tmp/w" "select count(*) from points where status = 'failed' and error like '%killed by signal 9%'")" = 1
check "the other points are ok" test "$(q "$tmp/w" "select count(*) from points where status = 'ok'")" = 39
run sweep "$tmp/slow.yaml" --out "$tmp/w" --jobs 2 --retry-failed
check "--retry-failed runs it again = run at once" test "$(dump "$tmp/w")" = "$(dump "$tmp/ref")"

# ---- GNU parallel: the job list run here, merged = the built-in runner
run sweep "$tmp/s.yaml" --out "$tmp/p" --emit parallel
check "--emit parallel writes one job per point" test "$(wc -l <"$tmp/p/jobs.txt")" -eq 36
parallel --will-cite -j 2 <"$tmp/p/jobs.txt" >/dev/null 2>"$tmp/par.err"
check "GNU parallel runs every job" test "$(ls "$tmp/p/results" | wc -l)" -eq 36
cp -r "$tmp/p" "$tmp/p-bad"
run sweep --merge "$tmp/p"
check "--merge records 36 results" grep -q "36 new results" "$tmp/out"
check "GNU parallel + merge = the built-in runner" test "$(dump "$tmp/p")" = "$(dump "$tmp/a")"
run sweep --merge "$tmp/p"
check "merging again adds nothing" grep -q "0 new results (0 failed points), 36 already recorded" "$tmp/out"
# The comparison can fail: one figure changed in one result file shows.
sed -i 's/"total_cycles": \([0-9]*\)/"total_cycles": 1\1/' "$tmp/p-bad/results/5.json"
run sweep --merge "$tmp/p-bad"
check "a changed result makes the databases differ" test "$(dump "$tmp/p-bad")" != "$(dump "$tmp/a")"

# ---- Slurm: the array script run here task by task, merged = the built-in runner
run sweep "$tmp/s.yaml" --out "$tmp/sl" --emit slurm
check "--emit slurm writes a job array of 36 tasks" grep -q "^#SBATCH --array=0-35$" "$tmp/sl/sweep.sbatch"
check "the Slurm script is valid sh" sh -n "$tmp/sl/sweep.sbatch"
i=0
while [ $i -lt 36 ]; do SLURM_ARRAY_TASK_ID=$i sh "$tmp/sl/sweep.sbatch" >/dev/null; i=$((i + 1)); done
run sweep --merge "$tmp/sl"
check "Slurm tasks + merge = the built-in runner" test "$(dump "$tmp/sl")" = "$(dump "$tmp/a")"
run sweep "$tmp/s.yaml" --out "$tmp/sl" --emit slurm
check "--emit again lists only pending points" grep -q "0 pending points of 36" "$tmp/out"

# ---- the Pareto front, against SQL
run sweep --pareto "$tmp/a"
check "--pareto writes the CSV and the plot" test -s "$tmp/a/pareto.csv" -a -s "$tmp/a/pareto.png" -a -s "$tmp/a/pareto.svg"
check "the default objectives: MAC units (no area), cycles, memory" \
    grep -q "over mac_units (min), cycles_per_step (min), memory_bytes (min)" "$tmp/out"
front=$(q "$tmp/a" "select id from points a where not exists (select 1 from points b where
    b.mac_units <= a.mac_units and b.cycles_per_step <= a.cycles_per_step and
    b.memory_bytes <= a.memory_bytes and (b.mac_units < a.mac_units or
    b.cycles_per_step < a.cycles_per_step or b.memory_bytes < a.memory_bytes)) order by id")
check "the front = the points SQL finds undominated ($(echo $front | wc -w) of 36)" test \
    "$(tail -n +2 "$tmp/a/pareto.csv" | cut -d, -f1 | sort -n | tr '\n' ' ')" = "$(echo $front) "
check "the CSV names the axes and objectives" \
    test "$(head -n 1 "$tmp/a/pareto.csv")" = "id,hardware.mac_rows,hardware.mac_cols,pipeline.policy,network.layers.0.out,mac_units,cycles_per_step,memory_bytes,config_hash"
run sweep --pareto "$tmp/a" --objectives cycles,memory
front2=$(q "$tmp/a" "select count(*) from points a where not exists (select 1 from points b where
    b.cycles_per_step <= a.cycles_per_step and b.memory_bytes <= a.memory_bytes and
    (b.cycles_per_step < a.cycles_per_step or b.memory_bytes < a.memory_bytes))")
check "two objectives: the front SQL finds ($front2)" test "$(($(wc -l <"$tmp/a/pareto.csv") - 1))" -eq "$front2"
expect_status "--objectives area without --area" 2 "sweep with --area" sweep --pareto "$tmp/a" --objectives area,cycles
expect_status "--objectives with a figure that has no direction" 2 "min:params or max:params" sweep --pareto "$tmp/a" --objectives cycles,params

# ---- training and area
cat >"$tmp/t.yaml" <<EOF
base: $src/tests/configs/tiny-synth.yaml
axes:
  pipeline.policy: [stale, ema]
  training.lr: [0.05, 0.1]
EOF
run sweep "$tmp/t.yaml" --out "$tmp/t" --train
check "--train records the test accuracy" test "$(q "$tmp/t" "select count(*) from points where test_accuracy > 0 and epochs = 2")" = 4
"$LP" train "$src/tests/configs/tiny-synth.yaml" --policy ema >"$tmp/train.out" 2>/dev/null
acc=$(sed -n 's/^ema .*epoch 2\/2.*test loss [0-9.]* acc \([0-9.]*\)%.*/\1/p' "$tmp/train.out")
check "a point's accuracy = layerpipe train's ($acc%)" test \
    "$(q "$tmp/t" "select printf('%.2f', test_accuracy) from points where \"pipeline.policy\" = 'ema' and \"training.lr\" = 0.05")" = "$acc"
run sweep --pareto "$tmp/t"
check "a trained sweep's front includes accuracy" grep -q "test_accuracy (max)" "$tmp/out"
# Area: the report's synthesis (cached by tests/report_test.sh's run of the same RTL).
sed 's/mac_rows: 16/mac_rows: 2/; s/mac_cols: 16/mac_cols: 2/' configs/fmnist-mlp4.yaml >"$tmp/small.yaml"
printf 'base: small.yaml   # relative to the sweep file\naxes:\n  pipeline.policy: [stash, ema]\n' >"$tmp/area.yaml"
run sweep "$tmp/area.yaml" --out "$tmp/ar" --area
"$LP" report "$tmp/small.yaml" --policy all --out "$tmp/rep" >/dev/null 2>&1
check "--area: the report's area, fmax and latency per policy" test \
    "$(q "$tmp/ar" "select printf('%.3f %.3f %.3f', area_um2, fmax_mhz, latency_ns) from points order by id" | tr '\n' ' ')" = \
    "$(jq -r '.policies.stash, .policies.ema | "\(.total_area_um2 * 1000 | round / 1000) \(.fmax_mhz * 1000 | round / 1000) \(.latency_ns * 1000 | round / 1000)"' "$tmp/rep/summary.json" | \
       awk '{printf "%.3f %.3f %.3f ", $1, $2, $3}')"

# ---- bad input: file:line:column, status 2, nothing written
bad_sweep() { # bad_sweep NAME LINE:COL TEXT
    printf '%s\n' "$3" >"$tmp/bad.yaml"
    expect_status "$1" 2 "bad.yaml:$2: " sweep "$tmp/bad.yaml" --out "$tmp/bad"
}
base="base: $src/tests/configs/tiny-synth.yaml"
bad_sweep "a path that is no config key" 3:3 "$base
axes:
  hardware.mac_rowz: [1, 2]"
bad_sweep "a value out of range" 3:26 "$base
axes:
  hardware.mac_rows: [1, 0]"
bad_sweep "an index past the list" 3:3 "$base
axes:
  network.layers.7.out: [8]"
bad_sweep "a filter naming no axis" 4:30 "$base
axes:
  hardware.mac_rows: [1, 2]
filters: hardware.mac_rows > mac_cols"
bad_sweep "a filter ordering text and a number" 4:29 "$base
axes:
  hardware.mac_rows: [1, 2]
filters: [hardware.mac_rows <= 'x']"
bad_sweep "filters that leave nothing" 4:10 "$base
axes:
  hardware.mac_rows: [1, 2]
filters: hardware.mac_rows > 5"
bad_sweep "a range without a step" 3:22 "$base
axes:
  hardware.mac_rows: {from: 1, to: 8}"
bad_sweep "a value twice" 3:26 "$base
axes:
  hardware.mac_rows: [1, 1]"
bad_sweep "an unknown key" 2:1 "$base
axis:
  pipeline.policy: [ema]"
bad_sweep "a missing base" 1:7 "base: nothere.yaml
axes:
  pipeline.policy: [ema]"
bad_sweep "a YAML syntax error" 3:22 "$base
axes:
  hardware.mac_rows: [1, 2"
check "a bad sweep file writes nothing" test ! -e "$tmp/bad"
expect_status "another sweep into a database" 2 "was made from another sweep file" sweep "$tmp/t.yaml" --out "$tmp/a"
expect_status "another model into a database" 2 "was made with --model analytic" sweep "$tmp/s.yaml" --out "$tmp/a" --model systemc
expect_status "--point past the last" 2 "points 0 to 35" sweep "$tmp/s.yaml" --out "$tmp/x" --point 36
cp "$tmp/a/sweep.db" "$tmp/a.db"
mkdir -p "$tmp/a/results"
cp "$tmp/p/results/3.json" "$tmp/a/results/3.json"
printf '{"sweep": "%s", "point": 1, "model": "analytic", "train": false, "area": false,\n "status": "ok", "error": null, "outputs": {"bogus": 1}}\n' \
    "$(q "$tmp/a" "select value from meta where key = 'sweep_hash'")" >"$tmp/a/results/4.json"
expect_status "a result with a figure the database lacks: its position" 2 "4.json:2:45: " sweep --merge "$tmp/a"
check "a failed merge changes nothing" test "$(dump "$tmp/a")" = "$(sqlite3 "$tmp/a.db" .dump)"
cp "$tmp/p/results/3.json" "$tmp/a/results/4.json"
sed -i 's/"sweep": "[0-9a-f]*"/"sweep": "0000000000000000"/' "$tmp/a/results/4.json"
expect_status "a result of another sweep" 2 "4.json:2:12: a result of another sweep" sweep --merge "$tmp/a"
rm -r "$tmp/a/results"
expect_status "--merge with no results" 2 "no results to merge" sweep --merge "$tmp/a"
expect_status "--pareto of no sweep" 2 "no sweep database here" sweep --pareto "$tmp/none"
"$LP" sweep "$tmp/slow.yaml" --out "$tmp/l" --jobs 1 >/dev/null 2>&1 &
pid=$!
i=0
while [ ! -e "$tmp/l/sweep.db" ] && [ $i -lt 200 ]; do sleep 0.02; i=$((i + 1)); done
sleep 0.2
expect_status "a second sweep on a busy directory" 1 "another layerpipe sweep is writing" sweep "$tmp/slow.yaml" --out "$tmp/l"
kill $pid
wait $pid 2>/dev/null

echo "sweep: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
