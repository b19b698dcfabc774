#!/bin/sh
test_description='lib/publish.h on s3:// buckets: classes, assets and verified versions'
. ./test-lib.sh

PATH="$AMA_BUILD_DIR/t/helper:$PATH"
REPO="$TRASH_DIRECTORY/meta.git"

# the trusted side: remote and staging under prefixes, one repository
pub() {
	ama-publish-tool --remote s3://remote/pub --staging s3://staging/up \
		--repo "$REPO" "$@"
}
# the same in this (sub)shell's place: kill -9 of its pid kills the tool
pub_exec() {
	exec ama-publish-tool --remote s3://remote/pub \
		--staging s3://staging/up --repo "$REPO" "$@"
}
size_of() {
	wc -c <"$1" | tr -d " "
}
# the record of file $1 as the asset path $2, NUL-terminated
rec() {
	printf '%s %s\t%s\0' "$(md5_of "$1")" "$(size_of "$1")" "$2"
}
# stage file $1 as a client does: <top_hash>/<md5> (or under the MD5 of $2)
stage() {
	ama-store-tool s3://staging/up put "$top/$(md5_of "${2:-$1}")" "$1" \
		>/dev/null
}
# the request log's lines about one key: method, path, status
requests_of() {
	grep " $1 " "$S3_REQUESTS" | cut -d" " -f1-3
}

test_expect_success 'setup: the server and two buckets' '
	test_s3_start remote staging
'

test_expect_code 2 'the tool needs its buckets and repository' '
	ama-publish-tool classes 2>err
'
test_expect_success '... and says so' '
	sed -n 1p err >actual &&
	echo "ama-publish-tool: need --remote, --staging and --repo" >expect &&
	test_cmp expect actual
'

test_expect_success 'a class is made on first use' '
	pub class imaging >out &&
	id=$(cut -d" " -f1 out) && top=$(cut -d" " -f2 out) &&
	created=$(cut -d" " -f3 out | cut -f1) &&
	printf "%s %s %s\timaging\n" "$id" "$top" "$created" >expect &&
	test_cmp expect out &&
	printf "%s" "$id" | md5sum | cut -d" " -f1 >expect &&
	echo "$top" >actual &&
	test_cmp expect actual &&
	aws s3 cp s3://remote/pub/classes/imaging.json - >actual &&
	printf "{\"name\":\"imaging\",\"class_id\":\"%s\",\"top_hash\":\"%s\",\"created\":%s}\n" \
		"$id" "$top" "$created" >expect &&
	test_cmp expect actual
'
top=$(pub class --no-create imaging 2>/dev/null | cut -d" " -f2)

test_expect_success '... and read back by the next publisher' '
	pub class imaging >again &&
	test_cmp out again &&
	pub classes >all &&
	test_cmp out all
'
test_expect_success 'a missing class is not made without create' '
	test_exit_code 1 pub class --no-create other 2>err &&
	echo "ama-publish-tool: no such class: other" >expect &&
	test_cmp expect err
'

test_expect_success 'a key that may only read cannot make a class' '
	(
		AMA_S3_SERVER_PROFILE=readonly && export AMA_S3_SERVER_PROFILE &&
		test_exit_code 2 pub class other 2>err
	) &&
	echo "ama-publish-tool: s3://remote/pub/classes/other.json: access denied (key $S3_RO_KEY)" >expect &&
	test_cmp expect err
'

test_expect_success 'assets are numbered from 1' '
	pub asset-create imaging >out &&
	pub asset-create imaging >>out &&
	printf "1\n2\n" >expect &&
	test_cmp expect out &&
	pub assets imaging >out &&
	printf "1 -\n2 -\n" >expect &&
	test_cmp expect out
'

test_expect_success 'setup: two single-part staged objects, one multipart' '
	echo one >one && echo two >two &&
	head -c 6291456 /dev/urandom >big &&
	aws s3api put-object --bucket staging --key "up/$top/$(md5_of one)" \
		--body one --metadata origin=aws-cli >/dev/null &&
	stage two &&
	AMA_TRANSFER_PART_SIZE=5MiB ama-store-tool s3://staging/up \
		put-multipart "$top/$(md5_of big)" big >out &&
	grep -q " multipart $(md5_of big)	" out &&
	{
		rec one a/one && rec two b/two && rec big big &&
		rec one "tab	here" && rec two "new
line"
	} >records &&
	: >"$S3_REQUESTS"
'

# the objects part of a manifest, as the commit id covers it
cat >objects.in <<EOF
ONE 4	a/one
TWO 4	b/two
BIG 6291456	big
TWO 4	"new\\nline"
ONE 4	"tab\\there"
EOF

test_expect_success 'the staged objects become version 0.0.0' '
	pub -z commit --author alice --message "first light" \
		--time 1718000000 imaging 1 <records >out &&
	sed "s/ONE/$(md5_of one)/;s/TWO/$(md5_of two)/;s/BIG/$(md5_of big)/" \
		objects.in >objects &&
	cid=$({ printf "ama-commit-id 1\nparent\n" && cat objects; } |
		sha256sum | cut -d" " -f1) &&
	echo "0.0.0 created $cid" >expect &&
	test_cmp expect out
'
cid0=$(cut -d" " -f3 out)

test_expect_success 'single-part objects: verified by ETag (a HEAD, no GET)' '
	for f in one two; do
		requests_of "/staging/up/$top/$(md5_of $f)" >actual &&
		echo "HEAD /staging/up/$top/$(md5_of $f) 200" >expect &&
		test_cmp expect actual || return 1
	done
'
test_expect_success 'the multipart object: read and hashed (a GET)' '
	requests_of "/staging/up/$top/$(md5_of big)" >actual &&
	cat >expect <<-EOF &&
	HEAD /staging/up/$top/$(md5_of big) 200
	GET /staging/up/$top/$(md5_of big) 200
	EOF
	test_cmp expect actual
'
test_expect_success 'staging was drained with one DeleteObjects, last' '
	grep "^POST" "$S3_REQUESTS" | cut -d" " -f1-3 >actual &&
	echo "POST /staging?delete= 200" >expect &&
	test_cmp expect actual &&
	tail -n 1 "$S3_REQUESTS" | cut -d" " -f1-3 >actual &&
	test_cmp expect actual
'
test_expect_success 'each content was copied on the server side, once' '
	grep "^PUT /remote/pub/$top/contents/" "$S3_REQUESTS" |
		cut -d" " -f1-3 | sort >actual &&
	for f in one two big; do
		echo "PUT /remote/pub/$top/contents/$(md5_of $f) 200"
	done | sort >expect &&
	test_cmp expect actual &&
	aws s3api head-object --bucket remote --key "pub/$top/contents/$(md5_of one)" \
		--query "[ContentLength, ETag, Metadata.origin]" --output text >actual &&
	printf "4\t\"%s\"\taws-cli\n" "$(md5_of one)" >expect &&
	test_cmp expect actual &&
	aws s3api head-object --bucket remote --key "pub/$top/contents/$(md5_of big)" \
		--query "[ContentLength, Metadata.\"ama-md5\"]" --output text >actual &&
	printf "6291456\t%s\n" "$(md5_of big)" >expect &&
	test_cmp expect actual &&
	aws s3 cp "s3://remote/pub/$top/contents/$(md5_of big)" - | cmp big -
'
test_expect_success 'the aws CLI sees each object where DESIGN.md puts it' '
	aws s3 ls --recursive s3://remote/pub/ | awk "{ print \$4 }" |
		sort >actual &&
	{
		echo pub/classes/imaging.json &&
		echo "pub/$top/assets/1/asset.json" &&
		echo "pub/$top/assets/2/asset.json" &&
		echo "pub/$top/assets/1/0.0.0.manifest" &&
		for f in one two big; do
			echo "pub/$top/contents/$(md5_of $f)"
		done
	} | sort >expect &&
	test_cmp expect actual
'
test_expect_success 'staging is drained of what was published' '
	ama-store-tool s3://staging/up list >actual &&
	test_must_be_empty actual
'
test_expect_success 'the manifest in remote is the version, byte for byte' '
	{
		printf "version 0.0.0\nparent\nclass imaging\nseq 1\n" &&
		printf "commit-id %s\nauthor alice\ntime 1718000000\n" "$cid0" &&
		printf "message first light\n\n" &&
		cat objects
	} >expect &&
	aws s3 cp "s3://remote/pub/$top/assets/1/0.0.0.manifest" - >actual &&
	test_cmp expect actual &&
	pub manifest imaging 1 0.0.0 >actual &&
	test_cmp expect actual
'
test_expect_success 'asset.json holds the claim' '
	aws s3 cp "s3://remote/pub/$top/assets/2/asset.json" - >actual &&
	id=$(cut -d" " -f1 all) &&
	grep -q "^{\"class\":\"imaging\",\"class_id\":\"$id\",\"seq\":2,\"created\":[0-9]*}\$" actual
'
test_expect_success 'git log shows the version in the repository' '
	git --git-dir="$REPO" log --all --format="%an <%ae> %at%n%B" >actual &&
	cat >expect <<-EOF &&
	alice <alice@ama> 1718000000
	first light

	Ama-Version: 0.0.0
	Ama-Class: imaging
	Ama-Asset: imaging/1
	Ama-Commit-Id: $cid0

	EOF
	test_cmp expect actual
'

test_expect_success 'a repeated request returns the version it made' '
	pub -z commit --author alice --message "again" imaging 1 <records >out &&
	echo "0.0.0 existed $cid0" >expect &&
	test_cmp expect out &&
	pub versions imaging 1 >out &&
	printf "0.0.0 - 1718000000 %s alice\tfirst light\n" "$cid0" >expect &&
	test_cmp expect out
'

test_expect_success 'a one-file change asks only about that file' '
	echo three >three &&
	stage three &&
	{
		rec one a/one && rec three b/two && rec big big &&
		rec one "tab	here" && rec two "new
line"
	} >records1 &&
	: >"$S3_REQUESTS" &&
	pub -z commit --author bob --time 1718000100 imaging 1 <records1 >out &&
	grep -q "^0.0.1 created " out &&
	cut -d" " -f1-3 "$S3_REQUESTS" >actual &&
	m=$(md5_of three) &&
	cat >expect <<-EOF &&
	GET /remote/pub/classes/imaging.json 200
	HEAD /remote/pub/$top/contents/$m 404
	GET /remote/pub/$top/contents/$m 404
	HEAD /staging/up/$top/$m 200
	PUT /remote/pub/$top/contents/$m 200
	PUT /remote/pub/$top/assets/1/0.0.1.manifest 200
	POST /staging?delete= 200
	EOF
	test_cmp expect actual
'

test_expect_success 'a tampered staged object is refused and named' '
	echo four >four && echo FOUR >evil &&
	stage evil four &&
	{ rec one a/one && rec four "sub/e\"vil"; } >records2 &&
	: >"$S3_REQUESTS" &&
	test_exit_code 1 pub -z commit imaging 1 <records2 >out 2>err &&
	printf "checksum\t\"sub/e\\\\\"vil\"\n" >expect &&
	test_cmp expect out &&
	echo "ama-publish-tool: refused: 1 object not verified" >expect &&
	test_cmp expect err &&
	requests_of "/staging/up/$top/$(md5_of four)" >actual &&
	echo "HEAD /staging/up/$top/$(md5_of four) 200" >expect &&
	test_cmp expect actual &&
	! grep -q "^PUT" "$S3_REQUESTS" &&
	! grep -q "^DELETE" "$S3_REQUESTS" &&
	pub versions imaging 1 | cut -d" " -f1 >actual &&
	printf "0.0.1\n0.0.0\n" >expect &&
	test_cmp expect actual
'
test_expect_success 'a multipart object of other bytes is read and refused' '
	head -c 5242881 /dev/urandom >big2 &&
	head -c 5242881 /dev/urandom >other2 &&
	AMA_TRANSFER_PART_SIZE=5MiB ama-store-tool s3://staging/up \
		put-multipart --md5 "$(md5_of big2)" "$top/$(md5_of big2)" \
		other2 >/dev/null &&
	rec big2 big2 >records3 &&
	: >"$S3_REQUESTS" &&
	test_exit_code 1 pub -z commit imaging 1 <records3 >out 2>err &&
	printf "checksum\tbig2\n" >expect &&
	test_cmp expect out &&
	requests_of "/staging/up/$top/$(md5_of big2)" >actual &&
	cat >expect <<-EOF &&
	HEAD /staging/up/$top/$(md5_of big2) 200
	GET /staging/up/$top/$(md5_of big2) 200
	EOF
	test_cmp expect actual
'
test_expect_success 'a staged object of another size is refused' '
	echo five >five && echo fiveplus >longer &&
	stage longer five &&
	rec five five >records4 &&
	test_exit_code 1 pub -z commit imaging 1 <records4 >out &&
	printf "size\tfive\n" >expect &&
	test_cmp expect out
'
test_expect_success 'content in neither bucket is missing, hostile names quoted' '
	echo six >six &&
	{ rec six "-dash" && rec six "tab	x" && rec six "new
x" && rec six "q\"b\\s"; } >records5 &&
	test_exit_code 1 pub -z commit imaging 1 <records5 >out 2>err &&
	cat >expect <<-\EOF &&
	missing	-dash
	missing	"new\nx"
	missing	"q\"b\\s"
	missing	"tab\tx"
	EOF
	test_cmp expect out &&
	echo "ama-publish-tool: refused: 4 objects not verified" >expect &&
	test_cmp expect err
'

# wait (up to 10 s) for a line matching $1 in file $2
wait_for() {
	n=0
	until grep -q "$1" "$2" 2>/dev/null; do
		n=$((n + 1))
		test $n -lt 100 || return 1
		sleep 0.1
	done
}

# The copy carries x-amz-copy-source-if-match of the ETag verified: the
# store refuses a source replaced meanwhile (412), and the staged object is
# judged again.
test_expect_success 'an object swapped between its check and its copy is refused' '
	echo nine >nine && echo NINE >evil9 &&
	stage nine &&
	rec nine nine >records9 &&
	key="/remote/pub/$top/contents/$(md5_of nine)" &&
	test_s3_faults "delay 1500 PUT $key" &&
	: >"$S3_REQUESTS" &&
	{ pub_exec -z commit imaging 1 <records9 >out 2>err & } &&
	pid=$! &&
	wait_for "PUT $key delay:1500" "$S3_DATA/.s3rver.faultlog" &&
	stage evil9 nine &&
	{ wait $pid; test $? = 1; } &&
	test_s3_faults &&
	printf "checksum\tnine\n" >expect &&
	test_cmp expect out &&
	requests_of "$key" >actual &&
	cat >expect <<-EOF &&
	HEAD $key 404
	GET $key 404
	PUT $key 412
	EOF
	test_cmp expect actual &&
	test_exit_code 1 ama-store-tool s3://remote/pub head "${key#/remote/pub/}"
'
# A store that ignores x-amz-copy-source-if-match (the fault
# no-copy-if-match) copies the other bytes: the ETag S3 computes for the
# copy catches them, and the copy is taken back before anything names it.
test_expect_success '... by a store that ignores If-Match: the copy is checked, taken back' '
	stage nine &&
	test_s3_faults "delay 1500 PUT $key" "no-copy-if-match 1 PUT $key" &&
	: >"$S3_REQUESTS" && : >"$S3_DATA/.s3rver.faultlog" &&
	{ pub_exec -z commit imaging 1 <records9 >out 2>err & } &&
	pid=$! &&
	wait_for "PUT $key delay:1500" "$S3_DATA/.s3rver.faultlog" &&
	stage evil9 nine &&
	{ wait $pid; test $? = 1; } &&
	test_s3_faults &&
	printf "checksum\tnine\n" >expect &&
	test_cmp expect out &&
	requests_of "$key" >actual &&
	cat >expect <<-EOF &&
	HEAD $key 404
	GET $key 404
	PUT $key 200
	HEAD $key 200
	DELETE $key 204
	EOF
	test_cmp expect actual &&
	test_exit_code 1 ama-store-tool s3://remote/pub head "${key#/remote/pub/}"
'
# ... and when that delete fails (or the server dies before it), the other
# bytes stay under the content's key: the commit fails and says so, and no
# later commit takes them for the content.
test_expect_success '... a take-back that fails is the commit'"'"'s failure, named' '
	stage nine &&
	test_s3_faults "delay 1500 PUT $key" "no-copy-if-match 1 PUT $key" \
		"status 503 1 DELETE $key" &&
	: >"$S3_REQUESTS" && : >"$S3_DATA/.s3rver.faultlog" &&
	{ AMA_TRANSFER_RETRIES=2 pub_exec -z commit imaging 1 <records9 >out 2>err & } &&
	pid=$! &&
	wait_for "PUT $key delay:1500" "$S3_DATA/.s3rver.faultlog" &&
	stage evil9 nine &&
	{ wait $pid; test $? = 1; } &&
	test_s3_faults &&
	test_must_be_empty out &&
	sed "s/: DELETE s3:.*//" err >actual &&
	echo "ama-publish-tool: s3:/$key: a copy of other bytes than $(md5_of nine) is there and could not be deleted" >expect &&
	test_cmp expect actual &&
	aws s3 cp "s3:/$key" - | cmp evil9 - &&
	pub versions imaging 1 | cut -d" " -f1 >actual &&
	printf "0.0.1\n0.0.0\n" >expect &&
	test_cmp expect actual
'
test_expect_success '... the rerun with the staged object still swapped: refused, not published' '
	test_exit_code 1 pub -z commit imaging 1 <records9 >out &&
	printf "checksum\tnine\n" >expect &&
	test_cmp expect out &&
	pub versions imaging 1 | cut -d" " -f1 >actual &&
	printf "0.0.1\n0.0.0\n" >expect &&
	test_cmp expect actual
'
test_expect_success '... and once staged right, the copy replaces the other bytes' '
	stage nine &&
	: >"$S3_REQUESTS" &&
	pub -z commit --time 1718000150 imaging 2 <records9 >out &&
	grep -q "^0.0.0 created " out &&
	requests_of "$key" >actual &&
	cat >expect <<-EOF &&
	HEAD $key 200
	PUT $key 200
	EOF
	test_cmp expect actual &&
	aws s3 cp "s3:/$key" - | cmp nine -
'

# The manifest is stored but its answer lost (reset-after); the tool's
# store asks with a HEAD whether it is there, and is killed meanwhile:
# the manifest is in remote, the repository does not know it.
test_expect_success 'killed after the manifest was written: one version on rerun' '
	echo seven >seven && stage seven &&
	{ cat records1 && rec seven g/seven; } >records6 &&
	key="/remote/pub/$top/assets/1/0.0.2.manifest" &&
	test_s3_faults "reset-after 1 PUT $key times=1" "delay 3000 HEAD $key" &&
	{ pub_exec -z commit --time 1718000200 --message "killed" \
		imaging 1 <records6 >out 2>err & } &&
	pid=$! &&
	wait_for "HEAD $key delay:3000" "$S3_DATA/.s3rver.faultlog" &&
	kill -9 $pid &&
	{ wait $pid; test $? = 137; } &&
	test_s3_faults &&
	test_must_be_empty out &&
	pub versions imaging 1 | cut -d" " -f1 >actual &&
	printf "0.0.1\n0.0.0\n" >expect &&
	test_cmp expect actual &&
	pub -z commit --time 1718000300 --message "rerun" imaging 1 \
		<records6 >out &&
	grep -q "^0.0.2 created " out &&
	pub versions imaging 1 | cut -d" " -f1,2,3 >actual &&
	cat >expect <<-EOF &&
	0.0.2 0.0.1 1718000200
	0.0.1 0.0.0 1718000100
	0.0.0 - 1718000000
	EOF
	test_cmp expect actual &&
	aws s3 cp "s3:/$key" - >expect &&
	pub manifest imaging 1 0.0.2 >actual &&
	test_cmp expect actual &&
	grep -q "^message killed\$" actual &&
	ama-store-tool s3://staging/up list "$top/$(md5_of seven)" >actual &&
	test_must_be_empty actual
'
test_expect_success 'killed while staging is drained: the rerun finds the version' '
	echo eight >eight && stage eight &&
	{ cat records6 && rec eight h/eight; } >records7 &&
	test_s3_faults "delay 2000 POST /staging" &&
	{ pub_exec -z commit imaging 1 <records7 >out 2>err & } &&
	pid=$! &&
	wait_for "POST /staging?delete= delay:2000" \
		"$S3_DATA/.s3rver.faultlog" &&
	kill -9 $pid &&
	{ wait $pid; test $? = 137; } &&
	test_s3_faults &&
	wait_for "^POST /staging?delete= " "$S3_REQUESTS" &&
	stage eight &&
	pub -z commit imaging 1 <records7 >out &&
	grep -q "^0.0.3 existed " out &&
	pub versions imaging 1 | cut -d" " -f1 >actual &&
	printf "0.0.3\n0.0.2\n0.0.1\n0.0.0\n" >expect &&
	test_cmp expect actual &&
	ama-store-tool s3://staging/up list "$top/$(md5_of eight)" >actual &&
	test_must_be_empty actual
'

test_expect_success 'above copy-part-threshold the copy goes in parts' '
	head -c 6291457 /dev/urandom >ten &&
	AMA_TRANSFER_PART_SIZE=5MiB ama-store-tool s3://staging/up \
		put-multipart "$top/$(md5_of ten)" ten >/dev/null &&
	{ cat records7 && rec ten i/ten; } >records10 &&
	: >"$S3_REQUESTS" &&
	AMA_TRANSFER_COPY_PART_THRESHOLD=5MiB pub -z commit imaging 1 \
		<records10 >out &&
	grep -q "^0.0.4 created " out &&
	key="/remote/pub/$top/contents/$(md5_of ten)" &&
	grep "^[A-Z]* $key?" "$S3_REQUESTS" | cut -d" " -f1,2 |
		sed "s/uploadId=[0-9a-f]*/uploadId=ID/" >actual &&
	cat >expect <<-EOF &&
	POST $key?uploads=
	PUT $key?partNumber=1&uploadId=ID
	PUT $key?partNumber=2&uploadId=ID
	POST $key?uploadId=ID
	EOF
	sort expect >expect.sorted && sort actual >actual.sorted &&
	test_cmp expect.sorted actual.sorted &&
	# its ETag cannot tell: the copy was read and hashed before the manifest
	requests_of "$key" >actual &&
	cat >expect <<-EOF &&
	HEAD $key 404
	GET $key 404
	GET $key 200
	EOF
	test_cmp expect actual &&
	aws s3 cp "s3:/$key" - | cmp ten -
'

# Whoever writes remote besides the server (an operator, a bug, a copy that
# went wrong and stayed): what is under a content's key counts only when
# its bytes are known to be the content.
test_expect_success 'bytes of the right size planted in remote are not taken for the content' '
	echo eleven >eleven && echo ELEVEN >evil11 &&
	m=$(md5_of eleven) && key="/remote/pub/$top/contents/$m" &&
	aws s3 cp evil11 "s3:/$key" >/dev/null &&
	rec eleven k/eleven >records11 &&
	: >"$S3_REQUESTS" &&
	test_exit_code 1 pub -z commit imaging 2 <records11 >out &&
	printf "missing\tk/eleven\n" >expect &&
	test_cmp expect out &&
	# asked again once staging had none: published meanwhile?
	requests_of "$key" >actual &&
	printf "HEAD $key 200\nHEAD $key 200\n" >expect &&
	test_cmp expect actual
'
test_expect_success '... once staged, the verified copy replaces them' '
	stage eleven &&
	pub -z commit imaging 2 <records11 >out &&
	grep -q "^0.0.1 created " out &&
	aws s3 cp "s3:/$key" - | cmp eleven - &&
	pub manifest imaging 2 0.0.1 | grep "	k/eleven\$" >actual &&
	printf "%s 7\tk/eleven\n" $m >expect &&
	test_cmp expect actual
'
test_expect_success 'an object in parts planted in remote is read, and not taken either' '
	head -c 6291457 /dev/urandom >twelve &&
	head -c 6291457 /dev/urandom >evil12 &&
	m=$(md5_of twelve) && key="/remote/pub/$top/contents/$m" &&
	AMA_TRANSFER_PART_SIZE=5MiB ama-store-tool s3://remote/pub \
		put-multipart --md5 $m "$top/contents/$m" evil12 >/dev/null &&
	{ rec eleven k/eleven && rec twelve k/twelve; } >records12 &&
	: >"$S3_REQUESTS" &&
	test_exit_code 1 pub -z commit imaging 2 <records12 >out &&
	printf "missing\tk/twelve\n" >expect &&
	test_cmp expect out &&
	requests_of "$key" >actual &&
	cat >expect <<-EOF &&
	HEAD $key 200
	GET $key 200
	HEAD $key 200
	GET $key 200
	EOF
	test_cmp expect actual &&
	AMA_TRANSFER_PART_SIZE=5MiB ama-store-tool s3://staging/up \
		put-multipart "$top/$m" twelve >/dev/null &&
	pub -z commit imaging 2 <records12 >out &&
	grep -q "^0.0.2 created " out &&
	aws s3 cp "s3:/$key" - | cmp twelve -
'

test_done
