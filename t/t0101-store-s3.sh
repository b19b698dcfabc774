#!/bin/sh
test_description='lib/store.h on s3:// against the SigV4-checking S3 test server'
. ./test-lib.sh

PATH="$AMA_BUILD_DIR/t/helper:$PATH"
S=s3://staging/pre

# the line "put" and "head" print: size etag md5|other single|multipart meta TAB key
# (a multipart object's ETag is AWS's: the MD5 of its parts' MD5s, "-N")
info_line() { # file key [multipart part-size]
	if test "$3" = multipart; then
		printf '%s %s other multipart %s\t%s\n' "$(wc -c <"$1" | tr -d " ")" \
			"$(mp_etag "$1" "$4")" "$(md5_of "$1")" "$2"
	else
		printf '%s %s md5 single -\t%s\n' "$(wc -c <"$1" | tr -d " ")" \
			"$(md5_of "$1")" "$2"
	fi
}

test_expect_success 'setup: the server and three buckets' '
	test_s3_start staging remote other
'

test_expect_code 2 'the tool takes no secret on its command line' '
	ama-store-tool --secret "$S3_SECRET" $S head k 2>err
'
test_expect_success '... and says which option it refused' '
	sed -n 1p err >actual &&
	echo "ama-store-tool: unknown option '"'--secret'"'" >expect &&
	test_cmp expect actual
'

test_expect_success 'setup: files of 0, 1 and 5 MiB bytes' '
	: >empty &&
	printf x >one &&
	head -c 5242880 /dev/urandom >five
'
for f in empty one five; do
	test_expect_success "round trip of '$f' is byte-identical" '
		ama-store-tool $S put '$f' '$f' >out &&
		info_line '$f' '$f' >expect &&
		test_cmp expect out &&
		ama-store-tool $S get '$f' >back &&
		cmp '$f' back &&
		ama-store-tool $S head '$f' >out &&
		test_cmp expect out
	'
done
test_expect_success 'the objects are under the prefix, sent with Content-MD5' '
	cat >expect <<-EOF &&
	PUT /staging/pre/empty 200 $S3_KEY
	PUT /staging/pre/one 200 $S3_KEY
	PUT /staging/pre/five 200 $S3_KEY
	EOF
	grep "^PUT" "$S3_REQUESTS" >actual &&
	test_cmp expect actual
'

test_expect_success 'setup: a sparse 300 MiB file' '
	truncate -s 300M big &&
	printf start | dd of=big conv=notrunc 2>/dev/null &&
	printf middle | dd of=big bs=1 seek=157286400 conv=notrunc 2>/dev/null &&
	head -c 1000000 /dev/urandom | dd of=big bs=1M seek=299 conv=notrunc 2>/dev/null &&
	: >"$S3_REQUESTS"
'
test_expect_success '300 MiB go in 16 MiB parts and come back identical' '
	AMA_TRANSFER_MULTIPART_THRESHOLD=64MiB AMA_TRANSFER_PART_SIZE=16MiB \
		ama-store-tool -j 4 $S put big big >out &&
	info_line big big multipart 16777216 >expect &&
	test_cmp expect out &&
	ama-store-tool $S get big | cmp big - &&
	ama-store-tool $S head big >out &&
	test_cmp expect out
'
test_expect_success '... in 19 parts, each with its own request' '
	grep -c "^PUT /staging/pre/big?partNumber=[0-9]*&uploadId=[0-9a-f]* 200 " \
		"$S3_REQUESTS" >count &&
	echo 19 >expect &&
	test_cmp expect count &&
	grep "^POST" "$S3_REQUESTS" | sed "s/uploadId=[0-9a-f]*/uploadId=ID/" >actual &&
	cat >expect <<-EOF &&
	POST /staging/pre/big?uploads= 200 $S3_KEY
	POST /staging/pre/big?uploadId=ID 200 $S3_KEY
	EOF
	test_cmp expect actual
'
test_expect_success 'put-multipart drives the parts one by one' '
	AMA_TRANSFER_PART_SIZE=5MiB ama-store-tool $S put-multipart five5 five >out &&
	info_line five five5 multipart 5242880 >expect &&
	test_cmp expect out &&
	ama-store-tool $S get five5 | cmp five -
'

test_expect_success 'ranges' '
	ama-store-tool $S get --range 0:5 big >actual &&
	printf start >expect && test_cmp expect actual &&
	ama-store-tool $S get --range 157286400:6 big >actual &&
	printf middle >expect && test_cmp expect actual &&
	ama-store-tool $S get --range 314572700:100 big >actual &&
	tail -c 100 big >expect && cmp expect actual &&
	ama-store-tool $S get --range 1048576:3145728 five >actual &&
	dd if=five bs=1M skip=1 count=3 2>/dev/null >expect && cmp expect actual &&
	ama-store-tool $S get --range 1:0 one >actual &&
	test_must_be_empty actual
'
test_expect_success 'a range past the end is refused' '
	test_exit_code 1 ama-store-tool $S get --range 2:1 one 2>err &&
	echo "ama-store-tool: one: range past the end of the object" >expect &&
	test_cmp expect err
'

test_expect_success 'setup: 25 keys under page/' '
	for i in 01 02 03 04 05 06 07 08 09 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25; do
		ama-store-tool $S put page/$i one >/dev/null || return 1
	done &&
	: >"$S3_REQUESTS"
'
test_expect_success 'a listing of more keys than a page comes in pages' '
	ama-store-tool $S list --max-keys 10 --pages page/ >out &&
	{
		echo "page 1 10" &&
		for i in 01 02 03 04 05 06 07 08 09 10; do info_line one page/$i; done &&
		echo "page 2 10" &&
		for i in 11 12 13 14 15 16 17 18 19 20; do info_line one page/$i; done &&
		echo "page 3 5" &&
		for i in 21 22 23 24 25; do info_line one page/$i; done
	} >expect &&
	test_cmp expect out &&
	grep -c "^GET /staging?.*list-type=2&max-keys=10&prefix=pre%2Fpage%2F 200" \
		"$S3_REQUESTS" >count &&
	echo 3 >expect && test_cmp expect count &&
	grep -c "continuation-token=" "$S3_REQUESTS" >count &&
	echo 2 >expect && test_cmp expect count
'

# keys that need encoding in a path or an XML listing
test_expect_success 'awkward keys round-trip, and list as they are' '
	: >"$S3_REQUESTS" &&
	for k in "sp ace" "ex!cl'"'"'am(a)t*ion" "tilde~" "utf8-é" "plus+sign" \
		"per%cent" "per%25cent" "amp&ersand&amp;" "lt<gt>" "q\"uote" \
		"back\\slash" "tab	in" "new
line" "-dash" "a/b/c"; do
		ama-store-tool $S put -- "awk/$k" one >/dev/null &&
		ama-store-tool $S get -- "awk/$k" | cmp one - || return 1
	done &&
	ama-store-tool $S list awk/ | cut -f2 >actual &&
	cat >expect <<-\EOF &&
	awk/-dash
	awk/a/b/c
	awk/amp&ersand&amp;
	"awk/back\\slash"
	awk/ex!cl'"'"'am(a)t*ion
	awk/lt<gt>
	"awk/new\nline"
	awk/per%25cent
	awk/per%cent
	awk/plus+sign
	"awk/q\"uote"
	awk/sp ace
	"awk/tab\tin"
	awk/tilde~
	awk/utf8-é
	EOF
	test_cmp expect actual
'
test_expect_success '... encoded in the path as SigV4 wants it' '
	grep "^PUT" "$S3_REQUESTS" | cut -d" " -f2 >actual &&
	cat >expect <<-\EOF &&
	/staging/pre/awk/sp%20ace
	/staging/pre/awk/ex%21cl%27am%28a%29t%2Aion
	/staging/pre/awk/tilde~
	/staging/pre/awk/utf8-%C3%A9
	/staging/pre/awk/plus%2Bsign
	/staging/pre/awk/per%25cent
	/staging/pre/awk/per%2525cent
	/staging/pre/awk/amp%26ersand%26amp%3B
	/staging/pre/awk/lt%3Cgt%3E
	/staging/pre/awk/q%22uote
	/staging/pre/awk/back%5Cslash
	/staging/pre/awk/tab%09in
	/staging/pre/awk/new%0Aline
	/staging/pre/awk/-dash
	/staging/pre/awk/a/b/c
	EOF
	test_cmp expect actual
'
test_expect_success 'awkward keys pass raw with -z' '
	ama-store-tool -z $S head "awk/q\"uote" "awk/tab	in" "awk/new
line" >out &&
	printf "%s\t%s\0" "1 $(md5_of one) md5 single -" "awk/q\"uote" \
		"1 $(md5_of one) md5 single -" "awk/tab	in" \
		"1 $(md5_of one) md5 single -" "awk/new
line" >expect &&
	cmp expect out
'

test_expect_success 'a wrong Content-MD5 is refused (BadDigest) and nothing is stored' '
	: >"$S3_REQUESTS" &&
	test_exit_code 1 ama-store-tool $S put --md5 0123456789abcdef0123456789abcdef bad five 2>err &&
	echo "ama-store-tool: bad: content does not match its MD5" >expect &&
	test_cmp expect err &&
	test_exit_code 1 ama-store-tool $S head bad 2>err &&
	echo "ama-store-tool: bad: no such object" >expect &&
	test_cmp expect err &&
	echo "PUT /staging/pre/bad 400 $S3_KEY" >expect &&
	grep "^PUT" "$S3_REQUESTS" >actual &&
	test_cmp expect actual
'
test_expect_success 'a wrong MD5 on a multipart upload is refused and the upload aborted' '
	: >"$S3_REQUESTS" &&
	test_exit_code 1 env AMA_TRANSFER_MULTIPART_THRESHOLD=1MiB \
		AMA_TRANSFER_PART_SIZE=5MiB ama-store-tool $S put \
		--md5 0123456789abcdef0123456789abcdef badmp five 2>err &&
	echo "ama-store-tool: badmp: content does not match its MD5" >expect &&
	test_cmp expect err &&
	test_exit_code 1 ama-store-tool $S head badmp 2>/dev/null &&
	grep "^DELETE /staging/pre/badmp?uploadId=[0-9a-f]* 204 " "$S3_REQUESTS"
'

test_expect_success 'setup: bad credentials' '
	printf "[default]\naws_access_key_id = %s\naws_secret_access_key = wrong\n[nokey]\naws_access_key_id = NOSUCHKEY\naws_secret_access_key = %s\n" \
		"$S3_KEY" "$S3_SECRET" >badcreds
'
test_expect_success 'a wrong secret is a setup error that names the key' '
	AWS_SHARED_CREDENTIALS_FILE="$PWD/badcreds" \
		test_exit_code 2 ama-store-tool $S put w one 2>err &&
	echo "ama-store-tool: access denied: the secret key does not match (key $S3_KEY)" >expect &&
	test_cmp expect err &&
	test_exit_code 1 ama-store-tool $S head w 2>/dev/null
'
test_expect_success 'an unknown key is a setup error' '
	AWS_SHARED_CREDENTIALS_FILE="$PWD/badcreds" AWS_PROFILE=nokey \
		test_exit_code 2 ama-store-tool $S put w one 2>err &&
	echo "ama-store-tool: access denied: unknown access key (key NOSUCHKEY)" >expect &&
	test_cmp expect err &&
	test_exit_code 1 ama-store-tool $S head w 2>/dev/null
'
test_expect_success 'secrets appear in no message' '
	! grep -r "$S3_SECRET\|$S3_RO_SECRET" err "$S3_REQUESTS"
'
test_expect_success 'a missing bucket is a setup error, for a put and a head' '
	test_exit_code 2 ama-store-tool s3://nosuchbucket/pre put w one 2>err &&
	echo "ama-store-tool: no such bucket: nosuchbucket" >expect &&
	test_cmp expect err &&
	test_exit_code 2 ama-store-tool s3://nosuchbucket head w 2>err &&
	test_cmp expect err
'
test_expect_success 'a refused connection is a setup error naming the endpoint' '
	port=$(test_free_port) &&
	AWS_ENDPOINT_URL=http://127.0.0.1:$port \
		test_exit_code 2 ama-store-tool $S head one 2>err &&
	echo "ama-store-tool: cannot connect to http://127.0.0.1:$port: Connection refused" >expect &&
	test_cmp expect err
'
test_expect_success 'the read-only key reads and lists' '
	AWS_PROFILE=readonly ama-store-tool $S get one >back &&
	cmp one back &&
	AWS_PROFILE=readonly ama-store-tool $S list page/2 >out &&
	for i in 20 21 22 23 24 25; do info_line one page/$i; done >expect &&
	test_cmp expect out
'
test_expect_success '... but a put is denied, through AWS_PROFILE or [s3] staging-profile' '
	AWS_PROFILE=readonly test_exit_code 2 ama-store-tool $S put ro one 2>err &&
	echo "ama-store-tool: access denied (key $S3_RO_KEY)" >expect &&
	test_cmp expect err &&
	AMA_S3_STAGING_PROFILE=readonly test_exit_code 2 ama-store-tool $S put ro one 2>err &&
	test_cmp expect err &&
	test_exit_code 1 ama-store-tool $S head ro 2>/dev/null
'
test_expect_success 'a profile the config names must exist' '
	AMA_S3_STAGING_PROFILE=nosuch test_exit_code 2 ama-store-tool $S head one 2>err &&
	echo "ama-store-tool: $HOME/.aws/credentials: [s3] staging-profile (or AMA_S3_STAGING_PROFILE) names profile '"'nosuch'"': no profile '"'nosuch'"'" >expect &&
	test_cmp expect err
'

test_expect_success 'a conditional create (If-None-Match: *) refuses the second writer' '
	ama-store-tool $S put --if-none-match manifest one >out &&
	info_line one manifest >expect && test_cmp expect out &&
	test_exit_code 1 ama-store-tool $S put --if-none-match manifest five 2>err &&
	echo "ama-store-tool: manifest: the object exists already" >expect &&
	test_cmp expect err &&
	ama-store-tool $S get manifest | cmp one -
'

test_expect_success 'a copy between two buckets on the server side' '
	: >"$S3_REQUESTS" &&
	ama-store-tool s3://remote/top copy $S five contents/five >out &&
	printf "copied\tcontents/five\n" >expect && test_cmp expect out &&
	ama-store-tool s3://remote/top get contents/five | cmp five - &&
	grep "^PUT" "$S3_REQUESTS" >actual &&
	echo "PUT /remote/top/contents/five 200 $S3_KEY" >expect &&
	test_cmp expect actual
'
test_expect_success 'a copy with If-Match copies only the object it names' '
	ama-store-tool s3://remote copy --if-match "$(md5_of one)" $S one one >out &&
	printf "copied\tone\n" >expect && test_cmp expect out &&
	test_exit_code 1 ama-store-tool s3://remote copy --if-match "$(md5_of one)" \
		$S five five 2>err &&
	echo "ama-store-tool: five: the source is not the object expected (ETag $(md5_of five), not $(md5_of one))" >expect &&
	test_cmp expect err &&
	test_exit_code 1 ama-store-tool s3://remote head five 2>/dev/null
'
test_expect_success 'a copy above copy-part-threshold goes by UploadPartCopy' '
	: >"$S3_REQUESTS" &&
	AMA_TRANSFER_COPY_PART_THRESHOLD=5MiB ama-store-tool s3://other copy $S big big >out &&
	printf "copied\tbig\n" >expect && test_cmp expect out &&
	ama-store-tool s3://other get big | cmp big - &&
	grep -c "^PUT /other/big?partNumber=[0-9]*&uploadId=[0-9a-f]* 200" "$S3_REQUESTS" >count &&
	echo 60 >expect && test_cmp expect count
'

test_expect_success 'the aws CLI sees the layout, and the MD5 as ETag of a single-part object' '
	top=0123456789abcdef && m=$(md5_of five) &&
	ama-store-tool s3://staging put $top/$m five >/dev/null &&
	ama-store-tool s3://remote copy s3://staging $top/$m $top/contents/$m >/dev/null &&
	aws s3 ls s3://staging/$top/ | sed "s/.* //" >actual &&
	echo $m >expect && test_cmp expect actual &&
	aws s3 ls s3://remote/$top/contents/ | sed "s/.* //" >actual &&
	test_cmp expect actual &&
	aws s3api head-object --bucket staging --key $top/$m --query ETag --output text >actual &&
	echo "\"$m\"" >expect && test_cmp expect actual
'

test_expect_success 'delete removes, and a missing key is no error' '
	ama-store-tool $S delete one nothere &&
	test_exit_code 1 ama-store-tool $S head one 2>/dev/null
'

test_expect_success 'setup: 200 small files and a multipart one' '
	mkdir small &&
	i=0 && while test $i -lt 200; do
		echo "small file $i" >small/$i && i=$((i + 1)) || return 1
	done &&
	for f in small/*; do printf "%s -\t%s\n" "$(md5_of $f)" $f; done >records &&
	head -c 12582912 /dev/urandom >mp &&
	: >"$S3_REQUESTS"
'
test_expect_success 'the batch reports each byte sent once' '
	ama-store-tool --progress -j 8 s3://staging/progress batch-put <records >out 2>err &&
	echo "ama-store-tool: progress: $(cat small/* | wc -c) bytes sent" >expect &&
	test_cmp expect err &&
	: >"$S3_REQUESTS"
'
test_expect_success 'with 30% of faults a batch of 200 files still completes' '
	test_s3_faults "status 503 0.3" "status 500 0.3" "reset 0.3" "truncate 0.3" &&
	AMA_TRANSFER_RETRIES=40 AMA_TRANSFER_RETRY_DELAY=2 AMA_TRANSFER_RETRY_MAX_DELAY=50 \
		ama-store-tool --progress -j 8 s3://staging/faults batch-put --prefix f/ <records >out 2>err &&
	echo "ama-store-tool: progress: $(cat small/* | wc -c) bytes sent" >expect &&
	test_cmp expect err &&
	sed "s/^\([0-9a-f]*\) -\t/stored \1 /" records | sort >expect &&
	sed "s/^stored \([0-9a-f]*\) \([0-9]*\) [0-9a-f]*\t/stored \1 /" out | sort >actual &&
	test_cmp expect actual
'
test_expect_success '... and so does a multipart upload' '
	AMA_TRANSFER_RETRIES=40 AMA_TRANSFER_RETRY_DELAY=2 AMA_TRANSFER_RETRY_MAX_DELAY=50 \
	AMA_TRANSFER_MULTIPART_THRESHOLD=5MiB AMA_TRANSFER_PART_SIZE=5MiB \
		ama-store-tool -j 4 s3://staging/faults put mp mp >out &&
	info_line mp mp multipart 5242880 >expect &&
	test_cmp expect out
'
test_expect_success '... every object reads back with its MD5, through the faults' '
	while read -r m f; do
		AMA_TRANSFER_RETRIES=40 AMA_TRANSFER_RETRY_DELAY=2 \
			ama-store-tool s3://staging/faults get f/$m >back &&
		test "$(md5_of back)" = "$m" || return 1
	done <records &&
	AMA_TRANSFER_RETRIES=40 AMA_TRANSFER_RETRY_DELAY=2 \
		ama-store-tool s3://staging/faults get mp | cmp mp -
'
test_expect_success '... and the request log shows the retries' '
	for st in 503 500 000; do
		n=$(grep -c "^[A-Z]* [^ ]* $st " "$S3_REQUESTS") &&
		test "$n" -gt 0 || { echo "no $st in the log"; return 1; }
	done &&
	grep -c " truncate$" "$S3_DATA/.s3rver.faultlog" >count &&
	test "$(cat count)" -gt 0 &&
	test_s3_faults
'

test_expect_success 'setup: a batch to interrupt' '
	mkdir kill &&
	i=0 && while test $i -lt 60; do
		head -c 300000 /dev/urandom >kill/$i && i=$((i + 1)) || return 1
	done &&
	head -c 20971520 /dev/urandom >kill/big &&
	for f in kill/big $(ls kill | grep -v big | sed "s|^|kill/|"); do
		printf "%s -\t%s\n" "$(md5_of $f)" $f || return 1
	done >krecords
'
test_expect_success 'kill -9 in the middle of a batch leaves no partial object' '
	test_s3_faults "delay 150" &&
	: >kout &&
	{
		AMA_TRANSFER_MULTIPART_THRESHOLD=8MiB AMA_TRANSFER_PART_SIZE=5MiB \
		ama-store-tool -j 4 s3://staging/killed batch-put <krecords >>kout 2>/dev/null &
	} &&
	pid=$! &&
	# a few are stored, the big one is under way, most are still to come
	n=0 && while test "$(wc -l <kout)" -lt 8 && test $n -lt 300; do
		sleep 0.05 && n=$((n + 1))
	done &&
	kill -9 $pid &&
	{ wait $pid; true; } &&
	test_s3_faults &&
	ama-store-tool s3://staging/killed list >listed &&
	test -s listed &&
	test $(wc -l <listed) -lt 61 &&
	while read -r size etag kind mode meta key; do
		f=$(grep "^$key " krecords | cut -f2) &&
		test "$etag" = "$key" &&
		test "$size" = "$(wc -c <"$f" | tr -d " ")" ||
		{ echo "partial: $size $etag $key"; return 1; }
	done <listed
'
# wait (up to 10 s) for a line matching $1 in the request log
wait_for_request() {
	n=0 && while ! grep -q "$1" "$S3_REQUESTS" && test $n -lt 200; do
		sleep 0.05 && n=$((n + 1))
	done
	grep -q "$1" "$S3_REQUESTS"
}

test_expect_success 'SIGTERM in the middle of a multipart upload aborts it' '
	head -c 20971520 /dev/urandom >term &&
	: >"$S3_REQUESTS" &&
	test_s3_faults "delay 300 PUT" &&
	{
		AMA_TRANSFER_MULTIPART_THRESHOLD=8MiB AMA_TRANSFER_PART_SIZE=5MiB \
		ama-store-tool -j 2 s3://staging put term term >tout 2>terr &
	} &&
	pid=$! &&
	wait_for_request "^POST /staging/term?uploads= 200" &&
	sleep 0.2 &&
	kill -TERM $pid &&
	{ wait $pid; echo $? >status; } &&
	test_s3_faults &&
	echo 143 >expect && test_cmp expect status &&
	echo "ama-store-tool: term: interrupted" >expect && test_cmp expect terr &&
	test_must_be_empty tout &&
	grep "^DELETE /staging/term?uploadId=[0-9a-f]* 204 " "$S3_REQUESTS" &&
	test_exit_code 1 ama-store-tool s3://staging head term 2>/dev/null
'

for how in "put -j 1" put-multipart; do
	test_expect_success "$how: a completion whose answer was lost is found done" '
		: >"$S3_REQUESTS" &&
		test_s3_faults "delay 300 PUT" &&
		{
			AMA_TRANSFER_MULTIPART_THRESHOLD=5MiB AMA_TRANSFER_PART_SIZE=5MiB \
			ama-store-tool s3://staging '"$how"' lost mp >lout 2>lerr &
		} &&
		pid=$! &&
		wait_for_request "^POST /staging/lost?uploads= 200" &&
		test_s3_faults "reset-after 1 POST times=1" &&
		wait $pid &&
		test_s3_faults &&
		info_line mp lost multipart 5242880 >expect &&
		test_cmp expect lout &&
		test_must_be_empty lerr &&
		grep "^POST /staging/lost?uploadId=\|^HEAD /staging/lost " "$S3_REQUESTS" |
			sed "s/uploadId=[0-9a-f]*/uploadId=ID/" >actual &&
		cat >expect <<-EOF &&
		POST /staging/lost?uploadId=ID 000 $S3_KEY
		HEAD /staging/lost 200 $S3_KEY
		EOF
		test_cmp expect actual &&
		ama-store-tool s3://staging get lost | cmp mp -
	'
done
test_done
