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
# hyperfine runs the three in turn, AMA_PERF_RUNS rounds (default 5) after
# a warm-up; the best run of each counts (the machine is shared: the load
# average is printed, and the least CPU time each took beside it).

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
# Rounds of one run of each, in turn, rather than all the runs of one
# command and then the next: the other engineers' jobs come and go, and a
# burst of load should hit all three alike. The best run of each counts.
md5sum_cmd="cd '$data' && xargs -0 md5sum <'$list' >/dev/null"
ring_cmd="cd '$data' && '$hash' -z --stdin <'$list' >/dev/null"
plain_cmd="cd '$data' && AMA_NO_IO_URING=1 '$hash' -z --stdin <'$list' >/dev/null"
hyperfine --warmup 2 --runs 1 -n md5sum "$md5sum_cmd" -n ama-hash "$ring_cmd" \
	-n "ama-hash, AMA_NO_IO_URING=1" "$plain_cmd" >/dev/null 2>&1
n=0
rm -f "$dir"/p0004-round-*.json
while test $n -lt "$runs"; do
	hyperfine --runs 1 --export-json "$dir/p0004-round-$n.json" \
		-n md5sum "$md5sum_cmd" -n ama-hash "$ring_cmd" \
		-n "ama-hash, AMA_NO_IO_URING=1" "$plain_cmd" >/dev/null 2>&1
	n=$((n + 1))
done
python3 -c '
import json, sys
runs = [json.load(open(f))["results"] for f in sys.argv[2:]]
names = [r["command"] for r in runs[0]]
best = {}
for i, name in enumerate(names):
    t = [r[i]["times"][0] for r in runs]
    cpu = [r[i]["user"] + r[i]["system"] for r in runs]
    best[name] = (min(t), sorted(t)[len(t) // 2], min(cpu))
    print("%-30s %6.1f ms best, %6.1f ms median; CPU %6.1f ms (least)" %
          (name + ":", best[name][0] * 1e3, best[name][1] * 1e3, best[name][2] * 1e3))
m = best["md5sum"][0]
print("ratio:  %.2f with io_uring, %.2f without (target <= 0.40), best of %s rounds" %
      (best["ama-hash"][0] / m, best["ama-hash, AMA_NO_IO_URING=1"][0] / m, sys.argv[1]))
' "$runs" "$dir"/p0004-round-*.json
echo "load average: $load0 before, $(cut -d" " -f1-3 /proc/loadavg) after"
