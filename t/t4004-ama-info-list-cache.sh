#!/bin/sh
test_description='ama info, ama list, ama class list, ama cache: what an asset is, what a store holds, and the shared cache'
. ./test-lib.sh

STORE="$XDG_DATA_HOME/ama"
CACHE="$XDG_CACHE_HOME/ama"
USER=tester
export USER

# "<when>" as ama prints times
when() {
	date -u -d "@$1" "+%Y-%m-%d %H:%M:%S UTC"
}
# the time of version V of imaging/SEQ, from the manifest in the bucket
vtime() {
	ama-cat-manifest --header "$1" | sed -n "s/^time //p"
}

test_expect_success 'setup: imaging/1 at 0.0.1 and imaging/2 at 0.0.0, scans/1; a clone of imaging/1' '
	mkdir a b s &&
	(cd a && ama init -q imaging && printf one >one && mkdir d && printf two >d/two &&
		ama add -q . && ama upload -q -m v0 &&
		printf three >three && ama add -q three && ama upload -q -m v1) &&
	(cd b && ama init -q imaging && printf b >b && ama add -q b && ama upload -q) &&
	(cd s && ama init -q scans && printf s >s && ama add -q s && ama upload -q) &&
	ama clone -q imaging/1 c
'

test_expect_success 'ama info: an operand is a usage error; outside an asset, exit 2' '
	(cd a && test_exit_code 2 ama info x) 2>err &&
	cat >expect <<-\EOF &&
	ama-info: takes no operands
	ama-info: usage: ama info
	EOF
	test_cmp expect err &&
	test_exit_code 2 ama info 2>err &&
	echo "ama-info: not inside an ama asset (no .ama in this folder or any parent); run '"'ama init CLASS'"' first" >expect &&
	test_cmp expect err
'
test_expect_success 'ama info in a clone: class, number, version, author, files, stores, cache' '
	(cd c && ama info) >out &&
	cat >expect <<-EOF &&
	asset:    imaging/1
	version:  0.0.1 by tester, $(when "$(vtime imaging/1@0.0.1)")
	files:    3 (11 B)
	server:   local
	remote:   file://$STORE/remote
	staging:  file://$STORE/staging
	cache:    $CACHE
	EOF
	test_cmp expect out
'
test_expect_success '... from a subfolder; files added and not uploaded are counted' '
	printf four >c/d/four && (cd c && ama add -q d/four) &&
	(cd c/d && ama info) | sed -n "s/^files: *//p" >out &&
	echo "4 (15 B), 1 not uploaded" >expect &&
	test_cmp expect out
'
test_expect_success '... before the first upload' '
	mkdir n && (cd n && ama init -q fresh && ama info) | sed -n "1,3p" >out &&
	cat >expect <<-\EOF &&
	asset:    fresh/(no number yet)
	version:  none yet (ama upload)
	files:    0 (0 B)
	EOF
	test_cmp expect out
'

test_expect_success 'ama list: two classes, a bad name, outside an asset with none: usage errors' '
	test_exit_code 2 ama list imaging scans 2>err &&
	test_exit_code 2 ama list "a..b" 2>>err &&
	test_exit_code 2 ama list 2>>err &&
	cat >expect <<-\EOF &&
	ama-list: at most one class
	ama-list: usage: ama list [<class>]
	ama-list: bad class name: no '"'..'"', and no '"'.'"' or '"'.lock'"' at the end
	ama-list: usage: ama list [<class>]
	ama-list: outside an asset, name the class: ama list CLASS
	EOF
	test_cmp expect err
'
test_expect_success 'ama list CLASS: each asset with its newest version, its time and author' '
	ama list imaging >out &&
	cat >expect <<-EOF &&
	imaging/1  0.0.1    $(when "$(vtime imaging/1)")  tester
	imaging/2  0.0.0    $(when "$(vtime imaging/2)")  tester
	EOF
	test_cmp expect out &&
	(cd s && ama list) >out &&
	echo "scans/1  0.0.0    $(when "$(vtime scans/1)")  tester" >expect &&
	test_cmp expect out
'
test_expect_success 'ama list of a class the store lacks: exit 1' '
	test_exit_code 1 ama list nosuch >out 2>err &&
	test_must_be_empty out &&
	echo "ama-list: no such class: nosuch" >expect &&
	test_cmp expect err
'
test_expect_success 'ama class list: the classes, sorted' '
	ama class list >out &&
	printf "imaging\nscans\n" >expect &&
	test_cmp expect out
'
test_expect_success 'ama class: anything but list is a usage error' '
	test_exit_code 2 ama class 2>err &&
	test_exit_code 2 ama class lists 2>>err &&
	cat >expect <<-\EOF &&
	ama-class: the one subcommand is '"'list'"'
	ama-class: usage: ama class list
	ama-class: the one subcommand is '"'list'"'
	ama-class: usage: ama class list
	EOF
	test_cmp expect err
'

# the cache: three contents of 1, 2 and 3 KiB, used in that order
test_expect_success 'setup: a cache of three contents, used at known times' '
	rm -rf "$CACHE" c2 &&
	mkdir k && (cd k && ama init -q kb &&
		head -c 1024 /dev/urandom >k1 && head -c 2048 /dev/urandom >k2 &&
		head -c 3072 /dev/urandom >k3 && ama add -q . && ama upload -q) &&
	ama clone -q kb/1 k-clone &&
	for i in 1 2 3; do
		m=$(md5_of k/k$i) &&
		touch -a -d "@$((1700000000 + i))" "$CACHE/contents/$(echo $m | cut -c1-2)/$m" ||
		return 1
	done
'
test_expect_success 'ama cache: its folder, contents and bytes, partial fills' '
	ama cache >out &&
	echo "$CACHE: 3 contents, 6.0 KiB; 0 partial, 0 B" >expect &&
	test_cmp expect out &&
	ama cache -q >out &&
	test_must_be_empty out
'
test_expect_success 'ama cache: usage errors' '
	test_exit_code 2 ama cache clean 2>err &&
	test_exit_code 2 ama cache --max-size 1K 2>>err &&
	test_exit_code 2 ama cache prune --max-size lots 2>>err &&
	cat >expect <<-\EOF &&
	ama-cache: the one subcommand is '"'prune'"'
	ama-cache: usage: ama cache [-q | --quiet] [prune [--max-size <size>]]
	ama-cache: --max-size goes with prune
	ama-cache: usage: ama cache [-q | --quiet] [prune [--max-size <size>]]
	ama-cache: --max-size: '"'lots'"' is not a size
	ama-cache: usage: ama cache [-q | --quiet] [prune [--max-size <size>]]
	EOF
	test_cmp expect err
'
test_expect_success 'ama cache prune --max-size: least recently used first' '
	ama cache prune --max-size 5K >out &&
	echo "removed 1 contents; $CACHE: 2 contents, 5.0 KiB; 0 partial, 0 B" >expect &&
	test_cmp expect out &&
	find "$CACHE/contents" -type f -printf "%f\n" | sort >actual &&
	for i in 2 3; do md5_of k/k$i || return 1; done | sort >expect &&
	test_cmp expect actual
'
test_expect_success '... a content a clone uses is used anew: it stays, the older goes' '
	rm -rf k-clone2 && ama clone -q kb/1 k-clone2 -- k2 &&
	ama cache prune --max-size 2K >out &&
	echo "removed 1 contents; $CACHE: 1 contents, 2.0 KiB; 0 partial, 0 B" >expect &&
	test_cmp expect out &&
	find "$CACHE/contents" -type f -printf "%f\n" >actual &&
	md5_of k/k2 >expect &&
	test_cmp expect actual
'
test_expect_success '... partial fills: an old one no process holds goes; a new one, or one held, stays' '
	mkdir -p "$CACHE/partial" &&
	printf old >"$CACHE/partial/00000000000000000000000000000001-9" &&
	printf held >"$CACHE/partial/00000000000000000000000000000002-9" &&
	printf new >"$CACHE/partial/00000000000000000000000000000003-9" &&
	touch -d "@1700000000" "$CACHE/partial/00000000000000000000000000000001-9" \
		"$CACHE/partial/00000000000000000000000000000002-9" &&
	# this shell holds the lock, as a fill under way does
	exec 9<"$CACHE/partial/00000000000000000000000000000002-9" &&
	flock -n 9 &&
	test_when_finished "exec 9<&-" &&
	ama cache prune --max-size 1G >out &&
	echo "removed 0 contents; $CACHE: 1 contents, 2.0 KiB; 2 partial, 7 B" >expect &&
	test_cmp expect out &&
	ls "$CACHE/partial" >actual &&
	printf "00000000000000000000000000000002-9\n00000000000000000000000000000003-9\n" >expect &&
	test_cmp expect actual
'
test_expect_success 'ama cache prune with no size empties it (the old partial, no longer held, goes); clones keep their files' '
	ama cache prune >out &&
	echo "removed 1 contents; $CACHE: 0 contents, 0 B; 1 partial, 3 B" >expect &&
	test_cmp expect out &&
	cmp k/k2 k-clone/k2 &&
	(cd k-clone && ama status --porcelain) >actual &&
	test_must_be_empty actual
'
test_done
