#!/bin/sh
# p0003-status.sh: time ama status with nothing changed, against git status, and at 10^6 files.
#
#   make t/perf/index-bench && sh t/perf/p0003-status.sh   (top of the build tree)
#
# Two assets made once by index-bench mkasset under $AMA_PERF_DIR and
# reused: status-100k (100,000 empty files, 1000 a folder) and status-1m
# (10^6; making it takes minutes of file creation). Their entries are
# marked committed, as after an upload, so that nothing is left to do and
# ama status prints two lines. A throwaway git repository, its .git kept
# outside the tree (status-100k.git, with .ama excluded), holds the same
# 100,000 files committed; git status reads the same tree.
#
# Measured: hyperfine (warm cache, AMA_PERF_RUNS runs, default 20) of
# ama status and git status on 100,000 files; of ama status on 10^6 files
# (5 runs); and the peak RSS of ama status on 10^6 files (/usr/bin/time).

set -e
LC_ALL=C
export LC_ALL
build=${AMA_BUILD_DIR:-$(pwd)}
bench=$build/t/perf/index-bench
test -x "$build/porcelain/ama-status" ||
	{ echo "p0003: no $build/porcelain/ama-status; run make first" >&2; exit 2; }
test -x "$bench" ||
	{ echo "p0003: no $bench; run make t/perf/index-bench first" >&2; exit 2; }
command -v hyperfine >/dev/null 2>&1 ||
	{ echo "p0003: needs hyperfine" >&2; exit 2; }
dir=${AMA_PERF_DIR:-${TMPDIR:-/tmp}/ama-perf}
runs=${AMA_PERF_RUNS:-20}
PATH=$build/porcelain:$build/plumbing:$PATH
export PATH

# make_asset DIR N: N empty files and their index, all committed
make_asset() {
	test -f "$1/.ama/config" && return 0
	echo "p0003: making $2 files in $1" >&2
	rm -rf "$1"
	mkdir -p "$1"
	"$bench" mkasset "$1" "$2" >/dev/null
	(cd "$1" && ama-ls-files -z | ama-update-index -z --state=committed)
	printf '[asset]\nclass = perf\n' >"$1/.ama/config"
}
a100k=$dir/status-100k
a1m=$dir/status-1m
make_asset "$a100k" 100000
make_asset "$a1m" 1000000

git=$dir/status-100k.git
if ! test -f "$git/.complete"; then
	echo "p0003: committing $a100k in $git" >&2
	rm -rf "$git"
	git init -q --bare "$git"
	echo /.ama/ >>"$git/info/exclude"
	(cd "$a100k" && git --git-dir="$git" --work-tree=. add -A &&
		git --git-dir="$git" --work-tree=. -c user.name=perf \
			-c user.email=perf@example.com commit -qm "100,000 files")
	touch "$git/.complete"
fi
gitcmd="git --git-dir='$git' --work-tree=. status"

# before timing: both say there is nothing to do
(cd "$a100k" && ama-status) >"$dir/p0003-ama.out"
printf 'asset of class perf, not uploaded yet\nnothing to do: every added file is unchanged and uploaded\n' |
	cmp - "$dir/p0003-ama.out" ||
	{ echo "p0003: ama status has something to say" >&2; exit 1; }
(cd "$a100k" && eval "$gitcmd --porcelain") >"$dir/p0003-git.out"
test ! -s "$dir/p0003-git.out" ||
	{ echo "p0003: git status has something to say" >&2; exit 1; }

hyperfine -w 3 -r "$runs" --export-json "$dir/p0003-100k.json" \
	-n "ama status" "cd '$a100k' && ama-status" \
	-n "git status" "cd '$a100k' && $gitcmd" >&2
hyperfine -w 1 -r 5 --export-json "$dir/p0003-1m.json" \
	-n "ama status (10^6)" "cd '$a1m' && ama-status" >&2
rss=$(cd "$a1m" && /usr/bin/time -f %M ama-status 2>&1 >/dev/null)

python3 - "$dir/p0003-100k.json" "$dir/p0003-1m.json" "$rss" <<'PY'
import json, sys
a, g = json.load(open(sys.argv[1]))["results"]
m = json.load(open(sys.argv[2]))["results"][0]
print("100,000 files: ama status %.1f ms (mean %.1f +- %.1f)" % (a["min"] * 1e3, a["mean"] * 1e3, a["stddev"] * 1e3))
print("               git status %.1f ms (mean %.1f +- %.1f)" % (g["min"] * 1e3, g["mean"] * 1e3, g["stddev"] * 1e3))
print("               ratio %.2f of the means, %.2f of the best (target <= 1.0)" % (a["mean"] / g["mean"], a["min"] / g["min"]))
print("10^6 files:    ama status %.3f s (mean %.3f s; target < 1.5 s)" % (m["min"], m["mean"]))
print("               peak RSS %.0f MB (target < 300 MB)" % (int(sys.argv[3]) / 1024))
PY
echo "load average: $(cut -d" " -f1-3 /proc/loadavg)"
