#!/bin/sh
test_description='ama upload killed or half done: locks left behind are taken over, nothing it started outlives it, and it never exits 0 for half a job'
. ./test-lib.sh

PATH="$AMA_BUILD_DIR/t/helper:$PATH"
STORE="$XDG_DATA_HOME/ama"

# wait_for CMD...: until CMD succeeds, for at most 10 seconds
wait_for() {
	n=0
	until "$@"; do
		test $n -lt 200 || { say "wait_for: gave up on: $*" >&2; return 1; }
		sleep 0.05
		n=$((n + 1))
	done
}
# group_gone PGID: no live process is left in the process group
group_gone() {
	cat /proc/[0-9]*/stat 2>/dev/null | sed "s/.*) //" |
		awk -v g="$1" '$3 == g && $1 != "Z" { found = 1 } END { exit found }'
}
took_over() {
	echo "ama-upload: $1: took over the lock of an ama process that was killed"
}

test_expect_success 'setup: an asset on the embedded default, published once' '
	mkdir a && cd a &&
	ama init -q imaging &&
	printf "first" >first && ama add -q first &&
	ama upload -q -m first
'

# issue 9: kill -9 at the rename of .ama/config.lock left it, and every
# later upload refused
test_expect_success 'a .ama/config.lock left by a killed upload is taken over, and said' '
	cd a &&
	printf "[asset]\nclass = half written\n" >.ama/config.lock &&
	printf "second" >second && ama add -q second &&
	ama upload -m second >out 2>err &&
	echo "published imaging/1 version 0.0.1" >expect &&
	test_cmp expect out &&
	took_over .ama/config.lock >expect &&
	test_cmp expect err &&
	test_path_is_missing .ama/config.lock &&
	git config -f .ama/config asset.version >actual &&
	echo 0.0.1 >expect &&
	test_cmp expect actual
'
test_expect_success 'locks libgit2 left in .ama/meta by a killed upload are cleared, and said' '
	cd a &&
	: >.ama/meta/HEAD.lock &&
	: >.ama/meta/refs/ama/imaging/1.lock &&
	printf "third" >third && ama add -q third &&
	ama upload -m third >out 2>err &&
	echo "published imaging/1 version 0.0.2" >expect &&
	test_cmp expect out &&
	{
		took_over .ama/meta/HEAD.lock &&
		took_over .ama/meta/refs/ama/imaging/1.lock
	} >expect &&
	test_cmp expect err &&
	git --git-dir=.ama/meta log --format=%s >actual &&
	printf "%s\n" third second first >expect &&
	test_cmp expect actual
'

# issue 11: the upload read .ama/config before it took the lock, and wrote
# that copy back; a writer in between lost its key. .ama/config is a FIFO
# here: the upload's first read (its settings, no lock needed) and its
# second (the edit) each wait for the test to write, and the test looks
# for the lock while the second one waits.
# config_closed PID: PID lives, and has no descriptor on .ama/config
config_closed() {
	test -d /proc/$1 &&
	for fd in /proc/$1/fd/*; do
		case "$(readlink "$fd")" in
		*/.ama/config) return 1 ;;
		esac
	done
}
test_expect_success 'the edit of .ama/config reads it under its lock' '
	cd a &&
	printf "fourth" >fourth && ama add -q fourth &&
	cp .ama/config ../config.saved &&
	rm .ama/config && mkfifo .ama/config &&
	test_when_finished "test -p .ama/config && cp ../config.saved .ama/config.new && mv .ama/config.new .ama/config" &&
	{ ama upload -m fourth >out 2>err & } &&
	pid=$! &&
	test_when_finished "kill $pid 2>/dev/null" &&
	timeout 20 sh -c "cat ../config.saved >.ama/config" &&
	wait_for config_closed $pid &&
	timeout 20 sh -c "exec 3>.ama/config &&
		if test -e .ama/config.lock
		then
			echo locked
		else
			echo not locked
		fi >../seen &&
		cat ../config.saved >&3" &&
	wait $pid &&
	echo locked >expect &&
	test_cmp expect ../seen &&
	echo "published imaging/1 version 0.0.3" >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	test_path_is_file .ama/config &&
	git config -f .ama/config asset.version >actual &&
	echo 0.0.3 >expect &&
	test_cmp expect actual
'

# issue 9: after kill -9 of the server mid-commit, reruns exited 0 while
# printing ".ama/meta: not updated"
test_expect_success 'a .ama/meta that cannot be brought up to date: published, said, exit 1' '
	cd a &&
	mv .ama/meta ../meta.saved && : >.ama/meta &&
	printf "fifth" >fifth && ama add -q fifth &&
	test_exit_code 1 ama upload -m fifth >out 2>err &&
	echo "published imaging/1 version 0.0.4" >expect &&
	test_cmp expect out &&
	echo "ama-upload: .ama/meta: not updated: cannot create the metadata repository: something that is not a folder is in its place; version 0.0.4 is published: run '"'ama upload'"' again to bring .ama/meta up to date" >expect &&
	test_cmp expect err
'
test_expect_success '... and the rerun it names brings .ama/meta up to date, and stops' '
	cd a &&
	rm .ama/meta && mv ../meta.saved .ama/meta &&
	ama upload -m fifth >out 2>err &&
	echo "nothing to publish: imaging/1 is at version 0.0.4" >expect &&
	test_cmp expect out &&
	: no stage ran: the commit would have said there was nothing to commit &&
	test_must_be_empty err &&
	git --git-dir=.ama/meta log --format=%s >actual &&
	printf "%s\n" fifth fourth third second first >expect &&
	test_cmp expect actual
'

# issue 9: kill -9 of ama upload left ama-stage-put running; once, it
# finished sending after the rerun had listed staging. Here the killed
# upload's ama-stage-put ignores SIGTERM and ends 2 seconds later.
test_expect_success 'setup: an ama-stage-put that outlives its upload' '
	mkdir linger listing &&
	cat >linger/ama-stage-put <<-EOF &&
	#!/bin/sh
	trap "" TERM
	echo "put started" >>"$TRASH_DIRECTORY/order"
	sleep 2
	echo "put ended" >>"$TRASH_DIRECTORY/order"
	exit 1
	EOF
	cat >listing/ama-ls-files <<-EOF &&
	#!/bin/sh
	echo "listed" >>"$TRASH_DIRECTORY/order"
	exec "$AMA_BUILD_DIR/plumbing/ama-ls-files" "\$@"
	EOF
	chmod +x linger/ama-stage-put listing/ama-ls-files
'
test_expect_success 'the rerun of a killed upload waits for what it started' '
	cd a &&
	rm -f ../order &&
	printf "sixth" >sixth && ama add -q sixth &&
	{ AMA_EXEC_PATH="$TRASH_DIRECTORY/linger:$AMA_EXEC_PATH" \
		setsid ama upload -m sixth >out 2>err & } &&
	pid=$! &&
	test_when_finished "kill -9 -$pid 2>/dev/null" &&
	wait_for grep -qs "put started" ../order &&
	kill -9 $pid &&
	test_exit_code 137 wait $pid &&
	AMA_EXEC_PATH="$TRASH_DIRECTORY/listing:$AMA_EXEC_PATH" \
		ama upload -m sixth >out 2>err &&
	printf "%s\n" "put started" "put ended" listed >expect &&
	test_cmp expect ../order &&
	echo "published imaging/1 version 0.0.5" >expect &&
	test_cmp expect out &&
	test_must_be_empty err
'
# the same with the real ama-stage-put, against the S3 test server
test_expect_success 'setup: S3, an asset whose buckets are there' '
	test_s3_start staging remote &&
	: the local publishing repository of this store, not of the first &&
	XDG_DATA_HOME="$TRASH_DIRECTORY/s3-data" && export XDG_DATA_HOME &&
	mkdir b && cd b &&
	ama init -q imaging &&
	git config -f .ama/config store.remote s3://remote/pre &&
	git config -f .ama/config store.staging s3://staging/pre &&
	git config -f .ama/config s3.endpoint "$S3_ENDPOINT" &&
	git config -f .ama/config s3.region us-east-1 &&
	for i in 1 2 3 4 5 6; do printf "orphan $i" >o$i || return 1; done &&
	ama add -q o1 o2 o3 o4 o5 o6
'
test_expect_success 'kill -9 of ama upload alone: ama-stage-put ends with it' '
	cd b &&
	test_s3_faults "delay 700 1 PUT /staging/" &&
	{ setsid ama upload -j 1 -m orphans >out.killed 2>err.killed & } &&
	pid=$! &&
	test_when_finished "kill -9 -$pid 2>/dev/null" &&
	wait_for grep -q "^PUT /staging/.* 200 " "$S3_REQUESTS" &&
	kill -9 $pid &&
	test_exit_code 137 wait $pid &&
	wait_for group_gone $pid &&
	test_s3_faults &&
	# a request under way when it ended may still land
	sleep 1 &&
	ama-store-tool s3://staging/pre list | sed "s|.*/||" | sort >../staged &&
	for i in 1 2 3 4 5 6; do md5_of o$i || return 1; done | sort >../all &&
	comm -13 ../staged ../all >../unstaged &&
	test $(wc -l <../staged) -le 2 &&
	test -s ../unstaged &&
	: it was told to stop, as for a Ctrl-C, rather than left to run &&
	echo "ama-stage-put: interrupted" >expect &&
	test_cmp expect err.killed &&
	test_must_be_empty out.killed
'
test_expect_success '... the rerun sends only what was not staged, one version' '
	cd b &&
	: >"$S3_REQUESTS" &&
	ama upload -m orphans >out 2>err &&
	echo "published imaging/1 version 0.0.0" >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	sed -n "s|^PUT /staging/pre/[0-9a-f]*/\([0-9a-f]*\) 200 .*|\1|p" \
		"$S3_REQUESTS" | sort >actual &&
	test_cmp ../unstaged actual
'
test_done
