#!/bin/sh
test_description='ama switch: the work tree brought to another version: added, changed, deleted, renamed files, a file that becomes a folder and back'
. ./test-lib.sh

usage='ama switch [-q | --quiet] [-j <n>] [--force] [--link=hard] <version>'
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
# the folders of a folder but .ama, sorted: none is left empty by a switch
folders() {
	(cd "$1" && find . -path ./.ama -prune -o -type d -print | sort)
}
# switch W V: ama switch V in w; then the tree is exactly the version
# and ama status is clean
at_version() {
	tree w >actual.tree &&
	version_tree "imaging/1@$1" >expect.tree &&
	test_cmp expect.tree actual.tree &&
	(cd w && ama status --porcelain) >actual.status &&
	test_must_be_empty actual.status &&
	sed -n "s/^version = //p" w/.ama/config >actual.version &&
	echo "$1" >expect.version &&
	test_cmp expect.version actual.version
}

test_expect_success 'setup: three versions that add, change, delete, rename, and turn a file into a folder and back' '
	mkdir a && cd a &&
	ama init -q imaging &&
	mkdir -p d/deep &&
	printf a0 >a && printf b0 >b && printf c0 >d/deep/c && printf x0 >x &&
	printf keep >keep && printf "tab" >"tab	name" && : >empty &&
	ama add -q -- . && ama upload -q -m "v0" &&
	printf a1 >a && printf new >new &&
	rm b && ama remove -q b &&
	mkdir e && mv d/deep/c e/c && rmdir d/deep d && ama remove -q d/deep/c &&
	rm x && ama remove -q x && mkdir x && printf inner >x/inner &&
	ama add -q a new e/c x/inner && ama upload -q -m "v1" &&
	printf a2 >a &&
	rm -r x && ama remove -q x/inner && printf x2 >x &&
	rm e/c && rmdir e && ama remove -q e/c &&
	ama add -q a x && ama upload -q -m "v2" &&
	cd .. && ama clone -q imaging/1@0.0.0 w
'

test_expect_success 'no operand, or two, is a usage error' '
	cd w &&
	test_exit_code 2 ama switch >../out 2>../err &&
	test_exit_code 2 ama switch 0.0.1 0.0.2 >>../out 2>>../err &&
	test_must_be_empty ../out &&
	cat >../expect <<-EOF &&
	ama-switch: wants one version
	ama-switch: usage: $usage
	ama-switch: wants one version
	ama-switch: usage: $usage
	EOF
	test_cmp ../expect ../err
'
test_expect_success 'a bad version, --link, -j: usage errors, nothing changed' '
	cd w &&
	test_exit_code 2 ama switch 1.2 2>../err &&
	test_exit_code 2 ama switch --link=soft 0.0.1 2>>../err &&
	test_exit_code 2 ama switch -j 2000 0.0.1 2>>../err &&
	cat >../expect <<-EOF &&
	ama-switch: bad version '"'1.2'"' (want X.Y.Z, Y and Z 0..98)
	ama-switch: usage: $usage
	ama-switch: --link takes only '"'hard'"'
	ama-switch: usage: $usage
	ama-switch: option '"'-j'"' wants 0 (one job a core) to 1024, not '"'2000'"'
	ama-switch: usage: $usage
	EOF
	test_cmp ../expect ../err &&
	cd .. && at_version 0.0.0
'
test_expect_success 'outside an asset, or in one never uploaded: a setup error' '
	test_exit_code 2 ama switch 0.0.1 2>err &&
	echo "ama-switch: not inside an ama asset (no .ama in this folder or any parent); run '"'ama init CLASS'"' first" >expect &&
	test_cmp expect err &&
	mkdir n && cd n && ama init -q imaging &&
	test_exit_code 2 ama switch 0.0.1 2>../err &&
	echo "ama-switch: .ama/config: the asset has no number yet: nothing was published from it (ama upload) or cloned into it" >../expect &&
	test_cmp ../expect ../err
'
test_expect_success 'a version the asset does not have: exit 1, nothing changed' '
	cd w &&
	test_exit_code 1 ama switch 0.0.9 >../out 2>../err &&
	test_must_be_empty ../out &&
	echo "ama-switch: asset imaging/1 has no version 0.0.9" >../expect &&
	test_cmp ../expect ../err &&
	cd .. && at_version 0.0.0
'

test_expect_success 'to 0.0.1: changed, added, deleted, renamed, a file become a folder' '
	(cd w && ama switch 0.0.1) >out &&
	echo "switched imaging/1 to 0.0.1: 4 placed, 3 removed" >expect &&
	test_cmp expect out &&
	at_version 0.0.1 &&
	folders w >actual &&
	printf "%s\n" . ./e ./x >expect &&
	test_cmp expect actual
'
test_expect_success 'to 0.0.2: the folder become a file again' '
	(cd w && ama switch 0.0.2) >out &&
	echo "switched imaging/1 to 0.0.2: 2 placed, 2 removed" >expect &&
	test_cmp expect out &&
	at_version 0.0.2 &&
	folders w >actual &&
	echo . >expect &&
	test_cmp expect actual
'
test_expect_success 'back and forth: each version exactly, each time' '
	for v in 0.0.0 0.0.2 0.0.1 0.0.0 0.0.1 0.0.2 0.0.0; do
		(cd w && ama switch -q $v) >out 2>err &&
		test_must_be_empty out &&
		test_must_be_empty err &&
		at_version $v || return 1
	done
'
test_expect_success 'to the version it is at: nothing to do' '
	(cd w && ama switch 0.0.0) >out &&
	echo "switched imaging/1 to 0.0.0: 0 placed, 0 removed" >expect &&
	test_cmp expect out &&
	at_version 0.0.0
'
test_expect_success 'from a folder inside the asset' '
	(cd w/d/deep && ama switch -q 0.0.1) &&
	at_version 0.0.1 &&
	(cd w/x && ama switch -q 0.0.0) &&
	at_version 0.0.0
'

test_expect_success 'a switch killed after the file became a folder: the rerun finishes it' '
	# what a switch from 0.0.0 to 0.0.1 killed half way leaves: x is the
	# folder of 0.0.1 already, the index and .ama/config still say 0.0.0
	rm w/x && mkdir w/x && printf inner >w/x/inner &&
	(cd w && ama switch 0.0.1) >out &&
	echo "switched imaging/1 to 0.0.1: 3 placed, 2 removed" >expect &&
	test_cmp expect out &&
	at_version 0.0.1 &&
	(cd w && ama switch -q 0.0.0) &&
	at_version 0.0.0
'

# what stops a switch: each path named with its fix, nothing changed
test_expect_success 'a tracked file modified: refused, nothing changed' '
	printf mine >w/keep &&
	(cd w && test_exit_code 1 ama switch 0.0.1) >out 2>err &&
	test_must_be_empty out &&
	cat >expect <<-\EOF &&
	ama-switch: keep: modified since it was added; '"'ama add'"' and '"'ama upload'"' keep it, --force discards it
	ama-switch: nothing changed: 1 paths to settle first
	EOF
	test_cmp expect err &&
	printf mine >expect &&
	test_cmp expect w/keep &&
	sed -n "s/^version = //p" w/.ama/config >actual &&
	echo 0.0.0 >expect &&
	test_cmp expect actual &&
	test_path_is_file w/b
'
test_expect_success 'a tracked file deleted, a file added and not uploaded, an untracked file in the way' '
	printf keep >w/keep &&
	rm w/b &&
	printf added >w/added && (cd w && ama add -q added) &&
	printf mine >w/new &&
	(cd w && test_exit_code 1 ama switch 0.0.1) >out 2>err &&
	test_must_be_empty out &&
	cat >expect <<-\EOF &&
	ama-switch: added: added and not uploaded; run '"'ama upload'"' first, or --force drops it from the index
	ama-switch: new: not tracked by ama and in the way; move it away, or --force overwrites it
	ama-switch: nothing changed: 2 paths to settle first
	EOF
	test_cmp expect err &&
	printf mine >expect &&
	test_cmp expect w/new
'
test_expect_success '... a deleted file that the version keeps stops it too' '
	printf b0 >w/b && rm w/keep && rm w/new && (cd w && ama remove -q added) && rm w/added &&
	(cd w && test_exit_code 1 ama switch 0.0.1) >out 2>err &&
	cat >expect <<-\EOF &&
	ama-switch: keep: deleted; '"'ama download'"' restores it, '"'ama remove'"' drops it
	ama-switch: nothing changed: 1 paths to settle first
	EOF
	test_cmp expect err &&
	(cd w && ama download -q) &&
	at_version 0.0.0
'
test_expect_success 'a folder where the version puts a file, holding a file ama does not track: refused' '
	(cd w && ama switch -q 0.0.1) &&
	printf mine >w/x/mine &&
	(cd w && test_exit_code 1 ama switch 0.0.2) >out 2>err &&
	cat >expect <<-\EOF &&
	ama-switch: x: not tracked by ama and in the way; move it away, or --force overwrites it
	ama-switch: nothing changed: 1 paths to settle first
	EOF
	test_cmp expect err &&
	printf mine >expect &&
	test_cmp expect w/x/mine &&
	rm w/x/mine &&
	(cd w && ama switch -q 0.0.2) &&
	at_version 0.0.2
'
test_expect_success '--force discards what stopped it; files added stay on disk, out of the index' '
	printf mine >w/keep &&
	printf added >w/added && (cd w && ama add -q added) &&
	rm w/b 2>/dev/null; printf mine >w/new &&
	(cd w && ama switch --force 0.0.1) >out &&
	at_version_but_added() {
		tree w | grep -v "  ./added\$" >actual.tree &&
		version_tree imaging/1@0.0.1 >expect.tree &&
		test_cmp expect.tree actual.tree
	} &&
	at_version_but_added &&
	printf added >expect &&
	test_cmp expect w/added &&
	(cd w && ama status --porcelain) >actual &&
	printf "untracked\tadded\n" >expect &&
	test_cmp expect actual &&
	rm w/added
'

test_expect_success 'a symbolic link in place of a folder: nothing is written through it' '
	mkdir outside &&
	ln -s ../outside w/d &&
	(cd w && test_exit_code 1 ama switch 0.0.0) >out 2>err &&
	cat >expect <<-\EOF &&
	ama-switch: d/deep/c: d: is not a folder (a file or a symbolic link is there)
	EOF
	test_cmp expect err &&
	echo "switched imaging/1 to 0.0.0: 3 placed, 3 removed; some failed (ama download retries them)" >expect &&
	test_cmp expect out &&
	find outside -mindepth 1 >actual &&
	test_must_be_empty actual &&
	test -L w/d
'
test_expect_success '... ama download places it once the link is gone' '
	rm w/d &&
	(cd w && ama download) >out &&
	echo "1 files placed, 0 already there" >expect &&
	test_cmp expect out &&
	at_version 0.0.0
'
test_expect_success 'a HEAD lock of .ama/meta left by a killed process: named with its fix, exit 2' '
	: >w/.ama/meta/HEAD.lock &&
	(cd w && test_exit_code 2 ama switch 0.0.2) >out 2>err &&
	lock="$TRASH_DIRECTORY/w/.ama/meta/HEAD.lock" &&
	q="'"'"'" &&
	echo "ama-switch: $lock: locked: another ama process is writing this asset${q}s versions, or one was killed; if no ama command is running, remove it with: rm $q$lock$q" >expect &&
	test_cmp expect err &&
	rm "$lock" &&
	(cd w && ama switch -q 0.0.2) &&
	at_version 0.0.2 &&
	(cd w && ama switch -q 0.0.0)
'
test_expect_success 'in a partial clone, what the clone left out stays out (new paths come in)' '
	ama clone -q imaging/1@0.0.0 part -- d keep &&
	(cd part && ama switch 0.0.1) >out &&
	echo "switched imaging/1 to 0.0.1: 3 placed, 1 removed" >expect &&
	test_cmp expect out &&
	(cd part && find . -path ./.ama -prune -o -type f -print | sort) >actual &&
	printf "%s\n" ./e/c ./keep ./new ./x/inner >expect &&
	test_cmp expect actual &&
	(cd part && ama info) | sed -n "s/^files: *//p" >actual &&
	echo "7 (19 B), 3 not checked out" >expect &&
	test_cmp expect actual &&
	(cd part && ama download -q) &&
	tree part >actual.tree &&
	version_tree imaging/1@0.0.1 >expect.tree &&
	test_cmp expect.tree actual.tree
'
test_expect_success '--link=hard: the placed files share the cache inode' '
	(cd w && ama switch -q --link=hard 0.0.1) &&
	at_version 0.0.1 &&
	stat -c %a w/new >actual &&
	echo 444 >expect &&
	test_cmp expect actual &&
	stat -c %h w/new >actual &&
	echo 2 >expect &&
	test_cmp expect actual
'
test_done
