#!/bin/sh
# p0100-stage.sh: staging uploads to the loopback S3 test server, ama's store
# layer against the aws CLI (many small files) and curl (one big file).
#
#   sh t/perf/p0100-stage.sh [-n RUNS] [-j JOBS] [--small N] [--big MIB]
#
# Run from the build tree (or set AMA_BUILD_DIR) after `make check` has built
# t/helper/ama-store-tool. Needs node/npm (the server), the aws CLI and curl.
# Each measurement is the best of RUNS (default 3) wall-clock times; every
# run uploads under a fresh prefix. Keys and secrets go through files and
# the environment only, never a command line: curl gets them from a
# --config file, the aws CLI from AWS_SHARED_CREDENTIALS_FILE.
# Targets: ama >= 3x faster than `aws s3 cp --recursive` on the small
# files; ama >= 0.9x curl's throughput on the big one.
set -eu

runs=3 jobs=8 nsmall=1000 bigmib=256
while [ $# -gt 0 ]; do
	case "$1" in
	-n) runs=$2; shift 2 ;;
	-j) jobs=$2; shift 2 ;;
	--small) nsmall=$2; shift 2 ;;
	--big) bigmib=$2; shift 2 ;;
	*) echo "usage: $0 [-n RUNS] [-j JOBS] [--small N] [--big MIB]" >&2; exit 2 ;;
	esac
done

here=$(cd "$(dirname "$0")" && pwd)
: "${AMA_BUILD_DIR:=$(pwd)}"
export AMA_BUILD_DIR
tool="$AMA_BUILD_DIR/t/helper/ama-store-tool"
[ -x "$tool" ] || { echo "p0100: build $tool first (make check)" >&2; exit 2; }
for cmd in aws curl node bc openssl; do
	command -v $cmd >/dev/null || { echo "p0100: $cmd is needed" >&2; exit 2; }
done

work="$AMA_BUILD_DIR/t/perf/trash.p0100"
rm -rf "$work"
mkdir -p "$work/small"
data="$work/s3-data"
stop() {
	bash "$here/../lib/s3-test-server.sh" stop "$data" >/dev/null 2>&1 || :
	rm -rf "$work"
}
trap stop EXIT
trap 'exit 130' INT TERM

key=AMATESTKEY secret=AMATESTSECRET
bash "$here/../lib/s3-test-server.sh" start 0 "$data" "$key" "$secret" >/dev/null
port=$(cat "$data/.s3rver.port")
endpoint="http://127.0.0.1:$port"

# credentials in files, for ama and the aws CLI alike
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
export AMA_TRANSFER_JOBS="$jobs"
"$tool" s3://perf mb

echo "p0100: $nsmall files of 1 KiB, one file of $bigmib MiB, best of $runs, -j $jobs" >&2
i=0
while [ $i -lt "$nsmall" ]; do
	head -c 1024 /dev/urandom >"$work/small/f$i"
	i=$((i + 1))
done
head -c $((bigmib * 1048576)) /dev/urandom >"$work/big"
for f in "$work"/small/*; do
	printf '%s -\t%s\n' "$(md5sum <"$f" | cut -d' ' -f1)" "$f"
done >"$work/records"

now() { date +%s.%N; }
# best TIME of RUNS runs of a command; each run gets $run (1, 2, ...)
best() {
	b=
	run=1
	while [ $run -le "$runs" ]; do
		t0=$(now)
		"$@" >/dev/null
		t=$(echo "$(now) - $t0" | bc)
		if [ -z "$b" ] || [ "$(echo "$t < $b" | bc)" = 1 ]; then b=$t; fi
		run=$((run + 1))
	done
	echo "$b"
}

bigmd5=$(md5sum <"$work/big" | cut -d' ' -f1)
bigb64=$(openssl md5 -binary "$work/big" | base64)

# the MD5s are known beforehand, as ama-stage-put knows them from the index
ama_small() { "$tool" -j "$jobs" s3://perf batch-put --prefix "ama$run/" <"$work/records"; }
aws_small() { aws s3 cp --quiet --recursive "$work/small" "s3://perf/aws$run/"; }
ama_big() { "$tool" -j "$jobs" s3://perf put --md5 "$bigmd5" "amabig$run" "$work/big"; }
ama_big1() { "$tool" s3://perf put --single --md5 "$bigmd5" "amaone$run" "$work/big"; }
curl_big() {
	curl -sS --fail --config "$work/curl.conf" -T "$work/big" \
		"$endpoint/perf/curlbig$run"
}
# the same check of the bytes by the store as ama asks for
curl_big_md5() {
	curl -sS --fail --config "$work/curl.conf" -H "Content-MD5: $bigb64" \
		-T "$work/big" "$endpoint/perf/curlmd5$run"
}

# the server warmed up first, untimed (see p0101): Node compiles its hot
# paths during the first thousand requests
"$tool" -j "$jobs" s3://perf batch-put --prefix warm1/ <"$work/records" >/dev/null
"$tool" -j "$jobs" s3://perf batch-put --prefix warm2/ <"$work/records" >/dev/null
t_ama_small=$(best ama_small)
t_aws_small=$(best aws_small)
t_ama_big=$(best ama_big)
t_ama_big1=$(best ama_big1)
t_curl_big=$(best curl_big)
t_curl_md5=$(best curl_big_md5)

# every upload is whole: count and sizes as listed by the store
"$tool" s3://perf list ama1/ | wc -l | grep -qx "$nsmall"
"$tool" s3://perf head amabig1 amaone1 curlbig1 curlmd51 | cut -d' ' -f1 |
	sort -u | grep -qx $((bigmib * 1048576))

mbs() { echo "scale=1; $bigmib * 1.048576 / $1" | bc; }
ratio() { echo "scale=2; $1 / $2" | bc | sed 's/^\./0./'; }
cat <<EOF
p0100-stage (loopback S3 test server, -j $jobs, best of $runs)
small: $nsmall x 1 KiB
  ama batch-put                      ${t_ama_small}s
  aws s3 cp --recursive              ${t_aws_small}s
  ama speed-up                       $(ratio "$t_aws_small" "$t_ama_small")x (target >= 3)
big: $bigmib MiB
  ama put (multipart, -j $jobs)          ${t_ama_big}s  $(mbs "$t_ama_big") MB/s
  ama put --single (one PUT)         ${t_ama_big1}s  $(mbs "$t_ama_big1") MB/s
  curl -T                            ${t_curl_big}s  $(mbs "$t_curl_big") MB/s
  curl -T with Content-MD5           ${t_curl_md5}s  $(mbs "$t_curl_md5") MB/s
  ama / curl -T                      $(ratio "$t_curl_big" "$t_ama_big")x multipart, $(ratio "$t_curl_big" "$t_ama_big1")x single (target >= 0.9)
  ama / curl -T with Content-MD5     $(ratio "$t_curl_md5" "$t_ama_big")x multipart, $(ratio "$t_curl_md5" "$t_ama_big1")x single
EOF
