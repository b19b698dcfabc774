#!/bin/sh
# p0005-add-million.sh: time ama add of 10^6 files of 4 KiB against md5sum through xargs.
#
#   sh t/perf/p0005-add-million.sh     (from the top of the build tree; on demand:
#                                       it makes 4 GiB in 10^6 files once, minutes)
#
# The data set: 1,000 folders (d000..d999) of 1,000 files of 4 KiB
# (f000..f999) under $AMA_PERF_DIR (default $TMPDIR or /tmp, then
# ama-perf)/million-data, made once and reused; it is also the asset (its
# .ama/ is made anew before each ama add). From a warm page cache
# (24 GB of memory hold it), hyperfine times
#
#   xargs -0 md5sum <list                   (the files, sorted)
#   ama add -q .                            (a fresh asset each run)
#   AMA_NO_IO_URING=1 ama add -q .          (the one-by-one hashing path)
#
# AMA_PERF_RUNS times each (default 3), after a warm-up; the best run
# counts. Before that, one ama add is checked against md5sum, and its peak
# RSS is taken with /usr/bin/time where there is one.

set -e
LC_ALL=C
export LC_ALL
build=${AMA_BUILD_DIR:-$(pwd)}
test -x "$build/porcelain/ama-add" ||
	{ echo "p0005: no $build/porcelain/ama-add; run make first" >&2; exit 2; }
command -v hyperfine >/dev/null 2>&1 ||
	{ echo "p0005: needs hyperfine (apt-get install hyperfine)" >&2; exit 2; }
dir=${AMA_PERF_DIR:-${TMPDIR:-/tmp}/ama-perf}
data=$dir/million-data
list=$dir/million-list
runs=${AMA_PERF_RUNS:-3}
PATH=$build/porcelain:$build/plumbing:$PATH
export PATH

if ! test -f "$data/.complete"; then
	echo "p0005: making 10^6 files of 4 KiB in $data (minutes)" >&2
	rm -rf "$data"
	mkdir -p "$data"
	i=0
	while test $i -lt 1000; do
		d=$data/$(printf 'd%03d' $i)
		mkdir "$d"
		head -c $((1000 * 4096)) /dev/urandom |
			split -b 4096 -a 3 -d - "$d/f"
		i=$((i + 1))
	done
	touch "$data/.complete"
fi
(cd "$data" && find . -path ./.ama -prune -o -type f ! -name .complete -print0 |
	sort -z) >"$list"
echo "p0005: $(tr -cd '\0' <"$list" | wc -c) files" >&2

# warm the cache, and check once that the index holds what md5sum says
(cd "$data" && xargs -0 md5sum <"$list") |
	sed 's/^\([0-9a-f]*\)  \.\//\1\t/' >"$dir/p0005-md5sum.out"
rss=
if test -x /usr/bin/time; then
	(cd "$data" && rm -rf .ama && ama-init -q perf &&
		/usr/bin/time -f %M -o "$dir/p0005-rss" ama-add -q .)
	rss="$(cat "$dir/p0005-rss") KB"
else
	(cd "$data" && rm -rf .ama && ama-init -q perf && ama-add -q .)
fi
(cd "$data" && ama-ls-files) | grep -v '	\.complete$' |
	sed 's/ [0-9]* pending\t/\t/' >"$dir/p0005-ama.out"
cmp "$dir/p0005-md5sum.out" "$dir/p0005-ama.out" || {
	echo "p0005: ama add and md5sum disagree" >&2
	exit 1
}
rm -f "$dir/p0005-md5sum.out" "$dir/p0005-ama.out"

load0=$(cut -d" " -f1-3 /proc/loadavg)
hyperfine --warmup 1 --runs "$runs" --export-json "$dir/p0005.json" \
	-n md5sum "cd '$data' && xargs -0 md5sum <'$list' >/dev/null" \
	--prepare "cd '$data' && rm -rf .ama && ama-init -q perf" \
	-n "ama add" "cd '$data' && ama-add -q ." \
	-n "ama add, AMA_NO_IO_URING=1" \
	"cd '$data' && AMA_NO_IO_URING=1 ama-add -q ." >&2
set -- $(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["results"]
print(" ".join("%.3f %.3f" % (x["min"], x["mean"]) for x in r))' "$dir/p0005.json")
echo "$1 $2 $3 $4 $5 $6 $runs" | awk '{
	printf "md5sum (xargs):               %7.3f s (mean %7.3f s)\n", $1, $2
	printf "ama add:                      %7.3f s (mean %7.3f s)\n", $3, $4
	printf "ama add, AMA_NO_IO_URING=1:   %7.3f s (mean %7.3f s)\n", $5, $6
	printf "ratio:  %.2f with io_uring, %.2f without (target <= 0.40), best of %d\n", $3 / $1, $5 / $1, $7
}'
test -z "$rss" || echo "ama add peak RSS: $rss"
echo "load average: $load0 before, $(cut -d" " -f1-3 /proc/loadavg) after"
