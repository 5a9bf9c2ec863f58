#!/bin/sh
# Hostile input (docs/input.md): a number read from a file never sizes an allocation or a
# loop before it is checked against what the file holds, and every limit the tool
# enforces is accepted at its value and refused, with exit status 2 and a message naming
# the field and where, one past it. Memory is measured (max RSS under 100 MB) where a
# claim would once have been allocated; never the wall-clock time. Prints "ok - ..." or
# "FAIL - ..." per check and closes with "input: N passed, M failed".
set -u
BUILD=${1:-build}
LP=$BUILD/layerpipe
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh
src=$(pwd)

# expect_small NAME: the last run_rss stayed under 100 MB. ASan's shadow memory makes
# its RSS meaningless, so a build in a directory ending in /san skips the check.
run_rss() {
    /usr/bin/time -f %M -o "$tmp/rss" "$LP" "$@" >"$tmp/out" 2>"$tmp/err"
    status=$?
    sed -i '/^Command exited/d' "$tmp/rss"
}
expect_small() {
    case $BUILD in */san | san) return ;; esac
    kb=$(tail -n 1 "$tmp/rss")
    check "$1: max RSS ${kb} KB < 100 MB" test "$kb" -lt 102400
}
# expect_err NAME STATUS TEXT: the last run's status and stderr.
expect_err() {
    if [ "$status" -eq "$2" ] && grep -qF -- "$3" "$tmp/err"; then
        ok "$1"
    else
        bad "$1: status $status, stderr: $(head -c 300 "$tmp/err")"
    fi
}

# ---- trace sets: the record count at byte 28 against the file's length
# A 56-byte vectors.bin (header, one record head, CRC) with a valid CRC and the config's
# hash, so the checks before the count pass; count is its byte 28.
make_set() { # make_set DIR COUNT
    mkdir -p "$1"
    cp traces/m4-ema/config.yaml "$1/"
    python3 - traces/m4-ema/vectors.bin "$1/vectors.bin" "$2" <<'EOF'
import struct, sys, zlib
b = bytearray(open(sys.argv[1], 'rb').read()[:32] + bytes(20))
struct.pack_into('<I', b, 28, int(sys.argv[3]))
b += struct.pack('<I', zlib.crc32(bytes(b)))
open(sys.argv[2], 'wb').write(b)
EOF
}
make_set "$tmp/huge" 4294967295
run_rss trace "$tmp/huge"
expect_err "trace: 56 bytes claiming 0xffffffff records" 2 \
    "vectors.bin: byte 28: record count 4294967295, but the file's 56 bytes hold at most 1 records"
expect_small "trace: 0xffffffff records"
make_set "$tmp/one" 1
run trace "$tmp/one"
expect_err "trace: a count the file can hold passes to the records' checks" 2 \
    "vectors.bin: byte 32: input record: layer 0 does not fit"
make_set "$tmp/two" 2
run trace "$tmp/two"
expect_err "trace: one record more than the file can hold" 2 "byte 28: record count 2, but"
# TRACE_MAX_BYTES (1 GiB): a sparse file one byte larger is refused from its size.
make_set "$tmp/big" 1
truncate -s 1073741825 "$tmp/big/vectors.bin"
run_rss trace "$tmp/big"
expect_err "trace: a vectors.bin over 1 GiB" 2 "1073741825 bytes: larger than 1073741824 bytes"
expect_small "trace: a 1 GiB sparse file"

# ---- IDX: a 33-byte gzip file whose header claims 10 million 28 x 28 images (the
# count's limit: refused only as truncated), then one whose header claims one more
idx_headers() { # idx_headers COUNT: the four Fashion-MNIST files in $tmp/fm, headers only
    mkdir -p "$tmp/fm"
    python3 - "$tmp/fm" "$1" <<'EOF'
import gzip, struct, sys
n = int(sys.argv[2])
for pre in ('train', 't10k'):
    for name, head in (('images-idx3', struct.pack('>IIII', 0x803, n, 28, 28)),
                       ('labels-idx1', struct.pack('>II', 0x801, n))):
        open('%s/%s-%s-ubyte.gz' % (sys.argv[1], pre, name), 'wb').write(
            gzip.compress(head, mtime=0))
EOF
}
sed "s|data_dir: /usr/share/datasets/fashion-mnist|data_dir: $tmp/fm|" \
    tests/configs/fmnist-small.yaml >"$tmp/fm.yaml"
idx_headers 10000000
run_rss train "$tmp/fm.yaml" --out "$tmp/fm-out"
expect_err "idx: 10 million images (the count's limit) claimed by a header alone" 2 \
    "train-images-idx3-ubyte.gz: truncated: header field 'count' (byte 4) claims 10000000 images of 28 x 28 = 7840000000 bytes; the file holds 0"
expect_small "idx: 10 million images"
idx_headers 10000001
run train "$tmp/fm.yaml" --out "$tmp/fm-out"
expect_err "idx: 10000001 images are refused from the header" 2 \
    "train-images-idx3-ubyte.gz: header field 'count' (byte 4) is 10000001, not in 1..10000000"

# ---- sweeps: two axes of 1200 values, the last value of the first out of range
sweep_head() { printf 'base: %s/configs/fmnist-mlp4.yaml\n' "$src"; }
{
    sweep_head
    echo "minibatches: 1"
    echo "axes:"
    printf '  hardware.mac_rows: [%s, 5000]\n' "$(seq -s ', ' 1 1199)"
    echo "  training.seed: {from: 1, to: 1200, step: 1}"
} >"$tmp/wide.yaml"
run_rss sweep "$tmp/wide.yaml" --out "$tmp/wide-out"
expect_err "sweep: 1200 x 1200 values, the last one bad" 2 \
    "wide.yaml:4:6110: hardware.mac_rows: 5000 is out of range [1, 4096]"
expect_small "sweep: 1200 x 1200 values"

# emit: load $tmp/s.yaml and write its job list (no point runs).
emit() { rm -rf "$tmp/e"; run sweep "$tmp/s.yaml" --out "$tmp/e" --emit parallel; }
# SWEEP_MAX_PRODUCT: 10,000,000 combinations, a filter keeping one
{
    sweep_head
    echo "axes:"
    echo "  training.seed: {from: 1, to: 10000, step: 1}"
    echo "  training.epochs: {from: 1, to: 1000, step: 1}"
    echo "filters: training.seed == 1 and training.epochs == 1"
} >"$tmp/s.yaml"
emit
check "sweep: 10,000,000 combinations are accepted" test "$status" -eq 0
sed -i 's/to: 10000,/to: 10001,/' "$tmp/s.yaml"
emit
expect_err "sweep: 10,001,000 combinations are refused" 2 \
    "s.yaml:3:3: axes: 10001000 combinations; at most 10000000 before filters"
# SWEEP_MAX_VALUES: 100,000 listed values (and no repeat found among them), then one more
{
    sweep_head
    echo "axes:"
    printf '  training.seed: [%s]\n' "$(seq -s ', ' 1 100000)"
    echo "filters: training.seed == 1"
} >"$tmp/s.yaml"
emit
check "sweep: an axis of 100,000 values is accepted" test "$status" -eq 0
sed -i 's/100000]/100000, 100001]/' "$tmp/s.yaml"
emit
expect_err "sweep: an axis of 100,001 values is refused" 2 \
    "s.yaml:3:18: training.seed: 100001 values; at most 100000"
# minibatches: 1..1000000
for mb in 1000000 1000001; do
    { sweep_head; echo "minibatches: $mb"; echo "axes: {training.seed: [1]}"; } >"$tmp/s.yaml"
    emit
    if [ "$mb" = 1000000 ]; then
        check "sweep: minibatches: 1000000 is accepted" test "$status" -eq 0
    else
        expect_err "sweep: minibatches: 1000001 is refused" 2 \
            "s.yaml:2:14: minibatches: expected a count from 1 to 1000000"
    fi
done
# SWEEP_MAX_AXES: 33 axes are refused before any path is looked up
{
    sweep_head
    echo "axes:"
    for i in $(seq 1 33); do echo "  a$i: [1]"; done
} >"$tmp/s.yaml"
emit
expect_err "sweep: 33 axes are refused" 2 "s.yaml:3:3: axes: 33 axes; at most 32"
# SWEEP_MAX_AXES: 32 axes of config paths, each the base's value; the last adds a second
{
    sweep_head
    echo "axes:"
    echo "  name: [fmnist-mlp4]"
    echo "  network.input: [[784]]"
    for layer in 0,fc1,256 1,fc2,128 2,fc3,64; do
        IFS=, read -r i n o <<EOF
$layer
EOF
        printf "  network.layers.$i.%s: [%s]\n" name "$n" type dense out "$o" act relu
    done
    printf '  network.layers.3.%s: [%s]\n' name fc4 type dense out 10
    printf '  %s: [%s]\n' network.loss softmax_cross_entropy pipeline.stages per_layer \
        pipeline.policy ema pipeline.ema_beta auto numerics.format float32 \
        training.dataset fashion-mnist training.batch 32 training.epochs 5 training.lr 0.05 \
        training.momentum 0.5 training.lr_schedule step training.lr_decay 0.6 \
        training.normalize true training.seed 1 hardware.mac_rows '16, 8'
} >"$tmp/s.yaml"
check "sweep: the file has 32 axes" test "$(grep -c '^  [a-z]' "$tmp/s.yaml")" -eq 32
emit
check "sweep: 32 axes are accepted" test "$status" -eq 0
# sweep --jobs 1..256, on these two points (a run starts no more workers than points)
run sweep "$tmp/s.yaml" --out "$tmp/j" --jobs 256
check "sweep: --jobs 256 is accepted" test "$status" -eq 0
for j in 257 0; do
    run sweep "$tmp/s.yaml" --out "$tmp/j$j" --jobs $j
    expect_err "sweep: --jobs $j is refused" 2 "--jobs needs a count from 1 to 256, not \"$j\""
done
# sweep --pareto --objectives: at most 8, over the two points just run
objs=min:stages,min:params,mac_units,total_cycles,cycles_per_step,speedup,memory_bytes
run sweep --pareto "$tmp/j" --objectives $objs,min:weights_words
check "sweep: --pareto with 8 objectives is accepted" test "$status" -eq 0
run sweep --pareto "$tmp/j" --objectives $objs,min:weights_words,min:history_words
expect_err "sweep: --pareto with 9 objectives is refused" 2 "--objectives: at most 8 objectives"
# SWEEP_FILTER_MAX_DEPTH: 64 levels of parentheses, not, and operators, then 65
filter() { # filter TEXT: a sweep of two points with this filter
    { sweep_head; echo "axes: {hardware.mac_rows: [4, 8]}"; echo "filters: \"$1\""; } >"$tmp/s.yaml"
}
rep() { python3 -c "import sys; sys.stdout.write(sys.argv[1] * int(sys.argv[2]))" "$1" "$2"; }
filter "$(rep '(' 64)hardware.mac_rows > 4$(rep ')' 64)"
emit
check "filter: 64 levels of parentheses are accepted" test "$status" -eq 0
filter "$(rep '(' 65)hardware.mac_rows > 4$(rep ')' 65)"
emit
expect_err "filter: 65 levels of parentheses are refused at the 65th" 2 \
    "s.yaml:3:75: filter: nested more than 64 levels deep"
filter "$(rep 'not ' 64)hardware.mac_rows"
emit
check "filter: 64 nested nots are accepted" test "$status" -eq 0
filter "$(rep 'not ' 65)hardware.mac_rows"
emit
expect_err "filter: 65 nested nots are refused at the 65th" 2 \
    "s.yaml:3:267: filter: nested more than 64 levels deep"
filter "hardware.mac_rows$(rep ' + 1' 63) > 0"
emit
check "filter: 64 operators deep is accepted" test "$status" -eq 0
filter "hardware.mac_rows$(rep ' + 1' 64) > 0"
emit
expect_err "filter: 65 operators deep are refused at the 65th" 2 \
    "s.yaml:3:285: filter: more than 64 operators deep"
filter "hardware.mac_rows$(rep ' + 1' 100000) > 0"
emit
expect_err "filter: a chain of 100000 operators is refused at the 65th" 2 \
    "s.yaml:3:285: filter: more than 64 operators deep"

# ---- YAML: YDOC_MAX_BYTES (16 MiB) and 64 levels of nesting
pad() { # pad FILE SIZE: a valid config padded with a comment to exactly SIZE bytes
    cp tests/configs/tiny-synth.yaml "$1"
    n=$(($2 - $(wc -c <"$1") - 2))
    { printf '#'; rep x "$n"; echo; } >>"$1"
}
pad "$tmp/max.yaml" 16777216
run plan "$tmp/max.yaml"
check "yaml: a config of 16 MiB is accepted" test "$status" -eq 0
pad "$tmp/over.yaml" 16777217
run plan "$tmp/over.yaml"
expect_err "yaml: a config of 16 MiB + 1 byte is refused" 2 \
    "over.yaml: 16777217 bytes: larger than 16777216 bytes"
nest() { # nest FILE N: a config whose name: sits under N-1 more levels of mapping
    cp tests/configs/tiny-synth.yaml "$1"
    { echo "x:"; i=1; while [ "$i" -lt "$2" ]; do printf '%*sx:\n' "$i" ''; i=$((i + 1)); done
      printf '%*s1\n' "$2" ''; } >>"$1"
}
nest "$tmp/deep.yaml" 64
run plan "$tmp/deep.yaml"
expect_err "yaml: 64 levels of nesting are read (and the config names the unknown key)" 2 \
    'unknown key "x"'
nest "$tmp/deep.yaml" 65
run plan "$tmp/deep.yaml"
expect_err "yaml: 65 levels of nesting are refused" 2 "nested too deeply"
# A mapping of 200000 keys with a repeat at the end: found by sorting, at its position.
{ cat tests/configs/tiny-synth.yaml; echo "k:"; seq -f '  k%g: 1' 1 200000; echo "  k7: 2"; } \
    >"$tmp/keys.yaml"
run plan "$tmp/keys.yaml"
expect_err "yaml: a repeated key among 200000" 2 'duplicate key "k7" (first at line'

echo "input: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
