#!/bin/sh
test_description='ama-stage-put: upload records'"'"' files to staging, checked against the index, on file:// and s3://'
. ./test-lib.sh

PATH="$AMA_BUILD_DIR/t/helper:$PATH"
TOP=0123456789abcdef0123456789abcdef
USAGE='ama-stage-put [-z] [-q | --quiet] [-j <n>] [--staging=<url>] [--top-hash=<hash>]'

size_of() {
	wc -c <"$1" | tr -d " "
}
# "WORD <md5> <size> TAB path" for each file named
recs() { # word file...
	w=$1 && shift &&
	for f; do
		printf "%s%s %s\t%s\n" "$w" "$(md5_of "$f")" "$(size_of "$f")" "$f" || return 1
	done
}
# the asset's .ama/config: the staging bucket (empty: unset), the top hash
config() { # staging [more lines]
	{
		printf "[asset]\nclass = c\n[store]\nremote = file://%s/remote\n" "$TRASH_DIRECTORY" &&
		if test -n "$1"; then printf "staging = %s\n" "$1"; fi &&
		printf "[class]\ntop-hash = %s\n" "$TOP" &&
		shift &&
		for l; do printf "%s\n" "$l"; done
	} >.ama/config
}
# the objects of a folder bucket: "<md5 of the bytes> <key>", sorted
objects() {
	(cd "$1" && find . -type f | sed "s|^\./||" | sort | while read -r k; do
		printf "%s %s\n" "$(md5sum <"$k" | cut -d" " -f1)" "$k"
	done)
}
# what objects() should say of files staged under TOP
want_objects() {
	for f; do printf "%s %s/%s\n" "$(md5_of "$f")" $TOP "$(md5_of "$f")"; done | sort -u
}

test_expect_success 'setup: an asset of four files, two alike, and a folder bucket' '
	ama init -q c &&
	printf alpha >a.txt && printf alpha >b.txt &&
	printf gamma >c.txt && printf "delta!" >d.txt &&
	ama add a.txt b.txt c.txt d.txt >/dev/null &&
	mkdir remote staging &&
	config "file://$PWD/staging" &&
	ama-ls-files >ls
'

test_expect_code 2 'an unknown option is a usage error' '
	ama-stage-put --bogus </dev/null 2>err
'
test_expect_success '... that names the option and shows the usage' '
	printf "%s\n" "ama-stage-put: unknown option '"'--bogus'"'" \
		"ama-stage-put: usage: $USAGE" >expect &&
	test_cmp expect err
'
test_expect_success 'operands, -j 1025 and a bad --top-hash are usage errors' '
	test_exit_code 2 ama-stage-put ls 2>err &&
	printf "%s\n" "ama-stage-put: records come on stdin, not as operands" \
		"ama-stage-put: usage: $USAGE" >expect &&
	test_cmp expect err &&
	test_exit_code 2 ama-stage-put -j 1025 <ls 2>err &&
	printf "%s\n" "ama-stage-put: option '"'-j'"' wants 0 (one job a core) to 1024, not '"'1025'"'" \
		"ama-stage-put: usage: $USAGE" >expect &&
	test_cmp expect err &&
	test_exit_code 2 ama-stage-put --top-hash=xyz <ls 2>err &&
	printf "%s\n" "ama-stage-put: --top-hash wants 32 lowercase hex digits" \
		"ama-stage-put: usage: $USAGE" >expect &&
	test_cmp expect err
'
test_expect_success 'outside an asset, without a staging bucket or a top hash: setup errors' '
	mkdir -p "$TRASH_DIRECTORY.outside" &&
	test_when_finished "rm -rf \"$TRASH_DIRECTORY.outside\"" &&
	(cd "$TRASH_DIRECTORY.outside" && test_exit_code 2 ama-stage-put <"$TRASH_DIRECTORY/ls" 2>"$TRASH_DIRECTORY/err") &&
	echo "ama-stage-put: not inside an ama asset (no .ama in this folder or any parent); run '"'"'ama init CLASS'"'"' first" >expect &&
	test_cmp expect err &&
	cp .ama/config config.saved &&
	test_when_finished "cp config.saved .ama/config" &&
	config "" &&
	test_exit_code 2 ama-stage-put <ls >out 2>err &&
	echo "ama-stage-put: no staging bucket: set [store] staging, or run '"'"'ama upload'"'"' once to ask the server" >expect &&
	test_cmp expect err &&
	printf "[store]\nstaging = file://$PWD/staging\n" >.ama/config &&
	test_exit_code 2 ama-stage-put <ls >out 2>err &&
	echo "ama-stage-put: the asset'"'"'s class has no top hash yet: run '"'"'ama upload'"'"' once, or set [class] top-hash" >expect &&
	test_cmp expect err &&
	test_must_be_empty out &&
	objects staging >actual &&
	test_must_be_empty actual
'
test_expect_success 'a missing bucket folder: exit 2, nothing written' '
	test_exit_code 2 ama-stage-put --staging="file://$PWD/nonexistent" <ls >out 2>err &&
	test_must_be_empty out &&
	echo "ama-stage-put: no such folder: $PWD/nonexistent" >expect &&
	test_cmp expect err &&
	test_path_is_missing nonexistent
'

test_expect_success 'every file is staged, one object a content, byte for byte' '
	ama-stage-put <ls >out 2>err &&
	recs "staged " a.txt b.txt c.txt d.txt >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	want_objects a.txt c.txt d.txt >expect &&
	objects staging >actual &&
	test_cmp expect actual
'
test_expect_success 'extra fields are ignored, C-quoted paths read, -j taken' '
	rm -r staging/$TOP &&
	printf "%s %s pending more\t\"c.txt\"\n" $(md5_of c.txt) 5 |
		ama-stage-put -j 2 >out &&
	recs "staged " c.txt >expect &&
	test_cmp expect out
'
test_expect_success '-j 0 is one job a core, as for every ama program' '
	rm -r staging/$TOP &&
	ama-stage-put -j 0 <ls >out &&
	recs "staged " a.txt b.txt c.txt d.txt >expect &&
	test_cmp expect out
'
test_expect_success 'a path not in the index, or with another MD5 or size there, is refused' '
	rm -r staging/$TOP &&
	printf echo >e.txt &&
	{
		recs "" e.txt &&
		printf "%s 5\ta.txt\n" $(md5_of c.txt) &&
		printf "%s 4\tc.txt\n" $(md5_of c.txt) &&
		recs "" d.txt
	} >in &&
	test_exit_code 1 ama-stage-put <in >out 2>err &&
	recs "staged " d.txt >expect &&
	test_cmp expect out &&
	cat >expect <<-\EOF &&
	ama-stage-put: e.txt: not in the index; run ama add e.txt
	ama-stage-put: a.txt: index has another MD5 for it; run ama add a.txt
	ama-stage-put: c.txt: index has another size for it; run ama add c.txt
	EOF
	test_cmp expect err &&
	want_objects d.txt >expect &&
	objects staging >actual &&
	test_cmp expect actual
'
test_expect_success 'a path outside the asset, into .ama, or the root is refused' '
	printf "%s 5\t%s\n" $(md5_of c.txt) ../x $(md5_of c.txt) .ama/index \
		$(md5_of c.txt) . |
		test_exit_code 1 ama-stage-put >out 2>err &&
	test_must_be_empty out &&
	cat >expect <<-\EOF &&
	ama-stage-put: ../x: outside the asset
	ama-stage-put: .ama/index: inside .ama, which ama manages
	ama-stage-put: .: the asset root is not a file
	EOF
	test_cmp expect err
'
test_expect_success 'a file modified after ama add is refused, named and not sent' '
	rm -r staging/$TOP &&
	printf " and more" >>c.txt &&
	test_when_finished "printf gamma >c.txt && ama add c.txt >/dev/null" &&
	test_exit_code 1 ama-stage-put <ls >out 2>err &&
	grep -v "	c.txt\$" ls | sed "s/^/staged /;s/ pending\t/\t/" >expect &&
	test_cmp expect out &&
	echo "ama-stage-put: c.txt: modified since added; run ama add c.txt" >expect &&
	test_cmp expect err &&
	want_objects a.txt d.txt >expect &&
	objects staging >actual &&
	test_cmp expect actual
'
test_expect_success 'a file deleted after ama add is refused' '
	mv d.txt d.saved &&
	test_when_finished "mv d.saved d.txt && ama add d.txt >/dev/null" &&
	grep "	d.txt\$" ls | test_exit_code 1 ama-stage-put >out 2>err &&
	test_must_be_empty out &&
	echo "ama-stage-put: d.txt: deleted since added; run ama remove d.txt" >expect &&
	test_cmp expect err
'
# give FILE an index entry with MD5 and its present stat record: a file
# whose bytes changed unseen (same size, times and inode)
bogus_entry() { # file md5
	ama-stat-record "$1" | sed "s/^/$2 /" | ama-update-index &&
	ama-ls-files "$1" >"$1.ls"
}
# and back to the truth
true_entry() {
	ama-hash --stat "$1" | ama-update-index
}

test_expect_success 'an entry whose MD5 is not its bytes (a file changed unseen)' '
	printf "never" >w.txt &&
	ama add w.txt >/dev/null &&
	bogus_entry w.txt 0123456789abcdef0123456789abcdef &&
	test_when_finished "true_entry w.txt" &&
	printf "0123456789abcdef0123456789abcdef 5 pending\tw.txt\n" >expect &&
	test_cmp expect w.txt.ls &&
	test_exit_code 1 ama-stage-put <w.txt.ls >out 2>err &&
	test_must_be_empty out &&
	echo "ama-stage-put: w.txt: modified since added; run ama add w.txt" >expect &&
	test_cmp expect err &&
	test_path_is_missing staging/$TOP/0123456789abcdef0123456789abcdef &&
	ls -A staging/$TOP >actual &&
	want_objects a.txt d.txt | sed "s|.*/||" >expect &&
	test_cmp expect actual
'
test_expect_success 'from a subfolder: paths from the root, commands from here' '
	mkdir sub &&
	printf "in sub" >sub/s.txt &&
	ama add sub/s.txt >/dev/null &&
	printf " changed" >>sub/s.txt &&
	test_when_finished "rm -r sub && ama-ls-files sub | ama-update-index --remove" &&
	ama-ls-files sub/s.txt >in &&
	(cd sub && test_exit_code 1 ama-stage-put <../in >../out 2>../err) &&
	test_must_be_empty out &&
	echo "ama-stage-put: sub/s.txt: modified since added; run ama add s.txt" >expect &&
	test_cmp expect err &&
	grep "	c.txt\$" ls >in &&
	(cd sub && ama-stage-put <../in >../out) &&
	recs "staged " c.txt >expect &&
	test_cmp expect out
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
# "staged <md5> <size>" of each hostile file, one a line
hostile_fields() {
	raw | xargs -0 sh -c 'for f; do
		printf "staged %s %s\n" "$(md5sum <"$f" | cut -c1-32)" "$(wc -c <"$f" | tr -d " ")"
	done' sh
}

# each file holds its own name
hostile_write() {
	raw | xargs -0 sh -c 'for f; do printf "%s" "$f" >"$f"; done' sh
}
# the refusals of all of them, modified
hostile_refusals() {
	cat <<-\EOF
	ama-stage-put: -root: modified since added; run ama add ./-root
	ama-stage-put: "h/a-tab\tname": modified since added; run ama add $'h/a-tab\011name'
	ama-stage-put: "h/b-new\nline": modified since added; run ama add $'h/b-new\012line'
	ama-stage-put: "h/c-quo\"te": modified since added; run ama add 'h/c-quo"te'
	ama-stage-put: "h/d-back\\slash": modified since added; run ama add 'h/d-back\slash'
	EOF
	printf "ama-stage-put: h/e-latin1-\351: modified since added; run ama add \$'h/e-latin1-%s'\n" '\351'
	printf "ama-stage-put: h/f-caf\303\251: modified since added; run ama add 'h/f-caf\303\251'\n"
}

test_expect_success 'setup: hostile names' '
	mkdir h &&
	hostile_write &&
	ama add -- -root h >/dev/null &&
	ama-ls-files -- -root h >hls &&
	ama-ls-files -z -- -root h >hls.z
'
test_expect_success 'hostile names come out C-quoted without -z' '
	ama-stage-put <hls >out &&
	hostile_fields >f &&
	quoted | paste -d"\t" f - >expect &&
	test_cmp expect out
'
test_expect_success '... and raw with -z' '
	ama-stage-put -z <hls.z >out &&
	hostile_fields | tr "\n" "\0" >f &&
	raw | paste -z -d"\t" f - >expect &&
	cmp expect out
'
test_expect_success '... and a refusal names them quoted, the command quoted for a shell' '
	raw | xargs -0 sh -c "for f; do printf x >>\"\$f\"; done" sh &&
	test_when_finished "hostile_write && ama add -- -root h >/dev/null" &&
	test_exit_code 1 ama-stage-put -z <hls.z >out 2>err &&
	test_must_be_empty out &&
	hostile_refusals >expect &&
	test_cmp expect err
'

test_expect_success 'the user pipeline stages what is missing, and the index is marked from it' '
	rm -r staging/$TOP &&
	ama-ls-files -z | ama-exists -z --missing | ama-stage-put -z |
		ama-update-index -z --state=staged &&
	ama-ls-files --state=pending >out &&
	test_must_be_empty out &&
	ama-ls-files -z | ama-exists -z --missing >out &&
	test_must_be_empty out &&
	ama-ls-files -z | cut -z -f2 | sort -z >expect &&
	ama-ls-files -z --state=staged | cut -z -f2 | sort -z >actual &&
	cmp expect actual
'
test_expect_success '... and a second run sends nothing' '
	ama-ls-files -z | ama-exists -z --missing | ama-stage-put -z >out &&
	test_must_be_empty out
'

# --- the S3 test server ---

S=s3://staging/pre

test_expect_success 'setup: the S3 test server and its buckets' '
	test_s3_start staging &&
	config $S
'
test_expect_success 'files are staged, one PUT a content' '
	ama-stage-put <ls >out 2>err &&
	recs "staged " a.txt b.txt c.txt d.txt | sort >expect &&
	sort out >actual &&
	test_cmp expect actual &&
	test_must_be_empty err &&
	for f in a.txt c.txt d.txt; do
		echo "PUT /staging/pre/$TOP/$(md5_of $f) 200 $S3_KEY" || return 1
	done | sort >expect &&
	sort "$S3_REQUESTS" >actual &&
	test_cmp expect actual
'
test_expect_success 'the aws CLI lists them where DESIGN.md puts them, the MD5 as ETag' '
	aws s3 ls s3://staging/pre/$TOP/ | sed "s/.* //" >actual &&
	want_objects a.txt c.txt d.txt | sed "s|.*/||" >expect &&
	test_cmp expect actual &&
	for f in a.txt c.txt d.txt; do
		aws s3api head-object --bucket staging --key pre/$TOP/$(md5_of $f) \
			--query ETag --output text >actual &&
		echo "\"$(md5_of $f)\"" >expect &&
		test_cmp expect actual || return 1
	done
'
test_expect_success 'a file modified after ama add is refused and named, and not sent' '
	: >"$S3_REQUESTS" &&
	printf " and more" >>c.txt &&
	test_when_finished "printf gamma >c.txt && ama add c.txt >/dev/null" &&
	test_exit_code 1 ama-stage-put <ls >out 2>err &&
	recs "staged " a.txt b.txt d.txt | sort >expect &&
	sort out >actual &&
	test_cmp expect actual &&
	echo "ama-stage-put: c.txt: modified since added; run ama add c.txt" >expect &&
	test_cmp expect err &&
	! grep "^PUT .*$(md5_of c.txt)" "$S3_REQUESTS"
'
test_expect_success 'bytes that are not the MD5 are refused by the store (BadDigest), nothing kept' '
	bogus_entry w.txt 0123456789abcdef0123456789abcdef &&
	test_when_finished "true_entry w.txt" &&
	: >"$S3_REQUESTS" &&
	test_exit_code 1 ama-stage-put <w.txt.ls >out 2>err &&
	test_must_be_empty out &&
	echo "ama-stage-put: w.txt: modified since added; run ama add w.txt" >expect &&
	test_cmp expect err &&
	echo "PUT /staging/pre/$TOP/0123456789abcdef0123456789abcdef 400 $S3_KEY" >expect &&
	test_cmp expect "$S3_REQUESTS" &&
	test_exit_code 1 ama-store-tool $S head $TOP/0123456789abcdef0123456789abcdef 2>/dev/null
'
test_expect_success 'a multipart upload of bytes that are not the MD5 is refused and aborted' '
	head -c 6291456 /dev/urandom >mpw &&
	ama add mpw >/dev/null &&
	bogus_entry mpw fedcba9876543210fedcba9876543210 &&
	test_when_finished "true_entry mpw" &&
	: >"$S3_REQUESTS" &&
	AMA_TRANSFER_MULTIPART_THRESHOLD=5MiB AMA_TRANSFER_PART_SIZE=5MiB \
		test_exit_code 1 ama-stage-put <mpw.ls >out 2>err &&
	test_must_be_empty out &&
	echo "ama-stage-put: mpw: modified since added; run ama add mpw" >expect &&
	test_cmp expect err &&
	grep "^DELETE /staging/pre/$TOP/fedcba9876543210fedcba9876543210?uploadId=[0-9a-f]* 204 " "$S3_REQUESTS" &&
	test_exit_code 1 ama-store-tool $S head $TOP/fedcba9876543210fedcba9876543210 2>/dev/null
'

test_expect_success 'setup: bad credentials' '
	printf "[default]\naws_access_key_id = %s\naws_secret_access_key = wrong\n[nokey]\naws_access_key_id = NOSUCHKEY\naws_secret_access_key = %s\n[readonly]\naws_access_key_id = %s\naws_secret_access_key = %s\n" \
		"$S3_KEY" "$S3_SECRET" "$S3_RO_KEY" "$S3_RO_SECRET" >badcreds &&
	printf "bad" >new.txt &&
	ama add new.txt >/dev/null &&
	{ ama-ls-files new.txt && cat ls; } >newls
'
test_expect_success 'a wrong secret: exit 2, the store'"'"'s message, nothing written' '
	: >"$S3_REQUESTS" &&
	AWS_SHARED_CREDENTIALS_FILE="$PWD/badcreds" \
		test_exit_code 2 ama-stage-put <newls >out 2>err &&
	test_must_be_empty out &&
	echo "ama-stage-put: access denied: the secret key does not match (key $S3_KEY)" >expect &&
	test_cmp expect err &&
	! grep -v " 403 " "$S3_REQUESTS" &&
	test_exit_code 1 ama-store-tool $S head $TOP/$(md5_of new.txt) 2>/dev/null
'
test_expect_success 'an unknown key and a read-only key: exit 2, nothing written' '
	: >"$S3_REQUESTS" &&
	AWS_SHARED_CREDENTIALS_FILE="$PWD/badcreds" AMA_S3_STAGING_PROFILE=nokey \
		test_exit_code 2 ama-stage-put <newls >out 2>err &&
	test_must_be_empty out &&
	echo "ama-stage-put: access denied: unknown access key (key NOSUCHKEY)" >expect &&
	test_cmp expect err &&
	AMA_S3_STAGING_PROFILE=readonly test_exit_code 2 ama-stage-put <newls >out 2>err &&
	test_must_be_empty out &&
	echo "ama-stage-put: access denied (key $S3_RO_KEY)" >expect &&
	test_cmp expect err &&
	! grep -v " 403 " "$S3_REQUESTS" &&
	test_exit_code 1 ama-store-tool $S head $TOP/$(md5_of new.txt) 2>/dev/null
'
test_expect_success 'a missing bucket: exit 2, nothing written' '
	test_exit_code 2 ama-stage-put --staging=s3://nosuchbucket/pre <newls >out 2>err &&
	test_must_be_empty out &&
	echo "ama-stage-put: no such bucket: nosuchbucket" >expect &&
	test_cmp expect err
'

test_expect_success 'setup: 30 small files and a multipart one' '
	mkdir many &&
	i=0 && while test $i -lt 30; do
		echo "small file $i" >many/$i && i=$((i + 1)) || return 1
	done &&
	head -c 12582912 /dev/urandom >many/mp &&
	ama add many >/dev/null &&
	ama-ls-files many >manyls &&
	: >"$S3_REQUESTS"
'
test_expect_success 'with 30% of faults every upload completes' '
	test_s3_faults "status 503 0.3" "status 500 0.3" "reset 0.3" "truncate 0.3" &&
	test_when_finished "test_s3_faults" &&
	AMA_TRANSFER_RETRIES=40 AMA_TRANSFER_RETRY_DELAY=2 AMA_TRANSFER_RETRY_MAX_DELAY=50 \
	AMA_TRANSFER_MULTIPART_THRESHOLD=8MiB AMA_TRANSFER_PART_SIZE=5MiB \
		ama-stage-put <manyls >out 2>err &&
	test_must_be_empty err &&
	sed "s/^/staged /;s/ pending\t/\t/" manyls | sort >expect &&
	sort out >actual &&
	test_cmp expect actual
'
test_expect_success '... every object has the MD5 of its file (in parts: of its parts)' '
	ama-store-tool $S list $TOP/ >listed &&
	mp=$TOP/$(md5_of many/mp) &&
	while read -r size etag kind mode meta key; do
		if test "$key" = "$mp"; then
			want=$(mp_etag many/mp 5242880)
		else
			want=${key#$TOP/}
		fi &&
		test "$etag" = "$want" || { echo "bad: $etag $key"; return 1; }
	done <listed &&
	for f in many/*; do
		test $f = many/mp ||
		grep -q " $(md5_of $f) md5 single -	$TOP/$(md5_of $f)\$" listed ||
		{ echo "not staged: $f"; return 1; }
	done &&
	ama-store-tool $S get $mp | cmp many/mp - &&
	ama-store-tool $S head $mp >out &&
	printf "12582912 %s other multipart %s\t%s\n" $(mp_etag many/mp 5242880) \
		$(md5_of many/mp) $mp >expect &&
	test_cmp expect out
'
test_expect_success '... and the request log shows the retries' '
	for st in 503 500 000; do
		n=$(grep -c "^[A-Z]* [^ ]* $st " "$S3_REQUESTS") &&
		test "$n" -gt 0 || { echo "no $st in the log"; return 1; }
	done
'

test_expect_success 'setup: a batch to interrupt' '
	mkdir kill &&
	i=0 && while test $i -lt 40; do
		head -c 100000 /dev/urandom >kill/$i && i=$((i + 1)) || return 1
	done &&
	head -c 12582912 /dev/urandom >kill/big &&
	ama add kill >/dev/null &&
	ama-ls-files kill >killls
'
test_expect_success 'kill -9 in the middle: what finished is found, nothing partial counts' '
	test_s3_faults "delay 100" &&
	: >kout &&
	{
		AMA_TRANSFER_MULTIPART_THRESHOLD=8MiB AMA_TRANSFER_PART_SIZE=5MiB \
		ama-stage-put -j 4 <killls >>kout 2>/dev/null &
	} &&
	pid=$! &&
	n=0 && while test "$(wc -l <kout)" -lt 6 && test $n -lt 300; do
		sleep 0.05 && n=$((n + 1))
	done &&
	kill -9 $pid &&
	{ wait $pid; true; } &&
	test_s3_faults &&
	# the requests it had sent are answered, to no one: wait for the last
	n=0 && m=-1 && while test "$m" != "$(wc -l <"$S3_REQUESTS")" && test $n -lt 50; do
		m=$(wc -l <"$S3_REQUESTS") && sleep 0.3 && n=$((n + 1))
	done &&
	test $(wc -l <kout) -ge 6 &&
	test $(wc -l <kout) -lt 41 &&
	# an object in parts counts by the ETag its parts make: the same parts
	AMA_TRANSFER_PART_SIZE=5MiB ama-exists <killls >exists &&
	# every path printed staged is found in staging
	sed "s/^staged /staging /" kout | sort >expect &&
	grep "^staging " exists | sort >found &&
	comm -23 expect found >lost &&
	test_must_be_empty lost &&
	# and what staging holds is whole
	ama-store-tool $S list $TOP/ >listed &&
	while read -r size etag kind mode meta key; do
		f=$(grep "^${key#$TOP/} " killls | cut -f2) &&
		test -z "$f" || {
			test "$etag" = "${key#$TOP/}" &&
			test "$size" = "$(size_of "$f")"
		} || { echo "partial: $size $etag $key"; return 1; }
	done <listed &&
	grep -q "^missing " exists
'
test_expect_success '... and a rerun of the user pipeline sends only the rest' '
	: >"$S3_REQUESTS" &&
	ama-ls-files -z kill | AMA_TRANSFER_PART_SIZE=5MiB ama-exists -z --missing |
		AMA_TRANSFER_MULTIPART_THRESHOLD=8MiB AMA_TRANSFER_PART_SIZE=5MiB \
		ama-stage-put -z >rerun &&
	grep "^missing " exists | sed "s/^missing /staged /" | sort >expect &&
	tr "\0" "\n" <rerun | sort >actual &&
	test_cmp expect actual &&
	grep "^missing " exists | cut -d" " -f2 | sort >expect &&
	sed -n "s|^[A-Z]* /staging/pre/$TOP/\([0-9a-f]*\)[? ].*|\1|p" "$S3_REQUESTS" |
		sort -u >actual &&
	test_cmp expect actual &&
	ama-ls-files kill | AMA_TRANSFER_PART_SIZE=5MiB ama-exists --missing >out &&
	test_must_be_empty out
'

test_expect_success 'SIGTERM in the middle aborts the multipart upload, then kills' '
	head -c 12582912 /dev/urandom >term &&
	ama add term >/dev/null &&
	ama-ls-files term >termls &&
	: >"$S3_REQUESTS" &&
	test_s3_faults "delay 300 PUT" &&
	test_when_finished "test_s3_faults" &&
	{
		AMA_TRANSFER_MULTIPART_THRESHOLD=8MiB AMA_TRANSFER_PART_SIZE=5MiB \
		ama-stage-put <termls >tout 2>terr &
	} &&
	pid=$! &&
	n=0 && while ! grep -q "^POST /staging/pre/$TOP/$(md5_of term)?uploads= 200" "$S3_REQUESTS" &&
		test $n -lt 200; do
		sleep 0.05 && n=$((n + 1))
	done &&
	sleep 0.2 &&
	kill -TERM $pid &&
	{ wait $pid; echo $? >status; } &&
	echo 143 >expect &&
	test_cmp expect status &&
	echo "ama-stage-put: interrupted" >expect &&
	test_cmp expect terr &&
	test_must_be_empty tout &&
	grep "^DELETE /staging/pre/$TOP/$(md5_of term)?uploadId=[0-9a-f]* 204 " "$S3_REQUESTS" &&
	test_exit_code 1 ama-store-tool $S head $TOP/$(md5_of term) 2>/dev/null
'

test_expect_success 'progress on a terminal: files, bytes, rate; none with -q' '
	printf one >p1 && printf two >p2 && printf three >p3 &&
	ama add p1 p2 p3 >/dev/null &&
	ama-ls-files p1 p2 p3 >pls &&
	test_s3_faults "delay 150" &&
	test_when_finished "test_s3_faults" &&
	script -qec "ama-stage-put -j 1 <pls >pout" /dev/null >tty </dev/null &&
	tr "\r" "\n" <tty | sed "/^\$/d" | tail -n 1 |
		sed "s/[0-9.]* [KMG]*i*B\/s, [0-9.]* s/RATE, TIME/" >actual &&
	printf "staging: 3/3 files, 11 B/11 B, RATE, TIME\033[K\n" >expect &&
	test_cmp expect actual &&
	script -qec "ama-stage-put -q -j 1 <pls >pout" /dev/null >tty </dev/null &&
	test_must_be_empty tty
'

test_expect_success 'a 300 MiB file goes multipart and comes back byte-identical' '
	truncate -s 300M big &&
	printf start | dd of=big conv=notrunc 2>/dev/null &&
	head -c 1000000 /dev/urandom | dd of=big bs=1M seek=150 conv=notrunc 2>/dev/null &&
	printf end | dd of=big bs=1 seek=314572797 conv=notrunc 2>/dev/null &&
	ama add big >/dev/null &&
	: >"$S3_REQUESTS" &&
	ama-ls-files big | ama-stage-put -j 4 >out &&
	recs "staged " big >expect &&
	test_cmp expect out &&
	grep -c "^PUT /staging/pre/$TOP/$(md5_of big)?partNumber=[0-9]*&uploadId=[0-9a-f]* 200 " \
		"$S3_REQUESTS" >count &&
	echo 19 >expect &&
	test_cmp expect count &&
	ama-store-tool $S get $TOP/$(md5_of big) | cmp big - &&
	ama-ls-files big | ama-exists >out &&
	recs "staging " big >expect &&
	test_cmp expect out
'

test_done
