#!/bin/sh
test_description='the source tree: one meaning for each name a file may see'
. ./test-lib.sh

SRC="$TEST_DIRECTORY/.."

# "struct ama_NAME {" definitions in the C sources, one line each
definitions() {
	(cd "$SRC" && grep -h "^struct ama_[a-z0-9_]* {" \
		lib/*.[ch] plumbing/*.c porcelain/*.c server/*.[ch]) | sort
}

test_expect_success 'the sources are there' '
	definitions >all &&
	test_path_is_file "$SRC/lib/exec.h" &&
	test $(wc -l <all) -gt 20
'
# two definitions of one tag: a file including both headers would take a
# pointer to the one for the other without a warning (lib/exec.h and
# lib/stage.c were both struct ama_stage)
test_expect_success 'each struct ama_NAME is defined once' '
	uniq -d all >twice &&
	test_must_be_empty twice
'
test_done
