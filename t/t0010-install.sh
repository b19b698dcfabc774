#!/bin/sh
test_description='installing ama: any prefix finds its own programs; setup.sh installs only what is missing'
. ./test-lib.sh

SRC="$TEST_DIRECTORY/.."
# a make of our own, not a job of the make running the tests
unset MAKEFLAGS MFLAGS MAKELEVEL

# what a user has: the system's folders, none of the build tree's
clean_env() {
	env -u AMA_EXEC_PATH PATH=/usr/bin:/bin "$@"
}

# install PREFIX: make install prefix=PREFIX, the build as configured
install_into() {
	make -s -C "$AMA_BUILD_DIR" install prefix="$1" >install.log 2>&1 ||
		{ cat install.log >&2; return 1; }
}

test_expect_success 'make install prefix=P, twice, into two prefixes' '
	install_into "$TRASH_DIRECTORY/one" &&
	install_into "$TRASH_DIRECTORY/two" &&
	test -x one/bin/ama && test -x one/libexec/ama/ama-init &&
	test -x two/bin/ama && test -x two/libexec/ama/ama-upload
'
# the trap: a build configured for /usr/local, installed elsewhere, looked
# for its programs in /usr/local/libexec/ama
test_expect_success 'each ama runs the programs of its own prefix' '
	clean_env one/bin/ama --exec-path >out &&
	echo "$TRASH_DIRECTORY/one/libexec/ama" >expect &&
	test_cmp expect out &&
	clean_env two/bin/ama --exec-path >out &&
	echo "$TRASH_DIRECTORY/two/libexec/ama" >expect &&
	test_cmp expect out &&
	rm one/libexec/ama/ama-versions &&
	(mkdir a1 && cd a1 && clean_env ../one/bin/ama init imaging) &&
	test_path_is_file a1/.ama/config &&
	(cd a1 && test_exit_code 2 clean_env ../one/bin/ama versions 2>../err) &&
	echo "ama: '"'versions'"' is an ama command, but ama-versions is not installed in $TRASH_DIRECTORY/one/libexec/ama or on \$PATH" >expect &&
	test_cmp expect err
'
test_expect_success 'an installation moved elsewhere still runs the whole flow' '
	mv two moved &&
	clean_env moved/bin/ama --exec-path >out &&
	echo "$TRASH_DIRECTORY/moved/libexec/ama" >expect &&
	test_cmp expect out &&
	mkdir a2 && cd a2 &&
	clean_env ../moved/bin/ama init -q imaging &&
	printf "data" >f &&
	clean_env ../moved/bin/ama add -q f &&
	clean_env USER=tester ../moved/bin/ama upload -m moved >out &&
	echo "published imaging/1 version 0.0.0" >expect &&
	test_cmp expect out
'
test_expect_success 'AMA_EXEC_PATH still comes first' '
	mkdir extra &&
	printf "#!/bin/sh\necho extra\n" >extra/ama-extra &&
	chmod +x extra/ama-extra &&
	env PATH=/usr/bin:/bin AMA_EXEC_PATH="$TRASH_DIRECTORY/extra" \
		one/bin/ama --exec-path >out &&
	echo "$TRASH_DIRECTORY/extra:$TRASH_DIRECTORY/one/libexec/ama" >expect &&
	test_cmp expect out &&
	env PATH=/usr/bin:/bin AMA_EXEC_PATH="$TRASH_DIRECTORY/extra" \
		one/bin/ama extra >out &&
	echo extra >expect &&
	test_cmp expect out
'

# scripts/setup.sh --missing, on a machine where every package but Debian's
# awscli is there and node and npm are on PATH: with and without an aws of
# its own (from pip, or AWS's installer)
test_expect_success 'setup: a machine with every package but awscli' '
	mkdir fake &&
	cat >fake/dpkg-query <<-\EOF &&
	#!/bin/sh
	for last; do :; done
	test "$last" = awscli || echo "install ok installed"
	EOF
	printf "#!/bin/sh\n" >fake/node &&
	printf "#!/bin/sh\n" >fake/npm &&
	printf "#!/bin/sh\n" >fake/aws &&
	chmod +x fake/* &&
	for tool in dirname grep; do
		ln -s "$(command -v $tool)" fake/$tool || return 1
	done
'
test_expect_success 'an aws already on PATH: setup.sh installs nothing' '
	PATH="$TRASH_DIRECTORY/fake" /bin/sh "$SRC/scripts/setup.sh" --missing >out &&
	test_must_be_empty out
'
test_expect_success 'no aws on PATH: Debian'"'"'s awscli' '
	rm fake/aws &&
	PATH="$TRASH_DIRECTORY/fake" /bin/sh "$SRC/scripts/setup.sh" --missing >out &&
	echo awscli >expect &&
	test_cmp expect out
'
test_done
