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

test_run_() {
	test_cleanup_cmds=
	(cd "$TRASH_DIRECTORY") || return 1
	eval "$1" >"$TRASH_DIRECTORY/.test-output" 2>&1 </dev/null
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

# --- helpers for test bodies ---

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
