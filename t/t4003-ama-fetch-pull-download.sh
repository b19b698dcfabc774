#!/bin/sh
test_description='ama fetch, ama pull, ama download: versions published elsewhere, and files a work tree lacks'
. ./test-lib.sh

USER=tester
export USER

tree() {
	(cd "$1" && find . -path ./.ama -prune -o -type f -print0 | sort -z |
		xargs -0 -r md5sum --)
}
version_tree() {
	ama-cat-manifest -z "$1" | sed -z "s/^\([0-9a-f]*\) [0-9]*	/\1  .\//" |
		xargs -0 -r -n1 printf "%s\n"
}
versions() {
	ama versions "$@" | sed "s/ [0-9-]* [0-9:]* UTC / TIME /"
}

test_expect_success 'setup: imaging/1 cloned at 0.0.0, then 0.0.1 and 0.0.2 published from the first folder' '
	mkdir a && cd a &&
	ama init -q imaging &&
	mkdir d && printf a0 >a && printf b0 >d/b && printf c0 >d/c &&
	ama add -q . && ama upload -q -m v0 &&
	cd .. && ama clone -q imaging/1 w && cd a &&
	printf a1 >a && printf n1 >d/n && ama add -q a d/n && ama upload -q -m v1 &&
	rm d/c && ama remove -q d/c && ama upload -q -m v2
'

test_expect_success 'ama fetch: an operand is a usage error' '
	cd w &&
	test_exit_code 2 ama fetch 0.0.1 2>../err &&
	cat >../expect <<-\EOF &&
	ama-fetch: takes no operands
	ama-fetch: usage: ama fetch [-q | --quiet]
	EOF
	test_cmp ../expect ../err
'
test_expect_success 'ama fetch: outside an asset, or in one never uploaded: exit 2' '
	test_exit_code 2 ama fetch 2>err &&
	echo "ama-fetch: not inside an ama asset (no .ama in this folder or any parent); run '"'ama init CLASS'"' first" >expect &&
	test_cmp expect err &&
	mkdir n && cd n && ama init -q imaging &&
	test_exit_code 2 ama fetch 2>../err &&
	echo "ama-fetch: .ama/config: the asset has no number yet: nothing was published from it (ama upload) or cloned into it" >../expect &&
	test_cmp ../expect ../err
'
test_expect_success 'before a fetch, ama versions knows only what the clone brought' '
	(cd w && versions) >actual &&
	echo "* 0.0.0    TIME  tester  v0" >expect &&
	test_cmp expect actual
'
test_expect_success 'ama fetch brings the versions published from elsewhere; no file changes' '
	tree w >before &&
	(cd w && ama fetch) >out &&
	echo "fetched 2 new versions of imaging/1; the newest is 0.0.2" >expect &&
	test_cmp expect out &&
	(cd w && versions) >actual &&
	cat >expect <<-\EOF &&
	  0.0.2    TIME  tester  v2
	  0.0.1    TIME  tester  v1
	* 0.0.0    TIME  tester  v0
	EOF
	test_cmp expect actual &&
	tree w >after &&
	test_cmp before after &&
	(cd w && ama status --porcelain) >actual &&
	test_must_be_empty actual
'
test_expect_success 'again: up to date; -q says nothing' '
	(cd w && ama fetch) >out &&
	echo "imaging/1: up to date, the newest is 0.0.2" >expect &&
	test_cmp expect out &&
	(cd w && ama fetch -q) >out 2>err &&
	test_must_be_empty out &&
	test_must_be_empty err
'
test_expect_success 'ama versions is offline; --fetch asks' '
	(cd a && printf a3 >a && ama add -q a && ama upload -q -m v3) &&
	(cd w && versions -n 1) >actual &&
	echo "  0.0.2    TIME  tester  v2" >expect &&
	test_cmp expect actual &&
	(cd w && versions --fetch -n 1) >actual &&
	echo "  0.0.3    TIME  tester  v3" >expect &&
	test_cmp expect actual
'
test_expect_success 'a ref lock left by a killed process: named with its fix, exit 2' '
	(cd a && printf a4 >a && ama add -q a && ama upload -q -m v4) &&
	: >w/.ama/meta/refs/ama/imaging/1.lock &&
	(cd w && test_exit_code 2 ama fetch) >out 2>err &&
	test_must_be_empty out &&
	lock="$TRASH_DIRECTORY/w/.ama/meta/refs/ama/imaging/1.lock" &&
	q="'"'"'" &&
	echo "ama-fetch: $lock: locked: another ama process is writing this asset${q}s versions, or one was killed; if no ama command is running, remove it with: rm $q$lock$q" >expect &&
	test_cmp expect err &&
	rm "$lock" &&
	(cd w && ama fetch) >out &&
	echo "fetched 1 new version of imaging/1; the newest is 0.0.4" >expect &&
	test_cmp expect out
'

test_expect_success 'ama pull: operands and a bad -j are usage errors' '
	cd w &&
	test_exit_code 2 ama pull 0.0.1 2>../err &&
	test_exit_code 2 ama pull -j 2000 2>>../err &&
	cat >../expect <<-\EOF &&
	ama-pull: takes no operands
	ama-pull: usage: ama pull [-q | --quiet] [-j <n>] [--force] [--link=hard]
	ama-pull: option '"'-j'"' wants 0 (one job a core) to 1024, not '"'2000'"'
	ama-pull: usage: ama pull [-q | --quiet] [-j <n>] [--force] [--link=hard]
	EOF
	test_cmp ../expect ../err
'
test_expect_success 'ama pull refuses while a tracked file is modified' '
	printf mine >w/a &&
	(cd w && test_exit_code 1 ama pull) >out 2>err &&
	test_must_be_empty out &&
	cat >expect <<-\EOF &&
	ama-pull: a: modified since it was added; '"'ama add'"' and '"'ama upload'"' keep it, --force discards it
	ama-pull: nothing changed: 1 paths to settle first
	EOF
	test_cmp expect err &&
	printf mine >expect &&
	test_cmp expect w/a &&
	printf a0 >w/a
'
test_expect_success 'ama pull: fetched and switched to the newest' '
	(cd a && printf a5 >a && ama add -q a && ama upload -q -m v5) &&
	(cd w && ama pull) >out &&
	echo "switched imaging/1 to 0.0.5: 2 placed, 1 removed" >expect &&
	test_cmp expect out &&
	version_tree imaging/1@0.0.5 >expect &&
	tree w >actual &&
	test_cmp expect actual &&
	(cd w && ama status --porcelain) >actual &&
	test_must_be_empty actual
'
test_expect_success 'ama pull at the newest: nothing to do' '
	(cd w && ama pull) >out &&
	echo "imaging/1 is at 0.0.5, the newest version" >expect &&
	test_cmp expect out
'
test_expect_success 'ama pull --force discards a change' '
	(cd a && printf a6 >a && ama add -q a && ama upload -q -m v6) &&
	printf mine >w/d/b &&
	(cd w && ama pull -q --force) >out 2>err &&
	test_must_be_empty out &&
	test_must_be_empty err &&
	version_tree imaging/1@0.0.6 >expect &&
	tree w >actual &&
	test_cmp expect actual
'

test_expect_success 'ama download: a bad -j is a usage error' '
	cd w &&
	test_exit_code 2 ama download -j 2000 2>../err &&
	cat >../expect <<-\EOF &&
	ama-download: option '"'-j'"' wants 0 (one job a core) to 1024, not '"'2000'"'
	ama-download: usage: ama download [-q | --quiet] [-j <n>] [--link=hard] [<pathspec>...]
	EOF
	test_cmp ../expect ../err
'
test_expect_success 'ama download with nothing missing places nothing' '
	(cd w && ama download) >out &&
	echo "0 files placed, 0 already there" >expect &&
	test_cmp expect out
'
test_expect_success 'ama download restores files deleted by hand' '
	rm w/a w/d/b &&
	(cd w && ama status --porcelain) >actual &&
	printf "deleted\ta\ndeleted\td/b\n" >expect &&
	test_cmp expect actual &&
	(cd w && ama download) >out &&
	echo "2 files placed, 0 already there" >expect &&
	test_cmp expect out &&
	version_tree imaging/1@0.0.6 >expect &&
	tree w >actual &&
	test_cmp expect actual &&
	(cd w && ama status --porcelain) >actual &&
	test_must_be_empty actual
'
test_expect_success '... only those its pathspecs name, relative to where it runs' '
	rm w/a w/d/b w/d/n &&
	(cd w/d && ama download -q b) &&
	test_path_is_file w/d/b &&
	test_path_is_missing w/d/n &&
	test_path_is_missing w/a &&
	(cd w/d && ama download -q "*") &&
	test_path_is_file w/d/n &&
	test_path_is_missing w/a &&
	(cd w && ama download -q) &&
	test_path_is_file w/a
'
test_expect_success '... never touches a file that is there, modified or not' '
	printf mine >w/a &&
	(cd w && ama download) >out &&
	echo "0 files placed, 0 already there" >expect &&
	test_cmp expect out &&
	printf mine >expect &&
	test_cmp expect w/a &&
	printf a6 >w/a
'
test_expect_success 'a pathspec outside the asset is refused' '
	(cd w && test_exit_code 1 ama download ../a/a) >out 2>err &&
	test_must_be_empty out &&
	echo "ama-download: ../a/a: outside the asset" >expect &&
	test_cmp expect err
'
test_done
