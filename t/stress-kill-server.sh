#!/bin/sh
# stress-kill-server.sh: kill -9 of ama-server at random moments of an upload.
# Not part of make check (minutes, and random): run it by hand from t/,
#     cd t && TRIALS=40 sh stress-kill-server.sh -v
# Each trial adds six files, starts ama upload against ama-server and the
# S3 test server (the server's copies slowed down a little, so that kills
# land in commits too), kills the server (kill -9) at a random moment
# within the time a whole upload takes (with MID_COMMIT=1: within 400 ms of
# the server's first copy into remote), lets the upload end, restarts the
# server and reruns the upload. It checks that no run exits 0 with more
# than lock takeovers on stderr (half a job is not success), that the rerun
# exits 0, that the trial made exactly one version and that every file is
# committed.
test_description='stress: kill -9 of ama-server at random moments of an upload'
. ./test-lib.sh

TRIALS=${TRIALS:-40}
PATH="$AMA_BUILD_DIR/t/helper:$PATH"
CONF="$TRASH_DIRECTORY/srv/server.conf"
REPO="$TRASH_DIRECTORY/srv/meta.git"

versions_of() {
	git --git-dir="$REPO" rev-list --count refs/ama/imaging/1 2>/dev/null ||
		echo 0
}
new_files() {
	for f in 1 2 3 4 5 6; do
		head -c $(( (f % 3) * 1048576 + $(shuf -i 1024-4096 -n 1) )) \
			/dev/urandom >t$1-$f || return 1
	done
	ama add -q t$1-*
}
now_ms() {
	date +%s%3N
}
start_server() {
	test_server_start "$CONF" AWS_SHARED_CREDENTIALS_FILE="$TRASH_DIRECTORY/srv/aws"
}
# only lock takeovers: a run that exited 0 said nothing else
clean_err() {
	! grep -v "took over the lock" "$1" >/dev/null
}

test_expect_success 'setup: S3, ama-server on a fixed port, an asset published once' '
	test_s3_start staging remote &&
	mkdir srv &&
	printf "[server]\naws_access_key_id = %s\naws_secret_access_key = %s\n" \
		"$S3_KEY" "$S3_SECRET" >srv/aws &&
	chmod 600 srv/aws &&
	cat >"$CONF" <<-EOF &&
	[listen]
	port = $(test_free_port)
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
	EOF
	mkdir -p .config/ama &&
	ama-server --config "$CONF" token add alice >.config/ama/token 2>/dev/null &&
	chmod 600 .config/ama/token &&
	start_server &&
	printf "[server]\nurl = %s\n" "$SERVER_URL" >.config/ama/config &&
	mkdir asset && cd asset && ama init -q imaging &&
	printf first >first && ama add -q first && ama upload -q -m first &&
	test_s3_faults "delay 100 1 PUT /remote/" &&
	new_files 0 && t0=$(now_ms) && ama upload -q -j 4 -m t0 && t1=$(now_ms) &&
	test_s3_faults &&
	echo $((t1 - t0)) >../upload-ms &&
	say "an upload takes $((t1 - t0)) ms"
'
test_expect_success "kill -9 of the server at random moments: $TRIALS trials" '
	cd asset &&
	window=$(cat ../upload-ms) &&
	: >../trials &&
	bad=0 && i=0 &&
	while test $i -lt $TRIALS; do
		i=$((i + 1))
		new_files $i || return 1
		test_s3_faults "delay 100 1 PUT /remote/" &&
		before=$(versions_of) &&
		at=$(shuf -i 0-$window -n 1) &&
		start=$(wc -l <"$S3_REQUESTS") &&
		{ ama upload -j 4 -m "t$i" >out1 2>err1 & } &&
		cpid=$! &&
		if test "${MID_COMMIT:-}"; then
			: from the first copy of the server into remote &&
			n=0 &&
			until tail -n +$((start + 1)) "$S3_REQUESTS" | grep -q "^PUT /remote/"; do
				test $n -lt 500 || break
				sleep 0.01
				n=$((n + 1))
			done &&
			at=$(shuf -i 0-400 -n 1)
		fi &&
		sleep $(awk -v r=$at "BEGIN { print r / 1000 }") &&
		kill -9 $SERVER_PID && wait $SERVER_PID 2>/dev/null
		SERVER_PID=
		wait $cpid; c1=$?
		test_s3_faults &&
		start_server || return 1
		ama upload -m "t$i" >out2 2>err2; c2=$?
		after=$(versions_of)
		pending=$(ama-ls-files | grep -vc " committed	")
		verdict=ok
		test $c1 != 0 || clean_err err1 || verdict=FAIL
		test $c2 = 0 && clean_err err2 || verdict=FAIL
		test $((after - before)) = 1 || verdict=FAIL
		test "$pending" = 0 || verdict=FAIL
		test $verdict = ok || bad=$((bad + 1))
		echo "trial $i: $verdict kill-at=${at}ms first=$c1 rerun=$c2 versions=+$((after - before)) pending=$pending err1=$(tr "\n" "|" <err1) err2=$(tr "\n" "|" <err2)" >>../trials
	done &&
	cat ../trials &&
	echo "trials: $TRIALS, failures: $bad" &&
	test $bad = 0
'
test_done
