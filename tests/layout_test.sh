#!/bin/sh
# tests/layout_test.sh - the source tree keeps its one-way dependencies (../shared/STYLE.md,
# sw/README.md): model/ includes only model/; sim/ includes model/ and sim/; inside sw/ a
# room includes only rooms below it, in the order base < config < run < report < sweep <
# cli; every room has a README.md; every quoted include names a file that exists.
# Then the same check on a copy with one include that breaks the order, which must fail.
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ROOMS="base config run report sweep cli"

rank() { # rank ROOM: its place in $ROOMS, or nothing
    i=0
    for r in $ROOMS; do
        [ "$r" = "$1" ] && { echo "$i"; return; }
        i=$((i + 1))
    done
}

# check_tree DIR: print one line per broken rule in the tree at DIR; status 1 if any.
check_tree() {
    (cd "$1" && {
        for r in $ROOMS; do
            [ -f "sw/$r/README.md" ] || echo "sw/$r: no README.md"
        done
        for d in sw/*/; do
            r=$(basename "$d")
            [ -n "$(rank "$r")" ] || echo "sw/$r: not a room of sw/README.md"
        done
        for f in model/*.[ch] sim/*.[ch] sim/*.cpp sw/*/*.[ch]; do
            dir=$(dirname "$f")
            grep -n '^#include "' "$f" | sed 's/^\([0-9]*\):#include "\([^"]*\)".*/\1 \2/' |
            while read -r line inc; do
                case $inc in V*.h|verilated*) continue ;; esac   # Verilator's, generated
                [ -e "$dir/$inc" ] || { echo "$f:$line: $inc: no such file"; continue; }
                case $f in
                model/*) case $inc in */*) echo "$f:$line: model/ includes $inc" ;; esac ;;
                sim/*) case $inc in ../sw/*|../rtl/*) echo "$f:$line: sim/ includes $inc" ;; esac ;;
                sw/*)
                    me=$(basename "$dir")
                    case $inc in
                    ../../model/*|../../sim/*) ;;
                    ../*/*)
                        to=${inc#../}
                        to=${to%%/*}
                        rt=$(rank "$to") rm=$(rank "$me")
                        if [ -z "$rt" ]; then echo "$f:$line: $inc: not a room"
                        elif [ "$rt" -ge "$rm" ]; then echo "$f:$line: sw/$me includes sw/$to, which is not below it"
                        fi ;;
                    */*) echo "$f:$line: $inc: reach other rooms as ../ROOM/file.h" ;;
                    esac ;;
                esac
            done
        done
    }) >"$tmp/out"
    cat "$tmp/out"
    [ ! -s "$tmp/out" ]
}

check "the tree keeps its dependencies one way" check_tree .

# The docs quote the tool's output as run from the repository, not one machine's paths.
machine_paths() {
    ! grep -nE '(^|[ (`"])/(work|home|root|tmp)/' README.md docs/*.md sw/*/README.md
}
check "the docs name no path of the machine they were written on" machine_paths

# The check itself: base/ reaching up into run/ must be caught.
mkdir -p "$tmp/tree"
cp -r model sim sw "$tmp/tree/"
printf '#include "../run/verify.h"\n' >>"$tmp/tree/sw/base/table.c"
if check_tree "$tmp/tree" >"$tmp/broken"; then
    bad "an include from sw/base into sw/run is caught"
else
    grep -q 'sw/base/table.c:.*sw/base includes sw/run' "$tmp/broken" &&
        ok "an include from sw/base into sw/run is caught" ||
        bad "an include from sw/base into sw/run is caught: $(cat "$tmp/broken")"
fi

echo "layout: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
