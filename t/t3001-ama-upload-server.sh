#!/bin/sh
test_description='ama upload through ama-server and the S3 test server: a staging key, a read-only key, kills, tampering'
. ./test-lib.sh

PATH="$AMA_BUILD_DIR/t/helper:$PATH"
CONF="$TRASH_DIRECTORY/srv/server.conf"
REPO="$TRASH_DIRECTORY/srv/meta.git"

# the buckets as the server sees them, with its key (never the user's)
admin() {
	AWS_SHARED_CREDENTIALS_FILE="$TRASH_DIRECTORY/srv/aws" AWS_PROFILE=server \
		AWS_ENDPOINT_URL="$S3_ENDPOINT" AWS_REGION=us-east-1 \
		ama-store-tool --role server "$@"
}

# mark: remember where the S3 request log ends; since: the lines after it
mark() {
	wc -l <"$S3_REQUESTS" >"$TRASH_DIRECTORY/.mark"
}
since() {
	tail -n +$(($(cat "$TRASH_DIRECTORY/.mark") + 1)) "$S3_REQUESTS"
}
# staging PUTs since the mark, sorted: "<md5> <key>" per line
staging_puts() {
	since | sed -n "s|^PUT /staging/pre/[0-9a-f]*/\([0-9a-f]*\) 200 \(.*\)\$|\1 \2|p" | sort
}
# wait_for CMD...: until CMD succeeds, for at most 10 seconds
wait_for() {
	n=0
	until "$@"; do
		test $n -lt 200 || { say "wait_for: gave up on: $*" >&2; return 1; }
		sleep 0.05
		n=$((n + 1))
	done
}
logged() {
	since | grep -q "$1"
}
# the number of versions of imaging/SEQ in the server's repository
versions_of() {
	git --git-dir="$REPO" rev-list --count "refs/ama/imaging/$1"
}
versions_are() {
	test "$(versions_of "$1")" = "$2"
}

test_expect_success 'setup: S3, ama-server with the full key, a user with a staging key and a read-only key' '
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
	EOF
	mkdir -p .config/ama &&
	ama-server --config "$CONF" token add alice >.config/ama/token 2>/dev/null &&
	chmod 600 .config/ama/token &&
	test_server_start "$CONF" AWS_SHARED_CREDENTIALS_FILE="$TRASH_DIRECTORY/srv/aws" &&
	printf "[staging]\naws_access_key_id = AMASTAGE\naws_secret_access_key = AMASTAGESECRET\n[readonly]\naws_access_key_id = %s\naws_secret_access_key = %s\n" \
		"$S3_RO_KEY" "$S3_RO_SECRET" >.aws/credentials &&
	printf "[server]\nurl = %s\n[s3]\nstaging-profile = staging\nremote-profile = readonly\n" \
		"$SERVER_URL" >.config/ama/config &&
	unset AWS_ENDPOINT_URL AWS_REGION AWS_DEFAULT_REGION
'

test_expect_success 'setup: an asset of hostile names, two files alike' '
	mkdir asset && cd asset &&
	ama init -q imaging &&
	printf "plain" >plain &&
	printf "tab" >"a	tab" &&
	printf "newline" >"new
line" &&
	printf "quote" >"q\"uote" &&
	printf "backslash" >"back\\slash" &&
	printf "dash" >-dash &&
	printf "latin1" >"$(printf "l\351")" &&
	mkdir d && printf "plain" >d/same &&
	ama add -q . &&
	printf "[asset]\nclass = imaging\n" >expect &&
	test_cmp expect .ama/config
'
test_expect_success 'a deleted and a modified file stop the upload before anything is asked' '
	cd asset &&
	mark && mv -- -dash ../keep && printf "PLAIN" >plain &&
	test_exit_code 1 ama upload -m x >out 2>err &&
	mv ../keep ./-dash && printf "plain" >plain &&
	test_must_be_empty out &&
	cat >expect <<-\EOF &&
	ama-upload: -dash: deleted; run: ama remove ./-dash
	ama-upload: plain: modified since added; run: ama add plain
	ama-upload: nothing sent: 1 deleted, 1 modified; fix them first
	EOF
	test_cmp expect err &&
	since >actual &&
	test_must_be_empty actual &&
	echo "ama-server: listening on $SERVER_URL" >expect &&
	test_cmp expect "$SERVER_LOG"
'

test_expect_success 'the first upload: 0.0.0, each content sent once with the staging key' '
	cd asset &&
	mark &&
	ama upload -m "first light" >out 2>err &&
	echo "published imaging/1 version 0.0.0" >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	for f in plain "a	tab" "new
line" "q\"uote" "back\\slash" -dash "$(printf "l\351")"; do
		echo "$(md5_of "$f") AMASTAGE" || return 1
	done | sort >expect &&
	staging_puts >actual &&
	test_cmp expect actual
'
test_expect_success '.ama/config: the number, the version, what the server said of the class' '
	cd asset &&
	git config -f .ama/config class.top-hash >../top &&
	claim=$(git config -f .ama/config asset.claim) &&
	echo "$claim" | grep -x "[0-9a-f]\{32\}" &&
	cat >expect <<-EOF &&
	[asset]
	class = imaging
	claim = $claim
	seq = 1
	version = 0.0.0
	[class]
	top-hash = $(cat ../top)
	staging = s3://staging/pre
	remote = s3://remote/pre
	s3-endpoint = $S3_ENDPOINT
	s3-region = us-east-1
	EOF
	test_cmp expect .ama/config
'
test_expect_success 'every entry is committed; remote holds the manifest of every name' '
	cd asset &&
	ama-ls-files >listed &&
	sed -n "s/^[0-9a-f]* [0-9]* \([a-z]*\)	.*/\1/p" listed | sort -u >actual &&
	echo committed >expect &&
	test_cmp expect actual &&
	admin s3://remote/pre get "$(cat ../top)/assets/1/0.0.0.manifest" >manifest &&
	sed "1,/^\$/d" manifest >actual &&
	sed "s/^\([0-9a-f]* [0-9]*\) [a-z]*	/\1	/" listed >expect &&
	test_cmp expect actual &&
	sed -n "s/^author //p;s/^message //p" manifest >actual &&
	printf "alice\nfirst light\n" >expect &&
	test_cmp expect actual
'
test_expect_success '... and staging is drained by the server' '
	admin s3://staging/pre list >actual &&
	test_must_be_empty actual
'
test_expect_success 'ama versions: the token'"'"'s user is the author' '
	cd asset &&
	ama versions | sed "s/ [0-9-]* [0-9:]* UTC / TIME /" >actual &&
	echo "* 0.0.0    TIME  alice  first light" >expect &&
	test_cmp expect actual
'

test_expect_success 'nothing changed: no version, no request at all' '
	cd asset &&
	mark && cp "$SERVER_LOG" server.log.before &&
	ama upload -m again >out 2>err &&
	echo "nothing to publish: imaging/1 is at version 0.0.0" >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	since >actual &&
	test_must_be_empty actual &&
	test_cmp server.log.before "$SERVER_LOG" &&
	versions_are 1 1
'
test_expect_success 'one changed file: 0.0.1, exactly its content sent' '
	cd asset &&
	printf "plain, changed" >plain && ama add -q plain &&
	mark &&
	ama upload -m "one change" >out 2>err &&
	echo "published imaging/1 version 0.0.1" >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	echo "$(md5_of plain) AMASTAGE" >expect &&
	staging_puts >actual &&
	test_cmp expect actual &&
	versions_are 1 2
'
test_expect_success 'a second asset sharing content sends nothing for it' '
	mkdir asset2 && cd asset2 &&
	ama init -q imaging &&
	printf "plain, changed" >shared && printf "own" >own &&
	ama add -q . &&
	mark &&
	ama upload -m "second asset" >out 2>err &&
	echo "published imaging/2 version 0.0.0" >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	echo "$(md5_of own) AMASTAGE" >expect &&
	staging_puts >actual &&
	test_cmp expect actual
'

test_expect_success 'kill -9 of ama upload during staging' '
	cd asset &&
	for i in 1 2 3 4; do printf "killed while staging $i" >k$i || return 1; done &&
	ama add -q k1 k2 k3 k4 &&
	test_s3_faults "delay 500 1 PUT /staging/" &&
	mark &&
	{ setsid ama upload -j 1 -m "after a kill" >out 2>err & } &&
	pid=$! &&
	wait_for logged "^PUT /staging/.* 200 AMASTAGE\$" &&
	kill -9 -$pid &&
	test_exit_code 137 wait $pid &&
	test_s3_faults &&
	# let the PUT under way end, answered or not
	sleep 0.7 &&
	test_must_be_empty out &&
	versions_are 1 2 &&
	admin s3://staging/pre list | sed "s|.*/||" | sort >../staged &&
	for i in 1 2 3 4; do md5_of k$i || return 1; done | sort >../all &&
	comm -13 ../staged ../all >../unstaged &&
	test -s ../staged && test -s ../unstaged
'
test_expect_success '... the rerun sends only what was not staged and makes one version' '
	cd asset &&
	mark &&
	ama upload -m "after a kill" >out 2>err &&
	echo "published imaging/1 version 0.0.2" >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	staging_puts | cut -d" " -f1 >actual &&
	test_cmp ../unstaged actual &&
	versions_are 1 3 &&
	ama-ls-files k1 k2 k3 k4 | cut -f1 | cut -d" " -f3 | sort -u >actual &&
	echo committed >expect &&
	test_cmp expect actual
'

test_expect_success 'kill -9 between the commit request and its answer' '
	cd asset &&
	printf "the answer was lost" >lost && ama add -q lost &&
	top=$(cat ../top) &&
	test_s3_faults "delay 1500 1 PUT /remote/pre/$top/assets/" &&
	mark &&
	{ setsid ama upload -m "answer lost" >out 2>err & } &&
	pid=$! &&
	wait_for logged "^PUT /remote/pre/$top/contents/$(md5_of lost) 200 $S3_KEY\$" &&
	kill -9 -$pid &&
	test_exit_code 137 wait $pid &&
	test_must_be_empty out &&
	wait_for versions_are 1 4 &&
	test_s3_faults &&
	git config -f .ama/config asset.version >actual &&
	echo 0.0.2 >expect &&
	test_cmp expect actual
'
test_expect_success '... the rerun prints the version the server made, and makes none' '
	cd asset &&
	mark &&
	ama upload -m "answer lost" >out 2>err &&
	echo "published imaging/1 version 0.0.3" >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	staging_puts >actual &&
	test_must_be_empty actual &&
	versions_are 1 4 &&
	git config -f .ama/config asset.version >actual &&
	echo 0.0.3 >expect &&
	test_cmp expect actual
'

test_expect_success 'a staging object tampered with before the commit: sent again, published' '
	cd asset &&
	printf "genuine" >t1 && printf "forged!" >../forged && ama add -q t1 &&
	top=$(cat ../top) && m=$(md5_of t1) &&
	test_s3_faults "delay 1000 1 HEAD,GET /staging" &&
	mark &&
	{ ama upload -m tampered >out 2>err & } &&
	pid=$! &&
	wait_for logged "^PUT /staging/pre/$top/$m 200 AMASTAGE\$" &&
	admin s3://staging/pre put "$top/$m" ../forged >/dev/null &&
	test_exit_code 0 wait $pid &&
	test_s3_faults &&
	echo "published imaging/1 version 0.0.4" >expect &&
	test_cmp expect out &&
	cat >expect <<-\EOF &&
	ama-commit: t1: staged bytes do not match the recorded MD5
	ama-commit: refused: 1 object not verified
	ama-upload: sending the 1 refused object again
	EOF
	test_cmp expect err &&
	# the user, the intruder (with the full key here), the user again
	printf "%s AMASTAGE\n%s AMASTAGE\n%s $S3_KEY\n" $m $m $m >expect &&
	staging_puts >actual &&
	test_cmp expect actual &&
	admin s3://remote/pre get "$top/contents/$m" >actual &&
	test_cmp t1 actual &&
	versions_are 1 5
'

test_expect_success 'progress on a terminal, none with -q' '
	cd asset &&
	printf "progress" >p1 && ama add -q p1 &&
	test_s3_faults "delay 300 1 PUT /staging/" &&
	script -qec "ama upload -m progress" /dev/null >tty.out </dev/null &&
	printf "quiet" >p2 && ama add -q p2 &&
	script -qec "ama upload -q -m quiet" /dev/null >tty.q </dev/null &&
	test_s3_faults &&
	sed "s/\x1b\[K//g" tty.out | tr "\r" "\n" | grep -v "^\$" >lines &&
	tail -n 2 lines | sed "s|, [0-9.]* [KMG]*i*B/s, [0-9.]* s\$|, RATE, TIME|" >actual &&
	cat >expect <<-\EOF &&
	staging: 1/1 files, 8 B/8 B, RATE, TIME
	published imaging/1 version 0.0.5
	EOF
	test_cmp expect actual &&
	test_must_be_empty tty.q &&
	versions_are 1 7
'

test_expect_success 'git log of the server'"'"'s repository: the versions, their messages' '
	git --git-dir="$REPO" log --all --format="%an %s" >actual &&
	cat >expect <<-\EOF &&
	alice quiet
	alice progress
	alice tampered
	alice answer lost
	alice after a kill
	alice second asset
	alice one change
	alice first light
	EOF
	test_cmp expect actual
'
test_expect_success 'and of .ama/meta: the asset'"'"'s own' '
	cd asset &&
	git --git-dir=.ama/meta log --format="%an %s" >actual &&
	grep -v "second asset" ../expect >expect &&
	test_cmp expect actual
'
test_expect_success 'the request log: no client key ever wrote remote' '
	grep "^\(PUT\|POST\|DELETE\) /remote[/?]" "$S3_REQUESTS" >writes &&
	! grep -v " $S3_KEY\$" writes &&
	grep -c " 200 $S3_KEY\$" writes >count &&
	test "$(cat count)" -gt 10 &&
	grep " AMASTAGE\$" "$S3_REQUESTS" >staging.key &&
	! grep -v "^[A-Z]* /staging[/?]" staging.key &&
	grep " $S3_RO_KEY\$" "$S3_REQUESTS" >ro.key &&
	grep -q "^\(GET\|HEAD\) /remote[/?]" ro.key &&
	! grep -v "^\(GET\|HEAD\) " ro.key
'
# the staging key in the hands of another user of the bucket
intruder() {
	AWS_ENDPOINT_URL="$S3_ENDPOINT" AWS_REGION=us-east-1 AWS_PROFILE=staging \
		ama-store-tool "$@"
}

test_expect_success 'an object in parts forged in staging by another user: published right, first run' '
	cd asset &&
	head -c 6291457 /dev/urandom >big1 && head -c 6291457 /dev/urandom >../forged1 &&
	ama add -q big1 &&
	top=$(cat ../top) && m=$(md5_of big1) &&
	AMA_TRANSFER_PART_SIZE=5MiB intruder s3://staging/pre put-multipart \
		--md5 $m "$top/$m" ../forged1 >out &&
	grep -q " multipart $m	" out &&
	mark &&
	AMA_TRANSFER_MULTIPART_THRESHOLD=5MiB AMA_TRANSFER_PART_SIZE=5MiB \
		ama upload -m "forged parts" >out 2>err &&
	echo "published imaging/1 version 0.0.7" >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	since | grep -c "^PUT /staging/pre/$top/$m?partNumber=[12]&uploadId=[0-9a-f]* 200 AMASTAGE\$" >count &&
	echo 2 >expect &&
	test_cmp expect count &&
	admin s3://remote/pre get "$top/contents/$m" | cmp big1 -
'
test_expect_success 'bytes of the right size planted in remote: sent, and the copy replaces them' '
	cd asset &&
	printf "planted" >pl && printf "PLANTED" >../evil.pl && ama add -q pl &&
	top=$(cat ../top) && m=$(md5_of pl) &&
	AWS_SHARED_CREDENTIALS_FILE="$TRASH_DIRECTORY/srv/aws" AWS_PROFILE=server \
		aws --endpoint-url "$S3_ENDPOINT" --region us-east-1 \
		s3 cp ../evil.pl "s3://remote/pre/$top/contents/$m" >/dev/null &&
	mark &&
	ama upload -m "planted" >out 2>err &&
	echo "published imaging/1 version 0.0.8" >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	echo "$m AMASTAGE" >expect &&
	staging_puts >actual &&
	test_cmp expect actual &&
	admin s3://remote/pre get "$top/contents/$m" | cmp pl -
'
test_expect_success 'an object in parts planted in remote: the server reads it, refuses, it is sent' '
	cd asset &&
	head -c 6291457 /dev/urandom >big2 && head -c 6291457 /dev/urandom >../evil2 &&
	ama add -q big2 &&
	top=$(cat ../top) && m=$(md5_of big2) &&
	AMA_TRANSFER_PART_SIZE=5MiB admin s3://remote/pre put-multipart \
		--md5 $m "$top/contents/$m" ../evil2 >/dev/null &&
	mark &&
	ama upload -m "planted parts" >out 2>err &&
	echo "published imaging/1 version 0.0.9" >expect &&
	test_cmp expect out &&
	cat >expect <<-\EOF &&
	ama-commit: big2: missing from staging and remote
	ama-commit: refused: 1 object not verified
	ama-upload: sending the 1 refused object again
	EOF
	test_cmp expect err &&
	admin s3://remote/pre get "$top/contents/$m" | cmp big2 -
'
test_done
