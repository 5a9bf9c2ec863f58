#!/bin/sh
# layerpipe report: Yosys synthesis to the OSU 0.18 um cells, OpenSTA timing, cycles,
# memory and plots, on configs/fmnist-mlp4.yaml (the default config) with a 2x2 MAC array
# and on trace-m4-ema. Module netlists are cached under build/syn, so only the first
# run of a build synthesises (a few minutes). Prints "ok - ..." or "FAIL - ..." per check
# and closes with "report: N passed, M failed".
set -u
BUILD=${1:-build}
LP=$BUILD/layerpipe
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh

# The default config on small sizes: the same network, memories and delays, a 2x2 array.
small=$tmp/fmnist-mlp4.yaml
sed 's/mac_rows: 16/mac_rows: 2/; s/mac_cols: 16/mac_cols: 2/' configs/fmnist-mlp4.yaml >"$small"
grep -q 'mac_rows: 2' "$small" || bad "the small fmnist-mlp4 config"

run report "$small" --out "$tmp/r1"
if [ "$status" -eq 0 ]; then ok "report fmnist-mlp4 (2x2) runs"; else bad "report: $(tail -n 3 "$tmp/err")"; fi
s=$tmp/r1/summary.json
for f in report.md layers.csv summary.json commands.sh memory.png memory.svg area.png \
         area.svg cycles.png cycles.svg plots/memory.gp plots/area.dat; do
    check "report writes $f" test -s "$tmp/r1/$f"
done
check "the plots are PNG" sh -c "head -c 4 '$tmp/r1/area.png' | grep -q PNG"
check "no accuracy plot without training results" test ! -e "$tmp/r1/accuracy.png"
for p in sequential stale stash ema; do
    check "summary.json: $p has area, fmax, cycles, latency, history" jqc --arg p "$p" \
        '.policies[$p] | (.total_area_um2 > 0) and (.fmax_mhz > 0) and
         (.cycles_per_step > 0) and (.latency_ns > 0) and (.history_bytes >= 0)' "$s"
    # Where the report, the planner and the RTL overlap, they agree: the memories Yosys
    # found in the RTL against the planner's, word for word.
    check "$p: the RTL's memories (Yosys) = the planner's" jqc --arg p "$p" \
        '.policies[$p] | (.rtl_memory_words.weights * 4 == .memory_bytes.weights) and
         (.rtl_memory_words.history * 4 == .memory_bytes.history) and
         (.rtl_memory_words.activation_delay_lines * 4 == .memory_bytes.activation_delay_lines)
         and (.rtl_memory_words.stage_registers * 4 == .memory_bytes.stage_registers)' "$s"
done
# Timing: memories are SRAM macros on the timed paths (read data out of one, address and
# data into one), every block's worst path is named, the slowest is the design's, and
# the rates follow from fmax.
for p in sequential ema; do
    check "$p: a critical path per block, the worst the design's, slack 0 at fmax" jqc \
        --arg p "$p" '.policies[$p] | (.critical_paths | length >= 6) and
         ([.critical_paths[] | .block] | index("mac_array") != null and index("control") != null)
         and ([.critical_paths[].delay_ns] | max) == .critical_path_ns and
         ([.critical_paths[].slack_ns] | min) == 0 and
         all(.critical_paths[]; (.slack_ns >= 0) and (.from | length > 0) and (.to | length > 0))' "$s"
    check "$p: step latency and samples/s at fmax" jqc --arg p "$p" '.policies[$p] |
        ((.step_latency_us - .cycles_per_step / .fmax_mhz) | fabs) < 1e-6 * .step_latency_us and
        ((.samples_per_s - 32 * .fmax_mhz * 1e6 / .cycles_per_step) | fabs) < 1e-6 * .samples_per_s' "$s"
done
check "SRAM macros are timed: paths from their read data and into their inputs" jqc \
    '[.policies[].critical_paths[]] | any(.from | test("mem$")) and any(.to | test("mem$"))' "$s"
check "the fanout pass buffered what ABC left" jqc \
    'all(.policies[]; .fanout_buffers > 0)' "$s"
check "report.md: the critical path of every block" grep -q '^### Critical path by block' \
    "$tmp/r1/report.md"

"$LP" plan "$small" --json >"$tmp/plan.json"
check "history bytes = the planner's stash and EMA words x 4" test \
    "$(jq '.policies.stash.history_bytes, .policies.ema.history_bytes' "$s" | tr '\n' ' ')" = \
    "$(jq '.totals.stash_words * 4, .totals.ema_words * 4' "$tmp/plan.json" | tr '\n' ' ')"
check "memory totals = layerpipe sim's per policy" test \
    "$(jq -c '[.policies[] | .memory_bytes.total]' "$s")" = \
    "$("$LP" sim "$small" --json | jq -c '[.memory_words[] | .total_bytes]')"
# LAYERPIPE.md section 7 per layer: the EMA buffer's SRAM is the planner's EMA/stash word
# ratio of the stash ring's (SRAM priced per bit), the logic serving each history is
# counted apart, and a layer without one has neither.
check "per layer: EMA SRAM = stash SRAM x the planner's EMA/stash words" jqc --slurpfile p \
    "$tmp/plan.json" '[range(0; $p[0].layers | length) as $l | $p[0].layers[$l] as $pl |
     .policies.ema.layers[$l] as $e | .policies.stash.layers[$l] as $t |
     if $pl.stash_words > 0 then
       (($e.history_sram_um2 - $t.history_sram_um2 * $pl.ema_words / $pl.stash_words) | fabs)
         < 1e-6 * $t.history_sram_um2 and $e.history_logic_um2 > $t.history_logic_um2
         and $t.history_logic_um2 > 0
     else $e.history_sram_um2 == 0 and $e.history_logic_um2 == 0 and
          $t.history_sram_um2 == 0 and $t.history_logic_um2 == 0 end] | all' "$s"
check "the EMA-against-stash trade per layer with a history, its crossover width" jqc \
    --slurpfile p "$tmp/plan.json" '(.ema_against_stash | length) ==
     ([$p[0].layers[] | select(.stash_words > 0)] | length) and
     all(.ema_against_stash[]; .sram_saved_um2 > 0 and .logic_added_um2 > 0 and
         .crossover_width > 0)' "$s"
check "report.md: the weight history per layer" grep -q '^- fc2 (d = 4): saves .* crossover n = ' \
    "$tmp/r1/report.md"
# History dominates here: the EMA design is smaller than the stash baseline, and the
# report says by how much and what the EMA unit costs.
check "EMA area < stash area when history dominates" jqc \
    '.policies.ema.total_area_um2 < .policies.stash.total_area_um2' "$s"
check "report.md: the EMA unit's cost in area and cycles" grep -q \
    'EMA is smaller by .* mm^2.*EMA rebuild lanes sit on the path from memory to the array and add [0-9]* cycles of latency per step' \
    "$tmp/r1/report.md"
check "layers.csv: one row per layer, units in the header" sh -c \
    "test \$(wc -l <'$tmp/r1/layers.csv') -eq 5 && head -n 1 '$tmp/r1/layers.csv' | grep -q '^layer,stage,delay_steps,params_words,weights_bits,.*ema_history_bits'"

# The same config gives the same report.
run report "$small" --out "$tmp/r2"
for f in report.md layers.csv summary.json commands.sh area.svg memory.svg cycles.svg; do
    check "same config, same $f" cmp -s "$tmp/r1/$f" "$tmp/r2/$f"
done

# Against the RTL's own cycle counters (sim --model rtl; the verify tests built it).
m4=tests/configs/trace-m4-ema.yaml
run report "$m4" --policy stash --out "$tmp/m4"
rtl=$("$LP" sim "$m4" --model rtl --policy stash --json | jq '.per_step[6].cycles')
check "trace-m4-ema stash: cycles per step = the RTL's ($rtl)" \
    test "$(jq '.policies.stash.cycles_per_step' "$tmp/m4/summary.json")" = "$rtl"
check "--policy stash reports stash only" jqc '.policies | keys == ["stash"]' "$tmp/m4/summary.json"

# A cache named by a relative path (the tools run inside it): the modules linked from the
# one the run above filled, the timing run left out, so OpenSTA reads them from there
# (half a minute of OpenSTA, so in the first pass only; the sanitizer pass runs the same
# report code on the cache the first pass left).
case $BUILD in
*/san) ;;
*)
    rel=build/report-test-cache-$$
    rm -rf "$rel" && mkdir -p "$rel" && ln -s "$(pwd)"/build/syn/* "$rel"/ && rm -f "$rel"/sta-*
    export LAYERPIPE_SYN_CACHE="$rel"
    run report "$m4" --policy stash --out "$tmp/m4rel"
    unset LAYERPIPE_SYN_CACHE
    check "a relative LAYERPIPE_SYN_CACHE: the same report" cmp -s "$tmp/m4/summary.json" \
        "$tmp/m4rel/summary.json"
    rm -rf "$rel"
;;
esac

# With training results of the config: the accuracy plot and its figures.
"$LP" train "$m4" --policy all --epochs 2 --out "$tmp/runs" >/dev/null 2>&1
run report "$m4" --policy stash --runs "$tmp/runs" --out "$tmp/m4acc"
check "--runs: the accuracy plot" test -s "$tmp/m4acc/accuracy.svg"
check "--runs: test accuracy per epoch in summary.json" jqc \
    '.policies.stash.test_accuracy_pct | length == 2' "$tmp/m4acc/summary.json"

# Bad input: a clear message and status 2, nothing written.
expect_status "report needs --out" 2 "report needs --out DIR" report "$m4"
expect_status "report of a conv network" 2 "conv layer" \
    report tests/configs/tiny-cnn.yaml --out "$tmp/cnn"
check "nothing written for a conv network" test ! -e "$tmp/cnn"
expect_status "--runs of another config" 2 "trained from another config" \
    report "$small" --runs "$tmp/runs" --out "$tmp/bad"
expect_status "--runs that does not exist" 2 "cannot open the training results" \
    report "$m4" --runs "$tmp/nowhere" --out "$tmp/bad"
expect_status "--policy bogus" 2 "--policy must be" report "$m4" --policy bogus --out "$tmp/bad"
export LAYERPIPE_LIBERTY=$tmp/none.lib
expect_status "a missing liberty file" 1 "no OSU 0.18 um liberty" report "$m4" --out "$tmp/bad"
unset LAYERPIPE_LIBERTY
check "nothing written without a liberty" test ! -e "$tmp/bad"

echo "report: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
