#!/bin/sh
# Every ranged config key, driven by docs/config.md: each table row whose type states a
# range ("integer A..B", "number in [a, b]" or "[a, b)", "list of A..B ...", "...A..B
# characters", "at most N characters", a name of "A to B characters", and {bits, frac}
# with the ranges of the numerics prose) is read from the page with awk and mapped to its
# YAML path by the section it is in. For each key, a small valid config with the key at
# each end of its range must load (`layerpipe config`, status 0), and one just past each
# end (lo-1 and hi+1 for integers and lengths, the next decimal past a closed real bound,
# the bound itself for an open one) must be refused with status 2, nothing on stdout,
# and "FILE:LINE:COLUMN: KEY.PATH: ..." on stderr, pointing at the value. So a bound
# changed on one side only (docs or sw/config/config.c) fails here; a ranged row the awk
# cannot read fails too, and so does a new ranged key no config below is built for.
# Prints "ok - ..." or "FAIL - ..." per check and closes with "limits: N passed, M failed".
set -u
BUILD=${1:-build}
LP=$BUILD/layerpipe
DOC=docs/config.md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh

# --- the ranged rows of docs/config.md, one key a line:
# DOCLINE SECTION KEY KIND AT_LO AT_HI PAST_LO PAST_HI
# SECTION is top, network, layer (keys every layer has), layer:TYPE, pipeline, numerics,
# training or hardware; KIND is int, real, elem (each item of a list), count (items of a
# list) or len (characters of a string). A row with a digit in its type that none of the
# forms match comes out as "DOCLINE UNPARSED ...".
awk '
function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
function unq(s) { gsub(/`/, "", s); return trim(s) }
function bare(s) { gsub(/`[^`]*`/, "", s); return s }
function abs(x) { return x < 0 ? -x : x }
function val(s,  p) {   # a bound as written: 1048576, 1e-12, 2^40
    s = trim(s)
    if (s ~ /^[0-9]+\^[0-9]+$/) { split(s, p, "^"); return p[1] ^ p[2] }
    return s + 0
}
function ival(s) { return sprintf("%.0f", val(s)) }
function nudge(s, dir,  v) {   # the decimal just past bound s, downwards (-1) or up (+1)
    v = val(s)
    if (v == 0) return dir < 0 ? "-1e-300" : "1e-300"
    return sprintf("%.10g", v + dir * abs(v) * 1e-9)
}
function out(sec, key, kind, a, b, c, d,  n, t, i) {
    if (sec == "layer:") {   # a by-type row: one key per type it names
        n = split(types, t, ",")
        for (i = 1; i <= n; i++)
            print row, "layer:" unq(t[i]), key, kind, a, b, c, d
    } else
        print row, sec, key, kind, a, b, c, d
}
function ints(sec, key, kind, lo, hi) {
    out(sec, key, kind, ival(lo), ival(hi), sprintf("%.0f", val(lo) - 1), sprintf("%.0f", val(hi) + 1))
}
/^##+ / {
    h = $0; sub(/^#+ /, "", h); gsub(/`/, "", h)
    sec = h == "Top level" ? "top" : h == "Layers" ? "layer" : h
    next
}
/`bits` [0-9]+\.\.[0-9]+/ && match($0, /`bits` [0-9]+\.\.[0-9]+/) {
    bits = substr($0, RSTART + 7, RLENGTH - 7)
}
/`frac` [0-9]+\.\.[0-9]+/ && match($0, /`frac` [0-9]+\.\.[0-9]+/) {
    frac = substr($0, RSTART + 7, RLENGTH - 7)
}
/^\|/ {
    row = NR; line = $0
    gsub(/\\\|/, "", line)   # an escaped | inside a cell
    n = split(line, c, "|")
    if (n == 7) {            # type | key | type | default | meaning
        if (unq(c[3]) == "key" || c[2] ~ /^-+$/) next
        if (unq(c[2]) != "") types = c[2]
        rsec = "layer:"; keys = c[3]; type = unq(c[4]); raw = c[4]; meaning = c[6]
    } else if (n == 6) {     # key | type | default | meaning
        if (unq(c[2]) == "key" || c[2] ~ /^-+$/) next
        rsec = sec; keys = c[2]; type = unq(c[3]); raw = c[3]; meaning = c[5]
    } else
        next
    nk = split(keys, k, ",")
    for (j = 1; j <= nk; j++) {
        key = unq(k[j])
        if (match(type, /integers?, each -?[0-9]+\.\.[0-9^]+/)) {
            split(substr(type, RSTART, RLENGTH), r, /each |\.\./)
            ints(rsec, key, "elem", r[2], r[3])
        } else if (match(type, /^integer -?[0-9]+\.\.[0-9^]+/)) {
            split(substr(type, 9, RLENGTH - 8), r, /\.\./)
            ints(rsec, key, "int", r[1], r[2])
        } else if (match(type, /^list of [0-9]+\.\.[0-9]+/)) {
            split(substr(type, 9, RLENGTH - 8), r, /\.\./)
            ints(rsec, key, "count", r[1], r[2])
        } else if (match(type, /[0-9]+\.\.[0-9]+ characters/)) {
            split(substr(type, RSTART, RLENGTH - 11), r, /\.\./)
            ints(rsec, key, "len", r[1], r[2])
        } else if (match(type, /at most [0-9]+ characters/)) {
            ints(rsec, key, "len", 1, substr(type, RSTART + 8, RLENGTH - 19))
        } else if (type == "name" && match(meaning, /[0-9]+ to [0-9]+ characters/)) {
            split(substr(meaning, RSTART, RLENGTH - 11), r, / to /)
            ints(rsec, key, "len", r[1], r[2])
        } else if (match(type, /number in [[(][^,]*, [^])]*[])]/)) {
            s = substr(type, RSTART + 10, RLENGTH - 10)
            lb = substr(s, 1, 1); hb = substr(s, length(s), 1)
            split(substr(s, 2, length(s) - 2), r, /, /)
            out(rsec, key, "real",
                lb == "[" ? trim(r[1]) : nudge(r[1], 1), hb == "]" ? trim(r[2]) : nudge(r[2], -1),
                lb == "[" ? nudge(r[1], -1) : trim(r[1]), hb == "]" ? nudge(r[2], 1) : trim(r[2]))
        } else if (type == "{bits, frac}") {
            fixed[++nf] = NR " " rsec " " key
        } else if (bare(raw) ~ /[0-9]/) {   # a digit outside `code`
            print NR, "UNPARSED", key, type
        }
    }
}
END {
    for (i = 1; i <= nf; i++) {
        split(fixed[i], f, " ")
        if (bits == "" || frac == "") { print f[1], "UNPARSED", f[3], "{bits, frac} without its ranges"; continue }
        row = f[1]
        split(bits, r, /\.\./); ints(f[2], f[3] ".bits", "int", r[1], r[2])
        split(frac, r, /\.\./); ints(f[2], f[3] ".frac", "int", r[1], r[2])
    }
}' "$DOC" >"$tmp/keys"

# The rows that look ranged, counted without the parser above: the awk must have read
# every one of them (and there are at least 30 today).
want_rows=$(grep -cE '^\|.*([0-9^]\.\.[0-9]|in [[(]-?[0-9.]|[0-9] characters|\{bits, frac\})' "$DOC")
got_rows=$(grep -v UNPARSED "$tmp/keys" | cut -d' ' -f1 | sort -u | wc -l)
while read -r row what rest; do
    [ "$what" = UNPARSED ] && bad "$DOC:$row: a ranged row the test cannot read: $rest"
done <"$tmp/keys"
check "read all $want_rows ranged rows of $DOC (got $got_rows)" test "$got_rows" -eq "$want_rows"
check "at least 30 ranged rows in $DOC" test "$got_rows" -ge 30

# --- configs
# str N: a string of N characters that is both a name and a path ("" for none).
str() {
    if [ "$1" -eq 0 ]; then printf '""'; else printf "%$1s" "" | tr ' ' a; fi
}
# side V: an input side that a window of V fits (V when 1..1024, else 8).
side() {
    if [ "$1" -ge 1 ] && [ "$1" -le 1024 ]; then echo "$1"; else echo 8; fi
}
# build SECTION KEY KIND VALUE FILE: a small valid config with KEY at VALUE. Everything
# else is chosen so that the config loads fully (synthetic data, float32 numerics).
# Sets path (the key as messages name it) and lit (the value as written).
build() {
    sec=$1 key=$2 kind=$3 v=$4 f=$5
    lit=$v
    case $kind in len) lit=$(str "$v") ;; esac
    name=limits input='[16]' pipe='' num='' train='  dataset: synthetic' hw=''
    l0='{name: l0, type: dense, out: 12}'
    tail='    - {name: out, type: dense, out: 10}'
    layers='' path=''
    case $sec in
        top) path=$key ;;
        network | pipeline | numerics | training | hardware) path=$sec.$key ;;
        layer | layer:*) path="network.layers[0].$key" ;;
    esac
    label=$path
    case $sec in layer:*) label="$path (${sec#layer:})" ;; esac
    case "$sec $key" in
        "top name") name=$lit ;;
        "network input") input="[$lit]" ;;
        "network layers")
            path=network.layers
            layers=$(awk -v n="$v" 'BEGIN { for (i = 0; i < n; i++)
                printf "    - {name: l%d, type: dense, out: 10}\n", i }') ;;
        "layer name") l0="{name: $lit, type: dense, out: 12}" ;;
        "layer:dense out") l0="{name: l0, type: dense, out: $lit}" ;;
        "layer:conv out_channels")
            input='[1, 8, 8]' l0="{name: l0, type: conv, out_channels: $lit, kernel: 3}" ;;
        "layer:conv kernel")
            s=$(side "$v")
            input="[1, $s, $s]" l0="{name: l0, type: conv, out_channels: 1, kernel: $lit}" ;;
        "layer:conv stride")
            input='[1, 8, 8]' l0="{name: l0, type: conv, out_channels: 1, kernel: 1, stride: $lit}" ;;
        "layer:conv pad")
            input='[1, 8, 8]' l0="{name: l0, type: conv, out_channels: 1, kernel: 3, pad: $lit}" ;;
        "layer:maxpool kernel" | "layer:avgpool kernel")
            s=$(side "$v")
            input="[1, $s, $s]" l0="{name: l0, type: ${sec#layer:}, kernel: $lit}" ;;
        "layer:maxpool stride" | "layer:avgpool stride")
            input='[1, 8, 8]' l0="{name: l0, type: ${sec#layer:}, kernel: 2, stride: $lit}" ;;
        "pipeline ema_beta") pipe="  ema_beta: $lit" ;;
        "numerics accumulator_bits") num="  accumulator_bits: $lit" ;;
        "numerics "*.bits | "numerics "*.frac)
            fmt=${key%.*}
            case $key in
                *.bits) num="  $fmt: {bits: $lit, frac: 0}" ;;
                *) num="  $fmt: {bits: 32, frac: $lit}" ;;
            esac
            # master_weight needs at least the weight's fraction bits
            case $fmt in
                weight) num="$num
  master_weight: {bits: 32, frac: 31}" ;;
                master_weight) num="$num
  weight: {bits: 2, frac: 0}" ;;
            esac ;;
        "training "*) train="$train
  $key: $lit" ;;
        "hardware "*) hw="  $key: $lit" ;;
        *) return 1 ;;
    esac
    case $sec in   # a conv or pool layer is read by a flatten
        layer:conv | layer:maxpool | layer:avgpool)
            tail="    - {name: flat, type: flatten}
$tail" ;;
    esac
    [ "$sec $key" = "network layers" ] || layers="    - $l0
$tail"
    {
        echo "schema_version: 1"
        echo "name: $name"
        echo "network:"
        echo "  input: $input"
        if [ -n "$layers" ]; then printf '  layers:\n%s\n' "$layers"; else echo "  layers: []"; fi
        [ -z "$pipe" ] || printf 'pipeline:\n%s\n' "$pipe"
        [ -z "$num" ] || printf 'numerics:\n%s\n' "$num"
        printf 'training:\n%s\n' "$train"
        [ -z "$hw" ] || printf 'hardware:\n%s\n' "$hw"
    } >"$f"
}

# at SEC KEY KIND VALUE WHICH: the config loads.
at() {
    f=$tmp/case.yaml
    if ! build "$1" "$2" "$3" "$4" "$f"; then
        bad "$DOC: no config for the ranged key $1 $2: extend build() in $0"
        return
    fi
    run config "$f"
    # an integer comes back in the effective config as it was written
    shown=1
    case $3 in int) grep -qE "(^|[ {])${2##*.}: $lit([,}]|\$)" "$tmp/out" || shown=0 ;; esac
    if [ "$status" -eq 0 ] && [ -s "$tmp/out" ] && [ "$shown" -eq 1 ]; then
        ok "$label = $(short "$lit") ($5) loads"
    else
        bad "$label = $(short "$lit") ($5): status $status, printed: $shown, stderr: $(head -n 1 "$tmp/err")"
    fi
}
# past SEC KEY KIND VALUE WHICH: status 2, nothing on stdout, FILE:LINE:COL: PATH: at the value.
past() {
    f=$tmp/case.yaml
    build "$1" "$2" "$3" "$4" "$f" || return
    run config "$f"
    first=$(head -n 1 "$tmp/err")
    okp=0
    case $first in
        "$f:"*": $path: "*)
            pos=${first#"$f:"}
            ln=${pos%%:*} pos=${pos#*:} col=${pos%%:*}
            case $ln$col in *[!0-9]*) ;; *)
                text=$(sed -n "${ln}p" "$f" | cut -c "$col"-)
                # a list's length is reported at the list
                if [ "$3" = count ]; then okp=1; else case $text in "$lit"*) okp=1 ;; esac; fi ;;
            esac ;;
    esac
    if [ "$status" -eq 2 ] && [ "$okp" -eq 1 ] && [ ! -s "$tmp/out" ]; then
        ok "$label = $(short "$lit") ($5) refused: ${first#"$f:"}"
    else
        bad "$label = $(short "$lit") ($5): status $status, stderr '$first', expected '$f:LINE:COL: $path: ...' at the value"
    fi
}
short() { # long strings in messages: their length
    if [ "${#1}" -gt 24 ]; then echo "<${#1} characters>"; else echo "$1"; fi
}

nkeys=0
while read -r row sec key kind alo ahi plo phi; do
    [ "$sec" = UNPARSED ] && continue
    nkeys=$((nkeys + 1))
    at "$sec" "$key" "$kind" "$alo" "lowest, $DOC:$row"
    at "$sec" "$key" "$kind" "$ahi" "highest, $DOC:$row"
    case $kind:$plo in
        len:-* | count:-*) ;;   # no length below 0
        *) past "$sec" "$key" "$kind" "$plo" "below the range" ;;
    esac
    past "$sec" "$key" "$kind" "$phi" "above the range"
done <"$tmp/keys"
check "at least 40 ranged keys (have $nkeys)" test "$nkeys" -ge 40

# The one config limit that is not a key's range (docs/input.md): at most 268435456
# (2^28) values per sample in network.input.
elems() { # elems C FILE: an input of [C, 1024, 1024], pooled to [C]
    printf '%s\n' "schema_version: 1" "name: limits" "network:" "  input: [$1, 1024, 1024]" \
        "  layers:" "    - {name: p, type: maxpool, kernel: 1024}" \
        "    - {name: flat, type: flatten}" "    - {name: out, type: dense, out: 10}" \
        "training:" "  dataset: synthetic" >"$2"
}
elems 256 "$tmp/case.yaml"
run config "$tmp/case.yaml"
check "network.input = [256, 1024, 1024] (268435456 values) loads" test "$status" -eq 0
elems 257 "$tmp/case.yaml"
expect_status "network.input = [257, 1024, 1024] refused" 2 \
    "$tmp/case.yaml:4:10: network.input: more than 268435456 values per sample" config "$tmp/case.yaml"

echo "limits: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
