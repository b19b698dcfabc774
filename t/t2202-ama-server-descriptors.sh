#!/bin/sh
test_description='ama-server: descriptors bounded by its configuration, not by its history; a small ulimit -n, idle connections, a quiet log'
. ./test-lib.sh

PATH="$AMA_BUILD_DIR/t/helper:$PATH"
CONF="$TRASH_DIRECTORY/srv/server.conf"
REPO="$TRASH_DIRECTORY/srv/meta.git"
VERSIONS=${AMA_TEST_VERSIONS:-60}	# the issue's figure: 500
UPLOADERS=8
ROUNDS=${AMA_TEST_ROUNDS:-4}		# the issue's figure: 20

# the descriptors the server has open
fds() {
	ls /proc/$SERVER_PID/fd | wc -l
}

# until_fds_at_most N: wait (at most 30 s: idle store handles close
# after [transfer] keep-idle, 2 s here) until the server has at most N
# descriptors
until_fds_at_most() {
	n=0
	while test "$(fds)" -gt "$1"; do
		test $n -lt 300 || { echo "$(fds) descriptors, want <= $1"; return 1; }
		sleep 0.1
		n=$((n + 1))
	done
	echo "$(fds) descriptors after $((n / 10)) s (at most $1)"
}

# start_limited N CONF: start ama-server as test_server_start does, with
# at most N descriptors (soft and hard: the server raises soft to hard)
start_limited() {
	rm -f "$TRASH_DIRECTORY/.server.port"
	AWS_SHARED_CREDENTIALS_FILE="$TRASH_DIRECTORY/srv/aws" \
		prlimit --nofile="$1:$1" -- ama-server --config "$2" \
		--port-file "$TRASH_DIRECTORY/.server.port" \
		>/dev/null 2>>"$SERVER_LOG" </dev/null &
	SERVER_PID=$!
	n=0
	while ! test -s "$TRASH_DIRECTORY/.server.port"; do
		kill -0 "$SERVER_PID" 2>/dev/null || return 1
		test "$n" -lt 400 || return 1
		sleep 0.05
		n=$((n + 1))
	done
	SERVER_PORT=$(cat "$TRASH_DIRECTORY/.server.port")
	SERVER_URL="http://127.0.0.1:$SERVER_PORT"
}

# idle.py PORT N: open N connections that send nothing, print "open",
# hold them until stdin closes
cat >idle.py <<\EOF
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
held = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
print("open", flush=True)
sys.stdin.read()
for s in held:
    s.close()
EOF

test_expect_success 'setup: S3, ama-server, a user with a staging key and a read-only key' '
	test_s3_start S3TS_KEYS=AMASTAGE:AMASTAGESECRET \
		"S3TS_KEY_BUCKETS=AMASTAGE=staging" staging remote &&
	mkdir srv &&
	printf "[server]\naws_access_key_id = %s\naws_secret_access_key = %s\n" \
		"$S3_KEY" "$S3_SECRET" >srv/aws &&
	chmod 600 srv/aws &&
	cat >"$CONF" <<-EOF &&
	[listen]
	port = 0
	threads = 4
	[store]
	remote = s3://remote/pre
	staging = s3://staging/pre
	[s3]
	endpoint = $S3_ENDPOINT
	region = us-east-1
	server-profile = server
	[repository]
	path = $REPO
	[auth]
	tokens = $TRASH_DIRECTORY/srv/tokens
	[transfer]
	keep-idle = 2
	EOF
	mkdir -p .config/ama &&
	ama-server --config "$CONF" token add alice >.config/ama/token 2>/dev/null &&
	chmod 600 .config/ama/token &&
	printf "Authorization: Bearer %s\n" "$(cat .config/ama/token)" >hdr &&
	test_server_start "$CONF" AWS_SHARED_CREDENTIALS_FILE="$TRASH_DIRECTORY/srv/aws" &&
	printf "[staging]\naws_access_key_id = AMASTAGE\naws_secret_access_key = AMASTAGESECRET\n[readonly]\naws_access_key_id = %s\naws_secret_access_key = %s\n" \
		"$S3_RO_KEY" "$S3_RO_SECRET" >.aws/credentials &&
	printf "[server]\nurl = %s\n[s3]\nstaging-profile = staging\nremote-profile = readonly\n" \
		"$SERVER_URL" >.config/ama/config &&
	unset AWS_ENDPOINT_URL AWS_REGION AWS_DEFAULT_REGION &&
	fds >start &&
	echo "$(cat start) descriptors at start"
'

test_expect_success "setup: $VERSIONS versions of one asset, each in a pack of its own" '
	mkdir a && cd a &&
	ama init -q imaging &&
	i=0 && while test $i -lt $VERSIONS; do
		echo "version $i" >f$((i % 7)) &&
		ama add -q . && ama upload -q -m "v$i" >/dev/null || return 1
		i=$((i + 1))
	done &&
	git --git-dir="$REPO" rev-list --count refs/ama/imaging/1 >actual &&
	echo $VERSIONS >expect && test_cmp expect actual
'
test_expect_success "reading $VERSIONS versions back: descriptors within 2x those at start" '
	until_fds_at_most $((2 * $(cat start))) &&
	curl -sf -H @hdr "$SERVER_URL/v1/classes/imaging/assets/1/versions" |
		jq -r ".versions[].version" >versions &&
	test $(wc -l <versions) = $VERSIONS &&
	while read -r v; do
		curl -sf -o /dev/null -H @hdr \
			"$SERVER_URL/v1/classes/imaging/assets/1/versions/$v/manifest" || return 1
	done <versions &&
	fds >after &&
	echo "$(cat after) descriptors after reading, $(cat start) at start" &&
	test $(cat after) -le $((2 * $(cat start))) &&
	ls -l /proc/$SERVER_PID/fd | grep -c "\.pack$" >packs &&
	echo "$(cat packs) packs open" &&
	test $(cat packs) -le 16
'

test_expect_success "$UPLOADERS uploaders x $ROUNDS uploads at once: descriptors back within 2x those at start" '
	i=1 && while test $i -le $UPLOADERS; do
		mkdir u$i && (cd u$i && ama init -q imaging) || return 1
		i=$((i + 1))
	done &&
	cat >uploader.sh <<-\EOF &&
	cd "$1" || exit 1
	r=0
	while test $r -lt "$2"; do
		echo "$1 round $r" >"f$r" && printf "%04d" $r >>common &&
		ama add -q . && ama upload -q -m "r$r" >/dev/null 2>>err || exit 1
		r=$((r + 1))
	done
	EOF
	pids= &&
	i=1 && while test $i -le $UPLOADERS; do
		sh uploader.sh u$i $ROUNDS &
		pids="$pids $!"
		i=$((i + 1))
	done &&
	peak=0 && while kill -0 $pids 2>/dev/null; do
		n=$(fds) && test $n -gt $peak && peak=$n
		sleep 0.1
	done &&
	wait $pids &&
	cat u*/err >errs && test_must_be_empty errs &&
	echo "at most $peak descriptors during the uploads" &&
	i=1 && while test $i -le $UPLOADERS; do
		ama-client-tool versions imaging $i >/dev/null || return 1
		i=$((i + 1))
	done &&
	until_fds_at_most $((2 * $(cat start)))
'
test_expect_success '... and no store connection is left in CLOSE-WAIT' '
	sleep 1 &&
	ls -l /proc/$SERVER_PID/fd | sed -n "s/.*socket:\[\([0-9]*\)\]$/\1/p" | sort >inodes &&
	awk "\$4 == \"08\" { print \$10 }" /proc/$SERVER_PID/net/tcp | sort >closewait &&
	comm -12 inodes closewait >actual &&
	test_must_be_empty actual
'

test_expect_success 'a small ulimit -n: a configuration whose work does not fit is refused' '
	test_server_stop &&
	test_exit_code 2 prlimit --nofile=64:64 -- ama-server --config "$CONF" 2>err &&
	echo "ama-server: $CONF: 64 descriptors (ulimit -n) are too few: the work this configuration allows needs 760 and leaves 0 for connections, not 4; raise the limit, or lower [listen] threads, [limits] commits or [transfer] jobs" >expect &&
	test_cmp expect err
'
test_expect_success '... one that fits serves, its connections bounded below the limit' '
	sed "s/^threads = 4$/threads = 2/" "$CONF" >small.conf &&
	cat >>small.conf <<-\EOF &&
	jobs = 1
	[limits]
	commits = 1
	[repository]
	open-packs = 4
	EOF
	tail -n 7 small.conf | head -n 3 >actual &&
	printf "[transfer]\nkeep-idle = 2\njobs = 1\n" >expect &&
	test_cmp expect actual &&
	: >"$SERVER_LOG" &&
	start_limited 64 small.conf &&
	printf "[server]\nurl = %s\n[s3]\nstaging-profile = staging\nremote-profile = readonly\n" \
		"$SERVER_URL" >.config/ama/config &&
	curl -sf -o /dev/null -H @hdr "$SERVER_URL/v1/classes" &&
	cd a && echo "small" >f0 && ama add -q f0 && ama upload -q -m small >/dev/null
'
test_expect_success '... idle connections beyond the limit wait; the log stays quiet; served again once they close' '
	: >"$SERVER_LOG" &&
	mkfifo hold &&
	{ python3 idle.py $SERVER_PORT 60 <hold >idle.out & } &&
	exec 8>hold &&
	n=0 && until test -s idle.out; do sleep 0.1; n=$((n + 1)); test $n -lt 100 || return 1; done &&
	{ curl -s -o body -w "%{http_code}\n" -H @hdr "$SERVER_URL/v1/classes" >status 8>&- & } &&
	curl_pid=$! &&
	sleep 5 &&
	kill -0 $curl_pid &&
	fds >during &&
	echo "$(cat during) descriptors with 60 idle connections, at most 64" &&
	test $(cat during) -lt 64 &&
	exec 8>&- &&
	wait $curl_pid &&
	echo 200 >expect && test_cmp expect status &&
	wc -c <"$SERVER_LOG" >size &&
	echo "the log grew $(cat size) bytes" &&
	test $(cat size) -lt 4096
'
test_expect_success '... and when descriptors run out, the log says so once a second' '
	: >"$SERVER_LOG" &&
	now=$(fds) &&
	prlimit --pid $SERVER_PID --nofile=$((now + 2)):64 &&
	mkfifo hold2 &&
	{ python3 idle.py $SERVER_PORT 40 <hold2 >idle2.out & } &&
	exec 8>hold2 &&
	n=0 && until test -s idle2.out; do sleep 0.1; n=$((n + 1)); test $n -lt 100 || return 1; done &&
	sleep 5 &&
	wc -c <"$SERVER_LOG" >size &&
	echo "the log grew $(cat size) bytes in 5 s" &&
	cat "$SERVER_LOG" | cut -c1-150 | head &&
	grep "resource limit" "$SERVER_LOG" &&
	test $(cat size) -lt $((1048576 / 12)) &&
	exec 8>&- &&
	prlimit --pid $SERVER_PID --nofile=64:64 &&
	n=0 && until curl -sf -o /dev/null -H @hdr "$SERVER_URL/v1/classes"; do
		sleep 0.2; n=$((n + 1)); test $n -lt 50 || return 1
	done
'
test_done
