#!/bin/sh
# tests/same_outputs.sh [REV] - do the tool built from REV (default HEAD) and the tool built
# from the working tree write the same bytes on the shipped configs?
#
# For a change that must not alter behaviour (a refactor): builds REV from `git archive`
# under build/same/REV/, builds the working tree, runs plan (text, JSON, schedule), config,
# sim (analytic, SystemC, RTL), train (every policy), verify and report with each tool
# from the same directory, and compares every file each wrote. Prints one line per file
# that differs and "same_outputs: N same, M differ"; exits 1 when any differs.
# Both sides share the RTL and synthesis caches (build/rtl, build/syn): keyed by content,
# so what one side built the other reuses only when the sources match. commands.sh of a
# report names the cache's directories: it differs when the two sides' caches do.
set -u
cd "$(dirname "$0")/.."
rev=${1:-HEAD}
hash=$(git rev-parse --short "$rev") || exit 2
root=$PWD/build/same
base=$root/$hash
mkdir -p "$base"

echo "== building $rev ($hash) in $base"
if [ ! -x "$base/build/layerpipe" ]; then
    rm -rf "$base/src" && mkdir -p "$base/src"
    git archive "$rev" | tar -x -C "$base/src" || exit 2
    make -C "$base/src" --no-print-directory BUILD="$base/build" build >"$base/build.log" 2>&1 ||
        { tail -n 20 "$base/build.log"; exit 2; }
fi
echo "== building the working tree"
make --no-print-directory build >"$root/build-new.log" 2>&1 ||
    { tail -n 20 "$root/build-new.log"; exit 2; }

# Everything a run could depend on but the tool's own sources is shared.
export LAYERPIPE_LIBERTY="${LAYERPIPE_LIBERTY:-$(ls "$PWD"/build/tech/usr/share/qflow/tech/osu018/osu018_stdcells.lib \
    /usr/share/qflow/tech/osu018/osu018_stdcells.lib 2>/dev/null | head -n 1)}"
export LAYERPIPE_SYN_CACHE="$PWD/build/syn" LAYERPIPE_RTL_CACHE="$PWD/build/rtl"

# one NAME ARGS...: the tool's stdout into NAME, its status into NAME.status; stderr
# into NAME.err, not compared (it names cache directories, which differ when the
# synthesis flow does).
one() {
    name=$1
    shift
    "$lp" "$@" >"$name" 2>"$name.err"
    echo "$?" >"$name.status"
}

# run_all LP SRC: every command on every config, into $root/run (the same path for both).
run_all() {
    lp=$1
    export LAYERPIPE_SRC=$2
    rm -rf "$root/run" && mkdir -p "$root/run" && cd "$root/run" || exit 2
    top=$OLDPWD t=$OLDPWD/tests/configs
    for c in "$top"/configs/*.yaml "$t"/*.yaml; do
        n=$(basename "$c" .yaml)
        one "$n.plan.txt" plan "$c"
        one "$n.plan.json" plan "$c" --json
        one "$n.schedule.txt" plan "$c" --schedule 8
        one "$n.config.yaml" config "$c"
        one "$n.sim.json" sim "$c" --json
        one "$n.sim-systemc.json" sim "$c" --model systemc --json
    done
    for n in verify-m1 verify-odd trace-m4-ema; do
        one "$n.sim-rtl.json" sim "$t/$n.yaml" --model rtl --steps 4 --json
        one "$n.verify.txt" verify "$t/$n.yaml" --steps 4
    done
    for n in fmnist-small tiny-cnn trace-m4-ema; do
        one "$n.train.txt" train "$t/$n.yaml" --policy all --epochs 1 --out "train-$n"
    done
    one report-m4.txt report "$t/trace-m4-ema.yaml" --out report-m4
    one report-fmnist.txt report "$top/configs/fmnist-mlp4.yaml" --out report-fmnist
    cd "$top" || exit 2
}

# KEEP_BASE=1: REV's outputs of an earlier run (out-base) stand, when that run finished
# (REV's tool is deterministic: only the working tree's side is run again).
if [ "${KEEP_BASE:-0}" = 1 ] && [ -f "$root/out-base/report-fmnist.txt.status" ] &&
   [ "$(cat "$root/out-base/.rev" 2>/dev/null)" = "$hash" ]; then
    echo "== keeping $hash's outputs in $root/out-base"
else
echo "== running $hash"
# BASE_SYN_CACHE: a synthesis cache REV's report already filled (a synthesis flow change
# keys the two sides apart, and a cold report of the default config takes minutes)
new_cache=$LAYERPIPE_SYN_CACHE
export LAYERPIPE_SYN_CACHE=${BASE_SYN_CACHE:-$new_cache}
run_all "$base/build/layerpipe" "$base/src"
export LAYERPIPE_SYN_CACHE=$new_cache
rm -rf "$root/out-base" && mv "$root/run" "$root/out-base"
echo "$hash" >"$root/out-base/.rev"
fi
echo "== running the working tree"
run_all "$PWD/build/layerpipe" "$PWD"
rm -rf "$root/out-new" && mv "$root/run" "$root/out-new"

same=0 differ=0
for f in $(cd "$root/out-base" && find . -type f ! -name '*.err' ! -name .rev | sort) \
         $(cd "$root/out-new" && find . -type f ! -name '*.err' | sort); do
    [ -e "$root/out-base/$f" ] && [ -e "$root/out-new/$f" ] || { echo "only one side: $f"; differ=$((differ + 1)); continue; }
done
for f in $(cd "$root/out-base" && find . -type f ! -name '*.err' ! -name .rev | sort); do
    [ -e "$root/out-new/$f" ] || continue
    if cmp -s "$root/out-base/$f" "$root/out-new/$f"; then
        same=$((same + 1))
    else
        differ=$((differ + 1))
        echo "differ: $f"
    fi
done
# Every command here succeeds on a working tool: a failure on both sides compares nothing.
failing=0
for f in "$root"/out-base/*.status "$root"/out-new/*.status; do
    [ "$(cat "$f")" = 0 ] || { echo "failed: ${f#$root/} ($(head -n 1 "${f%.status}.err"))"; failing=$((failing + 1)); }
done
echo "same_outputs: $same same, $differ differ, $failing commands failed (files in $root/out-base and $root/out-new)"
[ "$differ" -eq 0 ] && [ "$failing" -eq 0 ]
