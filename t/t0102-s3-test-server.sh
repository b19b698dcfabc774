#!/bin/sh
test_description='the S3 test server itself (t/lib/s3-test-server.sh): writes that race, preconditions, multipart as AWS does it'
. ./test-lib.sh

PATH="$AMA_BUILD_DIR/t/helper:$PATH"
S=s3://tsb
ROUNDS=${AMA_TEST_ROUNDS:-20}	# more: AMA_TEST_ROUNDS=200 sh t0102-s3-test-server.sh

# the statuses the request log has for "METHOD /tsb/KEY", one a line, sorted
statuses() {
	grep "^$1 /tsb/$2 " "$S3_REQUESTS" | cut -d" " -f3 | sort
}
# the bytes of KEY are its ETag's MD5 (a single-part ETag)
consistent() {
	ama-store-tool $S head "$1" | cut -d" " -f2 >etag.out &&
	ama-store-tool $S get "$1" | md5sum | cut -d" " -f1 >md5.out &&
	test_cmp etag.out md5.out
}
# no answer was a 500
no_500() {
	! grep " 500 " "$S3_REQUESTS"
}

test_expect_success 'setup: the server and a bucket' '
	test_s3_start tsb &&
	for i in 1 2 3 4 5 6 7 8; do
		head -c $((i * 1000 + 1)) /dev/urandom >f$i || return 1
	done
'

# The check of If-None-Match and the create are one step: two PUTs held
# at the door together (delay), then let in at once, cannot both create.
test_expect_success "two racing PUTs with If-None-Match: * give one 200 and one 412 ($ROUNDS rounds)" '
	test_s3_faults "delay 100 PUT race/" &&
	i=0 &&
	while test $i -lt $ROUNDS; do
		i=$((i + 1)) &&
		{ ama-store-tool $S put --if-none-match race/$i f1 >/dev/null 2>&1 & } &&
		p1=$! &&
		{ ama-store-tool $S put --if-none-match race/$i f2 >/dev/null 2>&1 & } &&
		p2=$! &&
		wait $p1; s1=$? &&
		wait $p2; s2=$? &&
		echo "$s1 $s2" | tr " " "\n" | sort | tr "\n" " " >>codes &&
		echo >>codes &&
		statuses PUT race/$i | tr "\n" " " >>actual &&
		echo >>actual &&
		echo "200 412 " >>expect || return 1
	done &&
	test_s3_faults &&
	test_cmp expect actual &&
	sed "s/.*/0 1 /" expect >expect.codes &&
	test_cmp expect.codes codes
'
test_expect_success '... and the winner'"'"'s bytes are what is stored, whole' '
	i=0 &&
	while test $i -lt $ROUNDS; do
		i=$((i + 1)) &&
		consistent race/$i || return 1
	done
'

test_expect_success "eight PUTs of one key at once: the last writer wins, whole ($ROUNDS rounds)" '
	: >"$S3_REQUESTS" &&
	i=0 &&
	while test $i -lt $ROUNDS; do
		i=$((i + 1)) &&
		pids= &&
		for f in f1 f2 f3 f4 f5 f6 f7 f8; do
			{ ama-store-tool $S put many/$i $f >/dev/null & } &&
			pids="$pids $!" || return 1
		done &&
		for p in $pids; do wait $p || return 1; done &&
		consistent many/$i || return 1
	done &&
	no_500
'

test_expect_success 'setup: two sources to copy' '
	ama-store-tool $S put src/a f3 >/dev/null &&
	ama-store-tool $S put src/b f4 >/dev/null
'
# 2 of 16 rounds left a 0-byte ._S3rver_metadata.json: HEAD then
# answered 500 for good
test_expect_success "eight copies to one key at once: HEAD and GET agree after ($ROUNDS rounds)" '
	: >"$S3_REQUESTS" &&
	i=0 &&
	while test $i -lt $ROUNDS; do
		i=$((i + 1)) &&
		pids= &&
		for s in a b a b a b a b; do
			{ ama-store-tool $S copy $S src/$s copy/$i >/dev/null & } &&
			pids="$pids $!" || return 1
		done &&
		for p in $pids; do wait $p || return 1; done &&
		consistent copy/$i || return 1
	done &&
	no_500 &&
	find "$S3_DATA/tsb" -name "*._S3rver_metadata.json" -size 0 >empty &&
	test_must_be_empty empty
'

# The package removes a folder the delete of its last object left empty;
# a PUT into that folder at the same moment found it gone: 500.
test_expect_success 'PUTs and DELETEs in one folder at once: never a 500' '
	: >"$S3_REQUESTS" &&
	i=0 &&
	while test $i -lt $ROUNDS; do
		i=$((i + 1)) &&
		pids= &&
		for k in 1 2 3 4; do
			{ ama-store-tool $S put dir$i/k$k f$k >/dev/null & } &&
			pids="$pids $!" &&
			{ ama-store-tool $S delete dir$i/k$k >/dev/null & } &&
			pids="$pids $!" || return 1
		done &&
		for p in $pids; do wait $p || return 1; done
	done &&
	grep "^\(PUT\|DELETE\) /tsb/dir" "$S3_REQUESTS" | cut -d" " -f1,3 |
		sort | uniq -c | sed "s/^ *//" >actual &&
	printf "%s DELETE 204\n%s PUT 200\n" $((ROUNDS * 4)) $((ROUNDS * 4)) >expect &&
	test_cmp expect actual
'

test_expect_success 'no temporary file is left behind' '
	find "$S3_DATA/tsb" -name "*.s3ts-*" >left &&
	test_must_be_empty left
'

test_expect_success 'a copy with x-amz-copy-source-if-match of the source'"'"'s ETag is made' '
	ama-store-tool $S copy --if-match "$(md5_of f3)" $S src/a cond/yes >/dev/null &&
	ama-store-tool $S get cond/yes | cmp f3 -
'
test_expect_success '... of another ETag: 412, and nothing is written' '
	: >"$S3_REQUESTS" &&
	test_exit_code 255 aws s3api copy-object --bucket tsb --key cond/no \
		--copy-source tsb/src/a --copy-source-if-match "\"$(md5_of f4)\"" \
		>/dev/null 2>err &&
	grep -q PreconditionFailed err &&
	statuses PUT cond/no >actual &&
	echo 412 >expect &&
	test_cmp expect actual &&
	test_exit_code 1 ama-store-tool $S head cond/no 2>/dev/null
'
test_expect_success '... unless the fault no-copy-if-match says to ignore it' '
	test_s3_faults "no-copy-if-match 1 PUT cond/" &&
	aws s3api copy-object --bucket tsb --key cond/no \
		--copy-source tsb/src/a --copy-source-if-match "\"$(md5_of f4)\"" \
		>/dev/null &&
	test_s3_faults &&
	ama-store-tool $S get cond/no | cmp f3 - &&
	grep -c "PUT /tsb/cond/no no-copy-if-match\$" "$S3_DATA/.s3rver.faultlog" >actual &&
	echo 1 >expect &&
	test_cmp expect actual &&
	ama-store-tool $S delete cond/no
'
test_expect_success '... the same for a part copied (UploadPartCopy)' '
	aws s3api create-multipart-upload --bucket tsb --key cond/parts \
		--query UploadId --output text >id &&
	: >"$S3_REQUESTS" &&
	test_exit_code 255 aws s3api upload-part-copy --bucket tsb --key cond/parts \
		--upload-id "$(cat id)" --part-number 1 --copy-source tsb/src/a \
		--copy-source-if-match "\"$(md5_of f4)\"" >/dev/null 2>err &&
	grep -q PreconditionFailed err &&
	grep "^PUT /tsb/cond/parts?partNumber=" "$S3_REQUESTS" | cut -d" " -f3 >actual &&
	echo 412 >expect &&
	test_cmp expect actual &&
	aws s3api upload-part-copy --bucket tsb --key cond/parts \
		--upload-id "$(cat id)" --part-number 1 --copy-source tsb/src/a \
		--copy-source-if-match "\"$(md5_of f3)\"" \
		--query CopyPartResult.ETag --output text >actual &&
	echo "\"$(md5_of f3)\"" >expect &&
	test_cmp expect actual &&
	aws s3api abort-multipart-upload --bucket tsb --key cond/parts \
		--upload-id "$(cat id)"
'

test_expect_success 'a multipart object'"'"'s ETag is the MD5 of its parts'"'"' MD5s, "-N"' '
	head -c 6291457 /dev/urandom >big &&
	AMA_TRANSFER_PART_SIZE=5MiB ama-store-tool $S put-multipart mp big >/dev/null &&
	aws s3api head-object --bucket tsb --key mp --query ETag --output text |
		tr -d "\"" >actual &&
	mp_etag big 5242880 >expect &&
	test_cmp expect actual &&
	grep -x "[0-9a-f]\{32\}-2" actual &&
	aws s3 cp s3://tsb/mp - | cmp big -
'
test_expect_success '... and a copy of it gets the MD5 of its bytes, as on AWS' '
	aws s3api copy-object --bucket tsb --key mpcopy --copy-source tsb/mp >/dev/null &&
	consistent mpcopy &&
	aws s3api head-object --bucket tsb --key mpcopy --query ETag --output text |
		tr -d "\"" >actual &&
	md5_of big >expect &&
	test_cmp expect actual
'
test_expect_success 'a completion naming a part by another ETag: 400 InvalidPart' '
	aws s3api create-multipart-upload --bucket tsb --key bad \
		--query UploadId --output text >id &&
	aws s3api upload-part --bucket tsb --key bad --upload-id "$(cat id)" \
		--part-number 1 --body f1 >/dev/null &&
	printf "{\"Parts\":[{\"PartNumber\":1,\"ETag\":\"\\\\\"%s\\\\\"\"}]}" \
		"$(md5_of f2)" >parts.json &&
	test_exit_code 255 aws s3api complete-multipart-upload --bucket tsb --key bad \
		--upload-id "$(cat id)" --multipart-upload file://parts.json \
		>/dev/null 2>err &&
	grep -q "InvalidPart" err &&
	test_exit_code 1 ama-store-tool $S head bad 2>/dev/null
'

test_expect_success 'ListMultipartUploads: the uploads begun and not ended, sorted by key' '
	aws s3api abort-multipart-upload --bucket tsb --key bad --upload-id "$(cat id)" &&
	for k in x/one x/two y/three x/one; do
		aws s3api create-multipart-upload --bucket tsb --key $k \
			--query UploadId --output text >>ids || return 1
	done &&
	aws s3api list-multipart-uploads --bucket tsb \
		--query "Uploads[].[Key, UploadId]" --output text >actual &&
	paste -d"\t" - - <<-EOF >expect.in &&
	x/one
	$(sed -n 1p ids)
	x/two
	$(sed -n 2p ids)
	y/three
	$(sed -n 3p ids)
	x/one
	$(sed -n 4p ids)
	EOF
	sort -k1,1 -s expect.in >expect.sorted &&
	sort -k1,1 -s actual >actual.sorted &&
	test_cmp expect.sorted actual.sorted &&
	cut -f1 actual >keys &&
	sort -s keys >keys.sorted &&
	test_cmp keys.sorted keys
'
test_expect_success '... with a prefix, and page by page' '
	aws s3api list-multipart-uploads --bucket tsb --prefix x/ \
		--query "Uploads[].Key" --output text >actual &&
	printf "x/one\tx/one\tx/two\n" >expect &&
	test_cmp expect actual &&
	aws s3api list-multipart-uploads --bucket tsb --max-uploads 2 \
		--no-paginate --query "[IsTruncated, length(Uploads)]" \
		--output text >actual &&
	printf "True\t2\n" >expect &&
	test_cmp expect actual &&
	aws s3api list-multipart-uploads --bucket tsb --page-size 1 \
		--query "Uploads[].Key" --output text | tr "\t" "\n" >actual &&
	printf "x/one\nx/one\nx/two\ny/three\n" >expect &&
	test_cmp expect actual
'
test_expect_success '... each with its initiation time' '
	aws s3api list-multipart-uploads --bucket tsb \
		--query "Uploads[].Initiated" --output text | tr "\t" "\n" >times &&
	test $(wc -l <times) = 4 &&
	grep -c "^20[0-9][0-9]-[01][0-9]-[0-3][0-9]T" times >n &&
	echo 4 >expect &&
	test_cmp expect n
'
test_expect_success '... and no longer once aborted or completed' '
	aws s3api abort-multipart-upload --bucket tsb --key x/two \
		--upload-id "$(sed -n 2p ids)" &&
	aws s3api upload-part --bucket tsb --key y/three \
		--upload-id "$(sed -n 3p ids)" --part-number 1 --body f1 \
		--query ETag --output text >etag &&
	printf "{\"Parts\":[{\"PartNumber\":1,\"ETag\":%s}]}" "$(cat etag)" \
		| sed "s/\"\"\([0-9a-f]*\)\"\"/\"\\\\\"\1\\\\\"\"/" >parts.json &&
	aws s3api complete-multipart-upload --bucket tsb --key y/three \
		--upload-id "$(sed -n 3p ids)" --multipart-upload file://parts.json \
		>/dev/null &&
	aws s3api list-multipart-uploads --bucket tsb \
		--query "Uploads[].Key" --output text >actual &&
	printf "x/one\tx/one\n" >expect &&
	test_cmp expect actual
'
test_expect_success '... an unsigned request is refused' '
	curl -s -o /dev/null -w "%{http_code}\n" "$S3_ENDPOINT/tsb?uploads" >actual &&
	echo 403 >expect &&
	test_cmp expect actual
'

test_done
