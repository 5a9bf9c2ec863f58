#!/bin/sh
# Install the Debian packages layerpipe needs, and only those that are missing.
# Idempotent: with everything present it prints one line and changes nothing.
# Runs apt-get as root, or through sudo when not root.
set -eu

PACKAGES="gcc g++ libc6-dev make pkg-config libyaml-dev libcmocka-dev zlib1g-dev jq verilator
libsystemc-dev yosys gnuplot-nox dataset-fashion-mnist python3-numpy"

missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *" installed") ;;
        *) missing="$missing $p" ;;
    esac
done

if [ -z "$missing" ]; then
    echo "deps: all $(echo $PACKAGES | wc -w) packages present"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
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
