#!/bin/sh
# p0101-stage-programs.sh: the upload programs against the loopback S3 test
# server: ama-stage-put against the aws CLI (many small files) and curl
# (one big file), and ama-exists over many records that all exist.
#
#   sh t/perf/p0101-stage-programs.sh [-n RUNS] [-j JOBS] [--small N]
#                                     [--big MIB] [--exists N]
#
# Run from the build tree (or set AMA_BUILD_DIR) after `make check` has
# built the programs and t/helper/ama-store-tool. Needs node/npm (the
# server), the aws CLI, curl, bc and openssl. Each time is the best of
# RUNS (default 3) wall-clock runs; every run uploads under a fresh top
# hash (ama-stage-put --top-hash) or prefix, and the big objects are
# deleted between runs (untimed) to spare the disk. ama-stage-put's time
# includes its whole job: reading the records of ama-ls-files, loading
# the index, checking each file's stat record against it. Keys and secrets
# go through files and the environment only: curl gets them from a
# --config file, ama and the aws CLI from AWS_SHARED_CREDENTIALS_FILE.
# Targets: ama-stage-put >= 3x faster than `aws s3 cp --recursive` on the
# small files; >= 0.9x curl's throughput on the big one.
set -eu

runs=3 jobs=8 nsmall=1000 bigmib=256 nexists=10000
while [ $# -gt 0 ]; do
	case "$1" in
	-n) runs=$2; shift 2 ;;
	-j) jobs=$2; shift 2 ;;
	--small) nsmall=$2; shift 2 ;;
	--big) bigmib=$2; shift 2 ;;
	--exists) nexists=$2; shift 2 ;;
	*) echo "usage: $0 [-n RUNS] [-j JOBS] [--small N] [--big MIB] [--exists N]" >&2; exit 2 ;;
	esac
done

here=$(cd "$(dirname "$0")" && pwd)
: "${AMA_BUILD_DIR:=$(pwd)}"
export AMA_BUILD_DIR
tool="$AMA_BUILD_DIR/t/helper/ama-store-tool"
for p in "$tool" "$AMA_BUILD_DIR/plumbing/ama-stage-put" \
	"$AMA_BUILD_DIR/plumbing/ama-exists" "$AMA_BUILD_DIR/porcelain/ama"; do
	[ -x "$p" ] || { echo "p0101: build $p first (make check)" >&2; exit 2; }
done
for cmd in aws curl node bc openssl; do
	command -v $cmd >/dev/null || { echo "p0101: $cmd is needed" >&2; exit 2; }
done
PATH="$AMA_BUILD_DIR/porcelain:$AMA_BUILD_DIR/plumbing:$PATH"
AMA_EXEC_PATH="$AMA_BUILD_DIR/porcelain:$AMA_BUILD_DIR/plumbing"
export PATH AMA_EXEC_PATH

work="$AMA_BUILD_DIR/t/perf/trash.p0101"
rm -rf "$work"
mkdir -p "$work/asset/small" "$work/asset/exists" "$work/home"
data="$work/s3-data"
stop() {
	bash "$here/../lib/s3-test-server.sh" stop "$data" >/dev/null 2>&1 || :
	rm -rf "$work"
}
trap stop EXIT
trap 'exit 130' INT TERM

# no configuration of the caller's: ama reads only what is set up here
for v in $(env | sed -n 's/^\(AMA_[A-Za-z0-9_]*\)=.*/\1/p'); do
	case "$v" in AMA_BUILD_DIR|AMA_EXEC_PATH) ;; *) unset "$v" ;; esac
done
export HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config"
export XDG_DATA_HOME="$work/home/.data" XDG_CACHE_HOME="$work/home/.cache"

key=AMATESTKEY secret=AMATESTSECRET
S3TS_REQLOG=1 bash "$here/../lib/s3-test-server.sh" start 0 "$data" "$key" "$secret" >/dev/null
port=$(cat "$data/.s3rver.port")
endpoint="http://127.0.0.1:$port"
requests="$data/.s3rver.requests"

umask 077
printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
	"$key" "$secret" >"$work/credentials"
printf 'user = "%s:%s"\naws-sigv4 = "aws:amz:us-east-1:s3"\nheader = "x-amz-content-sha256: UNSIGNED-PAYLOAD"\n' \
	"$key" "$secret" >"$work/curl.conf"
umask 022
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE
export AWS_SHARED_CREDENTIALS_FILE="$work/credentials"
export AWS_CONFIG_FILE=/dev/null
export AWS_ENDPOINT_URL="$endpoint" AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
"$tool" s3://perf mb
"$tool" s3://perf-remote mb

echo "p0101: $nsmall files of 1 KiB, one of $bigmib MiB, $nexists to ask about; best of $runs, -j $jobs" >&2
cd "$work/asset"
ama init -q perf
i=0
while [ $i -lt "$nsmall" ]; do
	head -c 1024 /dev/urandom >"small/f$i"
	i=$((i + 1))
done
head -c $((bigmib * 1048576)) /dev/urandom >big
i=0
while [ $i -lt "$nexists" ]; do
	printf 'exists %d\n' $i >"exists/e$i"
	i=$((i + 1))
done
ama add -q small big exists >/dev/null
cat >.ama/config <<EOF
[asset]
class = perf
[store]
staging = s3://perf
remote = s3://perf-remote
[class]
top-hash = 00000000000000000000000000000000
[transfer]
jobs = $jobs
EOF
ama-ls-files small >small.recs
ama-ls-files big >big.recs
ama-ls-files exists >exists.recs

now() { date +%s.%N; }
# the server's CPU time so far, in seconds (user + system)
srvpid=$(cat "$data/.s3rver.pid")
hz=$(getconf CLK_TCK)
srvcpu() { awk -v hz="$hz" '{ printf "%.2f", ($14 + $15) / hz }' /proc/$srvpid/stat; }
# the CPU time of our children so far, from the output of times in FILE
childcpu() {
	sed -n 2p "$work/$1" | awk '{
		t = 0
		for (i = 1; i <= 2; i++) {
			sub(/s$/, "", $i); split($i, a, "m"); t += a[1] * 60 + a[2]
		}
		printf "%.2f", t
	}'
}
# best TIME of RUNS runs of a command, and the server's and the client's
# CPU time during that run (in the file srvcpu); each run gets $run (1, 2, ...); after
# each, $after (if set) runs untimed
best() {
	b=
	run=1
	while [ $run -le "$runs" ]; do
		c0=$(srvcpu)
		times >"$work/times0"
		t0=$(now)
		"$@" >/dev/null
		t=$(echo "$(now) - $t0" | bc)
		times >"$work/times1"
		c=$(echo "$(srvcpu) - $c0" | bc)
		if [ -z "$b" ] || [ "$(echo "$t < $b" | bc)" = 1 ]; then
			b=$t
			printf 'server CPU %.2fs, client %.2fs\n' "$c" \
				"$(echo "$(childcpu times1) - $(childcpu times0)" | bc)" \
				>"$work/srvcpu"
		fi
		eval "${after:-:}"
		run=$((run + 1))
	done
	printf '%.3f\n' "$b"
}
cpu() { cat "$work/srvcpu"; }
# a top hash of its own for each run of each case
top() { printf '%08d%024d' "$1" "$run"; }

bigmd5=$(md5sum <big | cut -d' ' -f1)
bigb64=$(openssl md5 -binary big | base64)

ama_small() { ama-stage-put -q --top-hash="$(top 1)" <small.recs; }
aws_small() { aws s3 cp --quiet --recursive small "s3://perf/aws$run/"; }
ama_big() { ama-stage-put -q --top-hash="$(top 2)" <big.recs; }
ama_big1() {
	AMA_TRANSFER_MULTIPART_THRESHOLD=1TiB \
		ama-stage-put -q --top-hash="$(top 3)" <big.recs
}
curl_big() {
	curl -sS --fail --config "$work/curl.conf" -T big \
		"$endpoint/perf/curlbig$run"
}
curl_big_md5() {
	curl -sS --fail --config "$work/curl.conf" -H "Content-MD5: $bigb64" \
		-T big "$endpoint/perf/curlmd5$run"
}
drop() { "$tool" s3://perf delete "$@" >/dev/null; }

# Node compiles the server's hot paths as they run: the first thousand
# requests cost it twice what later ones do. Warm it up, untimed and with
# neither client under test, so the case measured first is not the one
# that pays for it.
sed 's/^\([0-9a-f]*\) \([0-9]*\) [a-z]*	/\1 \2	/' small.recs >warm.recs
"$tool" -j "$jobs" s3://perf batch-put --prefix warm1/ <warm.recs >/dev/null
"$tool" -j "$jobs" s3://perf batch-put --prefix warm2/ <warm.recs >/dev/null

after=
t_ama_small=$(best ama_small); c_ama_small=$(cpu)
t_aws_small=$(best aws_small); c_aws_small=$(cpu)
after='drop $(top 2)/$bigmd5'
t_ama_big=$(best ama_big); c_ama_big=$(cpu)
after='drop $(top 3)/$bigmd5'
t_ama_big1=$(best ama_big1); c_ama_big1=$(cpu)
after='drop curlbig$run'
t_curl_big=$(best curl_big); c_curl_big=$(cpu)
after='drop curlmd5$run'
t_curl_md5=$(best curl_big_md5); c_curl_md5=$(cpu)
after=

# every small upload is whole, where DESIGN.md puts it
run=1
"$tool" s3://perf list "$(top 1)/" | wc -l | grep -qx "$nsmall"

# ama-exists over records that all exist: staged once, then asked about
run=1
t0=$(now)
ama-stage-put -q --top-hash="$(top 4)" <exists.recs | wc -l | grep -qx "$nexists"
t_stage_exists=$(printf '%.3f' "$(echo "$(now) - $t0" | bc)")
ex_top=$(top 4)
ama_exists() {
	ama-exists --top-hash="$ex_top" <exists.recs | grep -c '^staging ' |
		grep -qx "$nexists"
}
: >"$requests"
ama-exists --stats --top-hash="$ex_top" <exists.recs 2>"$work/stats" >/dev/null
ex_stats=$(sed 's/^ama-exists: //' "$work/stats")
ex_logged=$(wc -l <"$requests")
t_exists=$(best ama_exists); c_exists=$(cpu)
# the same question with a HEAD each, as a store without listing would ask
cut -d' ' -f1 exists.recs | sed "s|^|$ex_top/|" >exists.keys
heads() { "$tool" -j "$jobs" s3://perf batch-head <exists.keys | wc -l | grep -qx "$nexists"; }
: >"$requests"
heads
head_logged=$(wc -l <"$requests")
t_heads=$(best heads); c_heads=$(cpu)

mbs() { echo "scale=1; $bigmib * 1.048576 / $1" | bc; }
ratio() { echo "scale=2; $1 / $2" | bc | sed 's/^\./0./'; }
cat <<EOF
p0101-stage-programs (loopback S3 test server, -j $jobs, best of $runs)
small: $nsmall x 1 KiB
  ama-stage-put                      ${t_ama_small}s  $c_ama_small
  aws s3 cp --recursive              ${t_aws_small}s  $c_aws_small
  ama speed-up                       $(ratio "$t_aws_small" "$t_ama_small")x (target >= 3)
big: $bigmib MiB
  ama-stage-put (multipart)          ${t_ama_big}s  $(mbs "$t_ama_big") MB/s  $c_ama_big
  ama-stage-put (one PUT)            ${t_ama_big1}s  $(mbs "$t_ama_big1") MB/s  $c_ama_big1
  curl -T                            ${t_curl_big}s  $(mbs "$t_curl_big") MB/s  $c_curl_big
  curl -T with Content-MD5           ${t_curl_md5}s  $(mbs "$t_curl_md5") MB/s  $c_curl_md5
  ama / curl -T                      $(ratio "$t_curl_big" "$t_ama_big")x multipart, $(ratio "$t_curl_big" "$t_ama_big1")x one PUT (target >= 0.9)
  ama / curl -T with Content-MD5     $(ratio "$t_curl_md5" "$t_ama_big")x multipart, $(ratio "$t_curl_md5" "$t_ama_big1")x one PUT
exists: $nexists records, all staged (staged first in ${t_stage_exists}s)
  ama-exists                         ${t_exists}s  $c_exists
                                     $ex_stats; server log: $ex_logged
  a HEAD each (ama-store-tool)       ${t_heads}s  $c_heads
                                     server log: $head_logged requests
EOF
