# test-lib.sh: the shell test harness (TAP output), sourced by every t/tNNNN-*.sh.
#
# A test script sets test_description, sources this file from t/, declares
# tests with test_expect_success / test_expect_code and ends with test_done.
# Each script runs in its own trash folder (its name holds a space, to catch
# quoting bugs) under the build tree, with HOME and the XDG folders inside it
# and no AMA_* or AWS_* variables from the caller.
#
#   sh t0001-ama-stat-record.sh [-v] [-d]   -v: show each test's output
#                                           -d: keep the trash folder

TEST_DIRECTORY=$(pwd)
: "${AMA_BUILD_DIR:=$(cd .. && pwd)}"
GOLDEN="$TEST_DIRECTORY/golden"
test_name=$(basename "$0" .sh)
test_verbose=${AMA_TEST_VERBOSE:-}
test_debug=
for arg; do
	case "$arg" in
	-v|--verbose) test_verbose=1 ;;
	-d|--debug) test_debug=1 ;;
	esac
done

# no configuration or credentials of the caller leak in
for var in $(env | sed -n 's/^\(AMA_[A-Za-z0-9_]*\)=.*/\1/p;s/^\(AWS_[A-Za-z0-9_]*\)=.*/\1/p'); do
	case "$var" in
	AMA_BUILD_DIR|AMA_TEST_*) ;;
	*) unset "$var" ;;
	esac
done
unset XDG_CONFIG_HOME XDG_DATA_HOME XDG_CACHE_HOME

TRASH_DIRECTORY="$AMA_BUILD_DIR/t/trash dir.$test_name"
rm -rf "$TRASH_DIRECTORY" || exit 1
mkdir -p "$TRASH_DIRECTORY" || exit 1
HOME="$TRASH_DIRECTORY"
XDG_CONFIG_HOME="$TRASH_DIRECTORY/.config"
XDG_DATA_HOME="$TRASH_DIRECTORY/.local/share"
XDG_CACHE_HOME="${AMA_TEST_CACHE_HOME:-$TRASH_DIRECTORY/.cache}"
AMA_EXEC_PATH="$AMA_BUILD_DIR/porcelain:$AMA_BUILD_DIR/plumbing:$AMA_BUILD_DIR/server"
PATH="$AMA_EXEC_PATH:$PATH"
LC_ALL=C
TZ=UTC
# git commands in a test never reach the repository the tree lives in
GIT_CEILING_DIRECTORIES="$AMA_BUILD_DIR/t"
export GIT_CEILING_DIRECTORIES
export HOME XDG_CONFIG_HOME XDG_DATA_HOME XDG_CACHE_HOME AMA_EXEC_PATH PATH LC_ALL TZ
export TEST_DIRECTORY GOLDEN TRASH_DIRECTORY
cd "$TRASH_DIRECTORY" || exit 1

test_count=0
test_failed=0
test_cleanup_cmds=
test_atexit_cmds=

test_atexit_run() {
	if test -n "$test_atexit_cmds"; then
		eval "$test_atexit_cmds" >/dev/null 2>&1
		test_atexit_cmds=
	fi
}
trap 'test_atexit_run' EXIT
trap 'test_atexit_run; exit 130' INT TERM

say() {
	printf '%s\n' "$*"
}

# run commands when the script ends, passed or failed (stops servers)
test_atexit() {
	test_atexit_cmds="$*; $test_atexit_cmds"
}

# inside a test: run commands when this test ends, passed or failed
test_when_finished() {
	test_cleanup_cmds="$*; $test_cleanup_cmds"
}

# the body runs in a function of its own, so that a "return 1" in it (from
# a loop: "|| return 1") fails the test instead of leaving test_run_
test_eval_() {
	eval "$1"
}

test_run_() {
	test_cleanup_cmds=
	(cd "$TRASH_DIRECTORY") || return 1
	test_eval_ "$1" >"$TRASH_DIRECTORY/.test-output" 2>&1 </dev/null
	test_status_=$?
	if test -n "$test_cleanup_cmds"; then
		eval "$test_cleanup_cmds" >>"$TRASH_DIRECTORY/.test-output" 2>&1
	fi
	cd "$TRASH_DIRECTORY"
	return 0
}

test_report_() { # ok desc body
	test_count=$((test_count + 1))
	if test "$1" = ok; then
		say "ok $test_count - $2"
		test -z "$test_verbose" || sed 's/^/# /' "$TRASH_DIRECTORY/.test-output"
	else
		test_failed=$((test_failed + 1))
		say "not ok $test_count - $2"
		say "#	exit status $test_status_$4"
		printf '%s\n' "$3" | sed 's/^/#	/'
		say "# output:"
		sed 's/^/# /' "$TRASH_DIRECTORY/.test-output"
	fi
}

test_expect_success() { # desc body
	test "$#" = 2 || { say "bug in test script: test_expect_success takes 2 arguments"; exit 99; }
	test_run_ "$2"
	if test "$test_status_" = 0; then
		test_report_ ok "$1"
	else
		test_report_ fail "$1" "$2" ""
	fi
}

test_expect_code() { # code desc body
	test "$#" = 3 || { say "bug in test script: test_expect_code takes 3 arguments"; exit 99; }
	test_run_ "$3"
	if test "$test_status_" = "$1"; then
		test_report_ ok "$2"
	else
		test_report_ fail "$2" "$3" " (wanted $1)"
	fi
}

test_done() {
	test_atexit_run
	say "1..$test_count"
	if test "$test_failed" -gt 0; then
		say "# failed $test_failed of $test_count in $test_name"
		exit 1
	fi
	if test -z "$test_debug"; then
		cd "$AMA_BUILD_DIR/t" && chmod -R u+rwx "$TRASH_DIRECTORY" 2>/dev/null
		rm -rf "$TRASH_DIRECTORY"
	fi
	exit 0
}

# test_skip_all REASON: nothing of this script can run here (a missing
# device or program the README's set-up installs): say why, exit 0
test_skip_all() {
	say "1..0 # SKIP $*"
	test_atexit_run
	exit 0
}

# --- helpers for test bodies ---

# md5_of FILE: the MD5 of a file as ama prints it (32 lowercase hex digits)
md5_of() {
	md5sum <"$1" | cut -d" " -f1
}

# mp_etag FILE PART: the ETag S3 gives FILE sent in parts of PART bytes:
# the MD5 of the parts' binary MD5s, "-", the number of parts
mp_etag() {
	python3 -c '
import hashlib, sys
f, size, parts = open(sys.argv[1], "rb"), int(sys.argv[2]), []
while True:
    b = f.read(size)
    if not b:
        break
    parts.append(hashlib.md5(b).digest())
print("%s-%d" % (hashlib.md5(b"".join(parts)).hexdigest(), len(parts)))
' "$1" "$2"
}

# stat_fields FILE: what ama-stat-record prints of it, from stat(1):
# size mtime_ns ctime_ns ino nlink
stat_fields() {
	stat -c '%s %.9Y %.9Z %i %h' -- "$1" | sed 's/\.//g'
}

# test_cmp EXPECTED ACTUAL: the files are equal, or show the difference
test_cmp() {
	diff -u "$1" "$2"
}

# test_exit_code N CMD...: CMD exits with exactly N
test_exit_code() {
	want=$1
	shift
	"$@"
	got=$?
	if test "$got" = "$want"; then
		return 0
	fi
	say "test_exit_code: '$*' exited $got, wanted $want" >&2
	return 1
}

test_must_be_empty() {
	if test -s "$1"; then
		say "'$1' is not empty, it contains:" >&2
		cat "$1" >&2
		return 1
	fi
}

test_path_is_file() {
	test -f "$1" || { say "no file '$1'" >&2; return 1; }
}

test_path_is_missing() {
	test ! -e "$1" && test ! -L "$1" || { say "'$1' exists" >&2; return 1; }
}

# a free TCP port on loopback
test_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# run a command as an unprivileged user when we are root (permissions are
# not enforced for root); as another user, just run it
test_as_user() {
	if test "$(id -u)" = 0; then
		setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"
	else
		"$@"
	fi
}

# make the trash folder usable by test_as_user
test_give_to_user() {
	if test "$(id -u)" = 0; then
		chmod o+x "$AMA_BUILD_DIR/t" "$AMA_BUILD_DIR" 2>/dev/null
		chown -R nobody:nogroup "$@"
	fi
}

# --- the S3 test server (t/lib/s3-test-server.sh) ---
#
# test_s3_start [ENV=VALUE...] [BUCKET...]: start the SigV4-checking S3 test
# server on a free loopback port with fresh data in the trash folder; the
# ENV=VALUE words go to the server (S3TS_FAULTS=..., S3TS_KEY_BUCKETS=...),
# the other words are buckets to create. The request log is on. Exports:
#   S3_ENDPOINT S3_PORT S3_DATA    the URL, its port, the server's data folder
#   S3_REQUESTS S3_FAULTS          its request log and fault file
#   S3_KEY S3_SECRET               a read-write key pair
#   S3_RO_KEY S3_RO_SECRET         a read-only key pair (GET and HEAD only)
# and, for ama and the aws CLI: AWS_ENDPOINT_URL, AWS_REGION,
# AWS_DEFAULT_REGION, and ~/.aws/credentials (in the trash HOME) with the
# profiles "default" (read-write) and "readonly". Keys never go on a
# command line. The server stops when the script ends, passed or failed.
test_s3_start() {
	S3_DATA="$TRASH_DIRECTORY/.s3-data"
	S3_KEY=AMATESTKEY
	S3_SECRET=AMATESTSECRET
	S3_RO_KEY=AMAREADONLY
	S3_RO_SECRET=AMAREADONLYSECRET
	test_s3_buckets_=
	test_s3_env_=
	for arg; do
		case "$arg" in
		*=*) test_s3_env_="$test_s3_env_ $(printf '%s' "$arg" | sed "s/'/'\\\\''/g;s/^/'/;s/\$/'/")" ;;
		*) test_s3_buckets_="$test_s3_buckets_ $arg" ;;
		esac
	done
	rm -rf "$S3_DATA" && mkdir -p "$S3_DATA" || return 1
	test_atexit test_s3_stop
	eval "env AMA_BUILD_DIR=\"\$AMA_BUILD_DIR\" S3TS_REQLOG=1 \
		S3TS_READONLY_KEYS=\"\$S3_RO_KEY:\$S3_RO_SECRET\" $test_s3_env_ \
		bash \"\$TEST_DIRECTORY/lib/s3-test-server.sh\" start 0 \"\$S3_DATA\" \
		\"\$S3_KEY\" \"\$S3_SECRET\"" >"$S3_DATA.pid" </dev/null || return 1
	S3_PORT=$(cat "$S3_DATA/.s3rver.port") || return 1
	S3_ENDPOINT="http://127.0.0.1:$S3_PORT"
	S3_REQUESTS="$S3_DATA/.s3rver.requests"
	S3_FAULTS="$S3_DATA/.s3rver.faults"
	AWS_ENDPOINT_URL=$S3_ENDPOINT
	AWS_REGION=us-east-1
	AWS_DEFAULT_REGION=us-east-1
	export S3_DATA S3_KEY S3_SECRET S3_RO_KEY S3_RO_SECRET S3_PORT \
		S3_ENDPOINT S3_REQUESTS S3_FAULTS AWS_ENDPOINT_URL AWS_REGION \
		AWS_DEFAULT_REGION
	mkdir -p "$HOME/.aws" &&
	printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n[readonly]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
		"$S3_KEY" "$S3_SECRET" "$S3_RO_KEY" "$S3_RO_SECRET" \
		>"$HOME/.aws/credentials" &&
	chmod 600 "$HOME/.aws/credentials" || return 1
	for b in $test_s3_buckets_; do
		"$AMA_BUILD_DIR/t/helper/ama-store-tool" "s3://$b" mb || return 1
	done
	# the buckets' creation is not part of what a test counts
	: >"$S3_REQUESTS"
}

# test_s3_stop: stop the server test_s3_start started (safe to call twice)
test_s3_stop() {
	if test -n "${S3_DATA:-}" && test -f "$S3_DATA/.s3rver.pid"; then
		bash "$TEST_DIRECTORY/lib/s3-test-server.sh" stop "$S3_DATA"
	fi
}

# test_s3_faults [RULE...]: replace the fault rules (one per argument) at
# run time, atomically; with no rule, remove them
test_s3_faults() {
	if test $# = 0; then
		rm -f "$S3_FAULTS"
		return
	fi
	printf '%s\n' "$@" >"$S3_FAULTS.tmp" && mv "$S3_FAULTS.tmp" "$S3_FAULTS"
}

# --- ama-server (server/ama-server) ---
#
# test_server_start CONFIG [ENV=VALUE...]: start ama-server with CONFIG
# (its [listen] port 0 picks a free one) in the background, the ENV=VALUE
# words in its environment, its standard error appended to SERVER_LOG
# (server.log in the trash folder), and wait until it listens. Exports
# SERVER_URL, SERVER_PORT, SERVER_PID, SERVER_LOG. The server is stopped
# (SIGTERM) when the script ends, passed or failed.
test_server_start() {
	test_server_cfg_=$1
	shift
	SERVER_LOG="$TRASH_DIRECTORY/server.log"
	rm -f "$TRASH_DIRECTORY/.server.port"
	env "$@" ama-server --config "$test_server_cfg_" \
		--port-file "$TRASH_DIRECTORY/.server.port" \
		>/dev/null 2>>"$SERVER_LOG" </dev/null &
	SERVER_PID=$!
	test_atexit test_server_stop
	test_server_n_=0
	while ! test -s "$TRASH_DIRECTORY/.server.port"; do
		kill -0 "$SERVER_PID" 2>/dev/null || return 1
		test "$test_server_n_" -lt 400 || return 1
		sleep 0.05
		test_server_n_=$((test_server_n_ + 1))
	done
	SERVER_PORT=$(cat "$TRASH_DIRECTORY/.server.port")
	SERVER_URL="http://127.0.0.1:$SERVER_PORT"
	export SERVER_URL SERVER_PORT SERVER_PID SERVER_LOG
}

# test_server_stop: SIGTERM to the server test_server_start started, and
# wait for it; its exit status is the function's (safe to call twice)
test_server_stop() {
	test -n "${SERVER_PID:-}" || return 0
	kill -TERM "$SERVER_PID" 2>/dev/null
	wait "$SERVER_PID"
	test_server_status_=$?
	SERVER_PID=
	return "$test_server_status_"
}
