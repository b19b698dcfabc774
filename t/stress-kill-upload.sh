#!/bin/sh
# stress-kill-upload.sh: kill -9 of ama upload at random moments, then a rerun.
# Not part of make check (minutes, and random): run it by hand from t/,
#     cd t && TRIALS=50 sh stress-kill-upload.sh -v
# Each trial adds six files (a few KiB to 3 MiB, new bytes), starts ama
# upload against ama-server and the S3 test server (the client with a
# staging key and a read-only key, as users have them; the server's copies
# slowed down a little), kills the upload process alone (kill -9, not its
# process group) at a random moment within the time a whole upload takes,
# and reruns it at once. It checks that the rerun exits 0 with nothing on
# stderr but lock takeovers, that the trial made exactly one version, that
# every file is committed, that nothing the killed upload started is left
# running, and that no content staged before the rerun listed staging was
# sent again. A content whose PUT the killed run had sent and the store
# completed only after the rerun had listed (the bytes were on their way
# when the kill came) is counted apart: the rerun could not know of it.
test_description='stress: kill -9 of ama upload at random moments, then a rerun'
. ./test-lib.sh

TRIALS=${TRIALS:-40}
PATH="$AMA_BUILD_DIR/t/helper:$PATH"
CONF="$TRASH_DIRECTORY/srv/server.conf"
REPO="$TRASH_DIRECTORY/srv/meta.git"

versions_of() {
	git --git-dir="$REPO" rev-list --count refs/ama/imaging/1 2>/dev/null ||
		echo 0
}
# group_alive PGID: some live process is in the process group
group_alive() {
	cat /proc/[0-9]*/stat 2>/dev/null | sed "s/.*) //" |
		awk -v g="$1" '$3 == g && $1 != "Z" { found = 1 } END { exit !found }'
}

# six new files for trial $1: 1-4 KiB, 1 MiB and 2 MiB more, twice
new_files() {
	for f in 1 2 3 4 5 6; do
		head -c $(( (f % 3) * 1048576 + $(shuf -i 1024-4096 -n 1) )) \
			/dev/urandom >t$1-$f || return 1
	done
	ama add -q t$1-*
}
now_ms() {
	date +%s%3N
}

test_expect_success 'setup: S3, ama-server, an asset published once' '
	test_s3_start S3TS_KEYS=AMASTAGE:AMASTAGESECRET \
		"S3TS_KEY_BUCKETS=AMASTAGE=staging" staging remote &&
	mkdir srv &&
	printf "[server]\naws_access_key_id = %s\naws_secret_access_key = %s\n" \
		"$S3_KEY" "$S3_SECRET" >srv/aws &&
	chmod 600 srv/aws &&
	cat >"$CONF" <<-EOF &&
	[listen]
	port = 0
	threads = 4
	[store]
	remote = s3://remote/pre
	staging = s3://staging/pre
	[s3]
	endpoint = $S3_ENDPOINT
	region = us-east-1
	server-profile = server
	[repository]
	path = $REPO
	[auth]
	tokens = $TRASH_DIRECTORY/srv/tokens
	EOF
	mkdir -p .config/ama &&
	ama-server --config "$CONF" token add alice >.config/ama/token 2>/dev/null &&
	chmod 600 .config/ama/token &&
	test_server_start "$CONF" AWS_SHARED_CREDENTIALS_FILE="$TRASH_DIRECTORY/srv/aws" &&
	printf "[staging]\naws_access_key_id = AMASTAGE\naws_secret_access_key = AMASTAGESECRET\n[readonly]\naws_access_key_id = %s\naws_secret_access_key = %s\n" \
		"$S3_RO_KEY" "$S3_RO_SECRET" >.aws/credentials &&
	printf "[server]\nurl = %s\n[s3]\nstaging-profile = staging\nremote-profile = readonly\n" \
		"$SERVER_URL" >.config/ama/config &&
	unset AWS_ENDPOINT_URL AWS_REGION AWS_DEFAULT_REGION &&
	mkdir asset && cd asset && ama init -q imaging &&
	printf first >first && ama add -q first && ama upload -q -m first &&
	: how long a whole upload of a trial takes, unkilled &&
	test_s3_faults "delay 100 1 PUT /remote/" ${STAGING_DELAY:+"delay $STAGING_DELAY 1 PUT /staging/"} &&
	new_files 0 && t0=$(now_ms) && ama upload -q -j 4 -m t0 && t1=$(now_ms) &&
	test_s3_faults &&
	echo $((t1 - t0)) >../upload-ms &&
	say "an upload takes $((t1 - t0)) ms"
'
test_expect_success "kill -9 of ama upload alone at random moments: $TRIALS trials" '
	cd asset &&
	window=$(cat ../upload-ms) &&
	: >../trials &&
	bad=0 && late=0 && killed_n=0 && i=0 &&
	while test $i -lt $TRIALS; do
		i=$((i + 1))
		new_files $i || return 1
		test_s3_faults "delay 100 1 PUT /remote/" ${STAGING_DELAY:+"delay $STAGING_DELAY 1 PUT /staging/"} &&
		start=$(wc -l <"$S3_REQUESTS") &&
		before=$(versions_of) &&
		at=$(shuf -i 0-$window -n 1) &&
		{ setsid ama upload -j 4 -m "t$i" >out1 2>err1 & } &&
		pid=$! &&
		sleep $(awk -v r=$at "BEGIN { print r / 1000 }") &&
		if kill -9 $pid 2>/dev/null; then killed=yes; else killed=no; fi
		wait $pid; c1=$?
		test $killed = yes && killed_n=$((killed_n + 1))
		test_s3_faults &&
		mark=$(wc -l <"$S3_REQUESTS") &&
		ama upload -m "t$i" >out2 2>err2; c2=$?
		orphan=no
		if group_alive $pid; then orphan=yes; fi
		after=$(versions_of)
		# the rerun listed at its first HEAD or GET with a user key
		listed=$(awk -v m=$mark "NR > m && /^(HEAD|GET) / && / (AMASTAGE|$S3_RO_KEY)\$/ { print NR; exit }" "$S3_REQUESTS")
		: "${listed:=999999999}"
		# contents PUT to staging (200) twice in this trial: staged before
		# the rerun listed (sent again: a failure), or landed after it
		awk -v s=$start -v l=$listed "NR > s && \$1 == \"PUT\" && \$3 == 200 && \$2 ~ /^\/staging\// {
				n[\$2]++; if (!(\$2 in first)) first[\$2] = NR }
			END { for (k in n) if (n[k] > 1) print (first[k] < l ? \"again\" : \"late\"), k }" \
			"$S3_REQUESTS" >twice
		again=$(grep -c "^again" twice)
		landed=$(grep -c "^late" twice)
		late=$((late + landed))
		pending=$(ama-ls-files | grep -vc " committed	")
		grep -v "took over the lock" err2 >err2.other
		verdict=ok
		test $c2 = 0 || verdict=FAIL
		test $((after - before)) = 1 || verdict=FAIL
		test $again = 0 || verdict=FAIL
		test $orphan = no || verdict=FAIL
		test "$pending" = 0 || verdict=FAIL
		test -s err2.other && verdict=FAIL
		test $verdict = ok || bad=$((bad + 1))
		echo "trial $i: $verdict kill-at=${at}ms killed=$killed first=$c1 rerun=$c2 versions=+$((after - before)) sent-again=$again landed-late=$landed orphan=$orphan pending=$pending out=$(cat out2) err=$(tr "\n" "|" <err2)" >>../trials
	done &&
	cat ../trials &&
	echo "trials: $TRIALS (killed mid-run: $killed_n), failures: $bad, contents whose killed PUT landed after the rerun listed: $late" &&
	test $bad = 0
'
test_done
