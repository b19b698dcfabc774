#!/bin/sh
test_description='ama diff and ama log: what changed between versions, and between a version and the work tree'
. ./test-lib.sh

dusage='ama diff [--name-status | --stat] [-z] [<version> [<version>]] [-- <pathspec>...]'
lusage='ama log [-n <count>] [--name-status] [-z] [<pathspec>...]'
USER=tester
export USER

# ama log with each date as DATE
log() {
	ama log "$@" | sed "s/^Date:   [0-9-]* [0-9:]* UTC\$/Date:   DATE/"
}

test_expect_success 'setup: three versions with awkward names' '
	mkdir a && cd a &&
	ama init -q imaging &&
	mkdir d && printf a0 >a && printf b0 >d/b && printf tab >"t	ab" &&
	printf nl >"new
line" && printf keep >keep &&
	ama add -q . && ama upload -q -m "first light
a second line, and a $(printf "\033")[31m colour" &&
	printf a1x >a && rm d/b && ama remove -q d/b && printf n >d/n &&
	ama add -q a d/n && ama upload -q -m v1 &&
	rm "t	ab" && ama remove -q "t	ab" && printf b2 >d/b && ama add -q d/b &&
	ama upload -q -m v2
'

test_expect_success 'ama diff: three versions, or both formats, are usage errors' '
	cd a &&
	test_exit_code 2 ama diff 0.0.0 0.0.1 0.0.2 2>../err &&
	test_exit_code 2 ama diff --name-status --stat 2>>../err &&
	test_exit_code 2 ama diff 0.0 2>>../err &&
	cat >../expect <<-EOF &&
	ama-diff: at most two versions
	ama-diff: usage: $dusage
	ama-diff: --name-status or --stat, not both
	ama-diff: usage: $dusage
	ama-diff: bad version '"'0.0'"' (want X.Y.Z, Y and Z 0..98)
	ama-diff: usage: $dusage
	EOF
	test_cmp ../expect ../err
'
test_expect_success 'ama diff: outside an asset exit 2; a version it does not have, or none, exit 1' '
	test_exit_code 2 ama diff 2>err &&
	echo "ama-diff: not inside an ama asset (no .ama in this folder or any parent); run '"'ama init CLASS'"' first" >expect &&
	test_cmp expect err &&
	(cd a && test_exit_code 1 ama diff 0.0.9) 2>err &&
	echo "ama-diff: asset imaging/1 has no version 0.0.9" >expect &&
	test_cmp expect err &&
	mkdir n && (cd n && ama init -q imaging && printf x >x && ama add -q x) &&
	(cd n && test_exit_code 1 ama diff) >out 2>err &&
	test_must_be_empty out &&
	echo "ama-diff: no versions yet: the asset was never uploaded (ama upload)" >expect &&
	test_cmp expect err
'

test_expect_success 'two versions: modified, deleted, added, with the sizes' '
	(cd a && ama diff 0.0.0 0.0.2) >out &&
	cat >expect <<-\EOF &&
	modified: a (2 B -> 3 B)
	modified: d/b (2 B -> 2 B)
	added:    d/n (1 B)
	deleted:  "t\tab" (3 B)
	EOF
	test_cmp expect out
'
test_expect_success '--name-status: A/M/D TAB path records, quoted; reversed, the other way' '
	(cd a && ama diff --name-status 0.0.0 0.0.1) >out &&
	printf "M\ta\nD\td/b\nA\td/n\n" >expect &&
	test_cmp expect out &&
	(cd a && ama diff --name-status 0.0.1 0.0.0) >out &&
	printf "M\ta\nA\td/b\nD\td/n\n" >expect &&
	test_cmp expect out &&
	(cd a && ama diff --name-status 0.0.1 0.0.2) >out &&
	printf "A\td/b\nD\t\"t\\\\tab\"\n" >expect &&
	test_cmp expect out
'
test_expect_success '-z: NUL-terminated, raw' '
	(cd a && ama diff -z --name-status 0.0.1 0.0.2) >out &&
	printf "A\td/b\0D\tt\tab\0" >expect &&
	cmp expect out
'
test_expect_success '--stat: counts and bytes' '
	(cd a && ama diff --stat 0.0.0 0.0.2) >out &&
	echo "1 added (1 B), 2 modified (5 B), 1 deleted (3 B)" >expect &&
	test_cmp expect out
'
test_expect_success 'pathspecs after --, relative to where it runs' '
	(cd a && ama diff --name-status 0.0.0 0.0.2 -- d) >out &&
	printf "M\td/b\nA\td/n\n" >expect &&
	test_cmp expect out &&
	(cd a/d && ama diff --name-status 0.0.0 0.0.1 -- b) >out &&
	printf "D\td/b\n" >expect &&
	test_cmp expect out
'
test_expect_success 'the same version twice: nothing' '
	(cd a && ama diff 0.0.1 0.0.1) >out &&
	test_must_be_empty out
'

test_expect_success 'the work tree against its version: nothing when it is clean' '
	(cd a && ama diff) >out &&
	test_must_be_empty out
'
test_expect_success '... a modified, an added, a deleted file, as ama status sees them' '
	cd a &&
	printf changed >keep && printf new >added && ama add -q added &&
	rm "new
line" &&
	ama diff >../out &&
	cat >../expect <<-\EOF &&
	added:    added (3 B)
	modified: keep (4 B -> 7 B)
	deleted:  "new\nline" (2 B)
	EOF
	test_cmp ../expect ../out &&
	ama diff --name-status >../out &&
	printf "A\tadded\nM\tkeep\nD\t\"new\\\\nline\"\n" >../expect &&
	test_cmp ../expect ../out &&
	ama diff --stat >../out &&
	echo "1 added (3 B), 1 modified (7 B), 1 deleted (2 B)" >../expect &&
	test_cmp ../expect ../out
'
test_expect_success '... against an older version' '
	(cd a && ama diff --name-status 0.0.0) >out &&
	printf "M\ta\nA\tadded\nM\td/b\nA\td/n\nM\tkeep\nD\t\"new\\\\nline\"\nD\t\"t\\\\tab\"\n" >expect &&
	test_cmp expect out
'
test_expect_success '... files left out of a partial clone are no change' '
	(cd a && printf keep >keep && ama remove -q added && rm added && ama download -q) &&
	ama clone -q imaging/1 part -- d &&
	(cd part && ama diff) >out &&
	test_must_be_empty out &&
	rm part/d/n &&
	(cd part && ama diff --name-status) >out &&
	printf "D\td/n\n" >expect &&
	test_cmp expect out
'

test_expect_success 'ama log: -n 0 is a usage error; outside an asset, exit 2' '
	(cd a && test_exit_code 2 ama log -n 0) 2>err &&
	cat >expect <<-EOF &&
	ama-log: -n wants a count of 1 or more
	ama-log: usage: $lusage
	EOF
	test_cmp expect err &&
	test_exit_code 2 ama log 2>err &&
	echo "ama-log: not inside an ama asset (no .ama in this folder or any parent); run '"'ama init CLASS'"' first" >expect &&
	test_cmp expect err
'
test_expect_success 'ama log: the versions, newest first; a control byte in a message is shown as ?' '
	(cd a && log) >out &&
	cat >expect <<-\EOF &&
	version 0.0.2
	Author: tester
	Date:   DATE
	    v2

	version 0.0.1
	Author: tester
	Date:   DATE
	    v1

	version 0.0.0
	Author: tester
	Date:   DATE
	    first light
	    a second line, and a ?[31m colour

	EOF
	test_cmp expect out
'
test_expect_success '... -n counts; --name-status shows what each changed' '
	(cd a && log -n 2 --name-status) >out &&
	cat >expect <<-\EOF &&
	version 0.0.2
	Author: tester
	Date:   DATE
	    v2

	A	d/b
	D	"t\tab"

	version 0.0.1
	Author: tester
	Date:   DATE
	    v1

	M	a
	D	d/b
	A	d/n

	EOF
	test_cmp expect out
'
test_expect_success '... only the versions that touch the pathspecs' '
	(cd a && log --name-status -- "t	ab") >out &&
	cat >expect <<-\EOF &&
	version 0.0.2
	Author: tester
	Date:   DATE
	    v2

	D	"t\tab"

	version 0.0.0
	Author: tester
	Date:   DATE
	    first light
	    a second line, and a ?[31m colour

	A	"t\tab"

	EOF
	test_cmp expect out &&
	(cd a/d && log -n 1 n) | head -n 1 >out &&
	echo "version 0.0.1" >expect &&
	test_cmp expect out
'
test_expect_success '... -z: the records NUL-terminated and raw' '
	(cd a && ama log -z --name-status -n 1) | tr "\0" "|" | tail -n 1 >out &&
	printf "A\td/b|D\tt\tab|\n" >expect &&
	test_cmp expect out
'
test_done
