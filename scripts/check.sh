#!/bin/sh
# check.sh: install what is missing, build, and run every test (make check).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
sh "$top/scripts/setup.sh"
cd "$top"
make -j"$(nproc)" check
