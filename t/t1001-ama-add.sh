#!/bin/sh
test_description='ama add: record the stat record and MD5 of files in the index'
. ./test-lib.sh

usage='ama add [-q | --quiet] [-j <n>] <path>...'

# what ama-ls-files --stat prints for a file as it is now: STATE FLAGS PATH,
# the path relative to the asset root (the working folder)
lsrec() {
	printf '%s %s %s %s %s\t%s\n' "$(md5_of "$3")" "$(stat -c %s -- "$3")" \
		"$1" "$(stat_fields "$3" | cut -d" " -f2-)" "$2" "$3"
}
# files dated in the past, so that they are not racy when added
old() {
	touch -d @1600000000 -- "$@"
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
# wait until process $1 has read some of the file $2 (absolute path)
wait_reading() {
	n=0
	while :; do
		for fd in /proc/$1/fd/*; do
			test "$(readlink "$fd" 2>/dev/null)" = "$2" || continue
			pos=$(sed -n "s/^pos:[[:space:]]*//p" \
				"/proc/$1/fdinfo/${fd##*/}" 2>/dev/null)
			test "${pos:-0}" -gt 0 && return 0
		done
		n=$((n + 1))
		test $n -le 1000 || { say "timed out: $1 never read $2" >&2; return 1; }
		sleep 0.01
	done
}
# stop process $1 and wait until every thread of it has stopped
stop() {
	kill -STOP "$1" &&
	n=0 &&
	while grep -hq "^State:[[:space:]]*[RSD]" /proc/$1/task/*/status 2>/dev/null; do
		n=$((n + 1))
		test $n -le 1000 || { say "timed out stopping $1" >&2; return 1; }
		sleep 0.01
	done
}

test_expect_success 'an unknown option is a usage error' '
	test_exit_code 2 ama-add --bogus 2>err &&
	cat >expect <<-EOF &&
	ama-add: unknown option '"'--bogus'"'
	ama-add: usage: $usage
	EOF
	test_cmp expect err
'
test_expect_success '-h prints the usage' '
	ama-add -h >out &&
	echo "usage: $usage" >expect &&
	test_cmp expect out
'
test_expect_success 'no path is a usage error' '
	test_exit_code 2 ama-add 2>err &&
	cat >expect <<-EOF &&
	ama-add: which paths? ('"'ama add .'"' adds all)
	ama-add: usage: $usage
	EOF
	test_cmp expect err
'
test_expect_success 'an empty path is a usage error, not the whole asset' '
	test_exit_code 2 ama-add . "" 2>err &&
	cat >expect <<-EOF &&
	ama-add: empty path (use '"'.'"' for this folder)
	ama-add: usage: $usage
	EOF
	test_cmp expect err
'
test_expect_success 'a bad -j is a usage error' '
	test_exit_code 2 ama-add -j x . 2>err &&
	cat >expect <<-EOF &&
	ama-add: option '"'-j'"' wants 0 (one job a core) to 1024, not '"'x'"'
	ama-add: usage: $usage
	EOF
	test_cmp expect err
'
test_expect_success 'outside an asset it is a setup error' '
	echo x >x &&
	test_exit_code 2 ama-add x >out 2>err &&
	test_must_be_empty out &&
	echo "ama-add: not inside an ama asset (no .ama in this folder or any parent); run '"'ama init CLASS'"' first" >expect &&
	test_cmp expect err &&
	rm x
'

test_expect_success 'setup' '
	ama init -q imaging &&
	# the scratch files of these tests are not part of the asset
	cat >.amaignore <<-\EOF &&
	/out*
	/err*
	/expect
	/actual
	/before*
	/after
	/ref
	/all
	/code
	/index.[0-9]
	/tty
	/good
	/bad
	/now
	/inode.*
	/.test-output
	EOF
	old .amaignore &&
	ama-add .amaignore >out &&
	mkdir -p d/e &&
	echo a >a && echo b >b && echo c >d/c && echo e >d/e/f &&
	old a b d/c d/e/f
'
test_expect_success 'add files: new entries, pending, with their stat record' '
	ama-add a b >out 2>err &&
	echo "2 new, 0 updated, 0 unchanged" >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	{ lsrec pending - a && lsrec pending - b; } >expect &&
	ama-ls-files --stat a b >actual &&
	test_cmp expect actual &&
	test_path_is_missing .ama/index.lock
'
test_expect_success 'a folder adds the files below it' '
	ama-add d >out &&
	echo "2 new, 0 updated, 0 unchanged" >expect &&
	test_cmp expect out &&
	{ lsrec pending - .amaignore && lsrec pending - a &&
	  lsrec pending - b && lsrec pending - d/c &&
	  lsrec pending - d/e/f; } >expect &&
	ama-ls-files --stat >actual &&
	test_cmp expect actual
'
test_expect_success 'unchanged files are not read again, nor the index written' '
	test_give_to_user . &&
	chmod 0 a d/c &&
	test_when_finished "chmod 644 a d/c" &&
	ama-add . >out &&
	echo "0 new, 0 updated, 5 unchanged" >expect &&
	test_cmp expect out &&
	cp .ama/index before &&
	ls -i .ama/index >inode.before &&
	test_as_user ama-add . >out 2>err &&
	test_cmp expect out &&
	test_must_be_empty err &&
	ls -i .ama/index >inode.after &&
	test_cmp inode.before inode.after &&
	cmp before .ama/index
'
test_expect_success 'ama add runs ama-add; -q prints nothing' '
	echo g >g && old g &&
	ama add -q g >out 2>err &&
	test_must_be_empty out &&
	test_must_be_empty err &&
	ama add --quiet g >out 2>err &&
	test_must_be_empty out &&
	test_must_be_empty err &&
	lsrec pending - g >expect &&
	ama-ls-files --stat g >actual &&
	test_cmp expect actual
'
test_expect_success 'a touch-only change is rehashed, counted unchanged, state kept' '
	ama-ls-files a b | sed "s/ pending\t/\t/" |
		ama-update-index --state=committed &&
	touch -d @1600000100 a &&
	ama-add a b >out &&
	echo "0 new, 0 updated, 2 unchanged" >expect &&
	test_cmp expect out &&
	{ lsrec committed - a && lsrec committed - b; } >expect &&
	ama-ls-files --stat a b >actual &&
	test_cmp expect actual
'
test_expect_success 'a content change updates the entry, pending again' '
	echo "A, longer" >a && old a &&
	ama-add a >out &&
	echo "0 new, 1 updated, 0 unchanged" >expect &&
	test_cmp expect out &&
	lsrec pending - a >expect &&
	ama-ls-files --stat a >actual &&
	test_cmp expect actual
'
test_expect_success 'same size, mtime put back: caught by the ctime, updated' '
	touch -r b ref &&
	echo B >b &&
	touch -r ref b &&
	test "$(stat -c %Y b)" = 1600000000 &&
	ama-add b >out &&
	echo "0 new, 1 updated, 0 unchanged" >expect &&
	test_cmp expect out &&
	lsrec pending - b >expect &&
	ama-ls-files --stat b >actual &&
	test_cmp expect actual
'
test_expect_success 'a file replaced by a rename: new inode, rehashed' '
	cp -p g g.new && mv g.new g &&
	ama-add g >out &&
	echo "0 new, 0 updated, 1 unchanged" >expect &&
	test_cmp expect out &&
	lsrec pending - g >expect &&
	ama-ls-files --stat g >actual &&
	test_cmp expect actual &&
	echo G >g.new && touch -r g g.new && mv g.new g &&
	ama-add g >out &&
	echo "0 new, 1 updated, 0 unchanged" >expect &&
	test_cmp expect out &&
	lsrec pending - g >expect &&
	ama-ls-files --stat g >actual &&
	test_cmp expect actual
'
test_expect_success 'a file dated after the start of hashing is stored racy' '
	echo fresh >fresh &&
	touch -d "+1 hour" fresh &&
	ama-add fresh >out &&
	echo "1 new, 0 updated, 0 unchanged" >expect &&
	test_cmp expect out &&
	lsrec pending racy fresh >expect &&
	ama-ls-files --stat fresh >actual &&
	test_cmp expect actual &&
	old fresh &&
	ama-add fresh >out &&
	echo "0 new, 0 updated, 1 unchanged" >expect &&
	test_cmp expect out &&
	lsrec pending - fresh >expect &&
	ama-ls-files --stat fresh >actual &&
	test_cmp expect actual
'
test_expect_success 'from a subfolder, paths are relative to it' '
	echo h >d/e/h && old d/e/h &&
	(cd d/e && ama-add h ../c ../../a >../../out) &&
	echo "1 new, 0 updated, 2 unchanged" >expect &&
	test_cmp expect out &&
	lsrec pending - d/e/h >expect &&
	ama-ls-files --stat d/e/h >actual &&
	test_cmp expect actual
'
test_expect_success 'a path named twice, or inside a named folder, counts once' '
	ama-add a ./a d d/c d/e >out &&
	echo "0 new, 0 updated, 4 unchanged" >expect &&
	test_cmp expect out
'
test_expect_success '.amaignore is honoured, but a named file is added' '
	mkdir logs &&
	echo l >logs/run.log && echo t >logs/keep.txt && echo x >skip.tmp &&
	printf "*.tmp\n*.log\n" >>.amaignore &&
	old logs/run.log logs/keep.txt skip.tmp .amaignore &&
	ama-add . >out &&
	echo "1 new, 1 updated, 7 unchanged" >expect &&
	test_cmp expect out &&
	ama-ls-files >all &&
	cut -f2 all >actual &&
	printf "%s\n" .amaignore a b d/c d/e/f d/e/h fresh g logs/keep.txt >expect &&
	test_cmp expect actual &&
	ama-add skip.tmp >out &&
	echo "1 new, 0 updated, 0 unchanged" >expect &&
	test_cmp expect out &&
	ama-ls-files skip.tmp >actual &&
	printf "%s 2 pending\tskip.tmp\n" "$(md5_of skip.tmp)" >expect &&
	test_cmp expect actual
'
test_expect_success 'any -j makes the same index' '
	mkdir many &&
	i=0 &&
	while test $i -lt 200
	do
		echo "file $i" >many/$i || return 1
		i=$((i + 1))
	done &&
	old many/* &&
	cp .ama/index index.0 &&
	ama-add -j 1 many >out1 &&
	cp .ama/index index.1 &&
	cp index.0 .ama/index &&
	ama-add -j 7 many >out7 &&
	echo "200 new, 0 updated, 0 unchanged" >expect &&
	test_cmp expect out1 &&
	test_cmp expect out7 &&
	cmp index.1 .ama/index
'

test_expect_success 'links are recorded as links, never followed; special files are skipped' '
	ln -s a link && mkfifo fifo && ln -s d dlink &&
	ama-add link fifo dlink a >out 2>err &&
	echo "2 new, 0 updated, 1 unchanged" >expect &&
	test_cmp expect out &&
	echo "ama-add: fifo: skipped: not a regular file: FIFO" >expect &&
	test_cmp expect err &&
	ama-ls-files link fifo dlink >out 2>/dev/null;
	printf "%s 1 link pending\tdlink\n%s 1 link pending\tlink\n" \
		"$(printf d | md5sum | cut -c1-32)" \
		"$(printf a | md5sum | cut -c1-32)" >expect &&
	test_cmp expect out
'
test_expect_success 'another asset inside is skipped' '
	mkdir -p inner/.ama && echo i >inner/i &&
	ama-add inner >out 2>err &&
	echo "0 new, 0 updated, 0 unchanged" >expect &&
	test_cmp expect out &&
	echo "ama-add: inner: skipped: another ama asset" >expect &&
	test_cmp expect err &&
	rm -r inner
'
test_expect_success 'a missing path is named, the others added, exit 1' '
	echo n >n && old n &&
	test_exit_code 1 ama-add nosuch n d/nosuch >out 2>err &&
	echo "1 new, 0 updated, 0 unchanged" >expect &&
	test_cmp expect out &&
	cat >expect <<-\EOF &&
	ama-add: d/nosuch: no such file
	ama-add: nosuch: no such file
	EOF
	test_cmp expect err &&
	lsrec pending - n >expect &&
	ama-ls-files --stat n >actual &&
	test_cmp expect actual
'
test_expect_success 'an unreadable file is named, the others added, exit 1' '
	echo secret >secret && echo o >o && echo p >p && old secret o p &&
	chmod 0 secret &&
	test_when_finished "chmod 644 secret" &&
	test_give_to_user . &&
	test_exit_code 1 test_as_user ama-add o secret p >out 2>err &&
	echo "2 new, 0 updated, 0 unchanged" >expect &&
	test_cmp expect out &&
	echo "ama-add: secret: cannot open: Permission denied" >expect &&
	test_cmp expect err &&
	{ lsrec pending - o && lsrec pending - p; } >expect &&
	ama-ls-files --stat o secret p >actual 2>/dev/null;
	test_cmp expect actual
'
test_expect_success 'an unreadable folder is named, the others added, exit 1' '
	mkdir closed && echo q >closed/q && echo r >r && old closed/q r &&
	chmod 0 closed &&
	test_when_finished "chmod 755 closed" &&
	test_give_to_user . &&
	test_exit_code 1 test_as_user ama-add closed r >out 2>err &&
	echo "1 new, 0 updated, 0 unchanged" >expect &&
	test_cmp expect out &&
	echo "ama-add: closed: cannot open folder: Permission denied" >expect &&
	test_cmp expect err &&
	lsrec pending - r >expect &&
	ama-ls-files --stat closed r >actual 2>/dev/null;
	test_cmp expect actual
'
test_expect_success 'paths outside the asset or in .ama: exit 2, nothing added' '
	cp .ama/index before &&
	echo s >s && old s &&
	test_exit_code 2 ama-add s ../out >out 2>err &&
	test_must_be_empty out &&
	echo "ama-add: ../out: outside the asset" >expect &&
	test_cmp expect err &&
	test_exit_code 2 ama-add s .ama/config 2>err &&
	echo "ama-add: .ama/config: inside .ama, which ama manages" >expect &&
	test_cmp expect err &&
	test_exit_code 2 ama-add "$TRASH_DIRECTORY/../x" 2>err &&
	printf "%s\n" "ama-add: $TRASH_DIRECTORY/../x: outside the asset" >expect &&
	test_cmp expect err &&
	cmp before .ama/index &&
	test_path_is_missing .ama/index.lock
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
	old awk/*
'
test_expect_success 'awkward names are added as they are' '
	(cd awk && ama-add -- -dash "tab	name" "new
line" "quo\"te" "back\\slash" "$(printf "latin1-\351")" "sp ace") >out &&
	echo "7 new, 0 updated, 0 unchanged" >expect &&
	test_cmp expect out &&
	ama-ls-files -z awk >actual &&
	{
		for f in -dash "back\\slash" "$(printf "latin1-\351")" "new
line" "quo\"te" "sp ace" "tab	name"; do
			printf "%s 1 pending\tawk/%s\0" "$(md5_of "awk/$f")" "$f" || return 1
		done
	} >expect &&
	cmp expect actual
'
test_expect_success 'awkward names are C-quoted in messages' '
	chmod 0 "awk/new
line" "awk/tab	name" &&
	test_when_finished "chmod 644 \"awk/new
line\" \"awk/tab	name\"" &&
	printf 22 >"awk/new
line" && printf 11 >"awk/tab	name" &&
	test_give_to_user . &&
	test_exit_code 1 test_as_user ama-add awk >out 2>err &&
	echo "0 new, 0 updated, 5 unchanged" >expect &&
	test_cmp expect out &&
	cat >expect <<-\EOF &&
	ama-add: "awk/new\nline": cannot open: Permission denied
	ama-add: "awk/tab\tname": cannot open: Permission denied
	EOF
	test_cmp expect err
'

# --- the lock, signals, damage ---

test_expect_success 'setup a big sparse file (hashing it takes a while)' '
	truncate -s 512M big &&
	old big &&
	echo t >t && old t
'
test_expect_success 'progress never shows when stderr is not a terminal' '
	cp .ama/index before &&
	ama-add big >out 2>err &&
	echo "1 new, 0 updated, 0 unchanged" >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	cp before .ama/index
'
test_expect_success 'progress shows on a terminal: files, bytes, rate, ETA' '
	script -qec "ama-add big" /dev/null >tty &&
	tr "\r" "\n" <tty | grep -v "^$" |
	sed -e "s/, [0-9.]* [KMG]*i*B\/s/, RATE/" -e "s/, [0-9.]* s/, TIME/" \
		-e "s/ETA [0-9]*:[0-9]*/ETA M:SS/" >lines &&
	esc=$(printf "\033") &&
	tail -n 2 lines >actual &&
	cat >expect <<-EOF &&
	hashing: 1/1 files, 512.0 MiB/512.0 MiB, RATE, TIME$esc[K
	1 new, 0 updated, 0 unchanged
	EOF
	test_cmp expect actual &&
	sed "\$d" lines | sed "\$d" >drawn &&
	! grep -v "^hashing: [01]/1 files, [0-9.]* [KM]*i*B/512.0 MiB, RATE\(, ETA M:SS\)\{0,1\}$esc\[K\$" drawn
'
test_expect_success '... and the bytes move while the one file is read' '
	sed -n "s/^hashing: 0\/1 files, \([0-9.]*\) MiB\/512.0 MiB, .*/\1/p" lines >moving &&
	test -s moving &&
	sort -n -c moving &&
	awk "\$1 >= 512 { exit 1 }" moving
'
test_expect_success 'a file changed while it is hashed is named, exit 1' '
	cp before .ama/index &&
	echo u >u && old u &&
	{ ama-add big u >out 2>err & } &&
	pid=$! &&
	test_when_finished "kill -9 $pid 2>/dev/null" &&
	wait_reading $pid "$TRASH_DIRECTORY/big" &&
	stop $pid &&
	printf x >>big &&
	kill -CONT $pid &&
	{ wait $pid; echo $? >code; } &&
	echo 1 >expect &&
	test_cmp expect code &&
	echo "1 new, 0 updated, 0 unchanged" >expect &&
	test_cmp expect out &&
	echo "ama-add: big: changed while hashing" >expect &&
	test_cmp expect err &&
	lsrec pending - u >expect &&
	ama-ls-files --stat big u >actual 2>/dev/null;
	test_cmp expect actual &&
	truncate -s 512M big && old big
'
test_expect_success 'of two concurrent adds one wins, the index intact' '
	cp .ama/index before &&
	echo v >v && echo w >w && old v w &&
	{ ama-add big v >out1 2>err1 & } &&
	pid=$! &&
	test_when_finished "kill -9 $pid 2>/dev/null" &&
	wait_for -e .ama/index.lock &&
	stop $pid &&
	test_exit_code 2 ama-add w >out2 2>err2 &&
	kill -CONT $pid &&
	{ wait $pid; echo $? >code; } &&
	echo 0 >expect &&
	test_cmp expect code &&
	test_must_be_empty out2 &&
	echo "ama-add: $(pwd -P)/.ama/index.lock: locked: another ama process is writing it; try again when it has finished" >expect &&
	test_cmp expect err2 &&
	echo "2 new, 0 updated, 0 unchanged" >expect &&
	test_cmp expect out1 &&
	test_must_be_empty err1 &&
	test_path_is_missing .ama/index.lock &&
	ama-ls-files --stat big v w >actual 2>/dev/null;
	{ lsrec pending - big && lsrec pending - v; } >expect &&
	test_cmp expect actual &&
	cp .ama/index now && cp before .ama/index &&
	ama-ls-files >before.ls && cp now .ama/index &&
	{ cat before.ls && ama-ls-files big v; } | sort >expect &&
	ama-ls-files | sort >actual &&
	test_cmp expect actual
'
test_expect_success 'SIGINT while hashing: no lock left, the old index intact' '
	ama-remove -q big v &&
	cp .ama/index before &&
	{ env --default-signal=INT ama-add big w >out 2>err & } &&
	pid=$! &&
	test_when_finished "kill -9 $pid 2>/dev/null" &&
	wait_reading $pid "$TRASH_DIRECTORY/big" &&
	stop $pid &&
	kill -INT $pid &&
	kill -CONT $pid &&
	{ wait $pid; echo $? >code; } &&
	echo 130 >expect &&
	test_cmp expect code &&
	test_must_be_empty out &&
	test_must_be_empty err &&
	test_path_is_missing .ama/index.lock &&
	cmp before .ama/index
'
test_expect_success 'SIGTERM while hashing: the same' '
	{ ama-add big w >out 2>err & } &&
	pid=$! &&
	test_when_finished "kill -9 $pid 2>/dev/null" &&
	wait_reading $pid "$TRASH_DIRECTORY/big" &&
	stop $pid &&
	kill -TERM $pid &&
	kill -CONT $pid &&
	{ wait $pid; echo $? >code; } &&
	echo 143 >expect &&
	test_cmp expect code &&
	test_path_is_missing .ama/index.lock &&
	cmp before .ama/index
'
test_expect_success 'SIGKILL leaves a stale lock; the next add takes it over and says so' '
	{ ama-add big w >out 2>err & } &&
	pid=$! &&
	test_when_finished "kill -9 $pid 2>/dev/null" &&
	wait_reading $pid "$TRASH_DIRECTORY/big" &&
	kill -KILL $pid &&
	{ wait $pid; echo $? >code; } &&
	echo 137 >expect &&
	test_cmp expect code &&
	test_path_is_file .ama/index.lock &&
	cmp before .ama/index &&
	ama-add w >out 2>err &&
	echo "ama-add: $(pwd -P)/.ama/index.lock: took over the lock of an ama process that was killed" >expect &&
	test_cmp expect err &&
	echo "1 new, 0 updated, 0 unchanged" >expect &&
	test_cmp expect out &&
	test_path_is_missing .ama/index.lock
'
test_expect_success 'a corrupt index is a setup error and stays as it is' '
	cp .ama/index good &&
	test_when_finished "cp good .ama/index" &&
	printf X | dd of=.ama/index bs=1 seek=40 conv=notrunc 2>/dev/null &&
	cp .ama/index bad &&
	test_exit_code 2 ama-add a >out 2>err &&
	test_must_be_empty out &&
	echo "ama-add: $(pwd -P)/.ama/index: index is corrupt: checksum mismatch (truncated or damaged)" >expect &&
	test_cmp expect err &&
	cmp bad .ama/index &&
	test_path_is_missing .ama/index.lock
'
test_expect_success 'a truncated index too' '
	cp .ama/index good &&
	test_when_finished "cp good .ama/index" &&
	head -c 20 good >.ama/index &&
	test_exit_code 2 ama-add a >out 2>err &&
	echo "ama-add: $(pwd -P)/.ama/index: index is corrupt: too short (20 bytes)" >expect &&
	test_cmp expect err
'
test_expect_success 'a read-only .ama is a setup error' '
	chmod 555 .ama &&
	test_when_finished "chmod 755 .ama" &&
	test_give_to_user . &&
	echo y >y && old y &&
	test_exit_code 2 test_as_user ama-add y >out 2>err &&
	test_must_be_empty out &&
	echo "ama-add: $(pwd -P)/.ama/index.lock: cannot create lock: Permission denied" >expect &&
	test_cmp expect err
'
test_expect_success 'a failing stdout is a setup error, the index written' '
	echo z >z && old z &&
	test_exit_code 2 ama-add z >/dev/full 2>err &&
	echo "ama-add: cannot write output: No space left on device" >expect &&
	test_cmp expect err &&
	lsrec pending - z >expect &&
	ama-ls-files --stat z >actual &&
	test_cmp expect actual
'
test_done
