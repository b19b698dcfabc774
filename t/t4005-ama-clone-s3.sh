#!/bin/sh
test_description='ama clone from S3: a read-only key, with and without ama-server; tampered contents, faults, two clones at once'
. ./test-lib.sh

CONF="$TRASH_DIRECTORY/srv/server.conf"
CACHE="$XDG_CACHE_HOME/ama"
USER=tester
export USER

tree() {
	(cd "$1" && find . -path ./.ama -prune -o -type f -print0 | sort -z |
		xargs -0 -r md5sum --)
}
# as a reader: only the read-only key, and the reader's own config
reader() {
	AWS_SHARED_CREDENTIALS_FILE="$TRASH_DIRECTORY/reader.aws" \
		AMA_CONFIG="$TRASH_DIRECTORY/$READER" "$@"
}
# every cached content has the MD5 its name says; no partial is left
cache_sound() {
	find "$CACHE/contents" -type f | while read -r f; do
		test "$(md5_of "$f")" = "$(basename "$f")" ||
			{ echo "corrupt: $f" >&2; return 1; }
	done &&
	find "$CACHE/partial" -type f >partials &&
	test_must_be_empty partials
}
# the keys of the requests logged since it was emptied, sorted
keys_used() {
	cut -d" " -f4 "$S3_REQUESTS" | sort -u
}

test_expect_success 'setup: S3, ama-server with the full key, a writer with a staging key' '
	test_s3_start S3TS_KEYS=AMASTAGE:AMASTAGESECRET \
		"S3TS_KEY_BUCKETS=AMASTAGE=staging" staging remote &&
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
	ama-server --config "$CONF" token add alice >token 2>/dev/null &&
	chmod 600 token &&
	test_server_start "$CONF" AWS_SHARED_CREDENTIALS_FILE="$TRASH_DIRECTORY/srv/aws" &&
	printf "[staging]\naws_access_key_id = AMASTAGE\naws_secret_access_key = AMASTAGESECRET\n[readonly]\naws_access_key_id = %s\naws_secret_access_key = %s\n" \
		"$S3_RO_KEY" "$S3_RO_SECRET" >writer.aws &&
	printf "[readonly]\naws_access_key_id = %s\naws_secret_access_key = %s\n" \
		"$S3_RO_KEY" "$S3_RO_SECRET" >reader.aws &&
	chmod 600 writer.aws reader.aws &&
	printf "[server]\nurl = %s\ntoken-file = %s\n[s3]\nstaging-profile = staging\nremote-profile = readonly\n" \
		"$SERVER_URL" "$TRASH_DIRECTORY/token" >writer.conf &&
	printf "[store]\nremote = s3://remote/pre\n[s3]\nremote-profile = readonly\n" >bucket.conf &&
	printf "[server]\nurl = %s\ntoken-file = %s\n[s3]\nremote-profile = readonly\n" \
		"$SERVER_URL" "$TRASH_DIRECTORY/token" >server.conf
'
test_expect_success 'setup: imaging/1 uploaded through the server: hostile names, 46 files, two of 3 MB' '
	mkdir a &&
	(
		cd a &&
		AWS_SHARED_CREDENTIALS_FILE="$TRASH_DIRECTORY/writer.aws" &&
		AMA_CONFIG="$TRASH_DIRECTORY/writer.conf" &&
		export AWS_SHARED_CREDENTIALS_FILE AMA_CONFIG &&
		ama init -q imaging &&
		mkdir -p "sub dir" &&
		printf tab >"tab	name" && printf nl >"new
line" && printf dash >-dash && : >empty &&
		printf q >"quo\"te" && printf bs >"back\\slash" &&
		printf l1 >"$(printf "latin1-\351")" &&
		printf long >"sub dir/$(printf "%0255d" 0 | tr 0 n)" &&
		for i in $(seq 1 36); do
			printf "file $i" >"sub dir/f$i" || return 1
		done &&
		head -c 3000000 /dev/urandom >big1 &&
		head -c 3000000 /dev/urandom >"sub dir/big2" &&
		ama add -q -- . && ama upload -q -m "first"
	) &&
	sed -n "s/^top-hash = //p" a/.ama/config >top &&
	test -s top
'
TOP=$(cat top 2>/dev/null)

test_expect_success 'no server, no staging key: [store] remote and a read-only key clone it' '
	READER=bucket.conf &&
	: >"$S3_REQUESTS" &&
	reader ama clone imaging/1 c1 >out 2>err &&
	echo "cloned imaging/1@0.0.0 into c1: 46 files placed, 0 kept, 0 not checked out" >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	diff -r --exclude=.ama a c1 &&
	(cd c1 && reader ama status --porcelain) >actual &&
	test_must_be_empty actual &&
	keys_used >actual &&
	echo "$S3_RO_KEY" >expect &&
	test_cmp expect actual &&
	# one GET a content; the empty one needs none
	grep -c "^GET /remote/pre/$TOP/contents/" "$S3_REQUESTS" >actual &&
	echo 45 >expect &&
	test_cmp expect actual &&
	! grep " /staging" "$S3_REQUESTS"
'
test_expect_success '... and ama fetch and ama versions there need no server either' '
	READER=bucket.conf &&
	(cd c1 && reader ama versions --fetch) | sed "s/ [0-9-]* [0-9:]* UTC / TIME /" >actual &&
	echo "* 0.0.0    TIME  alice  first" >expect &&
	test_cmp expect actual
'
test_expect_success 'through ama-server, with a read-only key and no staging key' '
	READER=server.conf &&
	rm -rf "$CACHE" &&
	: >"$S3_REQUESTS" &&
	reader ama clone -q imaging/1 c2 >out 2>err &&
	test_must_be_empty out &&
	test_must_be_empty err &&
	diff -r --exclude=.ama a c2 &&
	(cd c2 && reader ama status --porcelain) >actual &&
	test_must_be_empty actual &&
	grep -v " $S3_KEY\$" "$S3_REQUESTS" | cut -d" " -f4 | sort -u >actual &&
	echo "$S3_RO_KEY" >expect &&
	test_cmp expect actual
'
test_expect_success 'the clone is of the same asset: an upload there makes 0.0.1' '
	printf changed >c2/-dash &&
	(
		cd c2 &&
		AWS_SHARED_CREDENTIALS_FILE="$TRASH_DIRECTORY/writer.aws" &&
		AMA_CONFIG="$TRASH_DIRECTORY/writer.conf" &&
		export AWS_SHARED_CREDENTIALS_FILE AMA_CONFIG &&
		ama add -q -- -dash && ama upload -q -m "from the clone"
	) &&
	READER=bucket.conf &&
	reader ama-cat-manifest imaging/1@0.0.1 | grep "	-dash\$" >actual &&
	printf "%s 7\t-dash\n" "$(md5_of c2/-dash)" >expect &&
	test_cmp expect actual
'

test_expect_success 'a content whose remote bytes were changed with the aws CLI: refused, named, exit 1' '
	READER=bucket.conf &&
	rm -rf "$CACHE" &&
	m=$(md5_of "a/sub dir/f7") &&
	printf "file X" >forged &&
	aws s3 cp --quiet forged "s3://remote/pre/$TOP/contents/$m" &&
	test_exit_code 1 reader ama clone imaging/1@0.0.0 c3 >out 2>err &&
	printf "ama-clone: sub dir/f7: has MD5 %s, not %s\n" "$(md5_of forged)" $m >expect &&
	test_cmp expect err &&
	echo "cloned imaging/1@0.0.0 into c3: 45 files placed, 0 kept, 1 not checked out (ama download retries the rest)" >expect &&
	test_cmp expect out
'
test_expect_success '... not placed, not cached; the other files are' '
	test_path_is_missing "c3/sub dir/f7" &&
	test_path_is_missing "$CACHE/contents/$(echo $m | cut -c1-2)/$m" &&
	cache_sound &&
	(cd a && find . -path ./.ama -prune -o -type f ! -path "./sub dir/f7" -print0 |
		sort -z | xargs -0 md5sum --) >expect &&
	tree c3 >actual &&
	test_cmp expect actual
'
test_expect_success '... ama status there does not call it deleted; ama info counts it' '
	READER=bucket.conf &&
	(cd c3 && reader ama status --porcelain) >actual &&
	test_must_be_empty actual &&
	(cd c3 && reader ama info) | sed -n "s/^files: *//p" >actual &&
	echo "46 (5.7 MiB), 1 not checked out" >expect &&
	test_cmp expect actual
'
test_expect_success '... once the bucket is right again, ama download places it' '
	READER=bucket.conf &&
	m=$(md5_of "a/sub dir/f7") &&
	aws s3 cp --quiet "a/sub dir/f7" "s3://remote/pre/$TOP/contents/$m" &&
	(cd c3 && reader ama download) >out &&
	echo "1 files placed, 0 already there" >expect &&
	test_cmp expect out &&
	diff -r --exclude=.ama a c3
'

test_expect_success 'S3 faults at 30% (503, resets, answers cut short): the clone finishes' '
	READER=bucket.conf &&
	rm -rf "$CACHE" &&
	test_s3_faults "status 503 10%" "reset 10%" "truncate 10%" &&
	test_when_finished test_s3_faults &&
	AMA_TRANSFER_RETRIES=10 reader ama clone -q imaging/1@0.0.0 c4 &&
	test_s3_faults &&
	test -s "$S3_DATA/.s3rver.faultlog" &&
	diff -r --exclude=.ama a c4 &&
	cache_sound
'

test_expect_success 'two clones at once share the cache: every entry sound, every file right' '
	READER=bucket.conf &&
	rm -rf "$CACHE" &&
	: >"$S3_REQUESTS" &&
	test_s3_faults "delay 20 1 GET" &&
	test_when_finished test_s3_faults &&
	for c in c5 c6; do
		(
			reader ama clone -q -j 4 imaging/1@0.0.0 $c >out.$c 2>err.$c
			echo $? >rc.$c.tmp && mv rc.$c.tmp rc.$c
		) &
	done &&
	# not wait: the shell has the server among its children
	n=0 &&
	until test -f rc.c5 && test -f rc.c6; do
		test $n -lt 1200 || return 1
		sleep 0.1
		n=$((n + 1))
	done &&
	test_s3_faults &&
	echo 0 >expect &&
	test_cmp expect rc.c5 && test_cmp expect rc.c6 &&
	test_must_be_empty err.c5 && test_must_be_empty err.c6 &&
	diff -r --exclude=.ama a c5 &&
	diff -r --exclude=.ama a c6 &&
	cache_sound &&
	find "$CACHE/contents" -type f | wc -l >actual &&
	echo 46 >expect &&
	test_cmp expect actual
'
test_expect_success '... and together they asked for no content more than twice' '
	sed -n "s|^GET /remote/pre/$TOP/contents/\([0-9a-f]*\) 200 .*|\1|p" "$S3_REQUESTS" |
		sort | uniq -c | awk "\$1 > 2" >actual &&
	test_must_be_empty actual
'
test_expect_success 'ama class list and ama list read the bucket with the read-only key' '
	READER=bucket.conf &&
	: >"$S3_REQUESTS" &&
	reader ama class list >out &&
	echo imaging >expect &&
	test_cmp expect out &&
	reader ama list imaging | sed "s/  [0-9-]* [0-9:]* UTC  /  TIME  /" >out &&
	echo "imaging/1  0.0.1    TIME  alice" >expect &&
	test_cmp expect out &&
	keys_used >actual &&
	echo "$S3_RO_KEY" >expect &&
	test_cmp expect actual
'
test_expect_success '... or ask ama-server when one is configured' '
	READER=server.conf &&
	: >"$S3_REQUESTS" &&
	reader ama class list >out &&
	echo imaging >expect &&
	test_cmp expect out &&
	reader ama list imaging | sed "s/  [0-9-]* [0-9:]* UTC  /  TIME  /" >out &&
	echo "imaging/1  0.0.1    TIME  alice" >expect &&
	test_cmp expect out &&
	# the reader reads the class record (where the class lives); the
	# assets and their versions come from the server
	grep -v " $S3_KEY\$" "$S3_REQUESTS" | sort -u >actual &&
	echo "GET /remote/pre/classes/imaging.json 200 $S3_RO_KEY" >expect &&
	test_cmp expect actual
'
test_done
