#!/bin/sh
test_description='ama remove: drop index entries; the files stay on disk'
. ./test-lib.sh

usage='ama remove [-q | --quiet] <path>...'

# the paths in the index, one a line (plain names)
paths() {
	ama-ls-files | cut -f2
}

test_expect_success 'an unknown option is a usage error' '
	test_exit_code 2 ama-remove --bogus 2>err &&
	cat >expect <<-EOF &&
	ama-remove: unknown option '"'--bogus'"'
	ama-remove: usage: $usage
	EOF
	test_cmp expect err
'
test_expect_success '-h prints the usage' '
	ama-remove -h >out &&
	echo "usage: $usage" >expect &&
	test_cmp expect out
'
test_expect_success 'no path is a usage error' '
	test_exit_code 2 ama-remove 2>err &&
	cat >expect <<-EOF &&
	ama-remove: which paths?
	ama-remove: usage: $usage
	EOF
	test_cmp expect err
'
test_expect_success 'outside an asset it is a setup error' '
	test_exit_code 2 ama-remove x >out 2>err &&
	test_must_be_empty out &&
	echo "ama-remove: not inside an ama asset (no .ama in this folder or any parent); run '"'ama init CLASS'"' first" >expect &&
	test_cmp expect err
'

test_expect_success 'setup' '
	ama init -q imaging &&
	mkdir -p d/e dd &&
	for f in a b d/c d/e/f d.txt d0 dd/x g h i; do
		echo "content of $f" >$f || return 1
	done &&
	touch -d @1600000000 a b d/c d/e/f d.txt d0 dd/x g h i &&
	ama-add -q a b d d.txt d0 dd g h i &&
	cp .ama/index index.0
'
test_expect_success 'an empty path is a usage error, not the whole asset' '
	test_exit_code 2 ama-remove a "" 2>err &&
	cat >expect <<-EOF &&
	ama-remove: empty path (use '"'.'"' for this folder)
	ama-remove: usage: $usage
	EOF
	test_cmp expect err &&
	cmp index.0 .ama/index
'
test_expect_success 'remove a file: the entry goes, the file stays' '
	ama-remove a >out 2>err &&
	echo "removed 1 file from the index; it stays on disk" >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	test_path_is_file a &&
	paths >actual &&
	printf "%s\n" b d.txt d/c d/e/f d0 dd/x g h i >expect &&
	test_cmp expect actual &&
	test_path_is_missing .ama/index.lock
'
test_expect_success 'a folder removes what is below it, not its namesakes' '
	ama-remove d >out &&
	echo "removed 2 files from the index; they stay on disk" >expect &&
	test_cmp expect out &&
	test_path_is_file d/c && test_path_is_file d/e/f &&
	paths >actual &&
	printf "%s\n" b d.txt d0 dd/x g h i >expect &&
	test_cmp expect actual
'
test_expect_success 'ama remove runs ama-remove; -q prints nothing' '
	ama remove -q b >out 2>err &&
	test_must_be_empty out &&
	test_must_be_empty err &&
	ama remove --quiet d0 >out 2>err &&
	test_must_be_empty out &&
	test_must_be_empty err &&
	paths >actual &&
	printf "%s\n" d.txt dd/x g h i >expect &&
	test_cmp expect actual
'
test_expect_success 'a deleted file can be removed (what ama status asks), and says so' '
	rm g &&
	ama-remove g >out &&
	echo "removed 1 file from the index; it was already gone from disk" >expect &&
	test_cmp expect out &&
	paths >actual &&
	printf "%s\n" d.txt dd/x h i >expect &&
	test_cmp expect actual &&
	test_exit_code 1 ama-status --porcelain g >actual 2>err &&
	test_must_be_empty actual &&
	echo "ama-status: g: no such file" >expect &&
	test_cmp expect err
'
test_expect_success 'some files gone, some on disk: both counted' '
	cp .ama/index index.before &&
	test_when_finished "cp index.before .ama/index" &&
	mv h h.away && mv i i.away &&
	test_when_finished "mv h.away h && mv i.away i" &&
	ama-remove h i d.txt >out &&
	echo "removed 3 files from the index; 1 stays on disk, 2 were already gone" >expect &&
	test_cmp expect out &&
	cp index.before .ama/index &&
	ama-remove h d.txt dd >out &&
	echo "removed 3 files from the index; 2 stay on disk, 1 was already gone" >expect &&
	test_cmp expect out
'
test_expect_success 'several files gone; a file that became a folder is gone too' '
	cp .ama/index index.before &&
	test_when_finished "cp index.before .ama/index" &&
	mv h h.away && mv i i.away && mkdir i &&
	test_when_finished "rmdir i && mv h.away h && mv i.away i" &&
	ama-remove h i >out &&
	echo "removed 2 files from the index; they were already gone from disk" >expect &&
	test_cmp expect out
'
test_expect_success 'from a subfolder, paths are relative to it' '
	(cd dd && ama-remove x ../h >../out) &&
	echo "removed 2 files from the index; they stay on disk" >expect &&
	test_cmp expect out &&
	paths >actual &&
	printf "%s\n" d.txt i >expect &&
	test_cmp expect actual
'
test_expect_success 'a path not in the index is named, the others removed, exit 1' '
	test_exit_code 1 ama-remove nosuch i a >out 2>err &&
	echo "removed 1 file from the index; it stays on disk" >expect &&
	test_cmp expect out &&
	cat >expect <<-\EOF &&
	ama-remove: nosuch: not in the index
	ama-remove: a: not in the index
	EOF
	test_cmp expect err &&
	paths >actual &&
	echo d.txt >expect &&
	test_cmp expect actual
'
test_expect_success 'nothing matched: nothing written, exit 1' '
	cp .ama/index before &&
	ls -i .ama/index >inode.before &&
	test_exit_code 1 ama-remove nosuch >out 2>err &&
	echo "removed 0 files from the index; they stay on disk" >expect &&
	test_cmp expect out &&
	echo "ama-remove: nosuch: not in the index" >expect &&
	test_cmp expect err &&
	ls -i .ama/index >inode.after &&
	test_cmp inode.before inode.after &&
	cmp before .ama/index
'
test_expect_success 'the root removes everything' '
	cp index.0 .ama/index &&
	mkdir -p sub && (cd sub && ama-remove ..) >out &&
	# g was deleted above
	echo "removed 10 files from the index; 9 stay on disk, 1 was already gone" >expect &&
	test_cmp expect out &&
	paths >actual &&
	test_must_be_empty actual
'
test_expect_success 'paths outside the asset or in .ama: exit 2, nothing removed' '
	cp index.0 .ama/index &&
	test_exit_code 2 ama-remove a ../x >out 2>err &&
	test_must_be_empty out &&
	echo "ama-remove: ../x: outside the asset" >expect &&
	test_cmp expect err &&
	test_exit_code 2 ama-remove a .ama 2>err &&
	echo "ama-remove: .ama: inside .ama, which ama manages" >expect &&
	test_cmp expect err &&
	cmp index.0 .ama/index
'

test_expect_success 'setup awkward names' '
	mkdir awk &&
	printf 1 >"awk/tab	name" &&
	printf 2 >"awk/new
line" &&
	printf 3 >"awk/quo\"te" &&
	printf 4 >"awk/back\\slash" &&
	printf 5 >awk/-dash &&
	printf 6 >"awk/$(printf "latin1-\351")" &&
	printf 7 >"awk/sp ace" &&
	touch -d @1600000000 awk/* &&
	ama-add -q awk
'
test_expect_success 'awkward names are removed one by one' '
	(cd awk && ama-remove -- -dash "tab	name" "new
line" "quo\"te" >../out) &&
	echo "removed 4 files from the index; they stay on disk" >expect &&
	test_cmp expect out &&
	ama-ls-files -z awk >actual &&
	printf "%s 1 pending\tawk/%s\0" \
		"$(md5_of "awk/back\\slash")" "back\\slash" \
		"$(md5_of "awk/$(printf "latin1-\351")")" "$(printf "latin1-\351")" \
		"$(md5_of "awk/sp ace")" "sp ace" >expect &&
	cmp expect actual &&
	set -- awk/* &&
	test $# = 7
'
test_expect_success 'awkward names are C-quoted in messages' '
	test_exit_code 1 ama-remove "awk/tab	name" "awk/new
line" "awk/back\\slash" >out 2>err &&
	echo "removed 1 file from the index; it stays on disk" >expect &&
	test_cmp expect out &&
	cat >expect <<-\EOF &&
	ama-remove: "awk/tab\tname": not in the index
	ama-remove: "awk/new\nline": not in the index
	EOF
	test_cmp expect err
'

test_expect_success 'a held lock: exit 2, nothing removed' '
	cp index.0 .ama/index &&
	mkfifo fifo &&
	{ ama-update-index <fifo & } &&
	pid=$! &&
	{ sleep 1000 >fifo & } &&
	holder=$! &&
	test_when_finished "kill $holder $pid 2>/dev/null" &&
	n=0 &&
	while ! test -e .ama/index.lock; do
		n=$((n + 1)) && test $n -lt 1000 && sleep 0.01 || return 1
	done &&
	test_exit_code 2 ama-remove a >out 2>err &&
	test_must_be_empty out &&
	echo "ama-remove: $(pwd -P)/.ama/index.lock: locked: another ama process is writing it; try again when it has finished" >expect &&
	test_cmp expect err &&
	kill $holder && wait $pid &&
	cmp index.0 .ama/index
'
test_expect_success 'a stale lock is taken over, and said' '
	: >.ama/index.lock &&
	test_when_finished "cp index.0 .ama/index" &&
	(cd d && ama-remove c >../out 2>../err) &&
	echo "removed 1 file from the index; it stays on disk" >expect &&
	test_cmp expect out &&
	echo "ama-remove: $(pwd -P)/.ama/index.lock: took over the lock of an ama process that was killed" >expect &&
	test_cmp expect err &&
	test_path_is_missing .ama/index.lock &&
	test_exit_code 1 ama-ls-files d/c >out 2>/dev/null &&
	test_must_be_empty out
'
test_expect_success 'a corrupt index is a setup error and stays as it is' '
	printf X | dd of=.ama/index bs=1 seek=40 conv=notrunc 2>/dev/null &&
	test_when_finished "cp index.0 .ama/index" &&
	cp .ama/index bad &&
	test_exit_code 2 ama-remove a >out 2>err &&
	test_must_be_empty out &&
	echo "ama-remove: $(pwd -P)/.ama/index: index is corrupt: checksum mismatch (truncated or damaged)" >expect &&
	test_cmp expect err &&
	cmp bad .ama/index &&
	test_path_is_missing .ama/index.lock
'
test_expect_success 'a failing stdout is a setup error, the index written' '
	test_exit_code 2 ama-remove a >/dev/full 2>err &&
	echo "ama-remove: cannot write output: No space left on device" >expect &&
	test_cmp expect err &&
	test_exit_code 1 ama-ls-files a >out 2>/dev/null &&
	test_must_be_empty out
'
test_done
