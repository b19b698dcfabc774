#!/bin/sh
test_description='ama-server: tokens, the API, limits, the log, SIGTERM, concurrent commits, the trust model'
. ./test-lib.sh

PATH="$AMA_BUILD_DIR/t/helper:$PATH"
CONF="$TRASH_DIRECTORY/srv/server.conf"

# api METHOD PATH [BODYFILE] [HEADERFILE]: the status in "status", the
# body in "body"; the token comes from a header file, never an argument
api() {
	curl -s -o body -w "%{http_code}\n" -X "$1" \
		-H @"${4:-$TRASH_DIRECTORY/hdr}" \
		${3:+--data-binary @"$3"} "$SERVER_URL$2" >status
}

# check STATUS [JQ]: the last answer had STATUS, and its body (through
# the jq filter JQ, compact, when given) is the file "expect"
check() {
	echo "$1" >expect.status &&
	test_cmp expect.status status &&
	if test -n "$2"; then
		jq -c "$2" body >actual.body
	else
		cp body actual.body
	fi &&
	test_cmp expect actual.body
}

# the log's last N lines, the milliseconds as MS
last_log() {
	tail -n "$1" "$SERVER_LOG" | sed "s/ [0-9]*$/ MS/"
}

# what the buckets and the server's repository hold
state() {
	AWS_SHARED_CREDENTIALS_FILE="$TRASH_DIRECTORY/srv/aws" AWS_PROFILE=server \
		ama-store-tool s3://remote list &&
	AWS_SHARED_CREDENTIALS_FILE="$TRASH_DIRECTORY/srv/aws" AWS_PROFILE=server \
		ama-store-tool s3://staging list &&
	git --git-dir=srv/meta.git for-each-ref &&
	find srv/meta.git/objects -type f | sort
}

test_expect_success 'no configuration' '
	test_exit_code 2 ama-server 2>err &&
	echo "ama-server: no configuration: give --config FILE or set AMA_SERVER_CONFIG" >expect &&
	test_cmp expect err
'
test_expect_success 'an unknown command, --port-file for a command' '
	test_exit_code 2 ama-server --config x frob 2>err &&
	head -n 1 err >actual &&
	echo "ama-server: unknown command '"'frob'"'" >expect &&
	test_cmp expect actual &&
	test_exit_code 2 ama-server --config x --port-file p token list 2>err &&
	head -n 1 err >actual &&
	echo "ama-server: --port-file is for serving" >expect &&
	test_cmp expect actual
'
test_expect_success 'a configuration file that is not there' '
	test_exit_code 2 ama-server --config nosuch 2>err &&
	echo "ama-server: nosuch: cannot read the configuration: No such file or directory" >expect &&
	test_cmp expect err
'

test_expect_success 'setup: the S3 test server, a staging-only key, the server config' '
	test_s3_start S3TS_KEYS=AMASTAGE:AMASTAGESECRET \
		"S3TS_KEY_BUCKETS=AMASTAGE=staging" staging remote &&
	mkdir srv &&
	printf "[server]\naws_access_key_id = %s\naws_secret_access_key = %s\n" \
		"$S3_KEY" "$S3_SECRET" >srv/aws &&
	chmod 600 srv/aws &&
	cat >"$CONF" <<-EOF
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
	path = $TRASH_DIRECTORY/srv/meta.git
	[auth]
	tokens = $TRASH_DIRECTORY/srv/tokens
	[limits]
	body = 4KiB
	commit-body = 64KiB
	EOF
'

test_expect_success 'without a tokens file the server does not start' '
	test_exit_code 2 ama-server --config "$CONF" 2>err &&
	echo "ama-server: $TRASH_DIRECTORY/srv/tokens: no tokens file: add a user first with '"'ama-server token add USER'"'" >expect &&
	test_cmp expect err
'
test_expect_success 'token add prints a token once and stores its SHA-256' '
	ama-server --config "$CONF" token add alice >alice.token 2>err &&
	grep -x "ama_[0-9a-f]\{64\}" alice.token &&
	echo "ama-server: the token of alice is shown once: keep it in the user'"'"'s ~/.config/ama/token, mode 0600" >expect &&
	test_cmp expect err &&
	printf "alice %s\n" "$(tr -d "\n" <alice.token | sha256sum | cut -d" " -f1)" >expect &&
	test_cmp expect srv/tokens &&
	echo 600 >expect && stat -c %a srv/tokens >actual && test_cmp expect actual
'
test_expect_success 'token add, list, revoke' '
	ama-server --config "$CONF" token add bob >bob.token 2>/dev/null &&
	ama-server --config "$CONF" token add carol >carol.token 2>/dev/null &&
	ama-server --config "$CONF" token list >actual &&
	printf "alice\nbob\ncarol\n" >expect &&
	test_cmp expect actual &&
	ama-server --config "$CONF" token revoke carol &&
	ama-server --config "$CONF" token list >actual &&
	printf "alice\nbob\n" >expect &&
	test_cmp expect actual &&
	! grep -r "$(cat alice.token)\|$(cat bob.token)" srv
'
test_expect_success 'a user has one token' '
	cp srv/tokens tokens.before &&
	test_exit_code 1 ama-server --config "$CONF" token add alice >out 2>err &&
	test_must_be_empty out &&
	echo "ama-server: alice has a token already; revoke it first" >expect &&
	test_cmp expect err &&
	test_cmp tokens.before srv/tokens
'
test_expect_success 'revoking a user without a token' '
	test_exit_code 1 ama-server --config "$CONF" token revoke carol 2>err &&
	echo "ama-server: carol has no token" >expect &&
	test_cmp expect err
'
test_expect_success 'a bad user name is a usage error' '
	test_exit_code 2 ama-server --config "$CONF" token add "a b" 2>err &&
	head -n 1 err >actual &&
	echo "ama-server: a b: a user name holds only letters, digits, '"'.'"', '"'_'"', '"'@'"' and '"'-'"'" >expect &&
	test_cmp expect actual
'
test_expect_success 'a tokens file others may read stops the server' '
	chmod 644 srv/tokens &&
	test_when_finished "chmod 600 srv/tokens" &&
	test_exit_code 2 ama-server --config "$CONF" 2>err &&
	echo "ama-server: $TRASH_DIRECTORY/srv/tokens: the tokens file may be used by group or others: make it private with chmod 600" >expect &&
	test_cmp expect err
'

test_expect_success 'setup: start the server on a free port; header files' '
	test_server_start "$CONF" AWS_SHARED_CREDENTIALS_FILE="$TRASH_DIRECTORY/srv/aws" &&
	printf "Authorization: Bearer %s\n" "$(cat alice.token)" >hdr &&
	printf "Authorization: Bearer %s\n" "$(cat bob.token)" >hdr.bob &&
	printf "Authorization: Bearer ama_%064d\n" 0 >hdr.wrong &&
	printf "X-Nothing: 1\n" >hdr.none &&
	chmod 600 hdr hdr.bob &&
	echo "ama-server: listening on $SERVER_URL" >expect &&
	test_cmp expect "$SERVER_LOG"
'

test_expect_success 'no token and a wrong token: 401, and nothing changes' '
	state >before &&
	printf "{\"name\":\"imaging\"}" >class.json &&
	echo "{\"error\":\"a valid bearer token is needed\",\"code\":\"auth\"}" >expect &&
	api POST /v1/classes class.json hdr.none && check 401 &&
	api POST /v1/classes class.json hdr.wrong && check 401 &&
	api POST /v1/classes/imaging/assets class.json hdr.wrong && check 401 &&
	api GET /v1/classes "" hdr.none && check 401 &&
	state >after &&
	test_cmp before after &&
	cat >expect <<-\EOF &&
	POST /v1/classes 401 - MS
	POST /v1/classes 401 - MS
	POST /v1/classes/imaging/assets 401 - MS
	GET /v1/classes 401 - MS
	EOF
	last_log 4 >actual &&
	test_cmp expect actual
'
test_expect_success 'a 401 says how to authenticate' '
	curl -s -D headers -o /dev/null "$SERVER_URL/v1/classes" &&
	grep -i "^WWW-Authenticate: Bearer realm=\"ama\"" headers
'

test_expect_success 'POST /v1/classes makes the class and says where its content goes' '
	api POST /v1/classes class.json &&
	echo "{\"name\":\"imaging\",\"class_id\":\"ID\",\"top_hash\":\"TOP\",\"created\":0,\"staging\":\"s3://staging/pre\",\"remote\":\"s3://remote/pre\",\"s3\":{\"endpoint\":\"$S3_ENDPOINT\",\"region\":\"us-east-1\",\"addressing\":null}}" >expect &&
	check 200 ".class_id=\"ID\" | .top_hash=\"TOP\" | .created=0" &&
	cp body class.first &&
	jq -r .class_id body | grep -x "[0-9a-f]\{8\}-[0-9a-f]\{4\}-[0-9a-f]\{4\}-[0-9a-f]\{4\}-[0-9a-f]\{12\}" &&
	jq -r .top_hash body | grep -x "[0-9a-f]\{32\}" &&
	echo "POST /v1/classes 200 alice MS" >expect &&
	last_log 1 >actual &&
	test_cmp expect actual
'
test_expect_success '... again, or by GET /v1/classes/NAME: the same class' '
	cp class.first expect &&
	api POST /v1/classes class.json && check 200 &&
	api GET /v1/classes/imaging && check 200
'
test_expect_success 'GET /v1/classes lists them' '
	jq -c "{classes: [{name, class_id, top_hash, created}]}" class.first >expect &&
	api GET /v1/classes && check 200
'
test_expect_success 'GET /v1/classes/NAME of no class: 404' '
	api GET /v1/classes/nosuch &&
	echo 404 >expect && test_cmp expect status &&
	jq -r .code body >actual && echo notfound >expect && test_cmp expect actual
'
test_expect_success 'a bad class name: 400' '
	printf "{\"name\":\"a/b\"}" >bad.json &&
	api POST /v1/classes bad.json &&
	echo 400 >expect && test_cmp expect status &&
	jq -r .code body >actual && echo inval >expect && test_cmp expect actual
'
test_expect_success 'bad JSON: 400 with a JSON message' '
	printf "{\"name\":" >broken.json &&
	api POST /v1/classes broken.json &&
	echo "{\"error\":\"the body is not JSON: unexpected token near end of file (line 1, column 8)\",\"code\":\"inval\"}" >expect &&
	check 400 &&
	printf "[1]" >array.json &&
	api POST /v1/classes array.json &&
	echo "{\"error\":\"the body is not a JSON object\",\"code\":\"inval\"}" >expect &&
	check 400 &&
	printf "{}" >empty.json &&
	api POST /v1/classes empty.json &&
	echo "{\"error\":\"'"'name'"' is missing\",\"code\":\"inval\"}" >expect &&
	check 400
'
test_expect_success 'a body over the limit: 413, before it is read' '
	head -c 5000 /dev/zero | tr "\0" " " >big.json &&
	api POST /v1/classes big.json &&
	echo "{\"error\":\"the body is larger than 4096 bytes\",\"code\":\"inval\"}" >expect &&
	check 413 &&
	echo "POST /v1/classes 413 alice MS" >expect &&
	last_log 1 >actual && test_cmp expect actual
'
test_expect_success '... also without a length (chunked)' '
	curl -s -o body -w "%{http_code}\n" -H @hdr -H "Transfer-Encoding: chunked" \
		--data-binary @big.json "$SERVER_URL/v1/classes" >status &&
	echo "{\"error\":\"the body is larger than 4096 bytes\",\"code\":\"inval\"}" >expect &&
	check 413
'
test_expect_success 'a commit may be larger, to its own limit' '
	head -c 70000 /dev/zero | tr "\0" " " >huge.json &&
	api POST /v1/classes/imaging/assets/1/commits huge.json &&
	echo "{\"error\":\"the body is larger than 65536 bytes\",\"code\":\"inval\"}" >expect &&
	check 413
'
test_expect_success 'no such endpoint: 404; another method: 405 and Allow' '
	api GET /v1/nothing &&
	echo "{\"error\":\"no such endpoint: /v1/nothing\",\"code\":\"notfound\"}" >expect &&
	check 404 &&
	api DELETE /v1/classes &&
	echo "{\"error\":\"DELETE is not allowed here: GET, POST\",\"code\":\"inval\"}" >expect &&
	check 405 &&
	curl -s -D headers -o /dev/null -H @hdr -X PUT "$SERVER_URL/v1/classes/imaging" &&
	grep -i "^Allow: GET" headers
'

test_expect_success 'POST /v1/classes/NAME/assets numbers assets 1, 2, ...' '
	api POST /v1/classes/imaging/assets &&
	echo "{\"seq\":1,\"head\":null}" >expect && check 201 &&
	printf "{}" >empty.json &&
	api POST /v1/classes/imaging/assets empty.json &&
	echo "{\"seq\":2,\"head\":null}" >expect && check 201 &&
	api POST /v1/classes/nosuch/assets &&
	echo 404 >expect && test_cmp expect status
'
test_expect_success 'GET /v1/classes/NAME/assets' '
	api GET /v1/classes/imaging/assets &&
	echo "{\"assets\":[{\"seq\":1,\"head\":null},{\"seq\":2,\"head\":null}]}" >expect &&
	check 200
'
test_expect_success 'POST .../assets with a claim: a repeat gets the same number, 200' '
	printf "{\"name\":\"claims\"}" >claims.json &&
	api POST /v1/classes claims.json && echo 200 >expect && test_cmp expect status &&
	printf "{\"claim\":\"0123456789abcdef0123456789abcdef\"}" >claim.json &&
	api POST /v1/classes/claims/assets claim.json &&
	echo "{\"seq\":1,\"head\":null}" >expect && check 201 &&
	api POST /v1/classes/claims/assets claim.json &&
	check 200 &&
	api POST /v1/classes/claims/assets &&
	echo "{\"seq\":2,\"head\":null}" >expect && check 201 &&
	api POST /v1/classes/claims/assets claim.json &&
	echo "{\"seq\":1,\"head\":null}" >expect && check 200
'
test_expect_success '... a malformed claim: 400, nothing claimed' '
	printf "{\"claim\":\"0123\"}" >bad.json &&
	api POST /v1/classes/claims/assets bad.json &&
	echo "{\"error\":\"claim '"'"'0123'"'"' is not 32 lower-case hex digits\"}" >expect &&
	check 400 "{error: .error}" &&
	printf "{\"claim\":7}" >bad.json &&
	api POST /v1/classes/claims/assets bad.json &&
	echo "{\"error\":\"claim: not a string\"}" >expect &&
	check 400 "{error: .error}" &&
	api GET /v1/classes/claims/assets &&
	echo "{\"assets\":[{\"seq\":1,\"head\":null},{\"seq\":2,\"head\":null}]}" >expect &&
	check 200
'

test_expect_success 'setup: two files staged as ama-stage-put does' '
	top=$(jq -r .top_hash class.first) && echo $top >top &&
	printf "alpha" >alpha && printf "beta" >beta &&
	ama-store-tool s3://staging/pre put $top/$(md5_of alpha) alpha >/dev/null &&
	ama-store-tool s3://staging/pre put $top/$(md5_of beta) beta >/dev/null &&
	printf "%s 5\talpha\n%s 4\t\"b\\\\tb\"\n" $(md5_of alpha) $(md5_of beta) >objects &&
	jq -Rs "{parent: null, message: \"first\", objects: .}" objects >commit.json
'
test_expect_success 'POST .../commits: 201 and the new version' '
	api POST /v1/classes/imaging/assets/1/commits commit.json &&
	{ printf "ama-commit-id 1\nparent\n" && cat objects; } | sha256sum | cut -d" " -f1 >commit_id &&
	echo "{\"version\":\"0.0.0\",\"created\":true,\"nothing\":false,\"commit_id\":\"$(cat commit_id)\"}" >expect &&
	check 201 &&
	echo "POST /v1/classes/imaging/assets/1/commits 201 alice MS" >expect &&
	last_log 1 >actual && test_cmp expect actual
'
test_expect_success '... again: 200, the same version' '
	api POST /v1/classes/imaging/assets/1/commits commit.json &&
	echo "{\"version\":\"0.0.0\",\"created\":false,\"nothing\":false,\"commit_id\":\"$(cat commit_id)\"}" >expect &&
	check 200
'
test_expect_success 'a refused commit: 422 with the problems' '
	printf "%s 7\tgamma\n" $(md5_of /dev/null) | sed "s/^[0-9a-f]*/0123456789abcdef0123456789abcdef/" >objects.bad &&
	jq -Rs "{parent: \"0.0.0\", message: \"\", objects: .}" objects.bad >bad.json &&
	api POST /v1/classes/imaging/assets/1/commits bad.json &&
	echo 422 >expect && test_cmp expect status &&
	jq -c .problems body >actual &&
	echo "[{\"reason\":\"missing\",\"path\":\"gamma\"}]" >expect &&
	test_cmp expect actual
'
test_expect_success 'GET .../versions' '
	api GET /v1/classes/imaging/assets/1/versions &&
	echo "{\"versions\":[{\"version\":\"0.0.0\",\"parent\":null,\"class\":\"imaging\",\"seq\":1,\"author\":\"alice\",\"time\":0,\"message\":\"first\",\"commit_id\":\"$(cat commit_id)\",\"oid\":\"$(git --git-dir=srv/meta.git rev-parse refs/ama/imaging/1)\"}]}" >expect &&
	check 200 ".versions[0].time=0" &&
	api GET "/v1/classes/imaging/assets/1/versions?max=0" &&
	echo 400 >expect && test_cmp expect status &&
	api GET /v1/classes/imaging/assets/2/versions &&
	echo "{\"versions\":[]}" >expect && check 200 &&
	api GET /v1/classes/imaging/assets/9/versions &&
	echo "{\"error\":\"no such asset: imaging/9\",\"code\":\"notfound\"}" >expect &&
	check 404 &&
	api GET /v1/classes/imaging/assets/0/versions &&
	echo "{\"error\":\"'"'0'"' is not an asset number\",\"code\":\"inval\"}" >expect &&
	check 400
'
test_expect_success 'GET .../versions/V/manifest: the text, as remote holds it' '
	api GET /v1/classes/imaging/assets/1/versions/0.0.0/manifest &&
	echo 200 >expect && test_cmp expect status &&
	AWS_SHARED_CREDENTIALS_FILE="$TRASH_DIRECTORY/srv/aws" AWS_PROFILE=server \
		ama-store-tool s3://remote/pre get $(cat top)/assets/1/0.0.0.manifest >expect &&
	test_cmp expect body &&
	sed -n "/^$/,\$p" body | sed 1d >actual &&
	test_cmp objects actual &&
	api GET /v1/classes/imaging/assets/1/versions/0.0.9/manifest &&
	echo 404 >expect && test_cmp expect status &&
	api GET /v1/classes/imaging/assets/1/versions/0.01.0/manifest &&
	echo 400 >expect && test_cmp expect status
'
test_expect_success 'the author is the token'"'"'s user' '
	printf "%s 5\talpha\n" $(md5_of alpha) >objects.bob &&
	jq -Rs "{parent: \"0.0.0\", message: \"by bob\", objects: .}" objects.bob >bob.json &&
	api POST /v1/classes/imaging/assets/1/commits bob.json "$TRASH_DIRECTORY/hdr.bob" &&
	echo 201 >expect && test_cmp expect status &&
	api GET "/v1/classes/imaging/assets/1/versions?max=1" &&
	jq -r ".versions[] | .version + \" \" + .author" body >actual &&
	echo "0.0.1 bob" >expect && test_cmp expect actual &&
	echo "POST /v1/classes/imaging/assets/1/commits 201 bob MS" >expect &&
	tail -n 2 "$SERVER_LOG" | head -n 1 | sed "s/ [0-9]*$/ MS/" >actual &&
	test_cmp expect actual
'
test_expect_success 'a revoked token stops working at once' '
	ama-server --config "$CONF" token revoke bob &&
	api GET /v1/classes "" "$TRASH_DIRECTORY/hdr.bob" &&
	echo "{\"error\":\"a valid bearer token is needed\",\"code\":\"auth\"}" >expect &&
	check 401
'
test_expect_success 'every log line is METHOD PATH STATUS USER MS, and holds no secret' '
	grep -v "^ama-server: " "$SERVER_LOG" >lines &&
	! grep -v "^[A-Z]* /[^ ]* [0-9][0-9][0-9] [-a-z]* [0-9][0-9]*$" lines &&
	! grep "$(cat alice.token)\|$(cat bob.token)\|$S3_SECRET" "$SERVER_LOG"
'

test_expect_success 'setup: the user'"'"'s side: a staging key and a read-only key, no more' '
	printf "[staging]\naws_access_key_id = AMASTAGE\naws_secret_access_key = AMASTAGESECRET\n[readonly]\naws_access_key_id = %s\naws_secret_access_key = %s\n" \
		"$S3_RO_KEY" "$S3_RO_SECRET" >"$HOME/.aws/credentials" &&
	mkdir -p .config/ama &&
	printf "[server]\nurl = %s\n[s3]\nstaging-profile = staging\nremote-profile = readonly\n" \
		"$SERVER_URL" >.config/ama/config &&
	cp alice.token .config/ama/token && chmod 600 .config/ama/token &&
	mkdir asset && cd asset &&
	ama init -q imaging &&
	printf "one" >one && printf "two" >"t	wo" && printf "three" >"$(printf "thr\351e")" &&
	ama add -q . &&
	ama-client-tool record --create imaging &&
	ama-client-tool config asset.seq $(ama-client-tool asset-create imaging) &&
	cat >expect <<-EOF &&
	[asset]
	class = imaging
	seq = 3
	[class]
	top-hash = $(cat ../top)
	staging = s3://staging/pre
	remote = s3://remote/pre
	s3-endpoint = $S3_ENDPOINT
	s3-region = us-east-1
	EOF
	test_cmp expect .ama/config &&
	: >"$S3_REQUESTS"
'
test_expect_success 'the user stages and commits; reads the version from remote' '
	cd asset &&
	top=$(cat ../top) &&
	ama-ls-files | while read -r m size state path; do
		echo "$m" || return 1
	done | sort -u >md5s &&
	for f in one "t	wo" "$(printf "thr\351e")"; do
		ama-store-tool s3://staging/pre put -- $top/$(md5_of "$f") "$f" >/dev/null || return 1
	done &&
	ama-ls-files | ama-commit -m "from the user" >out &&
	echo 0.0.0 >expect && test_cmp expect out &&
	ama-store-tool --role remote s3://remote/pre get $top/assets/3/0.0.0.manifest >manifest &&
	sed "1,/^$/d" manifest >actual &&
	ama-ls-files | sed "s/^\([0-9a-f]* [0-9]*\) [a-z]*	/\1	/" >expect &&
	test_cmp expect actual &&
	while read -r m; do
		ama-store-tool --role remote s3://remote/pre head $top/contents/$m >/dev/null || return 1
	done <md5s
'
test_expect_success '... but may not write remote' '
	cd asset &&
	test_exit_code 2 ama-store-tool --role remote s3://remote/pre put x one 2>err &&
	echo "ama-store-tool: access denied (key $S3_RO_KEY)" >expect &&
	test_cmp expect err &&
	test_exit_code 2 ama-store-tool --role staging s3://remote/pre put x one 2>err &&
	echo "ama-store-tool: access denied (key AMASTAGE)" >expect &&
	test_cmp expect err
'
test_expect_success 'the request log: every write to remote was the server'"'"'s' '
	grep "^\(PUT\|POST\|DELETE\) /remote[/?]" "$S3_REQUESTS" >writes &&
	grep -c " 200 $S3_KEY$" writes >count &&
	test "$(cat count)" -gt 3 &&
	grep -v " $S3_KEY$" writes >actual &&
	cat >expect <<-EOF &&
	PUT /remote/pre/x 403 $S3_RO_KEY
	PUT /remote/pre/x 403 AMASTAGE
	EOF
	test_cmp expect actual &&
	! grep " AMASTAGE$" "$S3_REQUESTS" | cut -d" " -f1,2 |
		grep -v "^PUT /staging/\|^PUT /remote/pre/x$"
'

test_expect_success '8 concurrent ama-commit runs: 8 versions, a linear history' '
	cd asset &&
	top=$(cat ../top) &&
	for i in 1 2 3 4 5 6 7 8; do
		echo "racer $i" >r$i && ama add -q r$i &&
		ama-store-tool s3://staging/pre put $top/$(md5_of r$i) r$i >/dev/null || return 1
	done &&
	for i in 1 2 3 4 5 6 7 8; do
		ama-ls-files | grep -v "	r[0-9]$" >list$i &&
		ama-ls-files r$i >>list$i || return 1
	done &&
	pids= &&
	for i in 1 2 3 4 5 6 7 8; do
		ama-commit -m "racer $i" <list$i >out$i 2>err$i &
		pids="$pids $!"
	done &&
	wait $pids &&
	cat err1 err2 err3 err4 err5 err6 err7 err8 >errs &&
	test_must_be_empty errs &&
	cat out1 out2 out3 out4 out5 out6 out7 out8 | sort >actual &&
	printf "0.0.%s\n" 1 2 3 4 5 6 7 8 | sort >expect &&
	test_cmp expect actual &&
	git --git-dir=../srv/meta.git log --format=%B refs/ama/imaging/3 |
		sed -n "s/^Ama-Version: //p; s/^Ama-Parent: / parent /p" |
		paste -d "" - - >actual &&
	printf "0.0.%s parent 0.0.%s\n" 8 7 7 6 6 5 5 4 4 3 3 2 2 1 1 0 >expect &&
	echo 0.0.0 >>expect &&
	test_cmp expect actual &&
	git --git-dir=../srv/meta.git rev-list --count refs/ama/imaging/3 >actual &&
	echo 9 >expect && test_cmp expect actual &&
	git --git-dir=../srv/meta.git rev-list --min-parents=2 refs/ama/imaging/3 >actual &&
	test_must_be_empty actual
'

test_expect_success 'SIGTERM: the commit under way finishes, then the server exits 0' '
	cd asset &&
	echo "slow" >slow && ama add -q slow &&
	ama-store-tool s3://staging/pre put $(cat ../top)/$(md5_of slow) slow >/dev/null &&
	: >"$S3_REQUESTS" &&
	test_s3_faults "delay 400" &&
	{ ama-ls-files | ama-commit -m slow >slow.out 2>slow.err & } &&
	pid=$! &&
	n=0 && while ! grep -q " $S3_KEY$" "$S3_REQUESTS" && test $n -lt 200; do
		sleep 0.05 && n=$((n + 1))
	done &&
	test_server_stop &&
	wait $pid &&
	test_s3_faults &&
	echo 0.0.9 >expect && test_cmp expect slow.out &&
	test_must_be_empty slow.err &&
	grep "^ama-server: SIGTERM: stopping; 1 requests under way$" "$SERVER_LOG" &&
	tail -n 1 "$SERVER_LOG" | sed "s/ [0-9]*$/ MS/" >actual &&
	echo "POST /v1/classes/imaging/assets/3/commits 201 alice MS" >expect &&
	test_cmp expect actual
'
test_expect_success '... and no longer answers' '
	cd asset &&
	test_exit_code 2 ama-client-tool classes 2>err &&
	echo "ama-client-tool: cannot connect to $SERVER_URL: Connection refused" >expect &&
	test_cmp expect err
'
test_done
