#!/bin/sh
# p2200-server-limits.sh: ama-server's resources at the figures of issue 9,
# too slow for make check (t2201 and t2202 run them scaled down):
#   descriptors   t2202 with 500 versions read and 8 uploaders x 20 uploads
#   memory        16 commits of the largest default size (256 MiB bodies,
#                 [limits] memory 1 GiB) sent at once: the server's peak RSS
#   log           ulimit -n 40, 40 idle connections held for a minute: the
#                 log's growth; then a request once they close
#
#   sh t/perf/p2200-server-limits.sh [--no-descriptors] [--no-memory] [--no-log]
#
# Run from the build tree (or set AMA_BUILD_DIR) after `make check`. Needs
# node/npm (the S3 test server, for the descriptors), python3, curl, jq and
# prlimit. Memory: the commits go to a class that does not exist, so each
# body is read, parsed into its object list and refused (404): the part of
# a commit whose memory grows with its body.
set -eu

desc=1 mem=1 log=1
while [ $# -gt 0 ]; do
	case "$1" in
	--no-descriptors) desc=0; shift ;;
	--no-memory) mem=0; shift ;;
	--no-log) log=0; shift ;;
	*) echo "usage: $0 [--no-descriptors] [--no-memory] [--no-log]" >&2
	   exit 2 ;;
	esac
done

here=$(cd "$(dirname "$0")" && pwd)
: "${AMA_BUILD_DIR:=$(pwd)}"
export AMA_BUILD_DIR
server="$AMA_BUILD_DIR/server/ama-server"
[ -x "$server" ] || { echo "p2200: build $server first" >&2; exit 2; }
for cmd in python3 curl jq prlimit; do
	command -v $cmd >/dev/null || { echo "p2200: $cmd is needed" >&2; exit 2; }
done

work="$AMA_BUILD_DIR/t/perf/trash.p2200"
rm -rf "$work"
mkdir -p "$work"
pid=
stop() {
	[ -z "$pid" ] || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || :; }
	rm -rf "$work"
}
trap stop EXIT
trap 'exit 130' INT TERM

# start CONF [NOFILE]: ama-server on file:// buckets under $work
start() {
	rm -f "$work/port"
	if [ -n "${2:-}" ]; then
		prlimit --nofile="$2:$2" -- "$server" --config "$1" \
			--port-file "$work/port" 2>>"$work/log" &
	else
		"$server" --config "$1" --port-file "$work/port" 2>>"$work/log" &
	fi
	pid=$!
	n=0
	while ! [ -s "$work/port" ]; do
		kill -0 "$pid" 2>/dev/null || { cat "$work/log" >&2; exit 1; }
		n=$((n + 1)); [ $n -lt 200 ] || exit 1
		sleep 0.05
	done
	url="http://127.0.0.1:$(cat "$work/port")"
}
conf() { # FILE [EXTRA]
	cat >"$1" <<-EOF
	[listen]
	port = 0
	[store]
	remote = file://$work/remote
	staging = file://$work/staging
	[repository]
	path = $work/meta.git
	[auth]
	tokens = $work/tokens
	${2:-}
	EOF
}

if [ "$desc" = 1 ]; then
	echo "== descriptors: 500 versions read, 8 uploaders x 20 uploads (t2202)"
	(cd "$here/.." && AMA_TEST_VERSIONS=500 AMA_TEST_ROUNDS=20 \
		sh t2202-ama-server-descriptors.sh -v 2>&1) |
		grep -E "^(ok|not ok) |descriptors|packs open|log grew"
fi

if [ "$mem" = 1 ]; then
	echo "== memory: 16 commits of 256 MiB at once, [limits] memory = 1GiB"
	echo "   (curl --retry: each 503 is sent again after its Retry-After)"
	conf "$work/mem.conf" "[limits]
commit-wait = 3600"
	"$server" --config "$work/mem.conf" token add alice >"$work/token" 2>/dev/null
	printf "Authorization: Bearer %s\n" "$(cat "$work/token")" >"$work/hdr"
	# 5,592,000 objects of 48 bytes: 268,416,040 bytes, the 256 MiB limit
	python3 - "$work/big.json" <<-\EOF
	import sys
	n = 5592000
	with open(sys.argv[1], "w") as f:
	    f.write('{"parent":null,"message":"","objects":"')
	    for i in range(0, n, 100000):
	        f.write("".join("%032x 1\\tf%08d\\n" % (k, k)
	                        for k in range(i, min(n, i + 100000))))
	    f.write('"}')
	EOF
	ls -l "$work/big.json" | awk '{ print "body: " $5 " bytes" }'
	start "$work/mem.conf"
	base=$(awk '/^VmHWM:/ { print $2 }' /proc/$pid/status)
	t0=$(date +%s)
	i=0
	pids=
	while [ $i -lt 16 ]; do
		curl -s -o "$work/out$i" -w "%{http_code}\n" -H @"$work/hdr" \
			--retry 1000 --retry-max-time 1800 \
			--data-binary @"$work/big.json" \
			"$url/v1/classes/nosuch/assets/1/commits" >"$work/status$i" \
			2>"$work/curlerr$i" || echo "curl: $?" >>"$work/status$i" &
		pids="$pids $!"
		i=$((i + 1))
	done
	wait $pids || :
	peak=$(awk '/^VmHWM:/ { print $2 }' /proc/$pid/status)
	echo "answers: $(cat "$work"/status* | sort | uniq -c | tr '\n' ' ')"
	echo "peak RSS: $((base / 1024)) MiB idle, $((peak / 1024)) MiB with the 16 ($(($(date +%s) - t0)) s)"
	kill "$pid"; wait "$pid" 2>/dev/null || :; pid=
	cat "$work"/status* | sort | uniq -c
	rm -f "$work/big.json"
fi

if [ "$log" = 1 ]; then
	echo "== log: ulimit -n 40, 40 idle connections for 60 s"
	conf "$work/small.conf" "[limits]
commits = 1
[transfer]
jobs = 1
[repository]
open-packs = 2"
	sed -i "s/^port = 0$/port = 0\nthreads = 1/" "$work/small.conf"
	[ -s "$work/token" ] ||
		"$server" --config "$work/small.conf" token add alice >"$work/token" 2>/dev/null
	printf "Authorization: Bearer %s\n" "$(cat "$work/token")" >"$work/hdr"
	: >"$work/log"
	start "$work/small.conf" 40
	python3 - "$(cat "$work/port")" <<-\EOF &
	import socket, sys, time
	held = [socket.create_connection(("127.0.0.1", int(sys.argv[1])))
	        for _ in range(40)]
	time.sleep(60)
	EOF
	holder=$!
	sleep 1
	echo "descriptors with 40 idle connections: $(ls /proc/$pid/fd | wc -l) (limit 40)"
	wait $holder
	echo "log after 60 s: $(wc -c <"$work/log") bytes"
	t0=$(date +%s)
	code=$(curl -s -o /dev/null -w "%{http_code}" -H @"$work/hdr" "$url/v1/classes")
	echo "a request once they closed: $code in $(($(date +%s) - t0)) s"
fi
