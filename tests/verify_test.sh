#!/bin/sh
# Co-simulation tests: layerpipe verify trains small fixed-point networks on the
# Verilated pipeline RTL and the golden model in lockstep (each configuration is one
# Verilator build, cached under build/rtl). Prints "ok - ..." or "FAIL - ..." per
# check and closes with "verify: N passed, M failed".
set -u
BUILD=${1:-build}
LP=$BUILD/layerpipe
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh

# The RTL's memory figure NAME from verify's table.
mem() { sed -n "s/^$1  *\([0-9]*\)  *\([0-9]*\)  *equal\$/\1/p" "$tmp/out"; }

m4=tests/configs/trace-m4-ema.yaml
m2=tests/configs/trace-m2-stash.yaml
m1=tests/configs/verify-m1.yaml
odd=tests/configs/verify-odd.yaml

# --- every policy; one layer per stage (M = 4), grouped (M = 2), one stage (M = 1), and
# odd shapes on a 3x5 array (partial tiles, a batch below the array's rows, no bias, M = 3)
for case in "$m4 ema" "$m4 stale" "$m4 stash" "$m4 sequential" "$m2 stash" "$m2 ema" \
            "$m1 ema" "$odd ema" "$odd stash" "$odd stale" "$odd sequential"; do
    set -- $case
    cfg=$1 pol=$2
    run verify "$cfg" --policy "$pol"
    values=$(sed -n 's/.*: \([0-9]*\) values compared, 0 mismatches$/\1/p' "$tmp/out")
    rows=$(grep -c '  equal$' "$tmp/out")
    if [ "$status" -eq 0 ] && [ "${values:-0}" -gt 5000 ] && [ "$rows" -eq 5 ] &&
        grep -q '^verify: pass$' "$tmp/out"; then
        ok "verify $cfg --policy $pol: $values values, 0 mismatches, memories = planner"
    else
        bad "verify $cfg --policy $pol: status $status, $(grep -m1 'mismatch\|FAIL' "$tmp/out")$(head -n 3 "$tmp/err")"
    fi
    # The memories against the planner's JSON, independently of verify's own check.
    "$LP" plan "$cfg" --json >"$tmp/plan.json"
    t() { jq -r ".totals.$1" "$tmp/plan.json"; }
    case $pol in
        stash) hist="$(mem 'stash ring') = $(t stash_words)" ;;
        ema) hist="$(mem 'ema buffer') = $(t ema_words)" ;;
        *) hist="$(mem 'stash ring')$(mem 'ema buffer') = 00" ;;
    esac
    if [ "$pol" = sequential ]; then act=; else act="$(mem 'activation delay lines') = $(t act_words)"; fi
    regs="$(mem 'forward registers') $(mem 'backward registers') = $(t forward_reg_words) $(t backward_reg_words)"
    check "verify $cfg --policy $pol: history [$hist], activations [$act], registers [$regs] as planned" \
        sh -c "[ '${hist% = *}' = '${hist#* = }' ] && [ '${act% = *}' = '${act#* = }' ] &&
               [ '${regs% = *}' = '${regs#* = }' ]"
done

# Sequential keeps one activation slot per layer: the plan of a single stage.
run verify "$m4" --policy sequential
seq_act=$(mem 'activation delay lines')
check "sequential: activation delay lines = one stage's plan ($seq_act)" \
    test "$seq_act" = "$("$LP" plan "$m1" --json | jq -r .totals.act_words)"

# --- a wrong expected value is caught, reported, and fails the run
run verify "$m4" --inject-fault
check "verify --inject-fault: status 1, first mismatch reported" sh -c \
    "test $status -eq 1 && grep -q '^first mismatch: step 0, stage 1, layer fc1, activation of minibatch 0, index 0: expected' '$tmp/out' &&
     grep -q '^1 mismatches in total$' '$tmp/out' && grep -q '^verify: FAIL$' '$tmp/out'"

# --- the RTL's assertions are live: a sequencer that starts a stage again while it is
# still busy (TRunWait) trips lp_stage's a_run_idle and stops the run with status 1
# (Verilator prints the assertion's message on stdout, verify its own on stderr)
mkdir -p "$tmp/src"
cp -r rtl sim "$tmp/src/"
sed -i 's/s_run\[k\] = (ts_q == TRun) \&\& me;/s_run[k] = (ts_q == TRun || ts_q == TRunWait) \&\& me;/' \
    "$tmp/src/rtl/lp_top.sv"
LAYERPIPE_SRC=$tmp/src LAYERPIPE_RTL_CACHE=$tmp/src/cache "$LP" verify "$m2" --steps 2 \
    >"$tmp/out" 2>"$tmp/err"
status=$?
check "a planted protocol violation: the SVA fires, verify stops with status 1" sh -c \
    "! cmp -s rtl/lp_top.sv '$tmp/src/rtl/lp_top.sv' && test $status -eq 1 &&
     grep -q 'lp_stage: a run while busy' '$tmp/out' && grep -q 'failed assertion' '$tmp/err'"

# --- the counters: every cycle of a step is busy, stalled or idle in every stage
run verify "$m2" --steps 3
check "cycle counters: busy + stalled + idle = the step's cycles - the host's input rows - 1" \
    awk -v nin=8 '
        /^ *[0-9]+ +[0-9]+( +[0-9]+\/[0-9]+\/[0-9]+)+$/ {
            rows++
            want = $2 - ($1 < 3 ? nin : 0) - 1   # the start cycle is not in the step
            for (i = 3; i <= NF; i++) { split($i, c, "/"); if (c[1] + c[2] + c[3] != want) bad++ }
        }
        END { exit !(rows == 5 && bad == 0) }' "$tmp/out"

# --- deterministic: the same run prints the same bytes
"$LP" verify "$m2" --steps 4 >"$tmp/a" 2>/dev/null
"$LP" verify "$m2" --steps 4 >"$tmp/b" 2>/dev/null
check "verify twice: the same output" cmp -s "$tmp/a" "$tmp/b"

# --- waveforms, only when asked, in either format
run verify "$m4" --steps 2 --trace "$tmp/w.vcd"
check "--trace w.vcd: a VCD with the top's signals and time steps" sh -c \
    "test $status -eq 0 && grep -q '^\$enddefinitions' '$tmp/w.vcd' && grep -q 'loss_wait_o' '$tmp/w.vcd' &&
     test \$(grep -c '^#' '$tmp/w.vcd') -gt 500"
run verify "$m4" --steps 2 --trace "$tmp/w.fst"
check "--trace w.fst: GTKWave's FST reader opens it" sh -c \
    "test $status -eq 0 && '$BUILD/tests/fstinfo' '$tmp/w.fst' >/dev/null"
check "no waveform unless asked" sh -c "! ls '$tmp'/*.vcd.* '$tmp'/*.fst.* 2>/dev/null | grep -q ."

# --- bad input: status 2 and a message
expect_status "verify: a float config" 2 "numerics.format: fixed" verify tests/configs/tiny-synth.yaml
sed 's/^training:/numerics: {format: fixed}\ntraining:/' tests/configs/tiny-cnn.yaml >"$tmp/cnn-fixed.yaml"
expect_status "verify: a conv layer" 2 "dense layers only" verify "$tmp/cnn-fixed.yaml"
expect_status "verify: a trace file of another kind" 2 "ending in .vcd or .fst" verify "$m4" --trace "$tmp/w.txt"
expect_status "verify: unknown policy" 2 'not "fastest"' verify "$m4" --policy fastest
expect_status "verify: zero steps" 2 "--steps needs" verify "$m4" --steps 0
expect_status "verify: no config" 2 "verify: which config?" verify
expect_status "verify: more minibatches than samples" 2 "need more than" verify "$m4" --steps 1000000

# --- the analytic cycle model equals the RTL, per step and per stage, on every config
for case in "$m4 ema" "$m4 stale" "$m4 stash" "$m4 sequential" "$m2 stash" "$m2 ema" \
            "$m1 ema" "$odd ema" "$odd stash" "$odd stale" "$odd sequential"; do
    set -- $case
    "$LP" sim "$1" --policy "$2" --steps 5 --json >"$tmp/a.json" 2>/dev/null
    "$LP" sim "$1" --policy "$2" --steps 5 --json --model rtl >"$tmp/r.json" 2>/dev/null
    "$LP" sim "$1" --policy "$2" --steps 5 --json --model systemc >"$tmp/s.json" 2>/dev/null
    check "sim $1 --policy $2: analytic = RTL = SystemC (all on chip), per step and stage, and the sequential baseline" \
        jqc -n --slurpfile a "$tmp/a.json" --slurpfile r "$tmp/r.json" --slurpfile s "$tmp/s.json" \
        '$a[0].per_step == $r[0].per_step and $a[0].total_cycles == $r[0].total_cycles and
         $a[0].sequential_total_cycles == $r[0].sequential_total_cycles and
         $s[0].per_step == $a[0].per_step and $s[0].sequential_total_cycles == $a[0].sequential_total_cycles and
         $s[0].offchip.read_bytes == 0 and ($a[0].per_step | length) > 0'
done
# The SystemC system with the Verilated RTL stages (verilator --sc) in place of the
# behavioural ones: the same cycles again.
for case in "$m4 ema" "$m2 stash" "$m1 ema" "$odd stash"; do
    set -- $case
    "$LP" sim "$1" --policy "$2" --steps 5 --json >"$tmp/a.json" 2>/dev/null
    "$LP" sim "$1" --policy "$2" --steps 5 --json --model systemc-rtl >"$tmp/s.json" 2>/dev/null
    check "sim $1 --policy $2: SystemC with the RTL stages = analytic, per step and stage" \
        jqc -n --slurpfile a "$tmp/a.json" --slurpfile s "$tmp/s.json" \
        '$s[0].per_step == $a[0].per_step and $s[0].model == "systemc-rtl" and
         $s[0].sequential_total_cycles == $a[0].sequential_total_cycles'
done
# ... and the comparison fails when the model is wrong: one more MAC pipeline stage
sed 's/^  mac_cols: 4$/  mac_cols: 4\n  mac_pipeline: 4/' "$m4" >"$tmp/lat4.yaml"
"$LP" sim "$tmp/lat4.yaml" --steps 5 --json >"$tmp/a4.json"
"$LP" sim "$m4" --steps 5 --json --model rtl >"$tmp/r.json" 2>/dev/null
check "sim: an analytic model of another MAC latency differs from the RTL" \
    jqc -n --slurpfile a "$tmp/a4.json" --slurpfile r "$tmp/r.json" \
    '$a[0].per_step != $r[0].per_step and $a[0].mac_array.latency == 4'

echo "verify: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
