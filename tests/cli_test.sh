#!/bin/sh
# Command-line tests of build/layerpipe: exit statuses, error positions, JSON
# against the text form, determinism, and the effective config round trip.
# Prints "ok - ..." or "FAIL - ..." per check and closes with
# "cli: N passed, M failed".
set -u
BUILD=${1:-build}
LP=$BUILD/layerpipe
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh


# --- bad configs: status 2, "file:line:column: message", nothing on stdout
n_bad=0
for f in tests/bad/*.yaml; do
    [ -e "$f" ] || continue
    n_bad=$((n_bad + 1))
    expect=$(sed -n '1s/^# expect: //p' "$f")
    pos=${expect%%: *}
    text=${expect#*: }
    run plan "$f"
    first=$(head -n 1 "$tmp/err")
    case "$first" in
        "$f:$pos: "*"$text"*) pos_ok=1 ;;
        *) pos_ok=0 ;;
    esac
    if [ "$status" -eq 2 ] && [ "$pos_ok" -eq 1 ] && [ ! -s "$tmp/out" ]; then
        ok "bad config $f"
    else
        bad "bad config $f: status $status, stderr '$first', expected '$f:$pos: ...$text...'"
    fi
done
check "at least 30 bad configs (have $n_bad)" test "$n_bad" -ge 30

# --- usage and file errors: status 2 with a message
expect_status "no command" 2 "no command" 
expect_status "unknown command" 2 'unknown command "frobnicate"' frobnicate
expect_status "plan without config" 2 "which config" plan
expect_status "plan with a bad option" 2 "unknown option --fast" plan configs/fmnist-mlp4.yaml --fast
expect_status "schedule without a count" 2 "--schedule needs" plan configs/fmnist-mlp4.yaml --schedule
expect_status "schedule of zero steps" 2 "--schedule needs" plan configs/fmnist-mlp4.yaml --schedule 0
expect_status "an option another command takes" 2 "plan: unknown option --epochs" plan configs/fmnist-mlp4.yaml --epochs 2
expect_status "two configs" 2 "more than one config (configs/deep-mlp8.yaml)" plan configs/fmnist-mlp4.yaml configs/deep-mlp8.yaml
expect_status "a policy of another list" 2 "--policy must be sequential, stale, stash or ema, not \"all\"" sim configs/fmnist-mlp4.yaml --policy all
# getopt_long: options before the operand, --name=value, and a unique abbreviation
run plan configs/fmnist-mlp4.yaml --schedule 3
cp "$tmp/out" "$tmp/sched-a"
run plan --schedule=3 configs/fmnist-mlp4.yaml
check "plan --schedule=3 before the config: the same output" cmp -s "$tmp/out" "$tmp/sched-a"
run plan --sched 3 configs/fmnist-mlp4.yaml
check "plan --sched 3 (an abbreviation): the same output" cmp -s "$tmp/out" "$tmp/sched-a"
cp configs/fmnist-mlp4.yaml "$tmp/-dash.yaml"
run plan --schedule 3 -- "$tmp/-dash.yaml"
check "plan -- FILE: a file whose name starts with - is the config" grep -q "^plan of fmnist-mlp4 ($tmp/-dash.yaml" "$tmp/out"
expect_status "missing file" 2 "$tmp/none.yaml: cannot open" plan "$tmp/none.yaml"
expect_status "a directory as config" 2 "configs" plan configs
printf 'schema_version: 1\nname: x\nnetwork: {input: [4], layers: [{name: a, type: dense, out: 2}]}\n\377\376\n' >"$tmp/binary.yaml"
expect_status "invalid UTF-8" 2 "$tmp/binary.yaml" plan "$tmp/binary.yaml"
check "help exits 0" "$LP" help >/dev/null

# --- every shipped config plans, in text and JSON
for f in configs/*.yaml; do
    run plan "$f"
    check "plan $f" test "$status" -eq 0
    run plan "$f" --json
    check "plan $f --json is JSON" jqc . "$tmp/out"
    cp "$tmp/out" "$tmp/a.json"
    run plan "$f" --json
    check "plan $f is deterministic" cmp -s "$tmp/out" "$tmp/a.json"
    # The text total row and the JSON totals hold the same numbers.
    "$LP" plan "$f" | awk '/^total/ {print $2, $3, $4, $5; exit}' >"$tmp/text_totals"
    jq -r '.totals | "\(.params) \(.stash_words) \(.ema_words) \(.act_words)"' "$tmp/a.json" >"$tmp/json_totals"
    check "plan $f: text totals = JSON totals" cmp -s "$tmp/text_totals" "$tmp/json_totals"
    # Every layer: S = M - stage, delay = 2S, history words by the formulas: ours only
    # where the backward propagates an error (an input that is a layer), weights only;
    # the paper's for every layer, weights and biases.
    check "plan $f: delays follow the stages, history only where it is read" jqc '
        .stages as $m | .edges as $e | all(.layers[];
            .name as $n | ([$e[] | select(.to == $n and .from != "input")] | length > 0) as $dx
            | .S == $m - .stage and .delay == 2 * .S and .propagates == $dx
            and .stash_words == (if $dx then .delay * .weights else 0 end)
            and .ema_words == (if $dx and .delay > 0 then .weights else 0 end)
            and .paper_stash_words == .delay * .params
            and .paper_ema_words == (if .delay > 0 then .params else 0 end))' "$tmp/a.json"
    check "plan $f: totals are the sums of the layers" jqc '
        .totals.params == ([.layers[].params] | add)
        and .totals.stash_words == ([.layers[].stash_words] | add)
        and .totals.ema_words == ([.layers[].ema_words] | add)
        and .totals.paper_stash_words == ([.layers[].paper_stash_words] | add)
        and .totals.paper_ema_words == ([.layers[].paper_ema_words] | add)
        and .totals.act_words == ([.layers[].act_words] | add)
        and .history_words.stash == .totals.stash_words
        and .history_words.ema == .totals.ema_words
        and .history_words.stale == 0 and .history_words.sequential == 0
        and .paper_history_words.stash == .totals.paper_stash_words
        and .paper_history_words.ema == .totals.paper_ema_words' "$tmp/a.json"
    # The effective config reads back to the same effective config and hash.
    "$LP" config "$f" >"$tmp/eff1.yaml"
    "$LP" config "$tmp/eff1.yaml" >"$tmp/eff2.yaml"
    sed -e 1d -e 's/  # from .*//' "$tmp/eff1.yaml" >"$tmp/body1"
    sed -e 1d -e 's/  # from .*//' "$tmp/eff2.yaml" >"$tmp/body2"
    check "config $f round-trips" cmp -s "$tmp/body1" "$tmp/body2"
    h1=$("$LP" plan "$f" --json | jq -r .config_hash)
    h2=$("$LP" plan "$tmp/eff1.yaml" --json | jq -r .config_hash)
    check "config $f: effective config has the same hash" test "$h1" = "$h2"
done

# --- fmnist-mlp4: fc1 reads the network input, so it keeps no weight history
run plan configs/fmnist-mlp4.yaml --json
check "fmnist-mlp4: fc1 keeps no history; ours beside the paper's count" jqc '
    .layers[0].name == "fc1" and .layers[0].propagates == false
    and .layers[0].stash_words == 0 and .layers[0].ema_words == 0
    and .layers[0].paper_stash_words == 6 * 200960
    and .totals.stash_words == 4 * 32768 + 2 * 8192 and .totals.ema_words == 32768 + 8192
    and .totals.paper_stash_words == 6 * 200960 + 4 * 32896 + 2 * 8256' "$tmp/out"
run plan configs/fmnist-mlp4.yaml
check "fmnist-mlp4: the text names the layer without history and gives both counts" sh -c "
    grep -q '^history words: stash 147456 (paper.s count 1353856), ema 40960 (paper.s count 242112)\$' '$tmp/out' &&
    grep -q 'no history for fc1: ' '$tmp/out' &&
    grep -q '^fc1 .* no (no dx)\$' '$tmp/out'"

# --- ResNet-18: its skip edges and a schedule in JSON
run plan configs/resnet18.yaml --json
check "resnet18 has 8 residual adds" jqc '[.layers[] | select(.type == "add")] | length == 8' "$tmp/out"
check "resnet18 edges: backward delay = forward delay = stages crossed" jqc '
    (.layers | map({(.name): .stage}) | add) as $st
    | all(.edges[] | select(.from != "input");
          .forward_delay == $st[.to] - $st[.from] and .backward_delay == .forward_delay)' "$tmp/out"
run plan configs/fmnist-mlp4.yaml --json --schedule 9
check "schedule of 9 steps has 9*M slots" jqc '(.schedule | length) == 9 * .stages' "$tmp/out"
check "schedule: stage 2 backs up minibatch 0 at step 5 with the rebuilt weights" jqc '
    .schedule[] | select(.step == 5 and .stage == 2)
    | .backward == 0 and .backward_reads == "W^(0)+4*m"' "$tmp/out"
check "schedule: stage 1 (fc1, no error to propagate) reads no weights backward" jqc '
    .schedule[] | select(.step == 6 and .stage == 1)
    | .backward == 0 and .backward_reads == null' "$tmp/out"

# --- train: files, determinism, memory figures equal to the planner's
tiny=tests/configs/tiny-synth.yaml
run train "$tiny" --policy all --out "$tmp/t1"
check "train --policy all exits 0" test "$status" -eq 0
for p in sequential stale stash ema; do
    check "train wrote $p/" test -s "$tmp/t1/$p/metrics.csv" -a -s "$tmp/t1/$p/summary.json" \
        -a -s "$tmp/t1/$p/weights/fc1.W.npy"
done
check "summary.json has every policy's test accuracy" jqc '
    [.policies.sequential, .policies.stale, .policies.stash, .policies.ema]
    | all(.test_accuracy >= 0 and .test_accuracy <= 100)' "$tmp/t1/summary.json"
"$LP" plan "$tiny" --json >"$tmp/tiny-plan.json"
check "train's history words per layer = the planner's (stash, ema)" jq -e -n \
    --slurpfile s "$tmp/t1/summary.json" --slurpfile p "$tmp/tiny-plan.json" '
    ($p[0].layers | map({(.name): .}) | add) as $pl
    | ($s[0].policies.stash.history_words_per_layer | to_entries | all(.value == $pl[.key].stash_words))
      and ($s[0].policies.ema.history_words_per_layer | to_entries | all(.value == $pl[.key].ema_words))
      and $s[0].policies.stash.history_words == $p[0].totals.stash_words
      and $s[0].policies.ema.history_words == $p[0].totals.ema_words
      and $s[0].policies.ema.act_words == $p[0].totals.act_words' >/dev/null
check "metrics.csv: a header and 2 epochs x 4 policies" test "$(wc -l <"$tmp/t1/metrics.csv")" -eq 9
run train "$tiny" --policy all --out "$tmp/t2"
check "train is deterministic (same files, same stdout)" diff -r "$tmp/t1" "$tmp/t2"
# python3-numpy is installed by scripts/deps.sh: a skip here is a failure.
shape=$(sh tests/npy_check.sh "$tmp/t1/ema/weights/fc1.W.npy")
check "numpy loads the weights as [out, in] ($shape)" test "$shape" = "float32 (12, 16)"
run train tests/configs/tiny-cnn.yaml --policy stash --epochs 1
check "a CNN with a residual add trains (stash)" test "$status" -eq 0
sed 's|data_dir: /usr/share/datasets/fashion-mnist|data_dir: /nonexistent|' \
    tests/configs/fmnist-small.yaml >"$tmp/nodata.yaml"
expect_status "train: missing dataset directory" 2 "/nonexistent/train-images-idx3-ubyte.gz" train "$tmp/nodata.yaml"
expect_status "train: unknown policy" 2 'not "fastest"' train "$tiny" --policy fastest
expect_status "train: zero epochs" 2 "--epochs needs" train "$tiny" --epochs 0
: >"$tmp/afile"
expect_status "train: --out under a file" 2 "$tmp/afile" train "$tiny" --epochs 1 --out "$tmp/afile/run"

# --- golden vector sets: the committed ones check and regenerate byte for byte
for set in traces/*/; do
    set=${set%/}
    run trace "$set"
    check "trace $set checks" test "$status" -eq 0
    steps=$("$LP" trace "$set" | sed -n 's/.*, \([0-9]*\) minibatches,.*/\1/p')
    "$LP" tracegen "$set/config.yaml" --steps "$steps" --out "$tmp/regen" >/dev/null
    check "tracegen reproduces $set" sh -c "cmp -s '$set/vectors.bin' '$tmp/regen/vectors.bin' &&
        cmp -s '$set/config.yaml' '$tmp/regen/config.yaml'"
done
for set in traces/*/; do
    set=${set%/}
    run replay "$set"
    check "replay $set through the RTL blocks: no mismatch" sh -c \
        "test $status -eq 0 && grep -q ', 0 mismatches;' '$tmp/out'"
done
run replay traces/m4-ema --inject-fault
check "replay --inject-fault fails and says where" sh -c \
    "test $status -eq 1 && grep -q '^first mismatch: step 0, stage 1, layer fc1, activation' '$tmp/out'"
mkdir -p "$tmp/cut"
cp traces/m4-ema/config.yaml "$tmp/cut/"
head -c 1000 traces/m4-ema/vectors.bin >"$tmp/cut/vectors.bin"
expect_status "trace: a truncated set" 2 "CRC-32 mismatch" trace "$tmp/cut"
expect_status "replay: a truncated set" 2 "CRC-32 mismatch" replay "$tmp/cut"
expect_status "trace: no such set" 2 "cannot open" trace "$tmp/none"
expect_status "tracegen: a float config" 2 "numerics.format: fixed" tracegen "$tiny" --out "$tmp/t"
sed 's/^training:/numerics: {format: fixed}\ntraining:/' tests/configs/tiny-cnn.yaml >"$tmp/cnn-fixed.yaml"
expect_status "tracegen: a conv layer" 2 "dense layers only" tracegen "$tmp/cnn-fixed.yaml" --out "$tmp/t"

# --- the cycle models (the RTL comparisons are in verify_test.sh)
off=tests/configs/offchip-mlp.yaml
"$LP" sim "$off" --model systemc --policy ema --json >"$tmp/ema.json"
"$LP" sim "$off" --model systemc --policy stash --json >"$tmp/stash.json"
check "systemc: the EMA design keeps its history on chip, no traffic, no memory stall" \
    jqc '.offchip.read_bytes == 0 and .offchip.write_bytes == 0 and
         ([.per_stage[].stalled_for.memory] | add) == 0' "$tmp/ema.json"
check "systemc: the stash ring spills, so the stash design moves data and stalls for memory" \
    jqc -n --slurpfile e "$tmp/ema.json" --slurpfile s "$tmp/stash.json" \
    '$s[0].per_stage[1].offchip_words.history > 0 and $s[0].per_stage[1].stalled_for.memory > 0 and
     $s[0].total_cycles > $e[0].total_cycles'
# Each backward of fc2 reads one stashed version and writes one: of the ring's d = 4
# versions, the off-chip share; over 8 minibatches, 8 backwards. (fc1 reads the
# network input: it keeps no ring.)
check "systemc: the traffic difference = 8 backwards x 2 versions x off-chip history bytes / 4" \
    jqc -n --slurpfile e "$tmp/ema.json" --slurpfile s "$tmp/stash.json" \
    '($s[0].offchip.read_bytes + $s[0].offchip.write_bytes) - ($e[0].offchip.read_bytes + $e[0].offchip.write_bytes)
     == 8 * 2 * ($s[0].per_stage[1].offchip_words.history * 4) / 4 and
     $s[0].per_stage[0].offchip_words.history == 0 and
     $s[0].offchip.read_bytes == $s[0].offchip.write_bytes'
"$LP" sim "$off" --model analytic --policy stash --json >"$tmp/an.json"
check "systemc: memory stalls are what the off-chip model adds to the analytic cycles" \
    jqc -n --slurpfile a "$tmp/an.json" --slurpfile s "$tmp/stash.json" \
    '$s[0].total_cycles - $a[0].total_cycles > 0 and
     $s[0].total_cycles - $a[0].total_cycles <= ([$s[0].per_stage[].stalled_for.memory] | add)'
# The behavioural SystemC stages carry the C model's values: the same loss and accuracy
# as `layerpipe train` over the same 8 minibatches (one epoch of 32 samples).
sed 's/^  batch: 4$/  batch: 4\n  train_samples: 32/' tests/configs/trace-m4-ema.yaml >"$tmp/t32.yaml"
"$LP" sim "$tmp/t32.yaml" --model systemc --json >"$tmp/sc.json"
"$LP" train "$tmp/t32.yaml" --epochs 1 --out "$tmp/t32" >/dev/null 2>&1
sc_loss=$(jq -r '.training.train_loss' "$tmp/sc.json" | awk '{printf "%.6f", $1}')
sc_acc=$(jq -r '.training.train_accuracy' "$tmp/sc.json" | awk '{printf "%.4f", 100 * $1}')
tr_row=$(sed -n '2p' "$tmp/t32/metrics.csv" | cut -d, -f4,5)
check "systemc: trains with the C model, as layerpipe train does ($sc_loss,$sc_acc = $tr_row)" \
    test "$sc_loss,$sc_acc" = "$tr_row"
"$LP" sim "$tmp/t32.yaml" --model systemc --policy sequential --json >"$tmp/sc-seq.json"
check "systemc: ... and that comparison tells another policy's training apart" test \
    "$(jq -r '.training.train_loss' "$tmp/sc-seq.json" | awk '{printf "%.6f", $1}')" != "$sc_loss"
run sim configs/resnet18.yaml --json
check "sim resnet18 (analytic): cycles per step, speedup over sequential, memory per policy" sh -c \
    "test $status -eq 0 && jq -e '.total_cycles > 0 and .steady_step_cycles > 0 and
        .speedup_over_sequential > 1 and .explain.slowest_stage >= 1 and .explain.balance <= 1 and
        .memory_words.stash.history > .memory_words.ema.history and
        (.per_stage | length) == 4' '$tmp/out' >/dev/null"
run sim configs/resnet18.yaml
check "sim resnet18: the speedup is explained (balance, fill and drain)" sh -c \
    "test $status -eq 0 && grep -q '^steady step .* of an ideal 4x, the slowest stage' '$tmp/out'"
"$LP" sim "$off" --json >"$tmp/s1"
"$LP" sim "$off" --json >"$tmp/s2"
check "sim: the same output twice" cmp -s "$tmp/s1" "$tmp/s2"
# --- the datapath at the array's rate (analytic model, 64 minibatches)
for p in stale stash ema; do
    "$LP" sim configs/fmnist-mlp4.yaml --steps 64 --policy $p --json >"$tmp/mlp-$p.json"
done
check "fmnist-mlp4: the steady step within 1.25x of stage 1's MAC-bound; host cycles below 10%" \
    jqc '.explain.slowest_stage == 1 and .explain.step_over_mac_bound <= 1.25 and
         .explain.mac_bound_cycles_of_slowest_stage == 50720 and
         .explain.host_cycles_per_step < 0.1 * .steady_step_cycles' "$tmp/mlp-ema.json"
check "fmnist-mlp4: ema's and stash's steady steps within 1.02x of stale's" \
    jqc -n --slurpfile t "$tmp/mlp-stale.json" --slurpfile s "$tmp/mlp-stash.json" \
    --slurpfile e "$tmp/mlp-ema.json" '
    $e[0].steady_step_cycles <= 1.02 * $t[0].steady_step_cycles and
    $s[0].steady_step_cycles <= 1.02 * $t[0].steady_step_cycles and
    $t[0].speedup_over_sequential > 1'
run sim configs/balanced-mlp4.yaml --steps 64 --json
check "balanced-mlp4: the speedup over sequential at least 0.85 of the balance limit" \
    jqc '.explain.balance_limit > 3.5 and
         .speedup_over_sequential >= 0.85 * .explain.balance_limit' "$tmp/out"
run sim configs/fmnist-mlp4.yaml --steps 64
check "sim explains the step against the MAC-bound, per stage" sh -c \
    "grep -q '^MAC-bound: stage 1.s products need 50720 cycles' '$tmp/out' &&
     grep -q 'steady_busy  steady_mac_bound' '$tmp/out'"
expect_status "sim: unknown model" 2 'not "gem5"' sim "$off" --model gem5
expect_status "sim: the RTL model of a float config" 2 "numerics.format: fixed" sim "$off" --model rtl
expect_status "sim: no config" 2 "sim: which config?" sim

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
