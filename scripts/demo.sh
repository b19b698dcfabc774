#!/bin/sh
# demo.sh: install what is missing, build, and run ama's main job on the
# embedded default (a local file:// store, publishing in-process; no server).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
sh "$top/scripts/setup.sh"

demo=$(mktemp -d "${TMPDIR:-/tmp}/ama-demo.XXXXXX")
# the built programs, without installing them
AMA_EXEC_PATH="$top/porcelain:$top/plumbing:$top/server"
PATH="$AMA_EXEC_PATH:$PATH"
# the embedded default store lives under $XDG_DATA_HOME/ama: keep it in the demo folder
XDG_DATA_HOME="$demo/data"
XDG_CONFIG_HOME="$demo/config"
export AMA_EXEC_PATH PATH XDG_DATA_HOME XDG_CONFIG_HOME
mkdir -p "$demo/asset"
cd "$demo/asset"

# show a command as it would be typed, then run it
run() {
	printf '\n$'
	for arg; do
		case "$arg" in
		*[!A-Za-z0-9._/=-]*) printf " '%s'" "$arg" ;;
		*) printf ' %s' "$arg" ;;
		esac
	done
	printf '\n'
	"$@"
}

echo "demo: a sample asset in $demo/asset"
mkdir -p raw results
printf 'id,value\n1,0.5\n2,0.7\n' >raw/samples.csv
head -c 3000000 /dev/urandom >raw/run-01.bin
printf 'notes about the run\n' >"raw/lab notes.txt"
printf 'x\ty\n' >"results/table	with tab.tsv"
printf 'model weights v1\n' >results/model.bin

run ama init demo
run ama add .
run ama status
run ama upload -m "first version"
run ama versions

printf '3,0.9\n' >>raw/samples.csv
rm results/model.bin
run ama status

run ama add raw/samples.csv
run ama remove results/model.bin
run ama upload -m "more samples, no model"
run ama versions
run ama status
echo
echo "demo: done; the asset is in $demo/asset, the store in $XDG_DATA_HOME/ama"
