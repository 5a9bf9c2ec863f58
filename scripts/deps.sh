#!/bin/sh
# Install the Debian packages layerpipe needs, and only those that are missing.
# Idempotent: with everything present it prints one line and changes nothing.
# Runs apt-get as root, or through sudo when not root. clang and libclang-rt-14-dev (its
# libFuzzer and sanitizer runtimes) are for `make fuzz` only.
set -eu

PACKAGES="gcc g++ libc6-dev make pkg-config libyaml-dev libcmocka-dev zlib1g-dev jq verilator
libsqlite3-dev sqlite3 parallel
libsystemc-dev yosys opensta gnuplot-nox dataset-fashion-mnist python3-numpy
clang libclang-rt-14-dev"

# The OSU 0.18 um standard cells (layerpipe report): only the liberty file of the Debian
# package qflow-tech-osu018, which as a package would pull in all of qflow. Extracted
# with apt-get download and dpkg-deb -x under $LP_TECH_DIR (default build/tech).
LIBERTY=/usr/share/qflow/tech/osu018/osu018_stdcells.lib
TECH=${LP_TECH_DIR:-build/tech}

liberty() {
    if [ -f "$LIBERTY" ] || [ -f "$TECH$LIBERTY" ]; then
        return 0
    fi
    tmp=$(mktemp -d)
    # A fresh machine may have no package lists yet: update them and try again.
    if ! (cd "$tmp" && apt-get download -q qflow-tech-osu018 >/dev/null 2>&1); then
        $SUDO apt-get update -q
        (cd "$tmp" && apt-get download -q qflow-tech-osu018)
    fi
    mkdir -p "$TECH"
    dpkg-deb -x "$tmp"/qflow-tech-osu018_*.deb "$TECH"
    rm -rf "$tmp"
    echo "deps: extracted $TECH$LIBERTY (qflow-tech-osu018)"
}

missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *" installed") ;;
        *) missing="$missing $p" ;;
    esac
done

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    SUDO="false"
fi

if [ -z "$missing" ]; then
    liberty
    echo "deps: all $(echo $PACKAGES | wc -w) packages present"
    exit 0
fi

if [ "$SUDO" = false ]; then
    echo "deps: missing packages:$missing" >&2
    echo "deps: not root and no sudo; install them as root and run again" >&2
    exit 1
fi

echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
echo "deps: installed:$missing"
liberty
