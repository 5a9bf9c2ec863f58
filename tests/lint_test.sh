#!/bin/sh
# tests/lint_test.sh [BUILD] - Verilator's lint (-Wall, warnings fatal) on the RTL as the
# tool builds it: every module of rtl/ at its default parameters, and the pipeline tops
# (lp_top for verify and `sim --model rtl`, lp_stage_bank for the SystemC model) at the
# parameters of every shipped and test config under every policy (BUILD/tests/lint_params
# prints them). Then once more with an unread signal planted, which must fail. The RTL
# is the same in both passes of make test: the sanitizer pass ($BUILD ending in /san)
# skips it.
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/.." || exit 1
case $BUILD in */san) printf 'the first pass linted the RTL\nlint: 0 passed, 0 failed\n'; exit 0 ;; esac
. tests/lib.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# One job a line, "TOP PARAMS|- WHAT"; two at a time; a failing job's log is kept as
# $tmp/N.failed.
: >"$tmp/jobs"
for f in rtl/*.sv; do
    case $f in *_pkg.sv) continue ;; esac   # a package, read before every module
    echo "$(basename "$f" .sv) - default" >>"$tmp/jobs"
done
sets=0 skipped=0 banked=
for c in configs/*.yaml tests/configs/*.yaml; do
    for p in sequential stale stash ema; do
        "$BUILD/tests/lint_params" "$c" "$p" >"$tmp/params.vc" 2>"$tmp/err"
        case $? in
        0) ;;
        3) skipped=$((skipped + 1)); continue ;;
        *) bad "lint: the parameters of $c ($p): $(head -n 1 "$tmp/err")"; continue ;;
        esac
        key=$tmp/$(cksum <"$tmp/params.vc" | tr ' ' _).vc   # each distinct set once
        [ -e "$key" ] && continue
        cp "$tmp/params.vc" "$key"
        sets=$((sets + 1))
        echo "lp_top $key $c($p)" >>"$tmp/jobs"
        # lp_stage_bank is lp_top's stages behind the SystemC wrapper: once per config
        [ "$c" = "$banked" ] || echo "lp_stage_bank $key $c($p)" >>"$tmp/jobs"
        banked=$c
    done
done
# lint_all DIR: every job on the RTL in DIR, two at a time; a failing job leaves
# $tmp/N.failed (what failed, then Verilator's words).
lint_all() {
    rm -f "$tmp"/*.failed
    awk '{print NR, $0}' "$tmp/jobs" | xargs -P 2 -L 1 sh -c '
        tmp=$0 dir=$1 n=$2 top=$3 params=$4 what=$5
        verilator --lint-only --assert -Wall -I"$dir" --top-module "$top" \
            $([ "$params" = - ] || echo "-f $params") "$dir"/*_pkg.sv "$dir/$top.sv" >"$tmp/$n.log" 2>&1 ||
            { echo "$top at $what:"; cat "$tmp/$n.log"; } >"$tmp/$n.failed"
    ' "$tmp" "$1"
}

lint_all rtl
if ls "$tmp"/*.failed >/dev/null 2>&1; then
    for f in "$tmp"/*.failed; do head -n 12 "$f"; done
    bad "lint: $(cat "$tmp"/*.failed | grep -c ' at .*:$') of $(wc -l <"$tmp/jobs") lints fail"
else
    ok "lint: every module at its defaults, lp_top at $sets parameter sets of the configs, lp_stage_bank once per config ($skipped config and policy pairs the RTL does not build)"
fi

# The gate itself: a signal nobody reads, planted in mac_cell, must fail it (Verilator
# passes names with "unused" in them by default, so not that word).
mkdir -p "$tmp/rtl"
cp rtl/*.sv rtl/*.svh "$tmp/rtl/"
sed -i 's/^endmodule/  logic lint_test_dangling_q;\n  assign lint_test_dangling_q = clk_i;\nendmodule/' \
    "$tmp/rtl/mac_cell.sv"
echo "mac_cell - planted" >"$tmp/jobs"
lint_all "$tmp/rtl"
if grep -q "UNUSEDSIGNAL.*lint_test_dangling_q" "$tmp"/1.failed 2>/dev/null; then
    ok "lint: a signal nobody reads, planted in mac_cell, fails it"
else
    bad "lint: a signal nobody reads, planted in mac_cell, fails it"
fi

echo "lint: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
