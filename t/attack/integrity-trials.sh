#!/bin/sh
# integrity-trials.sh: the attacks of issue 9 (sections 1 and 2) run many
# times against ama-server, ama upload and the S3 test server. On demand,
# never by make check (minutes):
#
#   cd t && sh attack/integrity-trials.sh [-v] [-d]   (after make check)
#   AMA_TEST_TRIALS=20 (default 10) trials of each kind
#
# Each trial ends with a check of every version in remote: each object's
# remote bytes must hash to its MD5. Prints one summary line per kind:
# trials, first runs that exited 0, runs, and versions whose bytes differ.
# The concurrency of the S3 test server has its own rounds in
# t0102-s3-test-server.sh (AMA_TEST_ROUNDS=200).
test_description='integrity trials: staging swapped during the copy, forged staging, planted remote'
cd "$(dirname "$0")/.." && . ./test-lib.sh

PATH="$AMA_BUILD_DIR/t/helper:$PATH"
CONF="$TRASH_DIRECTORY/srv/server.conf"
REPO="$TRASH_DIRECTORY/srv/meta.git"
TRIALS=${AMA_TEST_TRIALS:-10}
SUMMARY="$TRASH_DIRECTORY/summary"

# the buckets with the server's key
admin() {
	AWS_SHARED_CREDENTIALS_FILE="$TRASH_DIRECTORY/srv/aws" AWS_PROFILE=server \
		AWS_ENDPOINT_URL="$S3_ENDPOINT" AWS_REGION=us-east-1 \
		ama-store-tool --role server "$@"
}
# the staging key in the hands of another user
intruder() {
	AWS_ENDPOINT_URL="$S3_ENDPOINT" AWS_REGION=us-east-1 AWS_PROFILE=staging \
		ama-store-tool "$@"
}
# a new asset of the class in folder a.$1 (entered), with one version
new_asset() {
	mkdir "a.$1" && cd "a.$1" &&
	ama init -q imaging && printf "%s" "$1" >first && ama add -q first &&
	ama upload -q -m first
}
server_up() {
	test_server_start "$CONF" AWS_SHARED_CREDENTIALS_FILE="$TRASH_DIRECTORY/srv/aws"
}
# wait (up to 20 s) for a line matching $1 in file $2
wait_for() {
	n=0
	until grep -q "$1" "$2" 2>/dev/null; do
		n=$((n + 1))
		test $n -lt 400 || return 1
		sleep 0.05
	done
}
# every version in remote of the asset here: each object's bytes are its
# MD5. Prints the number of versions whose bytes differ.
bad_versions() {
	seq=$(git config -f .ama/config asset.seq) &&
	admin s3://remote/pre list "$top/assets/$seq/" |
		sed -n "s|.*	$top/\(assets/.*\.manifest\)\$|\1|p" >manifests &&
	: >pairs &&
	while read -r mf; do
		admin s3://remote/pre get "$top/$mf" | sed "1,/^\$/d" |
			cut -d" " -f1 | sed "s|^|$mf |" >>pairs || return 1
	done <manifests &&
	: >wrong &&
	cut -d" " -f2 pairs | sort -u | while read -r m; do
		got=$(admin s3://remote/pre get "$top/contents/$m" | md5sum | cut -c1-32) &&
		{ test "$got" = "$m" || echo "$m" >>wrong; } || return 1
	done &&
	if test -s wrong; then
		grep -F -f wrong pairs | cut -d" " -f1 | sort -u | wc -l
	else
		echo 0
	fi
}

test_expect_success 'setup: S3, ama-server, a user with a staging key, an asset' '
	test_s3_start S3TS_KEYS=AMASTAGE:AMASTAGESECRET \
		"S3TS_KEY_BUCKETS=AMASTAGE=staging" staging remote &&
	mkdir srv &&
	printf "[server]\naws_access_key_id = %s\naws_secret_access_key = %s\n" \
		"$S3_KEY" "$S3_SECRET" >srv/aws &&
	chmod 600 srv/aws &&
	# a fixed port: the server killed is started again where clients find it
	port=$(test_free_port) &&
	cat >"$CONF" <<-EOF &&
	[listen]
	port = $port
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
	server_up &&
	printf "[staging]\naws_access_key_id = AMASTAGE\naws_secret_access_key = AMASTAGESECRET\n[readonly]\naws_access_key_id = %s\naws_secret_access_key = %s\n" \
		"$S3_RO_KEY" "$S3_RO_SECRET" >.aws/credentials &&
	printf "[server]\nurl = %s\n[s3]\nstaging-profile = staging\nremote-profile = readonly\n" \
		"$SERVER_URL" >.config/ama/config &&
	unset AWS_ENDPOINT_URL AWS_REGION AWS_DEFAULT_REGION &&
	new_asset first &&
	git config -f .ama/config class.top-hash >../top
'
top=$(cat top 2>/dev/null)

# One trial of the swap: the server's copy of the new content delayed, the
# staged object replaced by other bytes of its size meanwhile; $1 says
# what else goes wrong: "honoured" (the store checks
# x-amz-copy-source-if-match, as AWS does), "ignored-delete-fails" (the
# store ignores it and the take-back DELETE fails), "ignored-server-killed"
# (ignores it, and the server is killed -9 while its take-back DELETE is
# delayed, never to be done).
swap_trial() {
	i=$1 how=$2 &&
	head -c 100000 /dev/urandom >f.$how.$i &&
	head -c 100000 /dev/urandom >../forged &&
	ama add -q f.$how.$i &&
	m=$(md5_of f.$how.$i) &&
	key="/remote/pre/$top/contents/$m" &&
	case $how in
	honoured) test_s3_faults "delay 1500 PUT $key" ;;
	ignored-delete-fails) test_s3_faults "delay 1500 PUT $key" \
		"no-copy-if-match 1 PUT $key" "status 503 1 DELETE $key" ;;
	ignored-server-killed) test_s3_faults "delay 1500 PUT $key" \
		"no-copy-if-match 1 PUT $key" "delay 3000 DELETE $key" \
		"reset 1 DELETE $key" ;;
	esac &&
	: >"$S3_DATA/.s3rver.faultlog" &&
	{ AMA_TRANSFER_RETRIES=2 ama upload -q -m "swap $how $i" >/dev/null 2>>../err & } &&
	pid=$! &&
	wait_for "PUT $key delay:1500" "$S3_DATA/.s3rver.faultlog" &&
	intruder s3://staging/pre put "$top/$m" ../forged >/dev/null &&
	if test $how = ignored-server-killed; then
		wait_for "DELETE $key delay:3000" "$S3_DATA/.s3rver.faultlog" &&
		kill -9 $SERVER_PID && wait $SERVER_PID; SERVER_PID= &&
		server_up
	fi &&
	{ wait $pid; first=$?; } &&
	test_s3_faults &&
	# the rerun, as the user would (the forged bytes still staged)
	{ ama upload -q -m "swap $how $i" >/dev/null 2>>../err; rerun=$?; } &&
	echo "$how $i $first $rerun" >>../runs
}

for how in honoured ignored-delete-fails ignored-server-killed; do
	test_expect_success "swap during the copy, $how: $TRIALS trials, no wrong version" '
		new_asset '$how' &&
		i=0 &&
		while test $i -lt $TRIALS; do
			i=$((i + 1)) &&
			swap_trial $i '$how' || return 1
		done &&
		bad=$(bad_versions) &&
		ok=$(grep -c "^'$how' [0-9]* 0 " ../runs; true) &&
		okr=$(grep -c "^'$how' [0-9]* [0-9]* 0\$" ../runs; true) &&
		echo "swap, '$how': $TRIALS trials, first run exit 0: $ok, rerun exit 0: $okr, versions with wrong bytes: $bad" >>"$SUMMARY" &&
		test "$bad" = 0 && test "$okr" = $TRIALS
	'
done

test_expect_success "an object in parts forged in staging: $TRIALS trials, each published right at once" '
	new_asset forged &&
	i=0 && fails=0 &&
	while test $i -lt $TRIALS; do
		i=$((i + 1)) &&
		head -c 6291457 /dev/urandom >g$i &&
		head -c 6291457 /dev/urandom >../forged &&
		ama add -q g$i && m=$(md5_of g$i) &&
		AMA_TRANSFER_PART_SIZE=5MiB intruder s3://staging/pre put-multipart \
			--md5 $m "$top/$m" ../forged >/dev/null &&
		{
			AMA_TRANSFER_MULTIPART_THRESHOLD=5MiB AMA_TRANSFER_PART_SIZE=5MiB \
				ama upload -q -m "forged $i" 2>>../err; st=$?
		} &&
		got=$(admin s3://remote/pre get "$top/contents/$m" | md5sum | cut -c1-32) &&
		{ test $st = 0 && test "$got" = "$m" || fails=$((fails + 1)); } || return 1
	done &&
	bad=$(bad_versions) &&
	echo "forged parts in staging: $TRIALS trials, failed first runs: $fails, versions with wrong bytes: $bad" >>"$SUMMARY" &&
	test $fails = 0 && test "$bad" = 0
'

test_expect_success "bytes planted in remote (one PUT, parts): $TRIALS trials each" '
	new_asset planted &&
	i=0 && fails=0 &&
	while test $i -lt $TRIALS; do
		i=$((i + 1)) &&
		head -c 6291457 /dev/urandom >p$i && head -c 6291457 /dev/urandom >../evil &&
		head -c 1000 /dev/urandom >q$i && head -c 1000 /dev/urandom >../evilq &&
		ama add -q p$i q$i && m=$(md5_of p$i) && mq=$(md5_of q$i) &&
		AMA_TRANSFER_PART_SIZE=5MiB admin s3://remote/pre put-multipart \
			--md5 $m "$top/contents/$m" ../evil >/dev/null &&
		admin s3://remote/pre put "$top/contents/$mq" ../evilq >/dev/null &&
		{ ama upload -q -m "planted $i" 2>>../err; st=$?; } &&
		for x in $m $mq; do
			got=$(admin s3://remote/pre get "$top/contents/$x" | md5sum | cut -c1-32) &&
			{ test "$got" = "$x" || st=1; } || return 1
		done &&
		{ test $st = 0 || fails=$((fails + 1)); } || return 1
	done &&
	bad=$(bad_versions) &&
	echo "planted in remote: $TRIALS trials, failed first runs: $fails, versions with wrong bytes: $bad" >>"$SUMMARY" &&
	test $fails = 0 && test "$bad" = 0
'

test_expect_success 'summary' '
	cat "$SUMMARY" >&2
'
test_done
