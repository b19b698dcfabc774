#!/bin/sh
test_description='ama-checkout: contents placed from the cache into the work tree, with their index entries'
. ./test-lib.sh

usage='ama-checkout [-z] [--force] [--link=hard] [--state=<state>]'
CACHE="$XDG_CACHE_HOME/ama"
# outputs go here, out of the work trees
O="$TRASH_DIRECTORY"
USER=tester
export USER

cached() {
	echo "$CACHE/contents/$(echo "$1" | cut -c1-2)/$1"
}
# the files of a folder but .ama, with their MD5s (md5sum lines), sorted
tree() {
	(cd "$1" && find . -path ./.ama -prune -o -type f -print0 | sort -z |
		xargs -0 -r md5sum --)
}
# ama-ls-files without the stat: "<md5> <size> <state> TAB path"
entries() {
	ama-ls-files
}

test_expect_success 'setup: imaging/1 with awkward names, its contents in the cache' '
	mkdir a && cd a &&
	ama init -q imaging &&
	mkdir -p d/e && printf one >one && printf one >d/same && printf deep >d/e/f &&
	printf two >"tab	name" && printf three >"new
line" && printf dash >-dash && : >empty &&
	ama add -q -- . && ama upload -q &&
	ama-cat-manifest imaging/1 >../records &&
	ama-cat-manifest -z imaging/1 >../records.z &&
	ama-fetch-content -q <../records >/dev/null &&
	cd .. && mkdir w && (cd w && ama init -q imaging)
'

test_expect_success 'an operand is a usage error' '
	cd w &&
	test_exit_code 2 ama-checkout ../records >"$O/out" 2>"$O/err" &&
	test_must_be_empty "$O/out" &&
	cat >"$O/expect" <<-EOF &&
	ama-checkout: records come on stdin, not as operands
	ama-checkout: usage: $usage
	EOF
	test_cmp "$O/expect" "$O/err"
'
test_expect_success '--link takes only hard; --state a state' '
	cd w &&
	test_exit_code 2 ama-checkout --link=soft <../records 2>"$O/err" &&
	test_exit_code 2 ama-checkout --state=bogus <../records 2>>"$O/err" &&
	cat >"$O/expect" <<-EOF &&
	ama-checkout: --link takes only '"'hard'"'
	ama-checkout: usage: $usage
	ama-checkout: --state: unknown state '"'bogus'"' (want pending, staging, staged or committed)
	ama-checkout: usage: $usage
	EOF
	test_cmp "$O/expect" "$O/err"
'
test_expect_success 'outside an asset: a setup error, nothing placed' '
	test_exit_code 2 ama-checkout <records >out 2>"$O/err" &&
	test_must_be_empty out &&
	echo "ama-checkout: not inside an ama asset (no .ama in this folder or any parent); run '"'ama init CLASS'"' first" >expect &&
	test_cmp expect err &&
	test_path_is_missing one
'
test_expect_success 'an index another process holds: a setup error named by its full path, nothing placed' '
	cd w &&
	# flock -o: the lock is flock'"'"'s own, gone when it is killed
	{ flock -o .ama/index.lock sleep 30 & } &&
	holder=$! &&
	test_when_finished "kill $holder 2>/dev/null; rm -f w/.ama/index.lock" &&
	n=0 &&
	until ! flock -n .ama/index.lock true 2>/dev/null ||
		test $n -ge 200; do
		sleep 0.05 && n=$((n + 1))
	done &&
	test_exit_code 2 ama-checkout <../records >"$O/out" 2>"$O/err" &&
	test_must_be_empty "$O/out" &&
	echo "ama-checkout: $PWD/.ama/index.lock: locked: another ama process is writing it; try again when it has finished" >"$O/expect" &&
	test_cmp "$O/expect" "$O/err" &&
	test_path_is_missing one &&
	kill $holder && { wait $holder; true; } && rm .ama/index.lock
'

test_expect_success 'each record placed, in input order, as the tree of the version' '
	(cd w && ama-checkout <../records) >out &&
	sed "s/^/placed /" records >expect &&
	test_cmp expect out &&
	tree a >expect &&
	tree w >actual &&
	test_cmp expect actual
'
test_expect_success '... each with its index entry, committed: ama status is clean' '
	sed "s/	/ committed	/" records >expect &&
	(cd w && ama-ls-files) >actual &&
	test_cmp expect actual &&
	(cd w && ama status) >out &&
	cat >expect <<-\EOF &&
	asset of class imaging, not uploaded yet
	nothing to do: every added file is unchanged and uploaded
	EOF
	test_cmp expect out &&
	(cd w && ama-verify) >out &&
	sed "s/^[^	]*	/ok	/" records >expect &&
	test_cmp expect out
'
test_expect_success '... written, not linked to the cache' '
	cd w &&
	test "$(stat -c %i one)" != "$(stat -c %i "$(cached "$(md5_of one)")")" &&
	test "$(stat -c %h one)" = 1 &&
	test -w one
'
test_expect_success 'run again: every file is kept' '
	(cd w && ama-checkout <../records) >out &&
	sed "s/^/kept /" records >expect &&
	test_cmp expect out
'
test_expect_success '--state gives the entries that state' '
	grep "	one\$" records >in &&
	(cd w && ama-checkout --state=pending <../in) >out &&
	sed "s/^/kept /" in >expect &&
	test_cmp expect out &&
	(cd w && ama-ls-files --state=pending) | cut -f2 >actual &&
	echo one >expect &&
	test_cmp expect actual &&
	(cd w && ama-checkout <../in >/dev/null)
'
test_expect_success '-z: NUL-terminated in and out, names raw' '
	mkdir z && (cd z && ama init -q imaging) &&
	(cd z && ama-checkout -z <../records.z) >out &&
	sed -z "s/^/placed /" records.z >expect &&
	cmp expect out &&
	tree a >expect &&
	tree z >actual &&
	test_cmp expect actual
'

test_expect_success 'a file ama does not track is not overwritten: named with its fix, exit 1' '
	mkdir u && cd u && ama init -q imaging &&
	printf mine >one &&
	test_exit_code 1 ama-checkout <../records >"$O/out" 2>"$O/err" &&
	echo "ama-checkout: one: not tracked by ama; move it away, or --force overwrites it" >"$O/expect" &&
	test_cmp "$O/expect" "$O/err" &&
	grep -v "	one\$" ../records | sed "s/^/placed /" >"$O/expect" &&
	test_cmp "$O/expect" "$O/out" &&
	printf mine >"$O/expect" &&
	test_cmp "$O/expect" one &&
	ama-ls-files | cut -f2 >"$O/actual" &&
	grep -v "	one\$" ../records | cut -f2 >"$O/expect" &&
	test_cmp "$O/expect" "$O/actual"
'
test_expect_success '... unless it already holds the content: kept and recorded' '
	cd u &&
	printf one >one &&
	grep "	one\$" ../records | ama-checkout >"$O/out" &&
	grep "	one\$" ../records | sed "s/^/kept /" >"$O/expect" &&
	test_cmp "$O/expect" "$O/out" &&
	ama-ls-files one | cut -d" " -f3 >"$O/actual" &&
	echo "committed	one" >"$O/expect" &&
	test_cmp "$O/expect" "$O/actual"
'
test_expect_success 'a tracked file modified since it was added is not overwritten' '
	cd u &&
	printf changed >one &&
	test_exit_code 1 ama-checkout <../records >"$O/out" 2>"$O/err" &&
	echo "ama-checkout: one: modified since it was added; '"'ama add'"' keeps it, --force discards it" >"$O/expect" &&
	test_cmp "$O/expect" "$O/err" &&
	printf changed >"$O/expect" &&
	test_cmp "$O/expect" one
'
test_expect_success '--force overwrites both' '
	cd u &&
	printf mine >-dash && ama remove -q -- -dash &&
	ama-checkout --force <../records >"$O/out" &&
	test_cmp ../a/one one &&
	test_cmp ../a/-dash ./-dash &&
	ama status --porcelain >"$O/actual" &&
	test_must_be_empty "$O/actual"
'
test_expect_success 'a folder in the way is never removed, --force or not' '
	mkdir f && cd f && ama init -q imaging &&
	mkdir -p one/inside && printf x >one/inside/x &&
	test_exit_code 1 ama-checkout --force <../records >"$O/out" 2>"$O/err" &&
	echo "ama-checkout: one: a folder is in the way" >"$O/expect" &&
	test_cmp "$O/expect" "$O/err" &&
	test_path_is_file one/inside/x
'
test_expect_success 'a symbolic link in place of a folder: nothing is written through it' '
	mkdir outside l && cd l && ama init -q imaging &&
	ln -s ../outside d &&
	test_exit_code 1 ama-checkout <../records >"$O/out" 2>"$O/err" &&
	cat >"$O/expect" <<-\EOF &&
	ama-checkout: d: is not a folder (a file or a symbolic link is there)
	ama-checkout: d: is not a folder (a file or a symbolic link is there)
	EOF
	test_cmp "$O/expect" "$O/err" &&
	find ../outside -mindepth 1 >"$O/actual" &&
	test_must_be_empty "$O/actual" &&
	grep -v "	d/" ../records | sed "s/^/placed /" >"$O/expect" &&
	test_cmp "$O/expect" "$O/out"
'
test_expect_success '... --force replaces the link by a folder, the target untouched' '
	(cd l && ama-checkout --force <../records >/dev/null) &&
	test -d l/d && ! test -L l/d &&
	find outside -mindepth 1 >actual &&
	test_must_be_empty actual &&
	tree a >expect &&
	tree l | grep -v " \./\(out\|err\|expect\|actual\)\$" >actual &&
	test_cmp expect actual
'
test_expect_success 'a symbolic link at the path is not followed: refused, then replaced with --force' '
	mkdir s && cd s && ama init -q imaging &&
	printf precious >../target &&
	ln -s ../target one &&
	grep "	one\$" ../records >"$O/in" &&
	test_exit_code 1 ama-checkout <"$O/in" 2>"$O/err" &&
	echo "ama-checkout: one: not tracked by ama; move it away, or --force overwrites it" >"$O/expect" &&
	test_cmp "$O/expect" "$O/err" &&
	ama-checkout --force <"$O/in" >"$O/out" &&
	! test -L one &&
	test_cmp ../a/one one &&
	printf precious >"$O/expect" &&
	test_cmp "$O/expect" ../target
'
test_expect_success 'hostile paths in records are refused, each named, nothing written' '
	mkdir h && cd h && ama init -q imaging &&
	m=$(md5_of ../a/one) &&
	printf "%s 3\t%s\n" $m ../escape $m /tmp/abs $m .ama/index $m x/.ama/config \
		$m a//b $m "\"x\\000y\"" >"$O/in" &&
	test_exit_code 1 ama-checkout <"$O/in" >"$O/out" 2>"$O/err" &&
	test_must_be_empty "$O/out" &&
	cat >"$O/expect" <<-\EOF &&
	ama-checkout: ../escape: '"'.'"' or '"'..'"' part
	ama-checkout: /tmp/abs: absolute path
	ama-checkout: .ama/index: inside .ama, which ama manages
	ama-checkout: x/.ama/config: inside .ama, which ama manages
	ama-checkout: a//b: empty part ('"'//'"')
	ama-checkout: malformed record at line 6: bad quoting: NUL byte in a path
	EOF
	test_cmp "$O/expect" "$O/err" &&
	test_path_is_missing ../escape &&
	test_path_is_missing /tmp/abs &&
	test_path_is_missing x &&
	test_path_is_missing a &&
	ama-ls-files >"$O/actual" &&
	test_must_be_empty "$O/actual"
'
test_expect_success 'a content the cache lacks: named with its fix, exit 1, no folder made' '
	mkdir n && cd n && ama init -q imaging &&
	printf "0123456789abcdef0123456789abcdef 5\tnew/folder/x\n" >"$O/in" &&
	grep "	one\$" ../records >>"$O/in" &&
	test_exit_code 1 ama-checkout <"$O/in" >"$O/out" 2>"$O/err" &&
	echo "ama-checkout: new/folder/x: its content is not in the cache (ama-fetch-content)" >"$O/expect" &&
	test_cmp "$O/expect" "$O/err" &&
	grep "	one\$" ../records | sed "s/^/placed /" >"$O/expect" &&
	test_cmp "$O/expect" "$O/out" &&
	test_path_is_missing new
'
test_expect_success '... and --force removes no file in its way (a file where its folder goes)' '
	cd n &&
	printf mine >new &&
	test_exit_code 1 ama-checkout --force <"$O/in" >"$O/out" 2>"$O/err" &&
	echo "ama-checkout: new/folder/x: its content is not in the cache (ama-fetch-content)" >"$O/expect" &&
	test_cmp "$O/expect" "$O/err" &&
	printf mine >"$O/expect" &&
	test_cmp "$O/expect" new
'
test_expect_success '--link=hard: a hard link to the cached content, read-only, status clean' '
	mkdir k && cd k && ama init -q imaging &&
	ama-checkout --link=hard <../records >"$O/out" &&
	sed "s/^/placed /" ../records >"$O/expect" &&
	test_cmp "$O/expect" "$O/out" &&
	test "$(stat -c %i one)" = "$(stat -c %i "$(cached "$(md5_of one)")")" &&
	test "$(stat -c %i d/same)" = "$(stat -c %i one)" &&
	stat -c %a one >"$O/actual" &&
	echo 444 >"$O/expect" &&
	test_cmp "$O/expect" "$O/actual" &&
	ama status --porcelain >"$O/actual" &&
	test_must_be_empty "$O/actual"
'
test_done
