#!/bin/sh
test_description='ama-cat-manifest: the object records of a published version, read from the remote bucket alone'
. ./test-lib.sh

usage='ama-cat-manifest [-z] [--header] <class>/<seq>[@<version>]'
STORE="$XDG_DATA_HOME/ama"
USER=tester
export USER

# the manifest file of imaging/SEQ@V in the file:// remote bucket
manifest_file() {
	echo "$STORE/remote/$TOP/assets/$1/$2.manifest"
}
# "<md5> <size>" of a file
fields() {
	printf "%s %s" "$(md5_of "$1")" "$(wc -c <"$1" | tr -d " ")"
}

test_expect_success 'setup: two versions of imaging/1 on the embedded default' '
	mkdir a && cd a &&
	ama init -q imaging &&
	printf one >one && printf "b c" >"b c" && mkdir sub && printf d >sub/d &&
	ama add -q . && ama upload -q -m "first light" &&
	printf two >one && printf e >e && ama add -q one e &&
	ama upload -q -m "second" &&
	sed -n "s/^top-hash = //p" .ama/config >../top &&
	test -s ../top
'
TOP=$(cat top 2>/dev/null)

test_expect_code 2 'no operand is a usage error' '
	ama-cat-manifest 2>err
'
test_expect_success '... with the usage line' '
	test_exit_code 2 ama-cat-manifest imaging/1 imaging/2 >out 2>err &&
	test_must_be_empty out &&
	cat >expect <<-EOF &&
	ama-cat-manifest: wants one CLASS/SEQ[@VERSION]
	ama-cat-manifest: usage: $usage
	EOF
	test_cmp expect err
'
test_expect_success 'an unknown option is a usage error' '
	test_exit_code 2 ama-cat-manifest --bogus imaging/1 2>err &&
	cat >expect <<-EOF &&
	ama-cat-manifest: unknown option '"'--bogus'"'
	ama-cat-manifest: usage: $usage
	EOF
	test_cmp expect err
'
test_expect_success '-h prints the usage' '
	ama-cat-manifest -h >out &&
	echo "usage: $usage" >expect &&
	test_cmp expect out
'
test_expect_success 'a reference that is not CLASS/SEQ[@VERSION] is a usage error' '
	: >out && : >err &&
	for ref in imaging imaging/0 imaging/1@1.2 "bad..class/1"; do
		test_exit_code 2 ama-cat-manifest "$ref" >>out 2>>err || return 1
	done &&
	test_must_be_empty out &&
	cat >expect <<-\EOF &&
	ama-cat-manifest: imaging: not CLASS/SEQ[@VERSION]
	ama-cat-manifest: imaging/0: '"'0'"' is not an asset number (1, 2, ...)
	ama-cat-manifest: imaging/1@1.2: bad version '"'1.2'"' (want X.Y.Z, Y and Z 0..98)
	ama-cat-manifest: bad..class/1: bad class name: no '"'..'"', and no '"'.'"' or '"'.lock'"' at the end
	EOF
	test_cmp expect err
'

test_expect_success 'the newest version when none is given, sorted by path' '
	(cd a && ama-cat-manifest imaging/1 >../out) &&
	(
		cd a &&
		printf "%s\tb c\n" "$(fields "b c")" &&
		printf "%s\te\n" "$(fields e)" &&
		printf "%s\tone\n" "$(fields one)" &&
		printf "%s\tsub/d\n" "$(fields sub/d)"
	) >expect &&
	test_cmp expect out
'
test_expect_success 'an older version by its number' '
	ama-cat-manifest imaging/1@0.0.0 >out &&
	{
		printf "%s\tb c\n" "$(cd a && fields "b c")" &&
		printf "%s 3\tone\n" "$(printf one | md5sum | cut -c1-32)" &&
		printf "%s\tsub/d\n" "$(cd a && fields sub/d)"
	} >expect &&
	test_cmp expect out
'
test_expect_success 'outside an asset, and from another folder of the asset alike' '
	(cd a/sub && ama-cat-manifest imaging/1@0.0.0) >out2 &&
	test_cmp out out2
'
test_expect_success '--header: the manifest as the bucket holds it, byte for byte' '
	ama-cat-manifest --header imaging/1@0.0.1 >out &&
	cmp "$(manifest_file 1 0.0.1)" out &&
	head -n 8 out | sed "s/^\(commit-id\|time\) .*/\1 X/" >actual &&
	cat >expect <<-\EOF &&
	version 0.0.1
	parent 0.0.0
	class imaging
	seq 1
	commit-id X
	author tester
	time X
	message second
	EOF
	test_cmp expect actual
'
test_expect_success '-z: NUL-terminated records, never quoted' '
	ama-cat-manifest -z imaging/1 >out &&
	ama-cat-manifest imaging/1 | tr "\n" "\0" >expect &&
	cmp expect out
'
test_expect_success '-z --header: each header line a record, an empty one, then the objects' '
	ama-cat-manifest -z --header imaging/1@0.0.1 >out &&
	{
		sed -n "1,/^\$/p" "$(manifest_file 1 0.0.1)" | tr "\n" "\0" &&
		ama-cat-manifest -z imaging/1@0.0.1
	} >expect &&
	cmp expect out
'
test_expect_success 'awkward names: quoted as records are, raw with -z' '
	mkdir h && cd h &&
	ama init -q hostile &&
	printf 1 >"tab	name" && printf 2 >"new
line" && printf 3 >"quo\"te" && printf 4 >"back\\slash" && printf 5 >-dash &&
	printf 6 >"$(printf "latin1-\351")" && printf 7 >"sp ace" && : >empty &&
	ama add -q -- * && ama upload -q &&
	ama-cat-manifest hostile/1 | sed "s/^[^	]*	//" >out &&
	cat >expect <<-EOF &&
	-dash
	"back\\\\slash"
	empty
	$(printf "latin1-\351")
	"new\\nline"
	"quo\\"te"
	sp ace
	"tab\\tname"
	EOF
	test_cmp expect out &&
	ama-cat-manifest -z hostile/1 | sed -z "s/^[^	]*	//" >out &&
	printf "%s\0" -dash "back\\slash" empty "$(printf "latin1-\351")" \
		"new
line" "quo\"te" "sp ace" "tab	name" >expect &&
	cmp expect out
'

test_expect_success 'no such class, asset or version: a "no", exit 1' '
	test_exit_code 1 ama-cat-manifest nosuch/1 >out 2>err &&
	test_exit_code 1 ama-cat-manifest imaging/9 >>out 2>>err &&
	test_exit_code 1 ama-cat-manifest imaging/1@0.0.9 >>out 2>>err &&
	test_exit_code 1 ama-cat-manifest imaging/no-alias >>out 2>>err &&
	test_must_be_empty out &&
	cat >expect <<-\EOF &&
	ama-cat-manifest: no such class: nosuch
	ama-cat-manifest: no such asset: imaging/9
	ama-cat-manifest: no such version: imaging/1@0.0.9
	ama-cat-manifest: no such alias: imaging/no-alias
	EOF
	test_cmp expect err
'
test_expect_success 'a remote bucket that cannot be read is a setup error' '
	test_exit_code 2 env AMA_STORE_REMOTE=file:///nonexistent ama-cat-manifest imaging/1 >out 2>err &&
	test_must_be_empty out &&
	test_path_is_missing /nonexistent &&
	test -s err
'

# --- the S3 test server: a read-only key, and manifests written by the aws CLI ---

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
		printf x >x && ama add -q x && ama upload -q -m "x"
	) &&
	sed -n "s/^top-hash = //p" s/.ama/config >s3top &&
	: >"$S3_REQUESTS"
'
S3TOP=$(cat s3top 2>/dev/null)

test_expect_success 'a read-only key and no staging and no server are enough' '
	ama-cat-manifest scans/1 >out &&
	printf "%s 1\tx\n" "$(md5_of s/x)" >expect &&
	test_cmp expect out &&
	cut -d" " -f4 "$S3_REQUESTS" | sort -u >actual &&
	echo "$S3_RO_KEY" >expect &&
	test_cmp expect actual
'

# Hostile manifests, one asset each (scans/2 ...), written with the aws
# CLI: each is refused whole, exit 2, the key and the line named, and a
# clone of it writes nothing. Their commit-id is right for their bytes
# (lib/manifest.h), so that only the objects are wrong.
M=d41d8cd98f00b204e9800998ecf8427e
hostile() { # seq objects-part
	mkdir -p "bad/$1" &&
	id=$({ printf "ama-commit-id 1\nparent\n" && printf "$2"; } |
		sha256sum | cut -c1-64) &&
	{
		printf "version 0.0.0\nparent\ncommit-id %s\nauthor eve\ntime 1\n\n" "$id" &&
		printf "$2"
	} >"bad/$1/0.0.0.manifest"
}
test_expect_success 'setup: the hostile manifests, put with the aws CLI' '
	hostile 2 "$M 0\t/etc/passwd\n" &&
	hostile 3 "$M 0\ta/../../b\n" &&
	hostile 4 "$M 0\ta/./b\n" &&
	hostile 5 "$M 0\ta//b\n" &&
	hostile 6 "$M 0\ta\n$M 0\t\"b\\\\000c\"\n" &&
	hostile 7 "$M 0\t.ama/config\n" &&
	hostile 8 "$M 0\tx/.ama/config\n" &&
	hostile 9 "$M 0\ta\n$M 0\ta\n" &&
	hostile 10 "$M 0\tb\n$M 0\ta\n" &&
	hostile 11 "D41D8CD98F00B204E9800998ECF8427E 0\ta\n" &&
	hostile 12 "d41d8cd98f00b204e9800998ecf8427 0\ta\n" &&
	hostile 13 "$M 0\t.\n" &&
	hostile 14 "$M 0\ta\n$M 0\tb\0c\n" &&
	hostile 15 "$M 0\tq\nd41d8cd98f00b204e9800998ecf8427g 0\tr\n" &&
	aws s3 cp --quiet --recursive bad "s3://remote/pre/$S3TOP/assets/"
'
test_expect_success 'each is refused whole: exit 2, the manifest and the line named' '
	: >out && : >err &&
	for seq in 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
		test_exit_code 2 ama-cat-manifest scans/$seq >>out 2>>err || return 1
	done &&
	test_must_be_empty out &&
	u="s3://remote/pre/$S3TOP/assets" &&
	cat >expect <<-EOF &&
	ama-cat-manifest: $u/2/0.0.0.manifest: line 7: /etc/passwd: absolute path
	ama-cat-manifest: $u/3/0.0.0.manifest: line 7: a/../../b: '"'.'"' or '"'..'"' part
	ama-cat-manifest: $u/4/0.0.0.manifest: line 7: a/./b: '"'.'"' or '"'..'"' part
	ama-cat-manifest: $u/5/0.0.0.manifest: line 7: a//b: empty part ('"'//'"')
	ama-cat-manifest: $u/6/0.0.0.manifest: line 8: bad quoting: NUL byte in a path
	ama-cat-manifest: $u/7/0.0.0.manifest: line 7: .ama/config: inside .ama, which ama manages
	ama-cat-manifest: $u/8/0.0.0.manifest: line 7: x/.ama/config: inside .ama, which ama manages
	ama-cat-manifest: $u/9/0.0.0.manifest: line 8: a: duplicate path
	ama-cat-manifest: $u/10/0.0.0.manifest: line 8: a: out of order (paths are sorted bytewise)
	ama-cat-manifest: $u/11/0.0.0.manifest: line 7: bad MD5 (want 32 lowercase hex)
	ama-cat-manifest: $u/12/0.0.0.manifest: line 7: bad MD5 (want 32 lowercase hex, then one space)
	ama-cat-manifest: $u/13/0.0.0.manifest: line 7: .: '"'.'"' or '"'..'"' part
	ama-cat-manifest: $u/14/0.0.0.manifest: line 8: NUL byte
	ama-cat-manifest: $u/15/0.0.0.manifest: line 8: bad MD5 (want 32 lowercase hex)
	EOF
	test_cmp expect err
'
test_expect_success 'a clone of each writes nothing: no folder, no cache entry' '
	for seq in 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
		test_exit_code 2 ama clone -q scans/$seq c$seq 2>>err.clone || return 1
		test_path_is_missing c$seq || return 1
	done &&
	sed "s/^ama-cat-manifest/ama-clone/" err >expect &&
	test_cmp expect err.clone &&
	test_path_is_missing etc &&
	test_path_is_missing x &&
	test_path_is_missing b &&
	find "$XDG_CACHE_HOME" -type f >actual &&
	test_must_be_empty actual
'
test_done
