#!/bin/sh
test_description='ama-fetch-content: contents of records made present in the shared cache, verified as they stream'
. ./test-lib.sh

usage='ama-fetch-content [-z] [-q | --quiet] [-j <n>] [--missing] [--class=<class>]'
CACHE="$XDG_CACHE_HOME/ama"
USER=tester
export USER

# cached MD5: the path of a content in the cache
cached() {
	echo "$CACHE/contents/$(echo "$1" | cut -c1-2)/$1"
}
# what the cache holds: "<md5> <size> <mode>" per content, sorted
cache_list() {
	if test -d "$CACHE/contents"; then
		find "$CACHE/contents" -type f -printf "%f %s %m\n" | sort
	fi
}
# "<md5> <size>" of a file
fields() {
	printf "%s %s" "$(md5_of "$1")" "$(wc -c <"$1" | tr -d " ")"
}

test_expect_success 'setup: imaging/1 on the embedded default, two paths sharing a content' '
	mkdir a && cd a &&
	ama init -q imaging &&
	printf one >one && printf one >same && printf two >"tab	name" && : >empty &&
	ama add -q . && ama upload -q &&
	ama-cat-manifest imaging/1 >../records &&
	test_line_count=$(wc -l <../records) && test $test_line_count = 4
'

test_expect_success 'an operand is a usage error' '
	test_exit_code 2 ama-fetch-content records >out 2>err &&
	test_must_be_empty out &&
	cat >expect <<-EOF &&
	ama-fetch-content: records come on stdin, not as operands
	ama-fetch-content: usage: $usage
	EOF
	test_cmp expect err
'
test_expect_success '-j wants 0 (one a core) to 1024, as every ama program' '
	test_exit_code 2 ama-fetch-content -j 1025 <records 2>err &&
	test_exit_code 2 ama-fetch-content -j -1 <records 2>>err &&
	cat >expect <<-EOF &&
	ama-fetch-content: option '"'-j'"' wants 0 (one job a core) to 1024, not '"'1025'"'
	ama-fetch-content: usage: $usage
	ama-fetch-content: option '"'-j'"' wants 0 (one job a core) to 1024, not '"'-1'"'
	ama-fetch-content: usage: $usage
	EOF
	test_cmp expect err &&
	test_path_is_missing "$CACHE"
'
test_expect_success '--class wants a class name' '
	test_exit_code 2 ama-fetch-content --class=a..b <records 2>err &&
	cat >expect <<-EOF &&
	ama-fetch-content: --class: bad class name: no '"'..'"', and no '"'.'"' or '"'.lock'"' at the end
	ama-fetch-content: usage: $usage
	EOF
	test_cmp expect err
'
test_expect_success 'outside an asset, --class names whose contents they are' '
	test_exit_code 2 ama-fetch-content <records >out 2>err &&
	test_must_be_empty out &&
	echo "ama-fetch-content: outside an asset: --class CLASS names whose contents these are" >expect &&
	test_cmp expect err
'

test_expect_success '--missing lists what a fetch would download, in input order, and downloads nothing' '
	tac records >reversed &&
	(cd a && ama-fetch-content --missing <../reversed >../out) &&
	test_cmp reversed out &&
	cache_list >actual &&
	test_must_be_empty actual
'
test_expect_success 'each record as its content is cached; the cache holds it read-only' '
	(cd a && ama-fetch-content <../records >../out) &&
	sed "s/^/cached /" records | sort >expect &&
	sort out >actual &&
	test_cmp expect actual &&
	(
		cd a &&
		for f in empty one "tab	name"; do
			echo "$(fields "$f") 444" || return 1
		done
	) | sed "s/^\([0-9a-f]*\) /\1 /" | sort >expect &&
	cache_list >actual &&
	test_cmp expect actual &&
	cmp a/one "$(cached "$(md5_of a/one)")" &&
	find "$CACHE/partial" -type f >actual &&
	test_must_be_empty actual
'
test_expect_success 'a second run finds them there; --missing lists nothing' '
	(cd a && ama-fetch-content --missing <../records >../out) &&
	test_must_be_empty out &&
	(cd a && ama-fetch-content <../records >../out) &&
	sed "s/^/cached /" records | sort >expect &&
	sort out >actual &&
	test_cmp expect actual
'
test_expect_success '--class outside the asset; -q is quiet on stderr, records still go out' '
	rm -rf "$CACHE" &&
	ama-fetch-content -q --class imaging <records >out 2>err &&
	test_must_be_empty err &&
	sed "s/^/cached /" records | sort >expect &&
	sort out >actual &&
	test_cmp expect actual
'
test_expect_success '-z: NUL-terminated in and out' '
	rm -rf "$CACHE" &&
	tr "\n" "\0" <records | sed -z "s/\"tab\\\\tname\"/tab	name/" >records.z &&
	ama-fetch-content -z --class imaging <records.z >out &&
	sed -z "s/^/cached /" records.z | sort -z >expect &&
	sort -z out >actual &&
	cmp expect actual
'
test_expect_success 'awkward names come back as they went in, quoted or raw' '
	grep tab records >in &&
	ama-fetch-content --class imaging <in >out &&
	sed "s/^/cached /" in >expect &&
	test_cmp expect out &&
	grep -z tab records.z >in.z &&
	ama-fetch-content -z --class imaging <in.z >out &&
	sed -z "s/^/cached /" in.z >expect &&
	cmp expect out
'

test_expect_success 'a malformed record is named, exit 1, and the others go on' '
	{ echo "junk" && grep one records; } >in &&
	test_exit_code 1 ama-fetch-content --class imaging <in >out 2>err &&
	echo "ama-fetch-content: malformed record at line 1: no TAB" >expect &&
	test_cmp expect err &&
	sed "s/^/cached /" <in | sed 1d >expect &&
	test_cmp expect out
'
test_expect_success 'a content the bucket lacks is named, exit 1; the others are cached' '
	{ printf "0123456789abcdef0123456789abcdef 5\tnot there\n" && grep one records; } >in &&
	test_exit_code 1 ama-fetch-content --class imaging <in >out 2>err &&
	echo "ama-fetch-content: not there: no such object" >expect &&
	test_cmp expect err &&
	sed "s/^/cached /" <in | sed 1d >expect &&
	test_cmp expect out &&
	test_path_is_missing "$(cached 0123456789abcdef0123456789abcdef)"
'
test_expect_success 'one MD5 with two sizes: the other record is named, exit 1' '
	m=$(md5_of a/one) &&
	printf "%s 3\tone\n%s 4\tliar\n" $m $m >in &&
	test_exit_code 1 ama-fetch-content --class imaging <in >out 2>err &&
	echo "ama-fetch-content: liar: another record has this MD5 with 3 bytes" >expect &&
	test_cmp expect err &&
	printf "cached %s 3\tone\n" $m >expect &&
	test_cmp expect out
'
test_expect_success 'a size the remote object does not have: refused, not cached, exit 1' '
	rm -rf "$CACHE" &&
	m=$(md5_of a/one) &&
	printf "%s 2\tshort\n" $m >in &&
	test_exit_code 1 ama-fetch-content --class imaging <in >out 2>err &&
	test_must_be_empty out &&
	echo "ama-fetch-content: short: longer than its 2 bytes" >expect &&
	test_cmp expect err &&
	cache_list >actual &&
	test_must_be_empty actual &&
	find "$CACHE/partial" -type f >actual &&
	test_must_be_empty actual
'

# --- the S3 test server: a read-only key, requests counted, tampering, resumes, faults ---

# GET requests for contents in the log: "<md5> <status>" per line
content_gets() {
	sed -n "s|^GET /remote/pre/$S3TOP/contents/\([0-9a-f]*\) \([0-9]*\) .*|\1 \2|p" "$S3_REQUESTS"
}

test_expect_success 'setup: S3, a writer publishing in-process, a reader with only a read-only key' '
	test_s3_start remote staging &&
	cat >writer.conf <<-EOF &&
	[server]
	url = local
	[store]
	remote = s3://remote/pre
	staging = s3://staging/pre
	EOF
	mkdir -p .config/ama &&
	cat >.config/ama/config <<-EOF &&
	[store]
	remote = s3://remote/pre
	[s3]
	remote-profile = readonly
	EOF
	mkdir s &&
	(
		cd s &&
		AMA_CONFIG="$TRASH_DIRECTORY/writer.conf" &&
		export AMA_CONFIG &&
		ama init -q scans &&
		for i in 1 2 3 4 5 6; do
			printf "content $i" >f$i || return 1
		done &&
		head -c 3000000 /dev/urandom >big &&
		ama add -q . && ama upload -q
	) &&
	sed -n "s/^top-hash = //p" s/.ama/config >s3top &&
	rm -rf "$CACHE" &&
	ama-cat-manifest scans/1 >s3records &&
	: >"$S3_REQUESTS"
'
S3TOP=$(cat s3top 2>/dev/null)

test_expect_success '--missing makes no request for a content' '
	ama-fetch-content --class scans --missing <s3records >out &&
	sort s3records >expect &&
	sort out >actual &&
	test_cmp expect actual &&
	content_gets >actual &&
	test_must_be_empty actual
'
test_expect_success 'one GET per content, with the read-only key' '
	: >"$S3_REQUESTS" &&
	ama-fetch-content --class scans -j 3 <s3records >out &&
	sed "s/^/cached /" s3records | sort >expect &&
	sort out >actual &&
	test_cmp expect actual &&
	cut -d" " -f1,2 s3records | sed "s/ .*/ 200/" | sort >expect &&
	content_gets | sort >actual &&
	test_cmp expect actual &&
	grep "/contents/" "$S3_REQUESTS" | cut -d" " -f4 | sort -u >actual &&
	echo "$S3_RO_KEY" >expect &&
	test_cmp expect actual &&
	cmp s/big "$(cached "$(md5_of s/big)")"
'
test_expect_success 'a content in the cache is not asked for again' '
	: >"$S3_REQUESTS" &&
	ama-fetch-content --class scans <s3records >out &&
	content_gets >actual &&
	test_must_be_empty actual
'
test_expect_success 'remote bytes changed with the aws CLI: refused, not cached, named, exit 1' '
	rm -rf "$CACHE" &&
	m3=$(md5_of s/f3) &&
	printf "content X" >forged &&
	aws s3 cp --quiet forged "s3://remote/pre/$S3TOP/contents/$m3" &&
	test_exit_code 1 ama-fetch-content --class scans <s3records >out 2>err &&
	printf "ama-fetch-content: f3: has MD5 %s, not %s\n" "$(md5_of forged)" $m3 >expect &&
	test_cmp expect err &&
	grep -v "	f3\$" s3records | sed "s/^/cached /" | sort >expect &&
	sort out >actual &&
	test_cmp expect actual &&
	test_path_is_missing "$(cached $m3)" &&
	find "$CACHE/partial" -type f >actual &&
	test_must_be_empty actual &&
	aws s3 cp --quiet s/f3 "s3://remote/pre/$S3TOP/contents/$m3"
'
test_expect_success 'a download cut short is resumed from the bytes on disk (Range), not restarted' '
	rm -rf "$CACHE" &&
	mb=$(md5_of s/big) &&
	mkdir -p "$CACHE/partial" &&
	head -c 1000000 s/big >"$CACHE/partial/$mb-3000000" &&
	# the first megabyte in the bucket is now wrong: only a resume
	# that asks for the rest (and keeps its own first megabyte) can end
	# with the right MD5
	{ head -c 1000000 /dev/zero && tail -c +1000001 s/big; } >forged &&
	aws s3 cp --quiet forged "s3://remote/pre/$S3TOP/contents/$mb" &&
	grep "	big\$" s3records >in &&
	ama-fetch-content --class scans <in >out &&
	sed "s/^/cached /" in >expect &&
	test_cmp expect out &&
	cmp s/big "$(cached $mb)" &&
	test_path_is_missing "$CACHE/partial/$mb-3000000" &&
	aws s3 cp --quiet s/big "s3://remote/pre/$S3TOP/contents/$mb"
'
# about 30% of the requests fail: 503, a reset, or an answer cut short
# (retried with a Range for the rest); ten attempts make a run that
# fails by chance rare (0.3^10 a content). The first GET is cut short
# and the first one after it reset whatever the coins say: seven
# contents alone could go without a fault.
test_expect_success 'S3 faults at 30% (503, resets, cut-short answers): every content arrives' '
	rm -rf "$CACHE" &&
	test_s3_faults "reset 1 GET times=1" "truncate 1 GET times=1" \
		"status 503 10%" "reset 10%" "truncate 10%" &&
	test_when_finished test_s3_faults &&
	AMA_TRANSFER_RETRIES=10 ama-fetch-content --class scans -j 4 <s3records >out &&
	test_s3_faults &&
	sed "s/^/cached /" s3records | sort >expect &&
	sort out >actual &&
	test_cmp expect actual &&
	for f in s/*; do
		cmp "$f" "$(cached "$(md5_of "$f")")" || return 1
	done &&
	grep " truncate\$" "$S3_DATA/.s3rver.faultlog" &&
	grep " reset\$" "$S3_DATA/.s3rver.faultlog"
'
test_expect_success 'no credentials for the remote profile: a setup error, exit 2' '
	AMA_S3_REMOTE_PROFILE=nosuch test_exit_code 2 ama-fetch-content --class scans <s3records >out 2>err &&
	test_must_be_empty out &&
	test -s err
'
test_done
