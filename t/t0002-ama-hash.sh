#!/bin/sh
test_description='ama-hash: MD5 and size of each path, in input order'
. ./test-lib.sh

usage='ama-hash [-z] [--stdin] [-j <n>] [--stat] [<path>...]'

# the record ama-hash prints for FILE, shown as SHOWN (default: FILE);
# the digest comes from md5sum, the size from stat(1)
rec() {
	printf '%s %s\t%s\n' "$(md5sum <"$1" | cut -d" " -f1)" \
		"$(stat -c %s -- "$1")" "${2-$1}"
}
# the record of a symbolic link: its target's MD5 and length, "link"
rec_link() {
	printf '%s %s link\t%s\n' \
		"$(printf %s "$(readlink -- "$1")" | md5sum | cut -d" " -f1)" \
		"$(printf %s "$(readlink -- "$1")" | wc -c)" "$1"
}
# the same, NUL-terminated
rec_z() {
	printf '%s %s\t%s\0' "$(md5sum <"$1" | cut -d" " -f1)" \
		"$(stat -c %s -- "$1")" "$1"
}
# the --stat record: md5 and the five fields of ama-stat-record
rec_stat() {
	printf '%s %s\t%s\n' "$(md5sum <"$1" | cut -d" " -f1)" \
		"$(stat -c '%s %.9Y %.9Z %i %h' -- "$1" | sed 's/\.//g')" "$1"
}

# the records of several files
recs() {
	for f; do rec "$f" || return 1; done
}

# append a byte to FILE every 5 ms, in the background, until killed
start_appender() {
	(while :; do printf x >>"$1"; sleep 0.005; done) &
	appender=$!
}
# wait (10 s at most) until FILE is no longer SIZE bytes long
wait_for_growth() {
	n=0
	while test "$(stat -c %s "$1")" = "$2"; do
		n=$((n + 1))
		test $n -lt 1000 || return 1
		sleep 0.01
	done
}

test_expect_code 2 'an unknown option is a usage error' '
	ama-hash --bogus 2>err
'
test_expect_success 'the usage error names the option and the usage' '
	{
		echo "ama-hash: unknown option '"'--bogus'"'" &&
		echo "ama-hash: usage: $usage"
	} >expect &&
	test_cmp expect err
'
test_expect_success '-h prints the usage and exits 0' '
	ama-hash -h >out &&
	echo "usage: $usage" >expect &&
	test_cmp expect out
'
test_expect_success '-j wants a number' '
	test_exit_code 2 ama-hash -j many a 2>err &&
	{
		echo "ama-hash: option '"'-j'"' wants 0 (one job a core) to 1024, not '"'many'"'" &&
		echo "ama-hash: usage: $usage"
	} >expect &&
	test_cmp expect err &&
	test_exit_code 2 ama-hash -j 2>err &&
	{
		echo "ama-hash: option '"'-j'"' needs a value" &&
		echo "ama-hash: usage: $usage"
	} >expect &&
	test_cmp expect err
'
test_expect_code 2 '--stdin with operands is a usage error' '
	ama-hash --stdin a
'

test_expect_success 'setup' '
	printf "hello" >a &&
	mkdir d &&
	printf "0123456789" >d/b &&
	: >empty &&
	i=0 &&
	while test $i -lt 40; do
		printf "small file %d\n" $i >s$i &&
		i=$((i + 1))
	done &&
	dd if=/dev/urandom of=big bs=1M count=48 2>/dev/null
'
test_expect_success 'one record per operand, digests as md5sum has them' '
	{ rec a && rec d/b && rec empty; } >expect &&
	ama-hash a d/b empty >out &&
	test_cmp expect out
'
test_expect_success 'the digest of a known content' '
	printf "%s 5\t%s\n" 5d41402abc4b2a76b9719d911017c592 a >expect &&
	ama-hash a >out &&
	test_cmp expect out
'
test_expect_success 'records follow input order with -j 4 and a big file first' '
	set -- big &&
	i=0 &&
	while test $i -lt 40; do
		set -- "$@" s$i &&
		i=$((i + 1))
	done &&
	set -- "$@" big a &&
	recs "$@" >expect &&
	ama-hash -j 4 "$@" >out &&
	test_cmp expect out &&
	ama-hash -j 1 "$@" >out &&
	test_cmp expect out
'
test_expect_success '--stat adds the stat record the digest belongs to' '
	{ rec_stat a && rec_stat d/b; } >expect &&
	ama-hash --stat a d/b >out &&
	test_cmp expect out &&
	ama-hash a d/b | cut -f1 >plain &&
	cut -d" " -f1,2 out >withstat &&
	test_cmp plain withstat
'
test_expect_success '--stat agrees with ama-stat-record' '
	ama-hash --stat a d/b | cut -d" " -f2- >out &&
	ama-stat-record a d/b >expect &&
	test_cmp expect out
'
test_expect_success 'paths on stdin when there are no operands' '
	{ rec a && rec d/b; } >expect &&
	printf "a\nd/b\n" | ama-hash >out &&
	test_cmp expect out
'
test_expect_success '--stdin and "-" read stdin too, "-" in its place' '
	rec a >expect &&
	printf "a\n" | ama-hash --stdin >out &&
	test_cmp expect out &&
	{ rec d/b && rec a && rec empty; } >expect &&
	printf "a\n" | ama-hash d/b - empty >out &&
	test_cmp expect out
'
test_expect_success '-z reads and writes NUL-terminated records' '
	{ rec_z a && rec_z d/b; } >expect &&
	printf "a\0d/b\0" | ama-hash -z >out &&
	cmp expect out &&
	ama-hash -z a d/b >out &&
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
	ama-hash "tab	name" "new
line" "quo\"te" "back\\slash" -- -dash "$(printf "latin1-\351")" "sp ace" >out &&
	{
		rec "tab	name" "\"tab\\tname\"" &&
		rec "new
line" "\"new\\nline\"" &&
		rec "quo\"te" "\"quo\\\"te\"" &&
		rec "back\\slash" "\"back\\\\slash\"" &&
		rec -dash &&
		rec "$(printf "latin1-\351")" &&
		rec "sp ace"
	} >expect &&
	test_cmp expect out
'
test_expect_success 'quoted paths on stdin are unquoted' '
	cut -f2 out | ama-hash -j 3 >again &&
	test_cmp out again
'
test_expect_success 'awkward names pass raw with -z' '
	printf "tab\tname\0new\nline\0quo\"te\0back\\\\slash\0-dash\0latin1-\351\0" |
	ama-hash -z >out &&
	{
		rec_z "tab	name" &&
		rec_z "new
line" &&
		rec_z "quo\"te" &&
		rec_z "back\\slash" &&
		rec_z -dash &&
		rec_z "$(printf "latin1-\351")"
	} >expect &&
	cmp expect out
'
test_expect_success 'a leading dash is a path after --, and on stdin' '
	rec -dash >expect &&
	ama-hash -- -dash >out &&
	test_cmp expect out &&
	echo -dash | ama-hash >out &&
	test_cmp expect out
'

test_expect_code 1 'a missing path fails that record only' '
	ama-hash a nosuch d/b >out 2>err
'
test_expect_success 'the others are printed and the missing one is named' '
	{ rec a && rec d/b; } >expect &&
	test_cmp expect out &&
	echo "ama-hash: nosuch: no such file" >expect &&
	test_cmp expect err
'
test_expect_success 'folders and FIFOs are not regular files; a link is hashed as its target' '
	ln -s a link && mkfifo fifo &&
	test_exit_code 1 timeout 20 ama-hash -j 2 d link fifo "new
line" "d/b/x" >out 2>err &&
	cat >expect <<-\EOF &&
	ama-hash: d: not a regular file: directory
	ama-hash: fifo: not a regular file: FIFO
	ama-hash: d/b/x: no such file
	EOF
	test_cmp expect err &&
	{
		rec_link link &&
		rec "new
line" "\"new\\nline\""
	} >expect &&
	test_cmp expect out
'
test_expect_success 'an awkward name is quoted in the message too' '
	test_exit_code 1 ama-hash "no
such" -z 2>err &&
	printf "%s\n" "ama-hash: \"no\\nsuch\": no such file" >expect &&
	test_cmp expect err
'
test_expect_success 'an empty path is an error of its own' '
	test_exit_code 1 ama-hash "" a >out 2>err &&
	echo "ama-hash: empty path" >expect &&
	test_cmp expect err &&
	rec a >expect &&
	test_cmp expect out
'
test_expect_success 'bad quoting on stdin is reported with its line' '
	printf "\"unterminated\na\n" | test_exit_code 1 ama-hash >out 2>err &&
	echo "ama-hash: malformed record at line 1: bad quoting: no closing quote" >expect &&
	test_cmp expect err &&
	rec a >expect &&
	test_cmp expect out
'
test_expect_success 'an unreadable file is reported (as a user other than root)' '
	mkdir locked &&
	printf secret >locked/file &&
	printf open >locked/other &&
	chmod 000 locked/file &&
	test_give_to_user locked &&
	test_when_finished "chmod 644 locked/file" &&
	test_exit_code 1 test_as_user sh -c "cd locked && exec ama-hash file other" >out 2>err &&
	echo "ama-hash: file: cannot open: Permission denied" >expect &&
	test_cmp expect err &&
	(cd locked && rec other) >expect &&
	test_cmp expect out
'
test_expect_success 'a file that grows while it is hashed gets no digest' '
	truncate -s 256M growing &&
	start_appender growing &&
	test_when_finished "kill $appender" &&
	wait_for_growth growing 268435456 &&
	test_exit_code 1 ama-hash -j 2 a growing d/b >out 2>err &&
	kill $appender &&
	{ rec a && rec d/b; } >expect &&
	test_cmp expect out &&
	echo "ama-hash: growing: changed while hashing" >expect &&
	test_cmp expect err
'

# Small files are read through io_uring batches (lib/uring.h) where the
# kernel allows it; AMA_NO_IO_URING=1 forces the one-by-one path that is
# taken where it does not. Both must print the same, byte for byte.
test_expect_success 'setup files for both paths: sizes around the batch limit' '
	mkdir both &&
	head -c 65536 big >both/edge &&
	head -c 65537 big >both/over &&
	: >both/empty &&
	i=0 &&
	while test $i -lt 150; do
		head -c $((i * 97)) big >both/s$i &&
		i=$((i + 1))
	done
'
test_expect_success 'without io_uring: the same records and messages' '
	set -- a both/edge nosuch both/over d link fifo both/empty "new
line" "tab	name" d/b/x big &&
	i=0 &&
	while test $i -lt 150; do
		set -- "$@" both/s$i &&
		i=$((i + 1))
	done &&
	test_exit_code 1 timeout 60 ama-hash -j 2 "$@" >out-ring 2>err-ring &&
	test_exit_code 1 env AMA_NO_IO_URING=1 timeout 60 \
		ama-hash -j 2 "$@" >out-plain 2>err-plain &&
	cat >expect <<-\EOF &&
	ama-hash: nosuch: no such file
	ama-hash: d: not a regular file: directory
	ama-hash: fifo: not a regular file: FIFO
	ama-hash: d/b/x: no such file
	EOF
	test_cmp expect err-ring &&
	test_cmp expect err-plain &&
	{
		rec a && rec both/edge && rec both/over && rec_link link &&
		rec both/empty &&
		rec "new
line" "\"new\\nline\"" &&
		rec "tab	name" "\"tab\\tname\"" && rec big &&
		i=0 &&
		while test $i -lt 150; do
			rec both/s$i &&
			i=$((i + 1))
		done
	} >expect &&
	test_cmp expect out-ring &&
	test_cmp expect out-plain
'
test_expect_success 'without io_uring: --stat and -z agree too' '
	printf "a\0both/edge\0both/over\0both/empty\0" >list &&
	ama-hash -z --stat <list >out-ring &&
	AMA_NO_IO_URING=1 ama-hash -z --stat <list >out-plain &&
	cmp out-ring out-plain &&
	tr "\0" "\n" <out-ring | cut -d" " -f2- >got &&
	ama-stat-record a both/edge both/over both/empty >expect &&
	test_cmp expect got
'
test_expect_success 'without io_uring: an unreadable file is reported (as a user other than root)' '
	chmod 000 locked/file &&
	test_when_finished "chmod 644 locked/file" &&
	test_exit_code 1 test_as_user sh -c \
		"cd locked && AMA_NO_IO_URING=1 exec ama-hash file other" >out 2>err &&
	echo "ama-hash: file: cannot open: Permission denied" >expect &&
	test_cmp expect err &&
	(cd locked && rec other) >expect &&
	test_cmp expect out
'

test_expect_success 'batches keep to the descriptors a process may open' '
	# 20 x the 150 files, enough for every worker to take full batches
	i=0 &&
	while test $i -lt 3000; do
		printf "both/s%d\n" $((i % 150)) &&
		i=$((i + 1))
	done >list &&
	(ulimit -n 64 && ama-hash -j 8 <list >out 2>err) &&
	test_must_be_empty err &&
	i=0 &&
	while test $i -lt 150; do
		rec both/s$i &&
		i=$((i + 1))
	done >once &&
	cat once once once once once once once once once once >ten &&
	cat ten ten >expect &&
	test_cmp expect out
'
test_expect_success 'setup FIFOs' '
	mkfifo in outp
'
test_expect_success 'records stream: each comes out before the next path goes in' '
	timeout 60 ama-hash -j 2 <in >outp 2>err &
	pid=$! &&
	test_when_finished "exec 3>&- 4<&-; kill $pid 2>/dev/null" &&
	exec 3>in 4<outp &&
	echo a >&3 &&
	timeout 10 head -n 1 <&4 >got1 &&
	rec a >expect &&
	test_cmp expect got1 &&
	echo d/b >&3 &&
	timeout 10 head -n 1 <&4 >got2 &&
	rec d/b >expect &&
	test_cmp expect got2 &&
	exec 3>&- &&
	wait $pid &&
	cat <&4 >rest &&
	test_must_be_empty rest &&
	test_must_be_empty err
'
test_expect_success 'records stream with -z too' '
	timeout 60 ama-hash -z <in >outp &
	pid=$! &&
	test_when_finished "exec 3>&- 4<&-; kill $pid 2>/dev/null" &&
	exec 3>in 4<outp &&
	printf "new\nline\0" >&3 &&
	timeout 10 head -z -n 1 <&4 >got1 &&
	rec_z "new
line" >expect &&
	cmp expect got1 &&
	exec 3>&- &&
	wait $pid
'
test_expect_success 'a failing stdout is a setup error' '
	test_exit_code 2 ama-hash a >/dev/full 2>err &&
	echo "ama-hash: cannot write output: No space left on device" >expect &&
	test_cmp expect err
'
test_expect_success 'a failing stdout is reported once however many records' '
	i=0 &&
	while test $i -lt 3000; do
		echo s$((i % 40)) &&
		i=$((i + 1))
	done >many &&
	test_exit_code 2 ama-hash <many >/dev/full 2>err &&
	echo "ama-hash: cannot write output: No space left on device" >expect &&
	test_cmp expect err
'
test_done
