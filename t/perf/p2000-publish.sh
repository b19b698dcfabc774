#!/bin/sh
# p2000-publish.sh: the publishing logic (lib/publish.h) at scale, through
# t/helper/ama-publish-tool: 10,000 staged objects published on the
# loopback S3 test server and on file://, and a one-file change of a
# 100,000-file asset (time, and the bytes of metadata it adds).
#
#   sh t/perf/p2000-publish.sh [-n RUNS] [-j JOBS] [--objects N] [--big N]
#                              [--no-s3] [--big-s3]
#
# Run from the build tree (or set AMA_BUILD_DIR) after `make check` has built
# t/helper/ama-publish-tool and ama-store-tool. Needs node/npm (the server),
# python3 (to make the files) and bc. Each publish is timed alone (the
# process, wall clock): the staging uploads before it are not counted. Every
# run publishes into a class of its own, so nothing it needs is in remote
# already. --big-s3 also makes the 100,000-file asset on S3 (its first
# version needs 100,000 uploads: minutes). Keys go through a file only.
set -eu

runs=3 jobs=8 nobj=10000 nbig=100000 s3=1 bigs3=0
while [ $# -gt 0 ]; do
	case "$1" in
	-n) runs=$2; shift 2 ;;
	-j) jobs=$2; shift 2 ;;
	--objects) nobj=$2; shift 2 ;;
	--big) nbig=$2; shift 2 ;;
	--no-s3) s3=0; shift ;;
	--big-s3) bigs3=1; shift ;;
	*) echo "usage: $0 [-n RUNS] [-j JOBS] [--objects N] [--big N] [--no-s3] [--big-s3]" >&2
	   exit 2 ;;
	esac
done

here=$(cd "$(dirname "$0")" && pwd)
: "${AMA_BUILD_DIR:=$(pwd)}"
export AMA_BUILD_DIR
pubtool="$AMA_BUILD_DIR/t/helper/ama-publish-tool"
storetool="$AMA_BUILD_DIR/t/helper/ama-store-tool"
for t in "$pubtool" "$storetool"; do
	[ -x "$t" ] || { echo "p2000: build $t first (make check)" >&2; exit 2; }
done
for cmd in python3 bc; do
	command -v $cmd >/dev/null || { echo "p2000: $cmd is needed" >&2; exit 2; }
done

work="$AMA_BUILD_DIR/t/perf/trash.p2000"
rm -rf "$work"
mkdir -p "$work"
data="$work/s3-data"
stop() {
	[ "$s3" = 0 ] ||
		bash "$here/../lib/s3-test-server.sh" stop "$data" >/dev/null 2>&1 || :
	rm -rf "$work"
}
trap stop EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
since() { printf '%.3f' "$(echo "$(now) - $1" | bc)"; }
min() { if [ -z "$1" ] || [ "$(echo "$2 < $1" | bc)" = 1 ]; then echo "$2"; else echo "$1"; fi; }

# make N files of distinct content under DIR/files (f0 .. f<N-1>) and their
# records "<md5> <size> TAB dNN/sNN/fNNNNNN.bin", 100 files a folder
make_files() { # N DIR
	python3 - "$1" "$2" <<-\EOF
	import hashlib, os, sys
	n, d = int(sys.argv[1]), sys.argv[2]
	os.makedirs(d + "/files", exist_ok=True)
	with open(d + "/records", "w") as rec, open(d + "/names", "w") as names:
	    for i in range(n):
	        b = ("content %d of %s\n" % (i, d)).encode()
	        m = hashlib.md5(b).hexdigest()
	        with open("%s/files/%s" % (d, m), "wb") as f:
	            f.write(b)
	        rec.write("%s %d\td%02d/s%02d/f%06d.bin\n" % (m, len(b), i // 10000, i // 100 % 100, i))
	        names.write("- -\t%s\n" % m)
	EOF
}

# the publisher's places
pub() { # remote staging repo command...
	_r=$1 _s=$2 _g=$3
	shift 3
	"$pubtool" -j "$jobs" --remote "$_r" --staging "$_s" --repo "$_g" "$@"
}

pack_bytes() { # repo: the bytes of its packs and indexes
	find "$1/objects/pack" -name '*.pack' -o -name '*.idx' |
		xargs cat | wc -c | tr -d ' '
}

# --- file:// ---
froot="$work/file"
fr="file://$froot/remote" fs="file://$froot/staging" frepo="$froot/meta.git"
echo "p2000: file://, $nobj objects, best of $runs" >&2
best_file=
run=1
while [ $run -le "$runs" ]; do
	d="$work/f$run"
	make_files "$nobj" "$d"
	top=$(pub "$fr" "$fs" "$frepo" class "file$run" | cut -d' ' -f2)
	pub "$fr" "$fs" "$frepo" asset-create "file$run" >/dev/null
	mkdir -p "$froot/staging/$top"
	cp "$d"/files/* "$froot/staging/$top/"
	sync
	t0=$(now)
	pub "$fr" "$fs" "$frepo" commit "file$run" 1 <"$d/records" >/dev/null
	best_file=$(min "$best_file" "$(since "$t0")")
	left=$(find "$froot/staging" -type f | wc -l)
	[ "$left" = 0 ] || { echo "p2000: $left objects left in staging" >&2; exit 1; }
	rm -rf "$d"
	run=$((run + 1))
done

# --- the 100,000-file asset on file:// ---
echo "p2000: file://, a one-file change of $nbig files" >&2
d="$work/big"
make_files "$nbig" "$d"
top=$(pub "$fr" "$fs" "$frepo" class big | cut -d' ' -f2)
pub "$fr" "$fs" "$frepo" asset-create big >/dev/null
mkdir -p "$froot/staging/$top"
find "$d/files" -type f -exec mv -t "$froot/staging/$top/" {} +
sync
t0=$(now)
/usr/bin/time -f %M -o "$work/rss" \
	"$pubtool" -j "$jobs" --remote "$fr" --staging "$fs" --repo "$frepo" \
	commit big 1 <"$d/records" >/dev/null
t_big_first=$(since "$t0")
rss_first=$(cat "$work/rss")
best_one= bytes_one=
run=1
while [ $run -le "$runs" ]; do
	# the file in the middle gets new content, staged
	printf 'changed %d\n' "$run" >"$work/one"
	m=$(md5sum <"$work/one" | cut -d' ' -f1)
	mkdir -p "$froot/staging/$top"
	cp "$work/one" "$froot/staging/$top/$m"
	awk -v m="$m" -v s="$(wc -c <"$work/one")" 'BEGIN { FS = OFS = "\t" }
		NR == line { $1 = m " " s } { print }' line=$((nbig / 2)) \
		"$d/records" >"$d/records1"
	mv "$d/records1" "$d/records"
	before=$(pack_bytes "$frepo")
	sync
	t0=$(now)
	/usr/bin/time -f %M -o "$work/rss" \
		"$pubtool" -j "$jobs" --remote "$fr" --staging "$fs" \
		--repo "$frepo" commit big 1 <"$d/records" >/dev/null
	best_one=$(min "$best_one" "$(since "$t0")")
	bytes_one=$(($(pack_bytes "$frepo") - before))
	run=$((run + 1))
done
rss_one=$(cat "$work/rss")

# --- s3:// ---
if [ "$s3" = 1 ]; then
	key=AMATESTKEY secret=AMATESTSECRET
	bash "$here/../lib/s3-test-server.sh" start 0 "$data" "$key" "$secret" >/dev/null
	umask 077
	printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
		"$key" "$secret" >"$work/credentials"
	umask 022
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE
	export AWS_SHARED_CREDENTIALS_FILE="$work/credentials"
	export AWS_CONFIG_FILE=/dev/null
	export AMA_S3_ENDPOINT="http://127.0.0.1:$(cat "$data/.s3rver.port")"
	export AMA_S3_REGION=us-east-1 AMA_TRANSFER_JOBS="$jobs"
	"$storetool" s3://remote mb
	"$storetool" s3://staging mb
	sr=s3://remote/pub ss=s3://staging/up srepo="$work/s3/meta.git"
	echo "p2000: s3://, $nobj objects, best of $runs" >&2
	best_s3=
	run=1
	while [ $run -le "$runs" ]; do
		d="$work/s$run"
		make_files "$nobj" "$d"
		top=$(pub "$sr" "$ss" "$srepo" class "s3$run" | cut -d' ' -f2)
		pub "$sr" "$ss" "$srepo" asset-create "s3$run" >/dev/null
		(cd "$d/files" && "$storetool" -j "$jobs" "$ss" batch-put \
			--prefix "$top/" <../names >/dev/null)
		t0=$(now)
		pub "$sr" "$ss" "$srepo" commit "s3$run" 1 <"$d/records" >/dev/null
		best_s3=$(min "$best_s3" "$(since "$t0")")
		left=$("$storetool" "$ss" list "$top/" | wc -l)
		[ "$left" = 0 ] || { echo "p2000: $left objects left in staging" >&2; exit 1; }
		rm -rf "$d"
		run=$((run + 1))
	done
	if [ "$bigs3" = 1 ]; then
		echo "p2000: s3://, a one-file change of $nbig files" >&2
		d="$work/sbig"
		make_files "$nbig" "$d"
		top=$(pub "$sr" "$ss" "$srepo" class sbig | cut -d' ' -f2)
		pub "$sr" "$ss" "$srepo" asset-create sbig >/dev/null
		(cd "$d/files" && "$storetool" -j "$jobs" "$ss" batch-put \
			--prefix "$top/" <../names >/dev/null)
		t0=$(now)
		pub "$sr" "$ss" "$srepo" commit sbig 1 <"$d/records" >/dev/null
		t_sbig_first=$(since "$t0")
		printf 'changed on s3\n' >"$work/one"
		m=$(md5sum <"$work/one" | cut -d' ' -f1)
		"$storetool" "$ss" put "$top/$m" "$work/one" >/dev/null
		awk -v m="$m" -v s="$(wc -c <"$work/one")" 'BEGIN { FS = OFS = "\t" }
			NR == line { $1 = m " " s } { print }' \
			line=$((nbig / 2)) "$d/records" >"$d/records1"
		before=$(pack_bytes "$srepo")
		t0=$(now)
		pub "$sr" "$ss" "$srepo" commit sbig 1 <"$d/records1" >/dev/null
		t_sbig_one=$(since "$t0")
		bytes_sbig_one=$(($(pack_bytes "$srepo") - before))
	fi
fi

cat <<EOF
p2000-publish (-j $jobs, best of $runs where it says so)
file://
  publish $nobj new objects             ${best_file}s (best of $runs)
  first version of $nbig objects       ${t_big_first}s  peak RSS ${rss_first} KB
  one-file change of $nbig objects     ${best_one}s (best of $runs)  peak RSS ${rss_one} KB
    new metadata (pack + idx)          $bytes_one bytes
EOF
if [ "$s3" = 1 ]; then
	cat <<-EOF
	s3:// (loopback test server)
	  publish $nobj new objects             ${best_s3}s (best of $runs)
	EOF
	if [ "$bigs3" = 1 ]; then
		cat <<-EOF
		  first version of $nbig objects       ${t_sbig_first}s
		  one-file change of $nbig objects     ${t_sbig_one}s
		    new metadata (pack + idx)          $bytes_sbig_one bytes
		EOF
	fi
fi
