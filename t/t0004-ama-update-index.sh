#!/bin/sh
test_description='ama-update-index: add, refresh, mark and remove index entries'
. ./test-lib.sh

# the record ama-hash --stat prints for a file (no quoting: plain names)
hashrec() {
	printf '%s %s\t%s\n' "$(md5_of "$1")" "$(stat_fields "$1")" "$1"
}
# what ama-ls-files --stat prints for a plain name: STATE FLAGS PATH
lsrec() {
	printf '%s %s %s %s %s\t%s\n' "$(md5_of "$3")" "$(stat -c %s -- "$3")" \
		"$1" "$(stat_fields "$3" | cut -d" " -f2-)" "$2" "$3"
}
# files dated in the past, so that they are not racy when added
old() {
	touch -d @1600000000 -- "$@"
}
# keep FIFOs open for writing (a reader waiting on them starts), until
# release: their readers see the end of input then
hold() {
	holders=
	for f; do
		sleep 1000 >"$f" &
		holders="$holders $!"
	done
	test_when_finished "kill $holders 2>/dev/null"
}
release() {
	kill $holders && wait $holders 2>/dev/null
	return 0
}
# wait until "test ARGS" holds, 10 s at most
wait_for() {
	n=0
	while ! test "$@"; do
		n=$((n + 1))
		test $n -le 1000 || { say "timed out waiting for: $*" >&2; return 1; }
		sleep 0.01
	done
}

test_expect_code 2 'an unknown option is a usage error' '
	ama-update-index --bogus 2>err
'
test_expect_success 'the usage error names the option and the usage' '
	cat >expect <<-\EOF &&
	ama-update-index: unknown option '"'--bogus'"'
	ama-update-index: usage: ama-update-index [-z] [-q] [--state=<state> | --remove]
	EOF
	test_cmp expect err
'
test_expect_success '-h prints the usage' '
	ama-update-index -h >out &&
	echo "usage: ama-update-index [-z] [-q] [--state=<state> | --remove]" >expect &&
	test_cmp expect out
'
test_expect_success '--state and --remove exclude each other' '
	test_exit_code 2 ama-update-index --state=staged --remove 2>err &&
	cat >expect <<-\EOF &&
	ama-update-index: --state and --remove exclude each other
	ama-update-index: usage: ama-update-index [-z] [-q] [--state=<state> | --remove]
	EOF
	test_cmp expect err
'
test_expect_success 'an unknown state is a usage error' '
	test_exit_code 2 ama-update-index --state=done 2>err &&
	cat >expect <<-\EOF &&
	ama-update-index: unknown state '"'done'"' (want pending, staging, staged or committed)
	ama-update-index: usage: ama-update-index [-z] [-q] [--state=<state> | --remove]
	EOF
	test_cmp expect err
'
test_expect_success 'operands are a usage error' '
	test_exit_code 2 ama-update-index a 2>err &&
	cat >expect <<-\EOF &&
	ama-update-index: records come on stdin, not as operands
	ama-update-index: usage: ama-update-index [-z] [-q] [--state=<state> | --remove]
	EOF
	test_cmp expect err
'
test_expect_success 'outside an asset it is a setup error' '
	mkdir outside &&
	(cd outside && test_exit_code 2 ama-update-index </dev/null 2>../err) &&
	echo "ama-update-index: not inside an ama asset (no .ama in this folder or any parent); run '"'ama init CLASS'"' first" >expect &&
	test_cmp expect err
'

test_expect_success 'setup' '
	mkdir .ama sub &&
	printf hello >a &&
	printf "sub file" >sub/b &&
	printf 0123456789 >c &&
	old a sub/b c
'
test_expect_success 'records with the hash-time stat make exact entries' '
	{ hashrec a && hashrec sub/b; } | ama-update-index >out 2>err &&
	test_must_be_empty out &&
	test_must_be_empty err &&
	{ lsrec pending - a && lsrec pending - sub/b; } >expect &&
	ama-ls-files --stat >actual &&
	test_cmp expect actual
'
test_expect_success 'a plain <md5> <size> record is stored racy' '
	printf "%s %s\t%s\n" "$(md5_of c)" 10 c | ama-update-index &&
	{ lsrec pending - a && lsrec pending racy c && lsrec pending - sub/b; } >expect &&
	ama-ls-files --stat >actual &&
	test_cmp expect actual
'
test_expect_success 'a file changed within the last second is stored racy' '
	printf new >fresh &&
	hashrec fresh | ama-update-index &&
	lsrec pending racy fresh >expect &&
	ama-ls-files --stat fresh >actual &&
	test_cmp expect actual &&
	printf "\tfresh\n" | ama-update-index --remove
'
test_expect_success '--state marks entries, from records of any producer' '
	{
		printf "%s 5 pending\ta\n" "$(md5_of a)" &&
		printf "staged %s 8\tsub/b\n" "$(md5_of sub/b)" &&
		printf "%s 10\tc\n" "$(md5_of c)"
	} | ama-update-index --state=staged &&
	printf "staging %s 5\ta\n" "$(md5_of a)" |
	ama-update-index --state=committed &&
	{
		printf "%s 5 committed\ta\n" "$(md5_of a)" &&
		printf "%s 10 staged\tc\n" "$(md5_of c)" &&
		printf "%s 8 staged\tsub/b\n" "$(md5_of sub/b)"
	} >expect &&
	ama-ls-files >actual &&
	test_cmp expect actual
'
test_expect_success 're-adding an unchanged file keeps its state' '
	hashrec a | ama-update-index &&
	printf "%s 5 committed\ta\n" "$(md5_of a)" >expect &&
	ama-ls-files a >actual &&
	test_cmp expect actual
'
test_expect_success 'a file whose MD5 changed is pending again' '
	printf HELLO >a && old a &&
	hashrec a | ama-update-index &&
	lsrec pending - a >expect &&
	ama-ls-files --stat a >actual &&
	test_cmp expect actual
'
test_expect_success 'nothing to change: the index is not rewritten' '
	cp -p .ama/index before &&
	ls -i .ama/index >inode.before &&
	hashrec a | ama-update-index &&
	printf "%s 10\tc\n" "$(md5_of c)" | ama-update-index --state=staged &&
	ls -i .ama/index >inode.after &&
	test_cmp inode.before inode.after &&
	cmp before .ama/index
'
test_expect_success 'paths are relative to the asset root, from anywhere' '
	(cd sub && printf "%s 10\tc\n" "$(md5_of ../c)" |
		ama-update-index --state=committed) &&
	printf "%s 10 committed\tc\n" "$(md5_of c)" >expect &&
	ama-ls-files c >actual &&
	test_cmp expect actual
'
test_expect_success 'paths are normalized' '
	printf "%s 10\t./sub/../c\n" "$(md5_of c)" | ama-update-index --state=staged &&
	printf "%s 10 staged\tc\n" "$(md5_of c)" >expect &&
	ama-ls-files c >actual &&
	test_cmp expect actual
'

test_expect_code 1 'a file changed since it was hashed fails that record' '
	hashrec c >rec &&
	printf 9876543210 >c && old c &&
	{ cat rec && hashrec sub/b; } | ama-update-index 2>err
'
test_expect_success 'it is named; the other record is applied' '
	echo "ama-update-index: c: changed since hashed" >expect &&
	test_cmp expect err &&
	lsrec staged - sub/b >expect &&
	ama-ls-files --stat sub/b >actual &&
	test_cmp expect actual
'
test_expect_success 'a plain record needs the size the file has' '
	printf "%s 5\tc\n" "$(md5_of c)" | test_exit_code 1 ama-update-index 2>err &&
	echo "ama-update-index: c: changed since hashed" >expect &&
	test_cmp expect err
'
test_expect_success 'missing files, folders and links fail their records' '
	ln -s a link &&
	{
		printf "%s 5\tnosuch\n" "$(md5_of a)" &&
		printf "%s 5\tsub\n" "$(md5_of a)" &&
		printf "%s 5\tlink\n" "$(md5_of a)"
	} | test_exit_code 1 ama-update-index 2>err &&
	cat >expect <<-\EOF &&
	ama-update-index: nosuch: no such file
	ama-update-index: sub: not a regular file: directory
	ama-update-index: link: not a regular file: symbolic link
	EOF
	test_cmp expect err
'
test_expect_success 'paths outside the asset, into .ama or the root fail' '
	{
		printf "%s 5\t../a\n" "$(md5_of a)" &&
		printf "%s 5\t.ama/index\n" "$(md5_of a)" &&
		printf "%s 5\t/etc/passwd\n" "$(md5_of a)" &&
		printf "%s 5\t.\n" "$(md5_of a)"
	} | test_exit_code 1 ama-update-index 2>err &&
	cat >expect <<-\EOF &&
	ama-update-index: ../a: outside the asset
	ama-update-index: .ama/index: inside .ama, which ama manages
	ama-update-index: /etc/passwd: outside the asset
	ama-update-index: .: the asset root is not a file
	EOF
	test_cmp expect err
'
test_expect_success 'malformed records are named with their line' '
	{
		printf "%s\ta\n" "$(md5_of a)" &&
		printf "%s 5 1 2\ta\n" "$(md5_of a)" &&
		printf "XYZ 5\ta\n" &&
		printf "%s five\ta\n" "$(md5_of a)" &&
		printf "no tab\n"
	} | test_exit_code 1 ama-update-index 2>err &&
	cat >expect <<-\EOF &&
	ama-update-index: a: malformed record: want <md5> <size> [link] [<mtime_ns> <ctime_ns> <ino> <nlink>]
	ama-update-index: a: malformed record: want <md5> <size> [link] [<mtime_ns> <ctime_ns> <ino> <nlink>]
	ama-update-index: a: not an MD5 (32 lowercase hex digits)
	ama-update-index: a: malformed size
	ama-update-index: malformed record at line 5: no TAB
	EOF
	test_cmp expect err
'
test_expect_success '--state needs the entry, with that MD5' '
	{
		printf "%s 5\tnosuch\n" "$(md5_of a)" &&
		printf "%s 5\tsub/b\n" "$(md5_of a)" &&
		printf "%s 9\tsub/b\n" "$(md5_of sub/b)" &&
		printf "staged\tsub/b\n"
	} | test_exit_code 1 ama-update-index --state=committed 2>err &&
	cat >expect <<-\EOF &&
	ama-update-index: nosuch: not in the index
	ama-update-index: sub/b: index has another MD5 for it
	ama-update-index: sub/b: index has another size for it
	ama-update-index: sub/b: malformed record: no <md5> <size> in it
	EOF
	test_cmp expect err
'
test_expect_success '-q names no record but still exits 1' '
	printf "%s 5\tnosuch\n" "$(md5_of a)" |
	test_exit_code 1 ama-update-index -q 2>err &&
	test_must_be_empty err
'
test_expect_success '--remove drops entries; the files stay' '
	printf "anything here\tsub/b\n" | ama-update-index --remove &&
	test_path_is_file sub/b &&
	ama-ls-files >actual &&
	cut -f2 actual >paths &&
	printf "a\nc\n" >expect &&
	test_cmp expect paths
'
test_expect_success '--remove of a path not in the index fails it' '
	printf "\tsub/b\n" | test_exit_code 1 ama-update-index --remove 2>err &&
	echo "ama-update-index: sub/b: not in the index" >expect &&
	test_cmp expect err
'

test_expect_success 'setup awkward names' '
	printf 1 >"tab	name" &&
	printf 2 >"new
line" &&
	printf 3 >"quo\"te" &&
	printf 4 >"back\\slash" &&
	printf 5 >-dash &&
	printf 6 >"$(printf "latin1-\351")" &&
	printf 7 >"sp ace" &&
	old "tab	name" "new
line" "quo\"te" "back\\slash" -dash "$(printf "latin1-\351")" "sp ace"
'
test_expect_success '-z takes awkward names raw' '
	for f in "tab	name" "new
line" "quo\"te" "back\\slash" -dash "$(printf "latin1-\351")" "sp ace"; do
		printf "%s %s\t%s\0" "$(md5_of "$f")" "$(stat_fields "$f")" "$f" || return 1
	done | ama-update-index -z &&
	ama-ls-files -z "tab	name" "new
line" "quo\"te" "back\\slash" ./-dash "$(printf "latin1-\351")" "sp ace" >out &&
	{
		printf "%s 1 pending\t%s\0" "$(md5_of -dash)" -dash &&
		printf "%s 1 pending\t%s\0" "$(md5_of "back\\slash")" "back\\slash" &&
		printf "%s 1 pending\t%s\0" "$(md5_of "$(printf "latin1-\351")")" "$(printf "latin1-\351")" &&
		printf "%s 1 pending\t%s\0" "$(md5_of "new
line")" "new
line" &&
		printf "%s 1 pending\t%s\0" "$(md5_of "quo\"te")" "quo\"te" &&
		printf "%s 1 pending\t%s\0" "$(md5_of "sp ace")" "sp ace" &&
		printf "%s 1 pending\t%s\0" "$(md5_of "tab	name")" "tab	name"
	} >expect &&
	cmp expect out
'
test_expect_success 'quoted names without -z are unquoted' '
	ama-ls-files "tab	name" "new
line" "quo\"te" "back\\slash" >listed &&
	sed "s/ pending\t/ committed\t/" listed >expect &&
	sed "s/ pending\t/\t/" listed | ama-update-index --state=committed &&
	ama-ls-files "tab	name" "new
line" "quo\"te" "back\\slash" >actual &&
	test_cmp expect actual &&
	cut -f2 actual >names &&
	cat >expect <<-\EOF &&
	"back\\slash"
	"new\nline"
	"quo\"te"
	"tab\tname"
	EOF
	test_cmp expect names
'
test_expect_success 'failures name awkward paths quoted' '
	printf "%s 9\t\"new\\\\nline\"\n" "$(md5_of "new
line")" | test_exit_code 1 ama-update-index 2>err &&
	printf "%s\n" "ama-update-index: \"new\\nline\": changed since hashed" >expect &&
	test_cmp expect err
'

# --- the lock ---

test_expect_success 'a corrupt index is a setup error and stays as it is' '
	cp .ama/index good &&
	printf X | dd of=.ama/index bs=1 seek=40 conv=notrunc 2>/dev/null &&
	cp .ama/index bad &&
	printf "\tc\n" | test_exit_code 2 ama-update-index --remove 2>err &&
	echo "ama-update-index: $PWD/.ama/index: index is corrupt: checksum mismatch (truncated or damaged)" >expect &&
	test_cmp expect err &&
	cmp bad .ama/index &&
	test_path_is_missing .ama/index.lock &&
	cp good .ama/index
'
test_expect_success 'a writer holding the lock keeps a second one out' '
	mkfifo fifo &&
	cp .ama/index before &&
	{ ama-update-index --remove <fifo 2>err1 & } &&
	pid=$! &&
	test_when_finished "kill -9 $pid 2>/dev/null" &&
	hold fifo &&
	wait_for -e .ama/index.lock &&
	printf "\tc\n" | test_exit_code 2 ama-update-index --remove 2>err2 &&
	echo "ama-update-index: $PWD/.ama/index.lock: locked: another ama process is writing it; try again when it has finished" >expect &&
	test_cmp expect err2 &&
	cmp before .ama/index &&
	printf "\ta\n" >fifo &&
	release &&
	wait $pid &&
	test_must_be_empty err1 &&
	test_path_is_missing .ama/index.lock &&
	test_exit_code 1 ama-ls-files a >out 2>/dev/null &&
	test_must_be_empty out
'
test_expect_success 'a killed writer changes nothing and leaves a stale lock' '
	cp .ama/index before &&
	{ ama-update-index --remove <fifo & } &&
	pid=$! &&
	test_when_finished "kill -9 $pid 2>/dev/null" &&
	hold fifo &&
	wait_for -e .ama/index.lock &&
	printf "\tc\n" >fifo &&
	sleep 0.2 &&
	kill -9 $pid &&
	{ wait $pid; test $? = 137; } &&
	release &&
	cmp before .ama/index &&
	test_path_is_file .ama/index.lock
'
test_expect_success 'the next writer takes the stale lock over and says so' '
	printf "\tc\n" | ama-update-index --remove 2>err &&
	echo "ama-update-index: $PWD/.ama/index.lock: took over the lock of an ama process that was killed" >expect &&
	test_cmp expect err &&
	test_path_is_missing .ama/index.lock &&
	test_exit_code 1 ama-ls-files c >out 2>/dev/null &&
	test_must_be_empty out
'
test_expect_success 'of two concurrent writers one wins, the index intact' '
	mkfifo f1 f2 &&
	# fresh names: a child truncates its file only once its FIFO opens
	rm -f e1 e2 &&
	printf x >w1 && printf y >w2 && old w1 w2 &&
	{ ama-update-index <f1 2>e1 & } &&
	p1=$! &&
	{ ama-update-index <f2 2>e2 & } &&
	p2=$! &&
	test_when_finished "kill -9 $p1 $p2 2>/dev/null" &&
	hold f1 f2 &&
	wait_for -s e1 -o -s e2 &&
	if test -s e2
	then
		win=1 lose=2
	else
		win=2 lose=1
	fi &&
	hashrec w$win >f$win &&
	release &&
	{ wait $p1; s1=$?; wait $p2; s2=$?; } &&
	echo "$s1 $s2" >codes &&
	if test $win = 1
	then
		echo "0 2" >expect
	else
		echo "2 0" >expect
	fi &&
	test_cmp expect codes &&
	echo "ama-update-index: $PWD/.ama/index.lock: locked: another ama process is writing it; try again when it has finished" >expect &&
	test_cmp expect e$lose &&
	test_must_be_empty e$win &&
	test_path_is_missing .ama/index.lock &&
	ama-ls-files >all &&
	cut -f2 all | grep "^w" >won &&
	echo w$win >expect &&
	test_cmp expect won
'
test_done
