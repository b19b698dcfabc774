#!/bin/sh
test_description='ama-verify: ok, modified or deleted, and refreshed entries'
. ./test-lib.sh

# add root-relative files as ama-hash --stat would, dated in the past so
# that they are not racy
add() {
	touch -d @1600000000 -- "$@" &&
	for f; do
		printf "%s %s\t%s\0" "$(md5_of "$f")" "$(stat_fields "$f")" "$f" || return 1
	done | ama-update-index -z
}
# what ama-ls-files --stat says of a file's entry now: its stat and flags
entry() {
	ama-ls-files --stat -- "$1" | cut -d" " -f4-
}
# what the entry of a file would be, refreshed to the file as it is
fresh() {
	printf "%s -\t%s\n" "$(stat_fields "$1" | cut -d" " -f2-)" "$1"
}

usage='ama-verify [-z] [-j <n>] [--stdin] [<path>...]'

test_expect_success 'an unknown option is a usage error' '
	test_exit_code 2 ama-verify --bogus 2>err &&
	cat >expect <<-EOF &&
	ama-verify: unknown option '"'--bogus'"'
	ama-verify: usage: $usage
	EOF
	test_cmp expect err
'
test_expect_success '-h prints the usage' '
	ama-verify -h >out &&
	echo "usage: $usage" >expect &&
	test_cmp expect out
'
test_expect_success '--stdin with operands is a usage error' '
	test_exit_code 2 ama-verify --stdin a 2>err &&
	cat >expect <<-EOF &&
	ama-verify: --stdin takes no operands
	ama-verify: usage: $usage
	EOF
	test_cmp expect err
'
test_expect_success 'a bad -j is a usage error' '
	test_exit_code 2 ama-verify -j many 2>err &&
	cat >expect <<-EOF &&
	ama-verify: option '"'-j'"' wants 0 (one job a core) to 1024, not '"'many'"'
	ama-verify: usage: $usage
	EOF
	test_cmp expect err
'
test_expect_success 'outside an asset it is a setup error' '
	test_exit_code 2 ama-verify 2>err &&
	echo "ama-verify: not inside an ama asset (no .ama in this folder or any parent); run '"'ama init CLASS'"' first" >expect &&
	test_cmp expect err
'

test_expect_success 'setup' '
	mkdir .ama d &&
	ama-verify >out &&
	test_must_be_empty out &&
	for f in a b c d/e d/f g h i j; do
		echo "content of $f" >$f || return 1
	done &&
	add a b c d/e d/f g h i j &&
	cp .ama/index index.0
'
test_expect_success 'unchanged files are ok' '
	ama-verify >actual &&
	printf "ok\t%s\n" a b c d/e d/f g h i j >expect &&
	test_cmp expect actual &&
	cmp index.0 .ama/index
'
test_expect_success 'a touch-only change is ok' '
	touch -d @1600000100 a &&
	ama-verify a >actual &&
	printf "ok\ta\n" >expect &&
	test_cmp expect actual
'
test_expect_success 'and the entry was refreshed to the stat as it is' '
	fresh a >expect &&
	entry a >actual &&
	test_cmp expect actual &&
	! cmp -s index.0 .ama/index
'
test_expect_success 'a second check leaves the index byte for byte' '
	cp .ama/index index.1 &&
	ama-verify >actual &&
	printf "ok\t%s\n" a b c d/e d/f g h i j >expect &&
	test_cmp expect actual &&
	cmp index.1 .ama/index
'
test_expect_success 'same size, new content, mtime put back: caught by ctime' '
	touch -r b ref &&
	echo "CONTENT OF b" >b &&
	touch -r ref b &&
	test "$(stat -c %Y b)" = 1600000000 &&
	test_exit_code 1 ama-verify a b c >actual &&
	printf "ok\ta\nmodified\tb\nok\tc\n" >expect &&
	test_cmp expect actual
'
test_expect_success 'a modified file is not refreshed' '
	cp .ama/index before &&
	test_exit_code 1 ama-verify b >/dev/null &&
	cmp before .ama/index
'
test_expect_success 'another size is modified' '
	echo more >>c &&
	test_exit_code 1 ama-verify c >actual &&
	printf "modified\tc\n" >expect &&
	test_cmp expect actual
'
test_expect_success 'deleted files, paths that are no longer files, a file now a link' '
	rm d/e &&
	rm g && mkdir g &&
	rm h && ln -s a h &&
	rm i && mkfifo i &&
	test_exit_code 1 ama-verify d g h i >actual &&
	printf "deleted\td/e\nok\td/f\ndeleted\tg\nmodified\th\ndeleted\ti\n" >expect &&
	test_cmp expect actual
'
test_expect_success 'a file replaced by a rename, same content: ok, refreshed' '
	cp j j.new && touch -r j j.new &&
	mv j.new j &&
	ama-verify j >actual &&
	printf "ok\tj\n" >expect &&
	test_cmp expect actual &&
	fresh j >expect &&
	entry j >actual &&
	test_cmp expect actual
'
test_expect_success 'a file replaced by a rename, new content: modified' '
	echo "content of J" >j.new && touch -r j j.new &&
	mv j.new j &&
	test_exit_code 1 ama-verify j >actual &&
	printf "modified\tj\n" >expect &&
	test_cmp expect actual
'
test_expect_success 'a racy entry is rehashed, then trusted' '
	echo "racy one" >r && touch -d @1600000000 r &&
	printf "%s %s\tr\n" "$(md5_of r)" "$(stat -c %s r)" | ama-update-index &&
	printf "%s racy\tr\n" "$(stat_fields r | cut -d" " -f2-)" >expect &&
	entry r >actual &&
	test_cmp expect actual &&
	ama-verify r >actual &&
	printf "ok\tr\n" >expect &&
	test_cmp expect actual &&
	fresh r >expect &&
	entry r >actual &&
	test_cmp expect actual
'
test_expect_success 'a racy entry whose content changed is modified' '
	echo "racy two" >s && touch -d @1600000000 s &&
	printf "%s %s\ts\n" "$(md5_of s)" "$(stat -c %s s)" | ama-update-index &&
	echo "RACY TWO" >s && touch -d @1600000000 s &&
	test_exit_code 1 ama-verify s >actual &&
	printf "modified\ts\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'from a subfolder: what is below, relative paths' '
	echo "content of d/e" >d/e && touch -d @1600000000 d/e &&
	(cd d && ama-verify) >actual &&
	printf "ok\te\nok\tf\n" >expect &&
	test_cmp expect actual &&
	(cd d && test_exit_code 1 ama-verify ../c f) >actual &&
	printf "modified\t../c\nok\tf\n" >expect &&
	test_cmp expect actual
'
test_expect_success 'paths on stdin with --stdin or "-"' '
	printf "d/f\na\n" | ama-verify --stdin >actual &&
	printf "ok\ta\nok\td/f\n" >expect &&
	test_cmp expect actual &&
	printf "a\0" | ama-verify -z - d/f >actual &&
	printf "ok\ta\0ok\td/f\0" >expect &&
	cmp expect actual
'
test_expect_success 'a path not in the index fails; the others are checked' '
	test_exit_code 1 ama-verify a nosuch ../out >actual 2>err &&
	printf "ok\ta\n" >expect &&
	test_cmp expect actual &&
	cat >expect <<-\EOF &&
	ama-verify: nosuch: not in the index
	ama-verify: ../out: outside the asset
	EOF
	test_cmp expect err
'
test_expect_success 'any -j gives the same verdicts in the same order' '
	mkdir many &&
	i=0 &&
	while test $i -lt 300
	do
		echo "file $i" >many/$i || return 1
		i=$((i + 1))
	done &&
	add $(ls many | sed "s|^|many/|") &&
	for n in 3 33 133 233; do
		echo "FILE $n" >many/$n || return 1
	done &&
	rm many/7 many/77 &&
	test_exit_code 1 ama-verify -j 1 many >expect 2>err1 &&
	test_exit_code 1 ama-verify -j 4 many >actual 2>err4 &&
	test_cmp expect actual &&
	test_must_be_empty err1 &&
	test_must_be_empty err4 &&
	grep -v "^ok" actual >bad &&
	printf "modified\tmany/133\nmodified\tmany/233\nmodified\tmany/33\nmodified\tmany/3\ndeleted\tmany/7\ndeleted\tmany/77\n" | sort >expect &&
	sort bad >actual &&
	test_cmp expect actual &&
	test $(wc -l <bad) = 6
'

test_expect_success 'setup awkward names' '
	printf 1 >"tab	name" &&
	printf 2 >"new
line" &&
	printf 3 >"quo\"te" &&
	printf 4 >"back\\slash" &&
	printf 5 >-dash &&
	printf 6 >"$(printf "latin1-\351")" &&
	add "tab	name" "new
line" "quo\"te" "back\\slash" -dash "$(printf "latin1-\351")" &&
	printf 9 >"new
line" && touch -d @1600000000 "new
line" &&
	rm "quo\"te"
'
test_expect_success 'awkward names are C-quoted without -z' '
	test_exit_code 1 ama-verify "tab	name" "new
line" "quo\"te" "back\\slash" ./-dash "$(printf "latin1-\351")" >actual &&
	{
		printf "%s\n" "ok	-dash" &&
		printf "%s\n" "ok	\"back\\\\slash\"" &&
		printf "ok\t%s\n" "$(printf "latin1-\351")" &&
		printf "%s\n" "modified	\"new\\nline\"" &&
		printf "%s\n" "deleted	\"quo\\\"te\"" &&
		printf "%s\n" "ok	\"tab\\tname\""
	} >expect &&
	test_cmp expect actual
'
test_expect_success 'quoted paths on stdin are unquoted' '
	cut -f2 actual | test_exit_code 1 ama-verify --stdin >again &&
	test_cmp actual again
'
test_expect_success 'awkward names are raw with -z' '
	printf "tab\tname\0new\nline\0quo\"te\0back\\\\slash\0-dash\0" |
	test_exit_code 1 ama-verify -z --stdin >actual &&
	printf "ok\t-dash\0ok\tback\\\\slash\0modified\tnew\nline\0deleted\tquo\"te\0ok\ttab\tname\0" >expect &&
	cmp expect actual
'
test_expect_success 'the pipeline of the manual drops deleted entries' '
	ama-verify -z "quo\"te" "new
line" | grep -z "^deleted" | ama-update-index -z --remove &&
	test_exit_code 1 ama-ls-files "quo\"te" 2>err &&
	printf "%s\n" "ama-ls-files: \"quo\\\"te\": not in the index" >expect &&
	test_cmp expect err
'

test_expect_success 'an unreadable file is named and gets no verdict' '
	echo secret >locked && add locked &&
	chmod 0 locked &&
	test_give_to_user . &&
	test_exit_code 1 test_as_user ama-verify locked a >actual 2>err &&
	printf "ok\ta\n" >expect &&
	test_cmp expect actual &&
	echo "ama-verify: locked: cannot open: Permission denied" >expect &&
	test_cmp expect err
'
test_expect_success 'a read-only asset is checked, not refreshed' '
	chmod 644 locked &&
	touch -d @1600000200 a &&
	chmod a-w .ama &&
	test_when_finished "chmod u+w .ama" &&
	cp .ama/index before &&
	test_as_user ama-verify a >actual 2>err &&
	printf "ok\ta\n" >expect &&
	test_cmp expect actual &&
	test_must_be_empty err &&
	cmp before .ama/index
'

test_expect_success 'a held lock: verdicts all the same, no refresh' '
	touch -d @1600000300 a &&
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
	cp .ama/index before &&
	ama-verify a >actual 2>err &&
	printf "ok\ta\n" >expect &&
	test_cmp expect actual &&
	test_must_be_empty err &&
	cmp before .ama/index &&
	kill $holder && wait $pid
'
test_expect_success 'a stale lock: taken over and said, verdicts all the same' '
	: >.ama/index.lock &&
	ama-verify a >actual 2>err &&
	printf "ok\ta\n" >expect &&
	test_cmp expect actual &&
	echo "ama-verify: $PWD/.ama/index.lock: took over the lock of an ama process that was killed" >expect &&
	test_cmp expect err &&
	test_path_is_missing .ama/index.lock
'
test_expect_success 'a corrupt index is a setup error' '
	cp .ama/index good &&
	test_when_finished "cp good .ama/index" &&
	printf X | dd of=.ama/index bs=1 seek=30 conv=notrunc 2>/dev/null &&
	test_exit_code 2 ama-verify >out 2>err &&
	test_must_be_empty out &&
	echo "ama-verify: $PWD/.ama/index: index is corrupt: checksum mismatch (truncated or damaged)" >expect &&
	test_cmp expect err
'
test_expect_success 'a failing stdout is a setup error' '
	test_exit_code 2 ama-verify a >/dev/full 2>err &&
	echo "ama-verify: cannot write output: No space left on device" >expect &&
	test_cmp expect err
'
test_done
