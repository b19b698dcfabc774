#!/bin/sh
test_description='installing ama: any prefix finds its own programs; setup.sh installs only what is missing'
. ./test-lib.sh

SRC="$TEST_DIRECTORY/.."

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
