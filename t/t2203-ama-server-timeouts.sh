#!/bin/sh
test_description='ama-server and its clients: a stopped server, a commit that takes longer than a client waits, the job a 202 names'
. ./test-lib.sh

PATH="$AMA_BUILD_DIR/t/helper:$PATH"
CONF="$TRASH_DIRECTORY/srv/server.conf"
REPO="$TRASH_DIRECTORY/srv/meta.git"

# elapsed CMD...: run CMD, its exit status kept, the seconds it took in
# the file "elapsed"
elapsed() {
	elapsed_start_=$(date +%s)
	"$@"
	elapsed_status_=$?
	echo $(($(date +%s) - elapsed_start_)) >"$TRASH_DIRECTORY/elapsed"
	return $elapsed_status_
}

# the server's log since the mark, the milliseconds as MS, job names as JOB
mark() {
	wc -l <"$SERVER_LOG" >"$TRASH_DIRECTORY/.mark"
}
since() {
	tail -n +$(($(cat "$TRASH_DIRECTORY/.mark") + 1)) "$SERVER_LOG" |
		sed "s/ [0-9]*$/ MS/; s|/commits/[0-9a-f]\{32\} |/commits/JOB |"
}

test_expect_success 'setup: S3, ama-server answering commits within 1 s, a user whose client waits 2 s' '
	test_s3_start S3TS_KEYS=AMASTAGE:AMASTAGESECRET \
		"S3TS_KEY_BUCKETS=AMASTAGE=staging" staging remote &&
	mkdir srv &&
	printf "[server]\naws_access_key_id = %s\naws_secret_access_key = %s\n" \
		"$S3_KEY" "$S3_SECRET" >srv/aws &&
	chmod 600 srv/aws &&
	# one port for good: the server starts again under the client
	cat >"$CONF" <<-EOF &&
	[listen]
	port = $(test_free_port)
	threads = 2
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
	[limits]
	commit-wait = 1
	EOF
	mkdir -p .config/ama &&
	ama-server --config "$CONF" token add alice >.config/ama/token 2>/dev/null &&
	ama-server --config "$CONF" token add bob >bob.token 2>/dev/null &&
	chmod 600 .config/ama/token &&
	printf "Authorization: Bearer %s\n" "$(cat .config/ama/token)" >hdr &&
	printf "Authorization: Bearer %s\n" "$(cat bob.token)" >hdr.bob &&
	test_server_start "$CONF" AWS_SHARED_CREDENTIALS_FILE="$TRASH_DIRECTORY/srv/aws" &&
	printf "[staging]\naws_access_key_id = AMASTAGE\naws_secret_access_key = AMASTAGESECRET\n[readonly]\naws_access_key_id = %s\naws_secret_access_key = %s\n" \
		"$S3_RO_KEY" "$S3_RO_SECRET" >.aws/credentials &&
	printf "[server]\nurl = %s\ntimeout = 2\n[s3]\nstaging-profile = staging\nremote-profile = readonly\n" \
		"$SERVER_URL" >.config/ama/config &&
	unset AWS_ENDPOINT_URL AWS_REGION AWS_DEFAULT_REGION &&
	mkdir a && cd a && ama init -q imaging &&
	echo one >one && ama add -q one && ama upload -q -m first >/dev/null
'

test_expect_success 'a bad [server] timeout is a setup error' '
	cd a &&
	AMA_SERVER_TIMEOUT=0 test_exit_code 2 ama versions --fetch 2>err &&
	echo "ama-versions: [server] timeout: 0 is not between 1 and 86400 seconds" >expect &&
	test_cmp expect err
'

test_expect_success 'the server stopped (SIGSTOP): ama versions fails after the timeout, naming the server' '
	kill -STOP $SERVER_PID &&
	test_when_finished "kill -CONT $SERVER_PID" &&
	cd a &&
	elapsed test_exit_code 2 ama versions --fetch 2>err &&
	echo "ama-versions: no answer from $SERVER_URL for 2 s ([server] timeout)" >expect &&
	test_cmp expect err &&
	echo "$(cat ../elapsed) s" &&
	test $(cat ../elapsed) -le 6
'
test_expect_success '... ama upload too' '
	kill -STOP $SERVER_PID &&
	test_when_finished "kill -CONT $SERVER_PID" &&
	cd a &&
	echo two >two && ama add -q two &&
	elapsed test_exit_code 2 ama upload -q -m second 2>err &&
	echo "ama-upload: no answer from $SERVER_URL for 2 s ([server] timeout)" >expect &&
	test_cmp expect err &&
	echo "$(cat ../elapsed) s" &&
	test $(cat ../elapsed) -le 6
'
test_expect_success '... and once it runs again, the upload goes through' '
	cd a &&
	ama upload -q -m second >out &&
	ama-client-tool versions imaging 1 | cut -d" " -f1 >actual &&
	printf "0.0.1\n0.0.0\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'a commit the server works on for 12 s while its client waits 2 s for a byte: it succeeds' '
	cd a &&
	echo three >three && ama add -q three &&
	mark &&
	test_s3_faults "delay 12000 1 PUT /remote/pre/ times=1" &&
	test_when_finished "test_s3_faults" &&
	elapsed ama upload -q -m third >out 2>err &&
	test_must_be_empty err &&
	echo "$(cat ../elapsed) s" &&
	test $(cat ../elapsed) -ge 12 &&
	ama-client-tool versions imaging 1 | cut -d" " -f1 | head -n 1 >actual &&
	echo 0.0.2 >expect &&
	test_cmp expect actual &&
	since | grep "/commits" >log &&
	head -n 1 log >actual &&
	echo "POST /v1/classes/imaging/assets/1/commits 202 alice MS" >expect &&
	test_cmp expect actual &&
	tail -n 1 log >actual &&
	echo "GET /v1/classes/imaging/assets/1/commits/JOB 201 alice MS" >expect &&
	test_cmp expect actual &&
	grep -c "GET /v1/classes/imaging/assets/1/commits/JOB 202 alice MS" log >polls &&
	test $(cat polls) -ge 5
'

test_expect_success 'the job of a 202: Location, Retry-After, then the answer' '
	test_server_stop &&
	sed "s/^commit-wait = 1$/commit-wait = 0/" "$CONF" >now.conf &&
	test_server_start now.conf AWS_SHARED_CREDENTIALS_FILE="$TRASH_DIRECTORY/srv/aws" &&
	(cd a && ama-ls-files) | sed "s/ [a-z]*	/	/" >objects &&
	jq -Rs "{parent: \"0.0.2\", message: \"again\", objects: .}" objects >commit.json &&
	curl -s -D head -o body -H @hdr --data-binary @commit.json \
		"$SERVER_URL/v1/classes/imaging/assets/1/commits" >/dev/null &&
	head -n 1 head | tr -d "\r" >actual &&
	echo "HTTP/1.1 202 Accepted" >expect &&
	test_cmp expect actual &&
	job=$(jq -r .job body) &&
	echo "$job" | grep -x "[0-9a-f]\{32\}" &&
	grep -i "^Location: /v1/classes/imaging/assets/1/commits/$job" head &&
	grep -i "^Retry-After: 1" head &&
	n=0 && while
		curl -s -o body -w "%{http_code}\n" -H @hdr \
			"$SERVER_URL/v1/classes/imaging/assets/1/commits/$job" >status &&
		test "$(cat status)" = 202
	do
		n=$((n + 1)) && test $n -lt 100 && sleep 0.1 || return 1
	done &&
	echo 200 >expect && test_cmp expect status &&
	jq -c "{version, created, nothing}" body >actual &&
	echo "{\"version\":\"0.0.2\",\"created\":false,\"nothing\":true}" >expect &&
	test_cmp expect actual &&
	echo "$job" >job
'
test_expect_success '... asked again, the same answer; by another user, or unknown: 404' '
	job=$(cat job) &&
	curl -s -o body -w "%{http_code}\n" -H @hdr \
		"$SERVER_URL/v1/classes/imaging/assets/1/commits/$job" >status &&
	echo 200 >expect && test_cmp expect status &&
	curl -s -o body -w "%{http_code}\n" -H @hdr.bob \
		"$SERVER_URL/v1/classes/imaging/assets/1/commits/$job" >status &&
	echo 404 >expect && test_cmp expect status &&
	jq -r .error body >actual &&
	echo "no such commit job: $job (it ended long ago, or the server started again): send the commit again" >expect &&
	test_cmp expect actual &&
	curl -s -o body -w "%{http_code}\n" -H @hdr \
		"$SERVER_URL/v1/classes/imaging/assets/1/commits/0123456789abcdef0123456789abcdef" >status &&
	echo 404 >expect && test_cmp expect status
'
test_expect_success 'ama upload through a server that answers every commit 202' '
	cd a &&
	echo four >four && ama add -q four &&
	mark &&
	ama upload -q -m fourth >out 2>err &&
	test_must_be_empty err &&
	ama-client-tool versions imaging 1 | cut -d" " -f1 | head -n 1 >actual &&
	echo 0.0.3 >expect &&
	test_cmp expect actual &&
	since | grep "/commits" | head -n 1 >actual &&
	echo "POST /v1/classes/imaging/assets/1/commits 202 alice MS" >expect &&
	test_cmp expect actual
'
test_expect_success 'a job the server forgot (it started again): the commit is sent again' '
	cd a &&
	echo five >five && ama add -q five &&
	test_s3_faults "delay 3000 1 PUT /remote/pre/ times=1" &&
	test_when_finished "test_s3_faults" &&
	mark &&
	{ ama upload -q -m fifth >out 2>err & } &&
	pid=$! &&
	n=0 && until since | grep -q "^POST /v1/classes/imaging/assets/1/commits 202"; do
		sleep 0.1; n=$((n + 1)); test $n -lt 100 || return 1
	done &&
	test_server_stop &&
	test_server_start ../now.conf AWS_SHARED_CREDENTIALS_FILE="$TRASH_DIRECTORY/srv/aws" &&
	wait $pid &&
	test_must_be_empty err &&
	ama-client-tool versions imaging 1 | cut -d" " -f1 | head -n 2 >actual &&
	printf "0.0.4\n0.0.3\n" >expect &&
	test_cmp expect actual &&
	since | grep "/commits" | grep -v " 202 " >actual &&
	cat >expect <<-\EOF &&
	GET /v1/classes/imaging/assets/1/commits/JOB 503 - MS
	GET /v1/classes/imaging/assets/1/commits/JOB 404 alice MS
	GET /v1/classes/imaging/assets/1/commits/JOB 200 alice MS
	EOF
	test_cmp expect actual
'
test_done
