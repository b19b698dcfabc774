#!/bin/sh
test_description='ama clone: a published version in a new folder, on the embedded default (file://)'
. ./test-lib.sh

usage='ama clone [-q | --quiet] [-j <n>] [--link=hard] [--no-external-links] <class>/<seq>[@<version>] [<dir>] [-- <pathspec>...]'
CACHE="$XDG_CACHE_HOME/ama"
USER=tester
export USER

# the files of a folder but .ama, with their MD5s (md5sum lines), sorted
tree() {
	(cd "$1" && find . -path ./.ama -prune -o -type f -print0 | sort -z |
		xargs -0 -r md5sum --)
}
# the same listing from a manifest: what the version holds
version_tree() {
	ama-cat-manifest -z "$1" | sed -z "s/^\([0-9a-f]*\) [0-9]*	/\1  .\//" |
		xargs -0 -r -n1 sh -c '
			case "$1" in
			*"\\"*|*"
"*) printf "\\\\%s\n" "$(printf "%s" "$1" | sed -z "s/\\\\/\\\\\\\\/g;s/\n/\\\\n/g")" ;;
			*) printf "%s\n" "$1" ;;
			esac' sh
}
# ama versions with the time as TIME
versions() {
	ama versions "$@" | sed "s/ [0-9-]* [0-9:]* UTC / TIME /"
}

# TAB, newline, double quote, backslash, a leading dash, a byte that is
# not UTF-8, spaces, a 255-byte name, empty files, a 300 MB file
LONG=$(printf "%0255d" 0 | tr 0 n)
test_expect_success 'setup: an asset with hostile names and a 300 MB file, uploaded' '
	mkdir a && cd a &&
	ama init -q imaging &&
	mkdir -p "sub dir/deeper" &&
	printf 1 >"tab	name" && printf 2 >"new
line" && printf 3 >"quo\"te" && printf 4 >"back\\slash" && printf 5 >-dash &&
	printf 6 >"$(printf "latin1-\351")" && printf 7 >"sp ace" &&
	printf 8 >"$LONG" && printf 9 >"sub dir/$LONG" && : >empty &&
	: >"sub dir/deeper/empty too" && printf same >"sub dir/same" &&
	printf same >same &&
	head -c 300000000 /dev/urandom >huge &&
	ama add -q -- . && ama upload -q -m "first light"
'

test_expect_success 'no operand, or three, is a usage error' '
	test_exit_code 2 ama clone >out 2>err &&
	test_exit_code 2 ama clone imaging/1 x y >>out 2>>err &&
	test_must_be_empty out &&
	cat >expect <<-EOF &&
	ama-clone: wants CLASS/SEQ[@VERSION] and at most a folder
	ama-clone: usage: $usage
	ama-clone: wants CLASS/SEQ[@VERSION] and at most a folder
	ama-clone: usage: $usage
	EOF
	test_cmp expect err
'
test_expect_success 'bad options and references are usage errors; nothing is made' '
	test_exit_code 2 ama clone --link=soft imaging/1 x 2>err &&
	test_exit_code 2 ama clone -j 2000 imaging/1 x 2>>err &&
	test_exit_code 2 ama clone imaging x 2>>err &&
	test_exit_code 2 ama clone imaging/1@0.0 x 2>>err &&
	cat >expect <<-EOF &&
	ama-clone: --link takes only '"'hard'"'
	ama-clone: usage: $usage
	ama-clone: option '"'-j'"' wants 0 (one job a core) to 1024, not '"'2000'"'
	ama-clone: usage: $usage
	ama-clone: imaging: not CLASS/SEQ[@VERSION]
	ama-clone: imaging/1@0.0: bad version '"'0.0'"' (want X.Y.Z, Y and Z 0..98)
	EOF
	test_cmp expect err &&
	test_path_is_missing x
'
test_expect_success 'no such class, asset or version: exit 1, nothing made' '
	test_exit_code 1 ama clone nosuch/1 x 2>err &&
	test_exit_code 1 ama clone imaging/2 x 2>>err &&
	test_exit_code 1 ama clone imaging/1@0.0.1 x 2>>err &&
	cat >expect <<-\EOF &&
	ama-clone: no such class: nosuch
	ama-clone: no such asset: imaging/2
	ama-clone: asset imaging/1 has no version 0.0.1
	EOF
	test_cmp expect err &&
	test_path_is_missing x &&
	test_path_is_missing imaging-1
'

test_expect_success 'clone: every file as it was uploaded (diff -r), into CLASS-SEQ' '
	ama clone imaging/1 >out 2>err &&
	echo "cloned imaging/1@0.0.0 into imaging-1: 14 files placed, 0 kept, 0 not checked out" >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	diff -r --exclude=.ama a imaging-1 &&
	tree a >expect &&
	version_tree imaging/1@0.0.0 >actual &&
	test_cmp expect actual
'
test_expect_success '... its .ama knows the asset and the version; ama status is clean' '
	sed -n "/^\[asset\]/,/^\[/p" imaging-1/.ama/config | grep -v "^\[" >actual &&
	cat >expect <<-\EOF &&
	class = imaging
	seq = 1
	version = 0.0.0
	EOF
	test_cmp expect actual &&
	(cd imaging-1 && ama status) >out &&
	cat >expect <<-\EOF &&
	asset imaging/1 at version 0.0.0
	nothing to do: every added file is unchanged and uploaded
	EOF
	test_cmp expect out &&
	(cd imaging-1 && ama-ls-files) | cut -d" " -f3 | cut -f1 | sort -u >actual &&
	echo committed >expect &&
	test_cmp expect actual
'
test_expect_success '... and ama versions there answers from .ama/meta' '
	(cd imaging-1 && versions) >actual &&
	echo "* 0.0.0    TIME  tester  first light" >expect &&
	test_cmp expect actual
'
test_expect_success 'an upload in the clone makes 0.0.1 of the same asset' '
	(
		cd imaging-1 &&
		printf changed >-dash && ama add -q -- -dash &&
		ama upload -q -m "from the clone"
	) &&
	(cd imaging-1 && versions) >actual &&
	cat >expect <<-\EOF &&
	* 0.0.1    TIME  tester  from the clone
	  0.0.0    TIME  tester  first light
	EOF
	test_cmp expect actual &&
	ama-cat-manifest imaging/1@0.0.1 | grep "	-dash\$" >actual &&
	printf "%s 7\t-dash\n" "$(md5_of imaging-1/-dash)" >expect &&
	test_cmp expect actual
'
test_expect_success '... which the first folder fetches' '
	(cd a && ama fetch) >out &&
	echo "fetched 1 new version of imaging/1; the newest is 0.0.1" >expect &&
	test_cmp expect out &&
	(cd a && versions) >actual &&
	cat >expect <<-\EOF &&
	  0.0.1    TIME  tester  from the clone
	* 0.0.0    TIME  tester  first light
	EOF
	test_cmp expect actual
'
test_expect_success 'an older version by its number, into a folder named on the line' '
	ama clone -q imaging/1@0.0.0 "old one" >out 2>err &&
	test_must_be_empty out &&
	test_must_be_empty err &&
	tree a >expect &&
	tree "old one" >actual &&
	test_cmp expect actual
'
test_expect_success 'the cache was filled once: nothing was downloaded twice' '
	find "$CACHE/contents" -type f | wc -l >actual &&
	echo 12 >expect &&
	test_cmp expect actual
'

test_expect_success 'into an empty folder' '
	mkdir empty-dir &&
	ama clone -q imaging/1 empty-dir &&
	version_tree imaging/1@0.0.1 >expect &&
	tree empty-dir >actual &&
	test_cmp expect actual
'
test_expect_success 'the folder is named on stdout as paths are, quoted' '
	ama clone imaging/1@0.0.0 "new
folder" >out &&
	printf "%s\n" "cloned imaging/1@0.0.0 into \"new\\nfolder\": 14 files placed, 0 kept, 0 not checked out" >expect &&
	test_cmp expect out
'
test_expect_success 'a folder that is not empty, or a file: exit 2, untouched' '
	mkdir full && printf mine >full/mine && printf file >a-file &&
	test_exit_code 2 ama clone imaging/1 full >out 2>err &&
	test_exit_code 2 ama clone imaging/1 a-file >>out 2>>err &&
	test_must_be_empty out &&
	cat >expect <<-\EOF &&
	ama-clone: full: exists and is not empty
	ama-clone: a-file: exists and is not a folder
	EOF
	test_cmp expect err &&
	ls -A full >actual &&
	echo mine >expect &&
	test_cmp expect actual
'
test_expect_success 'inside another asset: exit 2, nothing made' '
	test_exit_code 2 ama clone imaging/1 a/inner >out 2>err &&
	test_exit_code 2 ama clone imaging/1 "a/sub dir" >>out 2>>err &&
	test_must_be_empty out &&
	cat >expect <<-EOF &&
	ama-clone: $TRASH_DIRECTORY/a: inside this ama asset; assets do not nest
	ama-clone: $TRASH_DIRECTORY/a: inside this ama asset; assets do not nest
	EOF
	test_cmp expect err &&
	test_path_is_missing a/inner &&
	test_path_is_missing "a/sub dir/.ama"
'
test_expect_success 'a finished clone at another version is left alone: exit 2' '
	test_exit_code 2 ama clone imaging/1@0.0.0 imaging-1 >out 2>err &&
	test_must_be_empty out &&
	echo "ama-clone: imaging-1: holds imaging/1 at 0.0.1 already; ama switch there changes its version" >expect &&
	test_cmp expect err &&
	test_cmp imaging-1/-dash empty-dir/-dash
'
test_expect_success '... and one at that version is a clone done: nothing to place' '
	(cd "old one" && ama upload -q) &&
	ama clone imaging/1@0.0.0 "old one" >out &&
	echo "cloned imaging/1@0.0.0 into old one: 0 files placed, 0 kept, 0 not checked out" >expect &&
	test_cmp expect out
'
test_expect_success '... but its changes are never overwritten' '
	printf mine >"old one/same" &&
	test_exit_code 1 ama clone imaging/1@0.0.0 "old one" >out 2>err &&
	test_must_be_empty out &&
	cat >expect <<-\EOF &&
	ama-clone: same: modified since it was added; '"'ama add'"' and '"'ama upload'"' keep it, --force discards it
	ama-clone: nothing changed: 1 paths to settle first
	EOF
	test_cmp expect err
'

test_expect_success 'a clone killed before its .ama was in place: the rerun finishes it' '
	# what ama_asset_make leaves when killed before its rename: a
	# private folder of a process that is gone
	sh -c "exit 0" & dead_pid=$! && wait $dead_pid;
	mkdir -p "early/.ama.init-$dead_pid" &&
	printf "[asset]\n" >"early/.ama.init-$dead_pid/config" &&
	ama clone -q imaging/1@0.0.0 early &&
	ls -A early | grep "^\.ama" >actual &&
	echo .ama >expect &&
	test_cmp expect actual &&
	(cd early && ama status --porcelain) >actual &&
	test_must_be_empty actual
'
test_expect_success '... but not the private folder of a live process' '
	mkdir -p "busy/.ama.init-$$" &&
	test_exit_code 2 ama clone -q imaging/1@0.0.0 busy 2>err &&
	echo "ama-clone: busy: exists and is not empty" >expect &&
	test_cmp expect err
'
test_expect_success 'a stale lock in an unfinished clone is taken over, and said so' '
	ama clone -q imaging/1@0.0.0 unfinished &&
	sed -i "/^version = /d" unfinished/.ama/config &&
	: >unfinished/.ama/index.lock &&
	ama clone imaging/1@0.0.0 unfinished >out 2>err &&
	lock="$TRASH_DIRECTORY/unfinished/.ama/index.lock" &&
	echo "ama-clone: $lock: took over the lock of an ama process that was killed" >expect &&
	test_cmp expect err &&
	echo "cloned imaging/1@0.0.0 into unfinished: 0 files placed, 14 kept, 0 not checked out" >expect &&
	test_cmp expect out
'
test_expect_success 'a partial clone: only the files the pathspecs name' '
	ama clone imaging/1 part -- "sub dir" huge >out &&
	echo "cloned imaging/1@0.0.1 into part: 4 files placed, 0 kept, 10 not checked out" >expect &&
	test_cmp expect out &&
	(cd a && find "sub dir" huge -type f -print0 | sort -z | xargs -0 md5sum --) |
		sed "s|  |  ./|" >expect &&
	tree part >actual &&
	test_cmp expect actual
'
test_expect_success '... its status is clean, its info counts what is not checked out' '
	(cd part && ama status --porcelain) >actual &&
	test_must_be_empty actual &&
	(cd part && ama info) | sed -n "s/^files: *//p" >actual &&
	echo "14 (286.1 MiB), 10 not checked out" >expect &&
	test_cmp expect actual
'
test_expect_success '... an upload there keeps every file of the version' '
	(
		cd part &&
		printf new >"sub dir/new" && ama add -q "sub dir/new" &&
		ama upload -q -m "from the partial clone"
	) &&
	ama-cat-manifest imaging/1@0.0.2 | grep -v "	sub dir/new\$" >actual &&
	ama-cat-manifest imaging/1@0.0.1 >expect &&
	test_cmp expect actual &&
	ama-cat-manifest imaging/1@0.0.2 | grep "	sub dir/new\$" >actual &&
	printf "%s 3\tsub dir/new\n" "$(md5_of "part/sub dir/new")" >expect &&
	test_cmp expect actual
'
test_expect_success 'ama download PATHSPEC fills in those files' '
	(cd part && ama download -- -dash "tab	name") >out &&
	echo "2 files placed, 0 already there" >expect &&
	test_cmp expect out &&
	test_cmp a/tab* "part/tab	name" &&
	test_cmp imaging-1/-dash part/-dash
'
test_expect_success 'ama download fills in the rest: the tree is the version' '
	(cd part && ama download) >out &&
	echo "8 files placed, 0 already there" >expect &&
	test_cmp expect out &&
	version_tree imaging/1@0.0.2 >expect &&
	tree part >actual &&
	test_cmp expect actual &&
	(cd part && ama info) | sed -n "s/^files: *//p" >actual &&
	echo "15 (286.1 MiB)" >expect &&
	test_cmp expect actual &&
	(cd part && ama status --porcelain) >actual &&
	test_must_be_empty actual
'

test_expect_success '-q: nothing on stdout or stderr' '
	ama clone -q imaging/1 quiet >out 2>err &&
	test_must_be_empty out &&
	test_must_be_empty err
'
test_expect_success '--link=hard: each file a read-only hard link to the cache' '
	ama clone -q --link=hard imaging/1 hard &&
	m=$(md5_of hard/huge) &&
	test "$(stat -c %i hard/huge)" = "$(stat -c %i "$CACHE/contents/$(echo $m | cut -c1-2)/$m")" &&
	stat -c %a hard/huge >actual &&
	echo 444 >expect &&
	test_cmp expect actual &&
	(cd hard && ama status --porcelain) >actual &&
	test_must_be_empty actual
'
test_expect_success 'a clone killed while it writes the 300 MB file leaves no temporary file' '
	ama clone -q imaging/1 warm-up || return 1
	ama clone -q imaging/1 killed &
	pid=$! &&
	n=0 &&
	until test -e killed/empty; do
		test $n -lt 100000 || return 1
		n=$((n + 1))
	done &&
	# "huge" comes next: it is being copied now
	kill -9 $pid &&
	while kill -0 $pid 2>/dev/null; do sleep 0.01; done &&
	ls -A killed | grep "^\.ama-tmp-" >actual;
	test_must_be_empty actual &&
	rm killed/.ama/index.lock &&
	ama clone -q imaging/1 killed &&
	diff -r --exclude=.ama warm-up killed
'
test_expect_success 'on a terminal, the progress lines; with -q, none' '
	rm -rf "$CACHE" &&
	script -qec "ama clone imaging/1 tty" /dev/null >tty.out </dev/null &&
	rm -rf "$CACHE" &&
	script -qec "ama clone -q imaging/1 tty-q" /dev/null >tty.q </dev/null &&
	test_must_be_empty tty.q &&
	test_path_is_file tty-q/huge &&
	sed "s/\x1b\[K//g" tty.out | tr "\r" "\n" | grep -v "^\$" >lines &&
	grep "^fetching: " lines | tail -n 1 | sed "s|, [0-9.]* [KMG]*i*B/s, [0-9.]* s\$|, RATE, TIME|" >actual &&
	echo "fetching: 13/13 files, 286.1 MiB/286.1 MiB, RATE, TIME" >expect &&
	test_cmp expect actual &&
	tail -n 1 lines >actual &&
	echo "cloned imaging/1@0.0.2 into tty: 15 files placed, 0 kept, 0 not checked out" >expect &&
	test_cmp expect actual
'
test_done
