#!/bin/sh
test_description='ama-exists: remote, staging or missing for each record, on file:// and s3://'
. ./test-lib.sh

PATH="$AMA_BUILD_DIR/t/helper:$PATH"
TOP=0123456789abcdef0123456789abcdef
USAGE='ama-exists [-z] [-j <n>] [--missing] [--stats] [--remote=<url>] [--staging=<url>] [--top-hash=<hash>]'

size_of() {
	wc -c <"$1" | tr -d " "
}
# "<md5> <size>" of each file named
fields() {
	for f; do
		printf "%s %s\n" "$(md5_of "$f")" "$(size_of "$f")" || return 1
	done
}
# the asset's .ama/config: the two buckets (empty: unset) and the top hash
config() { # remote staging [more lines]
	{
		printf "[asset]\nclass = c\n[store]\n" &&
		if test -n "$1"; then printf "remote = %s\n" "$1"; fi &&
		if test -n "$2"; then printf "staging = %s\n" "$2"; fi &&
		printf "[class]\ntop-hash = %s\n" "$TOP" &&
		shift 2 &&
		for l; do printf "%s\n" "$l"; done
	} >.ama/config
}
# put the file's content where the server (remote) or an upload (staging) would
publish() {
	mkdir -p remote/$TOP/contents && cp -- "$1" remote/$TOP/contents/$(md5_of "$1")
}
stage() {
	mkdir -p staging/$TOP && cp -- "$1" staging/$TOP/$(md5_of "$1")
}

test_expect_success 'setup: an asset of four files, two alike, and two folder buckets' '
	ama init -q c &&
	printf alpha >a.txt && printf alpha >b.txt &&
	printf gamma >c.txt && printf "delta!" >d.txt &&
	ama add a.txt b.txt c.txt d.txt >/dev/null &&
	mkdir remote staging &&
	config "file://$PWD/remote" "file://$PWD/staging" &&
	ama-ls-files >ls &&
	test $(wc -l <ls) = 4
'

test_expect_code 2 'an unknown option is a usage error' '
	ama-exists --bogus </dev/null 2>err
'
test_expect_success '... that names the option and shows the usage' '
	printf "%s\n" "ama-exists: unknown option '"'--bogus'"'" \
		"ama-exists: usage: $USAGE" >expect &&
	test_cmp expect err
'
test_expect_success 'operands, -j 1025 and a bad --top-hash are usage errors' '
	test_exit_code 2 ama-exists ls 2>err &&
	printf "%s\n" "ama-exists: records come on stdin, not as operands" \
		"ama-exists: usage: $USAGE" >expect &&
	test_cmp expect err &&
	test_exit_code 2 ama-exists -j 1025 <ls 2>err &&
	printf "%s\n" "ama-exists: option '"'-j'"' wants 0 (one job a core) to 1024, not '"'1025'"'" \
		"ama-exists: usage: $USAGE" >expect &&
	test_cmp expect err &&
	test_exit_code 2 ama-exists --top-hash=ABC <ls 2>err &&
	printf "%s\n" "ama-exists: --top-hash wants 32 lowercase hex digits" \
		"ama-exists: usage: $USAGE" >expect &&
	test_cmp expect err
'
test_expect_success 'outside an asset it is a setup error' '
	mkdir -p "$TRASH_DIRECTORY.outside" &&
	test_when_finished "rm -rf \"$TRASH_DIRECTORY.outside\"" &&
	(cd "$TRASH_DIRECTORY.outside" && test_exit_code 2 ama-exists <"$TRASH_DIRECTORY/ls" >"$TRASH_DIRECTORY/out" 2>"$TRASH_DIRECTORY/err") &&
	test_must_be_empty out &&
	echo "ama-exists: not inside an ama asset (no .ama in this folder or any parent); run '"'"'ama init CLASS'"'"' first" >expect &&
	test_cmp expect err
'
test_expect_success 'no top hash, no remote bucket: setup errors, nothing printed' '
	cp .ama/config config.saved &&
	test_when_finished "cp config.saved .ama/config" &&
	printf "[store]\nremote = file://$PWD/remote\nstaging = file://$PWD/staging\n" >.ama/config &&
	test_exit_code 2 ama-exists <ls >out 2>err &&
	test_must_be_empty out &&
	echo "ama-exists: the asset'"'"'s class has no top hash yet: run '"'"'ama upload'"'"' once, or set [class] top-hash" >expect &&
	test_cmp expect err &&
	config "" "file://$PWD/staging" &&
	test_exit_code 2 ama-exists <ls >out 2>err &&
	test_must_be_empty out &&
	echo "ama-exists: no remote bucket: set [store] remote, or run '"'"'ama upload'"'"' once to ask the server" >expect &&
	test_cmp expect err
'

test_expect_success 'nothing anywhere: every record is missing, in input order' '
	ama-exists --stats <ls >out 2>err &&
	fields a.txt b.txt c.txt d.txt | sed "s/^/missing /" >f &&
	printf "%s\n" a.txt b.txt c.txt d.txt | paste f - >expect &&
	test_cmp expect out &&
	echo "ama-exists: 4 records, 3 contents, 6 requests (0 list, 6 head)" >expect &&
	test_cmp expect err
'
test_expect_success 'a published and a staged content are found; records sharing one ask once' '
	publish c.txt && stage a.txt &&
	ama-exists --stats <ls >out 2>err &&
	{
		printf "staging %s\ta.txt\n" "$(fields a.txt)" &&
		printf "staging %s\tb.txt\n" "$(fields b.txt)" &&
		printf "remote %s\tc.txt\n" "$(fields c.txt)" &&
		printf "missing %s\td.txt\n" "$(fields d.txt)"
	} >expect &&
	test_cmp expect out &&
	echo "ama-exists: 4 records, 3 contents, 5 requests (0 list, 5 head)" >expect &&
	test_cmp expect err
'
test_expect_success 'remote wins over staging, and the order of input is kept' '
	stage c.txt &&
	sed "1!G;h;\$!d" ls | ama-exists >out &&
	{
		printf "missing %s\td.txt\n" "$(fields d.txt)" &&
		printf "remote %s\tc.txt\n" "$(fields c.txt)" &&
		printf "staging %s\tb.txt\n" "$(fields b.txt)" &&
		printf "staging %s\ta.txt\n" "$(fields a.txt)"
	} >expect &&
	test_cmp expect out
'
test_expect_success '-j 0 is one job a core, as for every ama program' '
	sed "1!G;h;\$!d" ls | ama-exists -j 0 >out &&
	test_cmp expect out
'
test_expect_success '--missing passes on the missing records as they came' '
	ama-exists --missing <ls >out &&
	grep "	d.txt\$" ls >expect &&
	test_cmp expect out &&
	printf "%s extra fields\td.txt\n" "$(fields d.txt)" |
		ama-exists --missing >out &&
	printf "%s extra fields\td.txt\n" "$(fields d.txt)" >expect &&
	test_cmp expect out
'
test_expect_success 'a staged object of another size is missing' '
	printf "alpha and more" >staging/$TOP/$(md5_of a.txt) &&
	ama-exists <ls >out &&
	{
		printf "missing %s\ta.txt\n" "$(fields a.txt)" &&
		printf "missing %s\tb.txt\n" "$(fields b.txt)" &&
		printf "remote %s\tc.txt\n" "$(fields c.txt)" &&
		printf "missing %s\td.txt\n" "$(fields d.txt)"
	} >expect &&
	test_cmp expect out &&
	stage a.txt
'
test_expect_success 'a published object of another size is not the content: missing' '
	printf "delta!!" >remote/$TOP/contents/$(md5_of d.txt) &&
	test_when_finished "rm remote/$TOP/contents/$(md5_of d.txt)" &&
	ama-exists <ls >out 2>err &&
	{
		printf "staging %s\ta.txt\n" "$(fields a.txt)" &&
		printf "staging %s\tb.txt\n" "$(fields b.txt)" &&
		printf "remote %s\tc.txt\n" "$(fields c.txt)" &&
		printf "missing %s\td.txt\n" "$(fields d.txt)"
	} >expect &&
	test_cmp expect out &&
	test_must_be_empty err
'
test_expect_success 'malformed records are named, exit 1, the others answered' '
	{
		printf "%s\ta.txt\n" "$(md5_of a.txt)" &&
		printf "%s 5\tupper.txt\n" "0123456789ABCDEF0123456789ABCDEF" &&
		printf "%s x\tsize.txt\n" "$(md5_of a.txt)" &&
		printf "no tab at all\n" &&
		grep "	c.txt\$" ls
	} >in &&
	test_exit_code 1 ama-exists <in >out 2>err &&
	printf "remote %s\tc.txt\n" "$(fields c.txt)" >expect &&
	test_cmp expect out &&
	cat >expect <<-\EOF &&
	ama-exists: a.txt: malformed record: want <md5> <size>
	ama-exists: upper.txt: malformed record: bad MD5 (want 32 lowercase hex)
	ama-exists: size.txt: malformed record: bad size
	ama-exists: malformed record at line 4: no TAB
	EOF
	test_cmp expect err
'
test_expect_success 'one MD5 with two sizes: the later record fails' '
	{
		printf "%s 5\tfirst\n" "$(md5_of a.txt)" &&
		printf "%s 6\tsecond\n" "$(md5_of a.txt)"
	} | test_exit_code 1 ama-exists >out 2>err &&
	printf "staging %s 5\tfirst\n" "$(md5_of a.txt)" >expect &&
	test_cmp expect out &&
	echo "ama-exists: second: another record has this MD5 with 5 bytes" >expect &&
	test_cmp expect err
'
test_expect_success 'the options override the configuration' '
	mkdir -p r2/ffffffffffffffffffffffffffffffff/contents s2 &&
	cp d.txt r2/ffffffffffffffffffffffffffffffff/contents/$(md5_of d.txt) &&
	ama-exists --remote="file://$PWD/r2" --staging="file://$PWD/s2" \
		--top-hash=ffffffffffffffffffffffffffffffff <ls >out &&
	{
		printf "missing %s\ta.txt\n" "$(fields a.txt)" &&
		printf "missing %s\tb.txt\n" "$(fields b.txt)" &&
		printf "missing %s\tc.txt\n" "$(fields c.txt)" &&
		printf "remote %s\td.txt\n" "$(fields d.txt)"
	} >expect &&
	test_cmp expect out
'
test_expect_success 'a missing bucket folder is a setup error, nothing printed' '
	test_exit_code 2 ama-exists --staging="file://$PWD/nonexistent" <ls >out 2>err &&
	test_must_be_empty out &&
	echo "ama-exists: no such folder: $PWD/nonexistent" >expect &&
	test_cmp expect err
'
test_expect_success 'no records, no question' '
	ama-exists --stats </dev/null >out 2>err &&
	test_must_be_empty out &&
	echo "ama-exists: 0 records, 0 contents, 0 requests (0 list, 0 head)" >expect &&
	test_cmp expect err
'

# hostile names, in index (bytewise) order: a leading dash, TAB, newline,
# double quote, backslash, a byte that is not UTF-8, UTF-8
raw() {
	printf '%s\0' -root "h/a-tab	name" "h/b-new
line" 'h/c-quo"te' 'h/d-back\slash' "$(printf 'h/e-latin1-\351')" \
		"$(printf 'h/f-caf\303\251')"
}
quoted() {
	printf '%s\n' -root '"h/a-tab\tname"' '"h/b-new\nline"' \
		'"h/c-quo\"te"' '"h/d-back\\slash"' "$(printf 'h/e-latin1-\351')" \
		"$(printf 'h/f-caf\303\251')"
}
# "WORD <md5> <size>" of each hostile file, one a line
hostile_fields() {
	raw | xargs -0 sh -c 'for f; do
		printf "%s %s %s\n" "$0" "$(md5sum <"$f" | cut -c1-32)" "$(wc -c <"$f" | tr -d " ")"
	done' "$1"
}

test_expect_success 'setup: hostile names, the first two published' '
	mkdir h &&
	raw | xargs -0 sh -c "for f; do printf \"%s\" \"\$f\" >\"\$f\"; done" sh &&
	ama add -- -root h >/dev/null &&
	publish -root && publish "h/a-tab	name" &&
	ama-ls-files -- -root h >hls &&
	ama-ls-files -z -- -root h >hls.z
'
test_expect_success 'hostile names come out C-quoted without -z' '
	ama-exists <hls >out &&
	{
		hostile_fields remote | sed 2q &&
		hostile_fields missing | sed 1,2d
	} >f &&
	quoted | paste -d"\t" f - >expect &&
	test_cmp expect out
'
test_expect_success '... and raw with -z' '
	ama-exists -z <hls.z >out &&
	{
		hostile_fields remote | sed 2q &&
		hostile_fields missing | sed 1,2d
	} | tr "\n" "\0" >f &&
	raw | paste -z -d"\t" f - >expect &&
	cmp expect out
'
test_expect_success '... and --missing -z passes them on byte for byte' '
	ama-exists -z --missing <hls.z >out &&
	hostile_fields x | sed 1,2d | cut -d" " -f2,3 | sed "s/\$/ pending/" |
		tr "\n" "\0" >f &&
	raw | sed -z 1,2d | paste -z -d"\t" f - >expect &&
	cmp expect out
'
test_expect_success '... and a failure names the path quoted as on stdout' '
	cat >in <<-EOF &&
	$(md5_of -root) 1	"h/a-tab\tname"
	$(md5_of -root) 5	"h/c-quo\"te"
	EOF
	test_exit_code 1 ama-exists <in >out 2>err &&
	printf "missing %s 1\t\"h/a-tab\\\\tname\"\n" $(md5_of -root) >expect &&
	test_cmp expect out &&
	cat >expect <<-\EOF &&
	ama-exists: "h/c-quo\"te": another record has this MD5 with 1 bytes
	EOF
	test_cmp expect err
'

# --- the S3 test server ---

S3_CONFIG_LINES='[s3]
remote-profile = readonly'

test_expect_success 'setup: the S3 test server, the buckets, a read-only key for remote' '
	test_s3_start remote staging &&
	config s3://remote/pre s3://staging/pre "$S3_CONFIG_LINES" &&
	for f in a.txt c.txt; do
		ama-store-tool s3://staging/pre put $TOP/$(md5_of $f) $f >/dev/null || return 1
	done &&
	ama-store-tool s3://remote/pre put $TOP/contents/$(md5_of c.txt) c.txt >/dev/null &&
	: >"$S3_REQUESTS"
'
test_expect_success 'one listing a bucket answers every record' '
	ama-exists --stats <ls >out 2>err &&
	{
		printf "staging %s\ta.txt\n" "$(fields a.txt)" &&
		printf "staging %s\tb.txt\n" "$(fields b.txt)" &&
		printf "remote %s\tc.txt\n" "$(fields c.txt)" &&
		printf "missing %s\td.txt\n" "$(fields d.txt)"
	} >expect &&
	test_cmp expect out &&
	echo "ama-exists: 4 records, 3 contents, 2 requests (2 list, 0 head)" >expect &&
	test_cmp expect err
'
test_expect_success '... as the request log says, remote read with the read-only key' '
	cat >expect <<-EOF &&
	GET /remote?encoding-type=url&list-type=2&max-keys=1000&prefix=pre%2F$TOP%2Fcontents%2F 200 $S3_RO_KEY
	GET /staging?encoding-type=url&list-type=2&max-keys=1000&prefix=pre%2F$TOP%2F 200 $S3_KEY
	EOF
	test_cmp expect "$S3_REQUESTS"
'
test_expect_success 'one content is one HEAD a bucket (and the store'"'"'s GET that tells why a first one found nothing)' '
	: >"$S3_REQUESTS" &&
	grep "	d.txt\$" ls | ama-exists --stats >out 2>err &&
	printf "missing %s\td.txt\n" "$(fields d.txt)" >expect &&
	test_cmp expect out &&
	echo "ama-exists: 1 records, 1 contents, 2 requests (0 list, 2 head)" >expect &&
	test_cmp expect err &&
	cat >expect <<-EOF &&
	HEAD /remote/pre/$TOP/contents/$(md5_of d.txt) 404 $S3_RO_KEY
	GET /remote/pre/$TOP/contents/$(md5_of d.txt) 404 $S3_RO_KEY
	HEAD /staging/pre/$TOP/$(md5_of d.txt) 404 $S3_KEY
	GET /staging/pre/$TOP/$(md5_of d.txt) 404 $S3_KEY
	EOF
	test_cmp expect "$S3_REQUESTS"
'
test_expect_success 'a staged object whose ETag is not its MD5 is missing, listed or not' '
	printf "zzzzz" >zzzzz &&
	ama-store-tool s3://staging/pre put $TOP/$(md5_of a.txt) zzzzz >/dev/null &&
	test_when_finished "ama-store-tool s3://staging/pre put $TOP/$(md5_of a.txt) a.txt >/dev/null" &&
	ama-exists <ls >out &&
	{
		printf "missing %s\ta.txt\n" "$(fields a.txt)" &&
		printf "missing %s\tb.txt\n" "$(fields b.txt)" &&
		printf "remote %s\tc.txt\n" "$(fields c.txt)" &&
		printf "missing %s\td.txt\n" "$(fields d.txt)"
	} >expect &&
	test_cmp expect out &&
	grep "	a.txt\$" ls | ama-exists >out &&
	printf "missing %s\ta.txt\n" "$(fields a.txt)" >expect &&
	test_cmp expect out
'
test_expect_success 'setup: a multipart object, staged in 5 MiB parts' '
	head -c 6291456 /dev/urandom >mp &&
	ama add mp >/dev/null &&
	ama-ls-files mp >mpls &&
	AMA_TRANSFER_PART_SIZE=5MiB ama-store-tool s3://staging/pre put-multipart \
		--md5 $(md5_of mp) $TOP/$(md5_of mp) mp >out &&
	printf "6291456 %s other multipart %s\t%s\n" $(mp_etag mp 5242880) \
		$(md5_of mp) $TOP/$(md5_of mp) >expect &&
	test_cmp expect out
'
test_expect_success 'an object in parts counts when its ETag is the one the file makes' '
	AMA_TRANSFER_PART_SIZE=5MiB ama-exists <mpls >out &&
	printf "staging %s\tmp\n" "$(fields mp)" >expect &&
	test_cmp expect out &&
	cat ls mpls | AMA_TRANSFER_PART_SIZE=5MiB ama-exists --stats >out 2>err &&
	grep "	mp\$" out >actual &&
	test_cmp expect actual &&
	grep -q " (2 list, 0 head)\$" err
'
test_expect_success '... in the parts ama-stage-put would send: in others, missing' '
	AMA_TRANSFER_PART_SIZE=6MiB ama-exists <mpls >out &&
	printf "missing %s\tmp\n" "$(fields mp)" >expect &&
	test_cmp expect out
'
test_expect_success 'one forged with the uploader'"'"'s record naming the MD5 is missing' '
	head -c 6291456 /dev/urandom >forged &&
	AMA_TRANSFER_PART_SIZE=5MiB ama-store-tool s3://staging/pre put-multipart \
		--md5 $(md5_of mp) $TOP/$(md5_of mp) forged >out &&
	printf "6291456 %s other multipart %s\t%s\n" $(mp_etag forged 5242880) \
		$(md5_of mp) $TOP/$(md5_of mp) >expect &&
	test_cmp expect out &&
	AMA_TRANSFER_PART_SIZE=5MiB ama-exists <mpls >out &&
	printf "missing %s\tmp\n" "$(fields mp)" >expect &&
	test_cmp expect out &&
	cat ls mpls | AMA_TRANSFER_PART_SIZE=5MiB ama-exists >out &&
	grep "	mp\$" out >actual &&
	test_cmp expect actual
'
test_expect_success '... and so is the genuine one once the file changed' '
	AMA_TRANSFER_PART_SIZE=5MiB ama-store-tool s3://staging/pre put-multipart \
		--md5 $(md5_of mp) $TOP/$(md5_of mp) mp >/dev/null &&
	cp mp mp.saved &&
	printf X | dd of=mp bs=1 seek=100 conv=notrunc 2>/dev/null &&
	AMA_TRANSFER_PART_SIZE=5MiB ama-exists <mpls >out &&
	mv mp.saved mp &&
	printf "missing %s\tmp\n" "$(fields mp)" >expect &&
	test_cmp expect out
'

test_expect_success 'setup: bad credentials' '
	printf "[default]\naws_access_key_id = %s\naws_secret_access_key = wrong\n[readonly]\naws_access_key_id = %s\naws_secret_access_key = wrong\n[nokey]\naws_access_key_id = NOSUCHKEY\naws_secret_access_key = %s\n" \
		"$S3_KEY" "$S3_RO_KEY" "$S3_SECRET" >badcreds
'
test_expect_success 'a wrong secret: exit 2, the store'"'"'s message, nothing printed' '
	AWS_SHARED_CREDENTIALS_FILE="$PWD/badcreds" \
		test_exit_code 2 ama-exists <ls >out 2>err &&
	test_must_be_empty out &&
	echo "ama-exists: access denied: the secret key does not match (key $S3_RO_KEY)" >expect &&
	test_cmp expect err
'
test_expect_success 'an unknown key: exit 2, nothing printed' '
	AWS_SHARED_CREDENTIALS_FILE="$PWD/badcreds" AMA_S3_REMOTE_PROFILE=nokey \
		test_exit_code 2 ama-exists <ls >out 2>err &&
	test_must_be_empty out &&
	echo "ama-exists: access denied: unknown access key (key NOSUCHKEY)" >expect &&
	test_cmp expect err
'
test_expect_success 'a missing bucket: exit 2, nothing printed, listed or asked' '
	test_exit_code 2 ama-exists --staging=s3://nosuchbucket/pre <ls >out 2>err &&
	test_must_be_empty out &&
	echo "ama-exists: no such bucket: nosuchbucket" >expect &&
	test_cmp expect err &&
	grep "	d.txt\$" ls | test_exit_code 2 ama-exists --remote=s3://nosuchbucket >out 2>err &&
	test_must_be_empty out &&
	test_cmp expect err
'

test_expect_success 'with 30% of faults the answers are the same' '
	: >"$S3_REQUESTS" &&
	test_s3_faults "status 503 0.3" "status 500 0.3" "reset 0.3" "truncate 0.3" &&
	test_when_finished "test_s3_faults" &&
	cat ls mpls >all &&
	{
		printf "staging %s\ta.txt\n" "$(fields a.txt)" &&
		printf "staging %s\tb.txt\n" "$(fields b.txt)" &&
		printf "remote %s\tc.txt\n" "$(fields c.txt)" &&
		printf "missing %s\td.txt\n" "$(fields d.txt)" &&
		printf "staging %s\tmp\n" "$(fields mp)"
	} >expect &&
	# at least 10 runs, and on until a listing was cut short
	i=0 && while test $i -lt 10 || { test $i -lt 100 &&
		! grep -q " GET /staging?.* truncate\$" "$S3_DATA/.s3rver.faultlog"; }; do
		AMA_TRANSFER_RETRIES=40 AMA_TRANSFER_RETRY_DELAY=2 \
		AMA_TRANSFER_RETRY_MAX_DELAY=50 AMA_TRANSFER_PART_SIZE=5MiB \
		ama-exists <all >out &&
		test_cmp expect out &&
		i=$((i + 1)) || return 1
	done
'
test_expect_success '... and the request log shows the retries' '
	for st in 503 500 000; do
		n=$(grep -c "^[A-Z]* [^ ]* $st " "$S3_REQUESTS") &&
		test "$n" -gt 0 || { echo "no $st in the log"; return 1; }
	done &&
	grep -q " GET /staging?.* truncate\$" "$S3_DATA/.s3rver.faultlog"
'

test_done
