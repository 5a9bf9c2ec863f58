#!/bin/sh
# npy_check.sh FILE.npy - load FILE.npy with numpy and print its dtype and
# shape, e.g. "float32 (256, 784)", to show that numpy reads what
# sw/base/npy.c writes.
#
# The interpreter is $PYTHON if set, else the first of `python3` on PATH and
# /usr/bin/python3 that can import numpy (Debian's python3-numpy serves
# /usr/bin/python3; a python3 earlier on PATH may lack it).
# Exit status: 0 loaded, 1 numpy refused the file, 2 usage, 77 skipped (no
# python3 with numpy).
set -u
if [ $# -ne 1 ]; then
    echo "usage: $0 FILE.npy" >&2
    exit 2
fi
py=""
for c in ${PYTHON:-python3 /usr/bin/python3}; do
    if "$c" -c 'import numpy' >/dev/null 2>&1; then
        py=$c
        break
    fi
done
if [ -z "$py" ]; then
    echo "npy_check: skipped: no python3 with numpy (Debian package python3-numpy)" >&2
    exit 77
fi
"$py" -c 'import numpy,sys; a=numpy.load(sys.argv[1]); print(a.dtype, a.shape)' "$1" || exit 1
