#!/bin/sh
test_description='kill -9 of ama clone and ama switch at random moments: a rerun ends at the version and fetches nothing cached again'
. ./test-lib.sh

# AMA_TEST_KILL_TRIALS=N runs N trials of each (default 10)
TRIALS=${AMA_TEST_KILL_TRIALS:-10}
CACHE="$XDG_CACHE_HOME/ama"
USER=tester
export USER

tree() {
	(cd "$1" && find . -path ./.ama -prune -o -type f -print0 | sort -z |
		xargs -0 -r md5sum --)
}
version_tree() {
	reader ama-cat-manifest -z "$1" | sed -z "s/^\([0-9a-f]*\) [0-9]*	/\1  .\//" |
		xargs -0 -r -n1 printf "%s\n"
}
# the folders below a folder but .ama: a switch leaves none empty
empty_folders() {
	(cd "$1" && find . -path ./.ama -prune -o -type d -empty -print)
}
reader() {
	AWS_SHARED_CREDENTIALS_FILE="$TRASH_DIRECTORY/reader.aws" \
		AMA_CONFIG="$TRASH_DIRECTORY/reader.conf" "$@"
}
# a random number of milliseconds below $1
random_ms() {
	echo $(($(od -An -N2 -tu2 /dev/urandom) % $1))
}
# run_killed DIR CMD...: run CMD in DIR and kill -9 it at a random moment
# within its first second (or let it finish if it is quicker)
run_killed() {
	dir=$1
	shift
	(cd "$dir" && exec "$@" >/dev/null 2>&1) &
	pid=$!
	ms=$(random_ms 1000)
	sleep "$(printf "0.%03d" "$ms")"
	kill -9 $pid 2>/dev/null
	# the shell may already have reaped it; what matters is that it is gone
	while kill -0 $pid 2>/dev/null; do sleep 0.01; done
	echo "$ms" >>"$TRASH_DIRECTORY/kill-times"
}
# rerun DIR CMD...: run CMD in DIR; when a killed process left a stale
# lock, the message says how to clear it (rm PATH): do so and run again
rerun() {
	dir=$1
	shift
	for attempt in 1 2 3 4; do
		(cd "$dir" && "$@") >rerun.out 2>rerun.err && return 0
		rm_cmd=$(sed -n "s/.*stale lock left by an ama process that was killed; if no ama command is running, remove it with: \(rm .*\)\$/\1/p;s/.*or one was killed; if no ama command is running, remove it with: \(rm .*\)\$/\1/p" rerun.err)
		test -n "$rm_cmd" || { cat rerun.err >&2; return 1; }
		echo "$rm_cmd" >>"$TRASH_DIRECTORY/stale-locks"
		(cd "$dir" && eval "$rm_cmd") || return 1
	done
	return 1
}
# the contents in the cache, one MD5 a line, sorted
cached() {
	if test -d "$CACHE/contents"; then
		find "$CACHE/contents" -type f -printf "%f\n" | sort
	fi
}
# the contents the request log shows downloaded (GET 200/206), sorted
fetched() {
	sed -n "s|^GET /remote/pre/$TOP/contents/\([0-9a-f]*\) 20[06] .*|\1|p" "$S3_REQUESTS" | sort -u
}
# after a rerun: the tree is the version exactly, status clean, no
# folder left empty, and nothing that was cached was fetched again
check_rerun() { # dir version
	version_tree "imaging/1@$2" >expect.tree &&
	tree "$1" >actual.tree &&
	test_cmp expect.tree actual.tree &&
	(cd "$1" && reader ama status --porcelain) >actual.status &&
	test_must_be_empty actual.status &&
	empty_folders "$1" >actual.empty &&
	test_must_be_empty actual.empty &&
	fetched >refetched.all &&
	comm -12 cached.before refetched.all >refetched &&
	test_must_be_empty refetched
}

test_expect_success 'setup: S3, a writer publishing in-process, a reader with a read-only key' '
	test_s3_start remote staging &&
	printf "[server]\nurl = local\n[store]\nremote = s3://remote/pre\nstaging = s3://staging/pre\n" >writer.conf &&
	printf "[store]\nremote = s3://remote/pre\n[s3]\nremote-profile = readonly\n" >reader.conf &&
	printf "[readonly]\naws_access_key_id = %s\naws_secret_access_key = %s\n" \
		"$S3_RO_KEY" "$S3_RO_SECRET" >reader.aws &&
	chmod 600 reader.aws
'
test_expect_success 'setup: two versions of 30 files that add, change, delete, rename and turn a file into a folder' '
	mkdir a &&
	(
		cd a &&
		AMA_CONFIG="$TRASH_DIRECTORY/writer.conf" &&
		export AMA_CONFIG &&
		ama init -q imaging &&
		mkdir -p d1 d2/deep &&
		for i in $(seq 1 12); do
			head -c 100000 /dev/urandom >d1/f$i &&
			head -c 100000 /dev/urandom >d2/deep/g$i || return 1
		done &&
		head -c 2000000 /dev/urandom >big1 &&
		head -c 2000000 /dev/urandom >d1/big2 &&
		printf x >x && printf "tab" >"tab	name" &&
		ama add -q -- . && ama upload -q -m v0 &&
		for i in 1 2 3 4; do
			head -c 100000 /dev/urandom >d1/f$i || return 1
		done &&
		rm d1/f5 d1/f6 && ama remove -q d1/f5 d1/f6 &&
		mkdir d3 && mv d2/deep/g1 d3/g1 && mv d2/deep/g2 d3/g2 &&
		ama remove -q d2/deep/g1 d2/deep/g2 &&
		rm x && ama remove -q x && mkdir x && printf inner >x/inner &&
		head -c 2000000 /dev/urandom >big1 &&
		head -c 300000 /dev/urandom >d3/new &&
		ama add -q -- . && ama upload -q -m v1
	) &&
	sed -n "s/^top-hash = //p" a/.ama/config >top &&
	test -s top
'
TOP=$(cat top 2>/dev/null)

# each GET waits 60 ms: a clone takes about a second, and a kill within
# it lands anywhere: in the metadata, the downloads, the checkout
test_expect_success "kill -9 of ama clone at random moments, $TRIALS times: the rerun finishes it" '
	test_s3_faults "delay 60 1 GET /remote/pre/$TOP/contents/" &&
	test_when_finished test_s3_faults &&
	i=0 &&
	while test $i -lt $TRIALS; do
		i=$((i + 1)) &&
		rm -rf "$CACHE" c &&
		run_killed . env AWS_SHARED_CREDENTIALS_FILE="$TRASH_DIRECTORY/reader.aws" \
			AMA_CONFIG="$TRASH_DIRECTORY/reader.conf" ama clone -q -j 4 imaging/1@0.0.0 c &&
		cached >cached.before &&
		: >"$S3_REQUESTS" &&
		rerun . reader ama clone -q -j 4 imaging/1@0.0.0 c &&
		check_rerun c 0.0.0 || { say "clone trial $i failed" >&2; return 1; }
	done
'
test_expect_success "kill -9 of ama switch at random moments, $TRIALS times, back and forth" '
	test_s3_faults "delay 60 1 GET /remote/pre/$TOP/contents/" &&
	test_when_finished test_s3_faults &&
	rm -rf c && reader ama clone -q imaging/1@0.0.0 c &&
	i=0 && v=0.0.1 &&
	while test $i -lt $TRIALS; do
		i=$((i + 1)) &&
		rm -rf "$CACHE" &&
		run_killed c env AWS_SHARED_CREDENTIALS_FILE="$TRASH_DIRECTORY/reader.aws" \
			AMA_CONFIG="$TRASH_DIRECTORY/reader.conf" ama switch -q -j 4 $v &&
		cached >cached.before &&
		: >"$S3_REQUESTS" &&
		rerun c reader ama switch -q -j 4 $v &&
		check_rerun c $v || { say "switch trial $i to $v failed" >&2; return 1; }
		if test $v = 0.0.1; then v=0.0.0; else v=0.0.1; fi
	done
'
test_done
