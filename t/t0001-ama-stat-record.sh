#!/bin/sh
test_description='ama-stat-record: the stat record of each path'
. ./test-lib.sh

test_expect_code 2 'an unknown option is a usage error' '
	ama-stat-record --bogus 2>err
'
test_expect_success 'the usage error names the option and the usage' '
	cat >expect <<-\EOF &&
	ama-stat-record: unknown option '"'--bogus'"'
	ama-stat-record: usage: ama-stat-record [-z] [--stdin] [<path>...]
	EOF
	test_cmp expect err
'
test_expect_success '-h prints the usage and exits 0' '
	ama-stat-record -h >out &&
	echo "usage: ama-stat-record [-z] [--stdin] [<path>...]" >expect &&
	test_cmp expect out
'
test_expect_code 2 '--stdin with operands is a usage error' '
	ama-stat-record --stdin a
'

test_expect_success 'setup' '
	printf "hello" >a &&
	mkdir d &&
	printf "0123456789" >d/b &&
	ln d/b d/b-link
'
test_expect_success 'one record per operand, fields as stat(1) has them' '
	printf "%s\t%s\n" "$(stat_fields a)" a "$(stat_fields d/b)" d/b >expect &&
	ama-stat-record a d/b >out &&
	test_cmp expect out
'
test_expect_success 'nlink counts hard links' '
	ama-stat-record d/b-link >out &&
	cut -f1 out | cut -d" " -f5 >actual &&
	echo 2 >expect &&
	test_cmp expect actual
'
test_expect_success 'paths on stdin when there are no operands' '
	printf "a\nd/b\n" | ama-stat-record >out &&
	printf "%s\t%s\n" "$(stat_fields a)" a "$(stat_fields d/b)" d/b >expect &&
	test_cmp expect out
'
test_expect_success '--stdin and "-" read stdin too' '
	printf "a\n" | ama-stat-record --stdin >out1 &&
	printf "a\n" | ama-stat-record - >out2 &&
	printf "%s\t%s\n" "$(stat_fields a)" a >expect &&
	test_cmp expect out1 && test_cmp expect out2
'
test_expect_success '-z reads and writes NUL-terminated records' '
	printf "a\0d/b\0" | ama-stat-record -z >out &&
	printf "%s\t%s\0" "$(stat_fields a)" a "$(stat_fields d/b)" d/b >expect &&
	cmp expect out
'

test_expect_success 'setup awkward names' '
	printf 1 >"tab	name" &&
	printf 2 >"new
line" &&
	printf 3 >"quo\"te" &&
	printf 4 >"back\\slash" &&
	printf 5 >-dash &&
	printf 6 >"$(printf "latin1-\351")" &&
	printf 7 >"sp ace"
'
test_expect_success 'awkward names are C-quoted without -z' '
	ama-stat-record "tab	name" "new
line" "quo\"te" "back\\slash" -- -dash "$(printf "latin1-\351")" "sp ace" >out &&
	{
		printf "%s\t%s\n" "$(stat_fields "tab	name")" "\"tab\\tname\"" &&
		printf "%s\t%s\n" "$(stat_fields "new
line")" "\"new\\nline\"" &&
		printf "%s\t%s\n" "$(stat_fields "quo\"te")" "\"quo\\\"te\"" &&
		printf "%s\t%s\n" "$(stat_fields "back\\slash")" "\"back\\\\slash\"" &&
		printf "%s\t%s\n" "$(stat_fields -dash)" -dash &&
		printf "%s\t%s\n" "$(stat_fields "$(printf "latin1-\351")")" "$(printf "latin1-\351")" &&
		printf "%s\t%s\n" "$(stat_fields "sp ace")" "sp ace"
	} >expect &&
	test_cmp expect out
'
test_expect_success 'quoted paths on stdin are unquoted' '
	cut -f2 out | ama-stat-record >again &&
	test_cmp out again
'
test_expect_success 'awkward names pass raw with -z' '
	printf "tab\tname\0new\nline\0quo\"te\0back\\\\slash\0-dash\0" |
	ama-stat-record -z >out &&
	printf "%s\t%s\0" "$(stat_fields "tab	name")" "tab	name" \
		"$(stat_fields "new
line")" "new
line" "$(stat_fields "quo\"te")" "quo\"te" \
		"$(stat_fields "back\\slash")" "back\\slash" "$(stat_fields -dash)" -dash >expect &&
	cmp expect out
'

test_expect_code 1 'a missing path fails that record only' '
	ama-stat-record a nosuch d/b >out 2>err
'
test_expect_success 'the others are printed and the missing one is named' '
	printf "%s\t%s\n" "$(stat_fields a)" a "$(stat_fields d/b)" d/b >expect &&
	test_cmp expect out &&
	echo "ama-stat-record: nosuch: no such file" >expect &&
	test_cmp expect err
'
test_expect_success 'folders, links and FIFOs are not regular files' '
	ln -s a link && mkfifo fifo &&
	test_exit_code 1 ama-stat-record d link fifo "new
line" >out 2>err &&
	cat >expect <<-\EOF &&
	ama-stat-record: d: not a regular file: directory
	ama-stat-record: link: not a regular file: symbolic link
	ama-stat-record: fifo: not a regular file: FIFO
	EOF
	test_cmp expect err &&
	printf "%s\t%s\n" "$(stat_fields "new
line")" "\"new\\nline\"" >expect &&
	test_cmp expect out
'
test_expect_success 'bad quoting on stdin is reported with its line' '
	printf "\"unterminated\na\n" | test_exit_code 1 ama-stat-record >out 2>err &&
	echo "ama-stat-record: malformed record at line 1: bad quoting: no closing quote" >expect &&
	test_cmp expect err &&
	printf "%s\t%s\n" "$(stat_fields a)" a >expect &&
	test_cmp expect out
'
test_expect_success 'a failing stdout is a setup error' '
	test_exit_code 2 ama-stat-record a >/dev/full 2>err &&
	echo "ama-stat-record: cannot write output: No space left on device" >expect &&
	test_cmp expect err
'
test_done
