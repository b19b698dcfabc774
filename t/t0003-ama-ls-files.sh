#!/bin/sh
test_description='ama-ls-files: the entries of the index'
. ./test-lib.sh

# add files (root-relative names) to the index as ama-hash --stat would,
# dated in the past so that they are not racy
add() {
	touch -d @1600000000 -- "$@" &&
	for f; do
		printf "%s %s\t%s\0" "$(md5_of "$f")" "$(stat_fields "$f")" "$f" || return 1
	done | ama-update-index -z
}
# the ama-ls-files record of a root-relative file: STATE FILE [SHOWN-AS]
lsrec() {
	printf "%s %s %s\t%s\n" "$(md5_of "$2")" "$(stat -c %s -- "$2")" "$1" "${3-$2}"
}

usage='ama-ls-files [-z] [--state=<state>] [--stat] [<path>...]'

test_expect_success 'an unknown option is a usage error' '
	test_exit_code 2 ama-ls-files --bogus 2>err &&
	cat >expect <<-EOF &&
	ama-ls-files: unknown option '"'--bogus'"'
	ama-ls-files: usage: $usage
	EOF
	test_cmp expect err
'
test_expect_success '-h prints the usage' '
	ama-ls-files -h >out &&
	echo "usage: $usage" >expect &&
	test_cmp expect out
'
test_expect_success 'an unknown state is a usage error' '
	test_exit_code 2 ama-ls-files --state=new 2>err &&
	cat >expect <<-EOF &&
	ama-ls-files: unknown state '"'new'"' (want pending, staging, staged or committed)
	ama-ls-files: usage: $usage
	EOF
	test_cmp expect err
'
test_expect_success 'outside an asset it is a setup error' '
	test_exit_code 2 ama-ls-files 2>err &&
	echo "ama-ls-files: not inside an ama asset (no .ama in this folder or any parent); run '"'ama init CLASS'"' first" >expect &&
	test_cmp expect err
'
test_expect_success 'an asset without an index lists nothing' '
	mkdir .ama &&
	ama-ls-files >out &&
	test_must_be_empty out &&
	test_path_is_missing .ama/index
'

test_expect_success 'setup' '
	mkdir -p d/e f &&
	printf a >a &&
	printf bb >d.txt &&
	printf ccc >d/c &&
	printf dddd >d/e/x &&
	printf eeeee >f/y &&
	printf ffffff >z &&
	add a d.txt d/c d/e/x f/y z &&
	printf "%s 6\tz\n" "$(md5_of z)" | ama-update-index --state=staged &&
	printf "%s 5\tf/y\n" "$(md5_of f/y)" | ama-update-index --state=committed
'
test_expect_success 'every entry, in index order, from the root' '
	{
		lsrec pending a && lsrec pending d.txt && lsrec pending d/c &&
		lsrec pending d/e/x && lsrec committed f/y && lsrec staged z
	} >expect &&
	ama-ls-files >actual &&
	test_cmp expect actual
'
test_expect_success '--state filters' '
	lsrec staged z >expect &&
	ama-ls-files --state=staged >actual &&
	test_cmp expect actual &&
	ama-ls-files --state=staging >actual &&
	test_must_be_empty actual
'
test_expect_success '--stat adds the stat record and the flags' '
	printf "%s 4 pending %s -\td/e/x\n" "$(md5_of d/e/x)" "$(stat_fields d/e/x | cut -d" " -f2-)" >expect &&
	ama-ls-files --stat d/e/x >actual &&
	test_cmp expect actual
'
test_expect_success 'a folder operand selects what is below it, a file itself' '
	{ lsrec pending d/c && lsrec pending d/e/x && lsrec staged z; } >expect &&
	ama-ls-files z d >actual &&
	test_cmp expect actual
'
test_expect_success 'overlapping operands print each entry once, in order' '
	{ lsrec pending d/c && lsrec pending d/e/x; } >expect &&
	ama-ls-files d/e/x d d/e ./d/../d >actual &&
	test_cmp expect actual
'
test_expect_success 'a folder operand with a trailing slash or a dot works' '
	{ lsrec pending d/c && lsrec pending d/e/x; } >expect &&
	ama-ls-files d/ >actual &&
	test_cmp expect actual &&
	ama-ls-files . >all &&
	ama-ls-files >all2 &&
	test_cmp all all2
'
test_expect_success 'from a subfolder: only what is below, relative to it' '
	{ lsrec pending d/c c && lsrec pending d/e/x e/x; } >expect &&
	(cd d && ama-ls-files) >actual &&
	test_cmp expect actual
'
test_expect_success 'from a subfolder, operands are relative to it' '
	{
		lsrec pending a ../../a && lsrec pending d/e/x x &&
		lsrec committed f/y ../../f/y
	} >expect &&
	(cd d/e && ama-ls-files ../../f ../../a .) >actual &&
	test_cmp expect actual
'
test_expect_success 'absolute operands inside the asset work' '
	lsrec pending d/c >expect &&
	ama-ls-files "$PWD/d/c" >actual &&
	test_cmp expect actual
'
test_expect_success 'an operand with no entry fails, the others print' '
	test_exit_code 1 ama-ls-files a nosuch d/e/nosuch ../x .ama >actual 2>err &&
	lsrec pending a >expect &&
	test_cmp expect actual &&
	cat >expect <<-\EOF &&
	ama-ls-files: nosuch: not in the index
	ama-ls-files: d/e/nosuch: not in the index
	ama-ls-files: ../x: outside the asset
	ama-ls-files: .ama: inside .ama, which ama manages
	EOF
	test_cmp expect err
'
test_expect_success '"-" reads operands from stdin, -z too' '
	{ lsrec pending a && lsrec staged z; } >expect &&
	printf "z\na\n" | ama-ls-files - >actual &&
	test_cmp expect actual &&
	printf "z\0a\0" | ama-ls-files -z - >actual &&
	printf "%s 1 pending\ta\0%s 6 staged\tz\0" "$(md5_of a)" "$(md5_of z)" >expect &&
	cmp expect actual
'

test_expect_success 'setup awkward names' '
	mkdir "dir	tab" &&
	printf 1 >"tab	name" &&
	printf 2 >"new
line" &&
	printf 3 >"quo\"te" &&
	printf 4 >"back\\slash" &&
	printf 5 >-dash &&
	printf 6 >"$(printf "latin1-\351")" &&
	printf 7 >"dir	tab/in\"side" &&
	add "tab	name" "new
line" "quo\"te" "back\\slash" -dash "$(printf "latin1-\351")" "dir	tab/in\"side"
'
test_expect_success 'awkward names are C-quoted without -z' '
	ama-ls-files "tab	name" "new
line" "quo\"te" "back\\slash" -- -dash "$(printf "latin1-\351")" "dir	tab" >actual &&
	{
		printf "%s 1 pending\t%s\n" "$(md5_of -dash)" -dash &&
		printf "%s 1 pending\t%s\n" "$(md5_of "back\\slash")" "\"back\\\\slash\"" &&
		printf "%s 1 pending\t%s\n" "$(md5_of "dir	tab/in\"side")" "\"dir\\ttab/in\\\"side\"" &&
		printf "%s 1 pending\t%s\n" "$(md5_of "$(printf "latin1-\351")")" "$(printf "latin1-\351")" &&
		printf "%s 1 pending\t%s\n" "$(md5_of "new
line")" "\"new\\nline\"" &&
		printf "%s 1 pending\t%s\n" "$(md5_of "quo\"te")" "\"quo\\\"te\"" &&
		printf "%s 1 pending\t%s\n" "$(md5_of "tab	name")" "\"tab\\tname\""
	} >expect &&
	test_cmp expect actual
'
test_expect_success 'quoted names read back select the same entries' '
	cut -f2 actual | ama-ls-files - >again &&
	test_cmp actual again
'
test_expect_success 'awkward names are raw with -z, also from a subfolder' '
	(cd "dir	tab" && ama-ls-files -z) >actual &&
	printf "%s 1 pending\t%s\0" "$(md5_of "dir	tab/in\"side")" "in\"side" >expect &&
	cmp expect actual &&
	(cd "dir	tab" && ama-ls-files "../new
line") >actual &&
	printf "%s 1 pending\t%s\n" "$(md5_of "new
line")" "\"../new\\nline\"" >expect &&
	test_cmp expect actual
'
test_expect_success 'a missing awkward name is named quoted' '
	test_exit_code 1 ama-ls-files "no
such" 2>err &&
	printf "%s\n" "ama-ls-files: \"no\\nsuch\": not in the index" >expect &&
	test_cmp expect err
'

test_expect_success 'a corrupt index is a setup error' '
	cp .ama/index good &&
	test_when_finished "cp good .ama/index" &&
	printf X | dd of=.ama/index bs=1 seek=100 conv=notrunc 2>/dev/null &&
	test_exit_code 2 ama-ls-files >out 2>err &&
	test_must_be_empty out &&
	echo "ama-ls-files: $PWD/.ama/index: index is corrupt: checksum mismatch (truncated or damaged)" >expect &&
	test_cmp expect err
'
test_expect_success 'a truncated index is corrupt, not empty' '
	cp .ama/index good &&
	test_when_finished "cp good .ama/index" &&
	head -c 200 good >.ama/index &&
	test_exit_code 2 ama-ls-files >out 2>err &&
	test_must_be_empty out &&
	echo "ama-ls-files: $PWD/.ama/index: index is corrupt: checksum mismatch (truncated or damaged)" >expect &&
	test_cmp expect err
'
test_expect_success 'an index that is not an index is corrupt' '
	cp .ama/index good &&
	test_when_finished "cp good .ama/index" &&
	printf "%064d" 0 >.ama/index &&
	test_exit_code 2 ama-ls-files >out 2>err &&
	echo "ama-ls-files: $PWD/.ama/index: index is corrupt: bad signature (not an ama index)" >expect &&
	test_cmp expect err
'
test_expect_success 'a held lock does not stop readers' '
	: >.ama/index.lock &&
	test_when_finished "rm -f .ama/index.lock" &&
	ama-ls-files a >actual &&
	lsrec pending a >expect &&
	test_cmp expect actual
'
test_expect_success 'a failing stdout is a setup error' '
	test_exit_code 2 ama-ls-files >/dev/full 2>err &&
	echo "ama-ls-files: cannot write output: No space left on device" >expect &&
	test_cmp expect err
'
test_done
