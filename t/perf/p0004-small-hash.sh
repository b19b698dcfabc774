#!/bin/sh
# p0004-small-hash.sh: time ama-hash against md5sum on 20,000 files of 4 KiB.
#
#   sh t/perf/p0004-small-hash.sh      (from the top of the build tree)
#
# The case io_uring batching is for: 20,000 files of 4 KiB in 100 folders
# (d000..d099, 200 each), made under $AMA_PERF_DIR (default $TMPDIR or
# /tmp, then ama-perf) and reused. Three commands hash the same sorted,
# NUL-separated list from a warm page cache:
#
#   xargs -0 md5sum <list
#   ama-hash -z --stdin <list                       (the cores, io_uring)
#   AMA_NO_IO_URING=1 ama-hash -z --stdin <list     (one file at a time)
#
# hyperfine runs each AMA_PERF_RUNS times (default 5) after a warm-up; the
# best run counts (the machine is shared: the load average is printed).

set -e
LC_ALL=C
export LC_ALL
build=${AMA_BUILD_DIR:-$(pwd)}
hash=$build/plumbing/ama-hash
test -x "$hash" || { echo "p0004: no $hash; run make first" >&2; exit 2; }
command -v hyperfine >/dev/null 2>&1 ||
	{ echo "p0004: needs hyperfine (apt-get install hyperfine)" >&2; exit 2; }
dir=${AMA_PERF_DIR:-${TMPDIR:-/tmp}/ama-perf}
data=$dir/small-data
list=$dir/small-list
runs=${AMA_PERF_RUNS:-5}

if ! test -f "$data/.complete"; then
	echo "p0004: making the data set in $data" >&2
	rm -rf "$data"
	mkdir -p "$data"
	i=0
	while test $i -lt 100; do
		d=$data/$(printf 'd%03d' $i)
		mkdir "$d"
		head -c $((200 * 4096)) /dev/urandom |
			split -b 4096 -a 3 -d - "$d/f"
		i=$((i + 1))
	done
	touch "$data/.complete"
fi
(cd "$data" && find . -type f ! -name .complete -print0 | sort -z) >"$list"
echo "p0004: $(tr -cd '\0' <"$list" | wc -c) files, $(du -sh "$data" | cut -f1)" >&2

# warm the cache; both paths must agree with md5sum before anything is timed
(cd "$data" && xargs -0 md5sum <"$list") | sed 's/  / /' >"$dir/p0004-md5sum.out"
for knob in 0 1; do
	(cd "$data" && AMA_NO_IO_URING=$knob "$hash" -z --stdin <"$list") |
		tr '\0' '\n' | sed 's/ [0-9]*	/ /' >"$dir/p0004-ama.out"
	cmp "$dir/p0004-md5sum.out" "$dir/p0004-ama.out" || {
		echo "p0004: ama-hash (AMA_NO_IO_URING=$knob) and md5sum disagree" >&2
		exit 1
	}
done

load0=$(cut -d" " -f1-3 /proc/loadavg)
hyperfine --warmup 2 --runs "$runs" --export-json "$dir/p0004.json" \
	-n md5sum "cd '$data' && xargs -0 md5sum <'$list' >/dev/null" \
	-n "ama-hash" "cd '$data' && '$hash' -z --stdin <'$list' >/dev/null" \
	-n "ama-hash, AMA_NO_IO_URING=1" \
	"cd '$data' && AMA_NO_IO_URING=1 '$hash' -z --stdin <'$list' >/dev/null" >&2
set -- $(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["results"]
print(" ".join("%.4f %.4f" % (x["min"], x["mean"]) for x in r))' "$dir/p0004.json")
echo "$1 $2 $3 $4 $5 $6 $runs" | awk '{
	printf "md5sum:                        %6.1f ms (mean %6.1f ms)\n", $1 * 1000, $2 * 1000
	printf "ama-hash:                      %6.1f ms (mean %6.1f ms)\n", $3 * 1000, $4 * 1000
	printf "ama-hash, AMA_NO_IO_URING=1:   %6.1f ms (mean %6.1f ms)\n", $5 * 1000, $6 * 1000
	printf "ratio:  %.2f with io_uring, %.2f without (target <= 0.40), best of %d\n", $3 / $1, $5 / $1, $7
}'
echo "load average: $load0 before, $(cut -d" " -f1-3 /proc/loadavg) after"
