#!/bin/sh
test_description='ama versions: the versions of an asset, through ama-server, each with its author'
. ./test-lib.sh

CONF="$TRASH_DIRECTORY/srv/server.conf"

# ama versions with the time as TIME
versions() {
	ama versions "$@" >versions.out &&
	sed "s/ [0-9-]* [0-9:]* UTC / TIME /" versions.out
}

test_expect_success 'setup: S3 and ama-server, tokens for alice and bob' '
	test_s3_start staging remote &&
	mkdir srv &&
	printf "[server]\naws_access_key_id = %s\naws_secret_access_key = %s\n" \
		"$S3_KEY" "$S3_SECRET" >srv/aws &&
	chmod 600 srv/aws &&
	cat >"$CONF" <<-EOF &&
	[listen]
	port = 0
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
	EOF
	ama-server --config "$CONF" token add alice >srv/alice 2>/dev/null &&
	ama-server --config "$CONF" token add bob >srv/bob 2>/dev/null &&
	chmod 600 srv/alice srv/bob &&
	test_server_start "$CONF" AWS_SHARED_CREDENTIALS_FILE="$TRASH_DIRECTORY/srv/aws" &&
	printf "[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n" \
		"$S3_KEY" "$S3_SECRET" >.aws/credentials &&
	mkdir -p .config/ama &&
	printf "[server]\nurl = %s\ntoken-file = %s\n" "$SERVER_URL" \
		"$TRASH_DIRECTORY/srv/alice" >.config/ama/config &&
	mkdir asset && cd asset && ama init -q scans && printf a >a && ama add -q a
'
test_expect_success 'usage: no operands, -n counts from 1' '
	cd asset &&
	test_exit_code 2 ama versions x 2>err &&
	cat >expect <<-\EOF &&
	ama-versions: no operands
	ama-versions: usage: ama versions [-n <count>] [--fetch]
	EOF
	test_cmp expect err
'
test_expect_success 'before the first upload: exit 1' '
	cd asset &&
	test_exit_code 1 ama versions >out 2>err &&
	test_must_be_empty out &&
	echo "ama-versions: no versions yet: the asset was never uploaded (ama upload)" >expect &&
	test_cmp expect err
'
test_expect_success 'each version with the author the server knows from the token' '
	cd asset &&
	ama upload -q -m "first scan" &&
	printf b >b && ama add -q b &&
	AMA_SERVER_TOKEN_FILE="$TRASH_DIRECTORY/srv/bob" ama upload -q -m "second scan
with a second line" &&
	versions >actual &&
	cat >expect <<-\EOF &&
	* 0.0.1    TIME  bob  second scan ...
	  0.0.0    TIME  alice  first scan
	EOF
	test_cmp expect actual
'
test_expect_success '-n shows the newest only' '
	cd asset &&
	versions -n 1 >actual &&
	echo "* 0.0.1    TIME  bob  second scan ..." >expect &&
	test_cmp expect actual
'
test_expect_success 'the time is the version time, in UTC' '
	cd asset &&
	t=$(git --git-dir=.ama/meta log -1 --format=%ct) &&
	date -u -d "@$t" "+%Y-%m-%d %H:%M:%S UTC" >expect &&
	sed -n "1s/^\* 0\.0\.1    \([0-9-]* [0-9:]* UTC\)  .*/\1/p" versions.out >actual &&
	test_cmp expect actual
'
test_expect_success 'offline: .ama/meta answers without the server' '
	cd asset &&
	AMA_SERVER_URL=http://127.0.0.1:1 versions >actual &&
	cat >expect <<-\EOF &&
	* 0.0.1    TIME  bob  second scan ...
	  0.0.0    TIME  alice  first scan
	EOF
	test_cmp expect actual
'
test_expect_success 'a refused token is a setup error (--fetch asks the server)' '
	cd asset &&
	echo ama_0000 >../wrong && chmod 600 ../wrong &&
	AMA_SERVER_TOKEN_FILE="$TRASH_DIRECTORY/wrong" test_exit_code 2 ama versions --fetch >out 2>err &&
	test_must_be_empty out &&
	echo "ama-versions: the server refused the token ($SERVER_URL, token from $TRASH_DIRECTORY/wrong)" >expect &&
	test_cmp expect err
'
test_expect_success 'a server that cannot be reached is a setup error' '
	cd asset &&
	AMA_SERVER_URL=http://127.0.0.1:1 test_exit_code 2 ama versions --fetch >out 2>err &&
	test_must_be_empty out &&
	echo "ama-versions: cannot connect to http://127.0.0.1:1: Connection refused" >expect &&
	test_cmp expect err
'
test_done
