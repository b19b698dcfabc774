#!/bin/sh
# run-test.sh: run one t/tNNNN-*.sh from its own folder, as the harness expects.
dir=$(dirname "$1")
name=$(basename "$1")
cd "$dir" || exit 99
exec "${SHELL:-/bin/sh}" "./$name"
