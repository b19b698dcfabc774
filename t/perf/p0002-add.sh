#!/bin/sh
# p0002-add.sh: time ama add of a fresh asset against md5sum of the same files.
#
#   sh t/perf/p0002-add.sh            (from the top of the build tree)
#
# The files are p0001's data set (20,000 files of 4 KiB in 100 folders and
# 4 files of 256 MiB between them; run t/perf/p0001-hash.sh once to make
# it), hard-linked into a folder of their own under $AMA_PERF_DIR, so that
# the .ama/ of the asset does not land in p0001's data. Each ama add runs
# on a fresh asset (hyperfine --prepare: rm -rf .ama && ama init), so it
# walks, hashes every file on 2 threads and writes and fsyncs an index of
# 20,005 entries; md5sum reads the same files in the same order. Both from
# a warm page cache, 5 runs each after a warm-up (AMA_PERF_RUNS), the
# best run counts, as in p0001.

set -e
LC_ALL=C
export LC_ALL
build=${AMA_BUILD_DIR:-$(pwd)}
test -x "$build/porcelain/ama-add" ||
	{ echo "p0002: no $build/porcelain/ama-add; run make first" >&2; exit 2; }
command -v hyperfine >/dev/null 2>&1 ||
	{ echo "p0002: needs hyperfine" >&2; exit 2; }
dir=${AMA_PERF_DIR:-${TMPDIR:-/tmp}/ama-perf}
data=$dir/hash-data
test -f "$data/.complete" ||
	{ echo "p0002: no data set in $data; run t/perf/p0001-hash.sh first" >&2; exit 2; }
asset=$dir/add-data
runs=${AMA_PERF_RUNS:-5}
PATH=$build/porcelain:$build/plumbing:$PATH
export PATH

if ! test -f "$asset/.complete"; then
	echo "p0002: hard-linking the data set into $asset" >&2
	rm -rf "$asset"
	cp -al "$data" "$asset"
fi
list=$dir/add-list
(cd "$asset" && find . -path ./.ama -prune -o -type f ! -name .complete -print0 |
	sort -z) >"$list"
count=$(tr -cd '\0' <"$list" | wc -c)
echo "p0002: $count files, $(du -sh "$data" | cut -f1)" >&2

# a check before timing anything: the index holds what md5sum says
(cd "$asset" && rm -rf .ama && ama-init -q perf && ama-add -q -j 2 .)
(cd "$asset" && xargs -0 md5sum <"$list") |
	sed 's/^\([0-9a-f]*\)  \.\//\1\t/' >"$dir/p0002-md5sum.out"
(cd "$asset" && ama-ls-files) | grep -v '	\.complete$' |
	sed 's/ [0-9]* pending\t/\t/' >"$dir/p0002-ama.out"
cmp "$dir/p0002-md5sum.out" "$dir/p0002-ama.out" || {
	echo "p0002: ama add and md5sum disagree" >&2
	exit 1
}

hyperfine --warmup 1 --runs "$runs" --export-json "$dir/p0002.json" \
	-n md5sum "cd '$asset' && xargs -0 md5sum <'$list' >/dev/null" \
	-n "ama add -j 2" \
	--prepare "cd '$asset' && rm -rf .ama && ama-init -q perf" \
	"cd '$asset' && ama-add -q -j 2 ." >&2 || exit 1
set -- $(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["results"]
print("%.3f %.3f %.3f %.3f" % (r[0]["min"], r[1]["min"], r[0]["mean"], r[1]["mean"]))' "$dir/p0002.json")
echo "$1 $2 $3 $4 $runs" | awk '{
	printf "md5sum:         %.3f s (mean %.3f s)\n", $1, $3
	printf "ama add -j 2:   %.3f s (mean %.3f s)\n", $2, $4
	printf "ratio:          %.2f (target <= 0.60), best of %d runs\n", $2 / $1, $5
}'
echo "load average: $(cut -d" " -f1-3 /proc/loadavg)"
