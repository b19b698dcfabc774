#!/bin/sh
test_description='ama status: added, modified, deleted and untracked files'
. ./test-lib.sh

usage='ama status [--porcelain] [-z] [-j <n>] [<path>...]'

# what ama-ls-files --stat says of a file's entry now: its stat and flags
entry() {
	ama-ls-files --stat -- "$1" | cut -d" " -f4-
}
# what the entry of a file would be, refreshed to the file as it is
fresh() {
	printf "%s -\t%s\n" "$(stat_fields "$1" | cut -d" " -f2-)" "$1"
}
old() {
	touch -d @1600000000 -- "$@"
}
# mark entries committed, as a published version would
commit() {
	ama-ls-files -z -- "$@" | ama-update-index -z --state=committed
}

test_expect_success 'an unknown option is a usage error' '
	test_exit_code 2 ama-status --bogus 2>err &&
	cat >expect <<-EOF &&
	ama-status: unknown option '"'--bogus'"'
	ama-status: usage: $usage
	EOF
	test_cmp expect err
'
test_expect_success '-h prints the usage' '
	ama-status -h >out &&
	echo "usage: $usage" >expect &&
	test_cmp expect out
'
test_expect_success '-z without --porcelain is a usage error' '
	test_exit_code 2 ama-status -z 2>err &&
	cat >expect <<-EOF &&
	ama-status: -z goes with --porcelain
	ama-status: usage: $usage
	EOF
	test_cmp expect err
'
test_expect_success 'an empty path is a usage error, not the whole asset' '
	test_exit_code 2 ama-status . "" 2>err &&
	cat >expect <<-EOF &&
	ama-status: empty path (use '"'.'"' for this folder)
	ama-status: usage: $usage
	EOF
	test_cmp expect err
'
test_expect_success 'outside an asset it is a setup error' '
	test_exit_code 2 ama-status >out 2>err &&
	test_must_be_empty out &&
	echo "ama-status: not inside an ama asset (no .ama in this folder or any parent); run '"'ama init CLASS'"' first" >expect &&
	test_cmp expect err
'

test_expect_success 'an asset with nothing in it: nothing added yet' '
	mkdir empty && cd empty &&
	ama init -q imaging &&
	ama-status >../out 2>../err &&
	cat >../expect <<-\EOF &&
	asset of class imaging, not uploaded yet
	nothing added yet (ama add PATH)
	EOF
	test_cmp ../expect ../out &&
	test_must_be_empty ../err
'

# An uploaded asset of its own (in pub/, which the asset made at the top
# below skips: it holds its own .ama), for what the current version holds.
test_expect_success 'setup: an uploaded asset' '
	mkdir pub && cd pub &&
	ama init -q imaging &&
	mkdir -p d/e &&
	for f in a b d/c d/e/f g "t	ab" "n
l"; do
		echo "content of $f" >"$f" || return 1
	done &&
	old a b d/c d/e/f g "t	ab" "n
l" &&
	ama add -q . && ama upload -q -m first &&
	ama-status >../out 2>../err &&
	cat >../expect <<\EOF &&
asset imaging/1 at version 0.0.0
nothing to do: every added file is unchanged and uploaded
EOF
	test_cmp ../expect ../out &&
	test_must_be_empty ../err
'
test_expect_success 'removed from the index, still on disk: removed and untracked' '
	cd pub &&
	ama remove -q a &&
	ama-status >../out 2>../err &&
	cat >../expect <<\EOF &&
asset imaging/1 at version 0.0.0
removed:
	a   the next version drops it
untracked:
	a   ama add a
EOF
	test_cmp ../expect ../out &&
	test_must_be_empty ../err &&
	ama-status --porcelain >../out &&
	printf "removed\ta\nuntracked\ta\n" >../expect &&
	test_cmp ../expect ../out
'
test_expect_success 'removed and gone from disk: removed only, a folder file by file' '
	cd pub &&
	rm a && rm -r d && ama remove -q d &&
	ama-status --porcelain >../out 2>../err &&
	printf "removed\t%s\n" a d/c d/e/f >../expect &&
	test_cmp ../expect ../out &&
	test_must_be_empty ../err
'
test_expect_success 'every section at once, in order: added, removed, modified, deleted, untracked' '
	cd pub &&
	echo new >n && ama add -q n &&
	echo CHANGED >b &&
	rm g &&
	echo u >u &&
	ama-status >../out 2>../err &&
	cat >../expect <<\EOF &&
asset imaging/1 at version 0.0.0
added:
	n       ama upload
removed:
	a       the next version drops it
	d/c     the next version drops it
	d/e/f   the next version drops it
modified:
	b       ama add b
deleted:
	g       ama remove g
untracked:
	u       ama add u
EOF
	test_cmp ../expect ../out &&
	test_must_be_empty ../err
'
test_expect_success 'operands: a removed file or folder is named without error' '
	cd pub &&
	ama-status --porcelain d a >../out 2>../err &&
	printf "removed\t%s\n" a d/c d/e/f >../expect &&
	test_cmp ../expect ../out &&
	test_must_be_empty ../err &&
	ama-status --porcelain d/e/f d/e d >../out 2>../err &&
	printf "removed\t%s\n" d/c d/e/f >../expect &&
	test_cmp ../expect ../out &&
	test_must_be_empty ../err &&
	test_exit_code 1 ama-status --porcelain d/nosuch b >../out 2>../err &&
	printf "modified\tb\n" >../expect &&
	test_cmp ../expect ../out &&
	echo "ama-status: d/nosuch: no such file" >../expect &&
	test_cmp ../expect ../err
'
test_expect_success 'from a subfolder: removed paths relative to it' '
	cd pub &&
	mkdir -p sub &&
	(cd sub && ama-status . ../a ../d) >../out &&
	cat >../expect <<\EOF &&
asset imaging/1 at version 0.0.0
removed:
	../a       the next version drops it
	../d/c     the next version drops it
	../d/e/f   the next version drops it
EOF
	test_cmp ../expect ../out
'
test_expect_success 'awkward removed names: C-quoted, with and without -z' '
	cd pub &&
	ama remove -q "t	ab" "n
l" &&
	ama-status --porcelain -z "t	ab" "n
l" >../out &&
	printf "removed\t%s\0" "n
l" "t	ab" >../expect &&
	printf "untracked\t%s\0" "n
l" "t	ab" >>../expect &&
	cmp ../expect ../out &&
	ama-status --porcelain "t	ab" "n
l" >../out &&
	printf "%s\n" "removed	\"n\\nl\"" "removed	\"t\\tab\"" \
		"untracked	\"n\\nl\"" "untracked	\"t\\tab\"" >../expect &&
	test_cmp ../expect ../out &&
	ama-status "t	ab" >../out &&
	cat >../expect <<\EOF &&
asset imaging/1 at version 0.0.0
removed:
	"t\tab"   the next version drops it
untracked:
	"t\tab"   ama add $'"'"'t\011ab'"'"'
EOF
	test_cmp ../expect ../out
'
test_expect_success 'the next upload drops them: nothing removed at 0.0.1' '
	cd pub &&
	ama add -q b && ama remove -q g &&
	ama upload -q -m second &&
	ama-status >../out 2>../err &&
	cat >../expect <<\EOF &&
asset imaging/1 at version 0.0.1
untracked:
	"n\nl"    ama add $'"'"'n\012l'"'"'
	"t\tab"   ama add $'"'"'t\011ab'"'"'
	u         ama add u
EOF
	test_cmp ../expect ../out &&
	test_must_be_empty ../err
'
test_expect_success 'a .ama/meta without the version is named, exit 1, the rest shown' '
	cd pub &&
	ama remove -q n &&
	mv .ama/meta meta.away &&
	test_when_finished "mv pub/meta.away pub/.ama/meta" &&
	test_exit_code 1 ama-status --porcelain n b >../out 2>../err &&
	printf "untracked\tn\n" >../expect &&
	test_cmp ../expect ../out &&
	echo "ama-status: .ama/meta: does not hold version 0.0.1 of imaging/1" >../expect &&
	test_cmp ../expect ../err
'

test_expect_success 'setup' '
	ama init -q imaging &&
	# the scratch files of these tests are not part of the asset
	cat >.amaignore <<-\EOF &&
	/out*
	/err*
	/expect*
	/actual*
	/before*
	/inode.*
	/ref
	/good
	/fix*
	/config.before
	/.test-output
	/.local/
	EOF
	old .amaignore
'
test_expect_success 'untracked files' '
	ama-status >out 2>err &&
	cat >expect <<\EOF &&
asset of class imaging, not uploaded yet
untracked:
	.amaignore   ama add .amaignore
EOF
	test_cmp expect out &&
	test_must_be_empty err
'
test_expect_success 'setup files' '
	mkdir -p d/e &&
	for f in a b c d/e/f d/g h; do
		echo "content of $f" >$f || return 1
	done &&
	old a b c d/e/f d/g h &&
	ama-add -q .
'
test_expect_success 'added files wait for ama upload' '
	ama-status >out 2>err &&
	cat >expect <<\EOF &&
asset of class imaging, not uploaded yet
added:
	.amaignore   ama upload
	a            ama upload
	b            ama upload
	c            ama upload
	d/e/f        ama upload
	d/g          ama upload
	h            ama upload
EOF
	test_cmp expect out &&
	test_must_be_empty err
'
test_expect_success '--porcelain: one record a file, root-relative' '
	ama-status --porcelain >out &&
	printf "added\t%s\n" .amaignore a b c d/e/f d/g h >expect &&
	test_cmp expect out &&
	ama-status --porcelain -z >out &&
	printf "added\t%s\0" .amaignore a b c d/e/f d/g h >expect &&
	cmp expect out
'
test_expect_success 'committed and unchanged: nothing to do' '
	commit . &&
	cp .ama/index before &&
	ama-status >out &&
	cat >expect <<-\EOF &&
	asset of class imaging, not uploaded yet
	nothing to do: every added file is unchanged and uploaded
	EOF
	test_cmp expect out &&
	ama-status --porcelain >out &&
	test_must_be_empty out &&
	cmp before .ama/index
'
test_expect_success 'the header names the asset and its version' '
	cp .ama/config config.before &&
	test_when_finished "cp config.before .ama/config" &&
	printf "[asset]\nseq = 3\nversion = 0.0.2\n" >>.ama/config &&
	test_exit_code 1 ama-status >out 2>err &&
	cat >expect <<-\EOF &&
	asset imaging/3 at version 0.0.2
	nothing to do: every added file is unchanged and uploaded
	EOF
	test_cmp expect out &&
	# no .ama/meta here: what the next version drops cannot be told
	echo "ama-status: .ama/meta: does not hold version 0.0.2 of imaging/3" >expect &&
	test_cmp expect err
'
test_expect_success 'ama status runs ama-status' '
	ama status >out &&
	cat >expect <<-\EOF &&
	asset of class imaging, not uploaded yet
	nothing to do: every added file is unchanged and uploaded
	EOF
	test_cmp expect out
'

test_expect_success 'a touch-only change: clean, the entry refreshed silently' '
	touch -d @1600000100 a &&
	ama-status >out 2>err &&
	cat >expect <<-\EOF &&
	asset of class imaging, not uploaded yet
	nothing to do: every added file is unchanged and uploaded
	EOF
	test_cmp expect out &&
	test_must_be_empty err &&
	fresh a >expect &&
	entry a >actual &&
	test_cmp expect actual &&
	! cmp -s before .ama/index
'
test_expect_success 'the next status neither reads the file nor writes the index' '
	test_give_to_user . &&
	chmod 0 a &&
	test_when_finished "chmod 644 a" &&
	ama-status --porcelain >out &&
	test_must_be_empty out &&
	cp .ama/index before &&
	ls -i .ama/index >inode.before &&
	test_as_user ama-status --porcelain >out 2>err &&
	test_must_be_empty out &&
	test_must_be_empty err &&
	ls -i .ama/index >inode.after &&
	test_cmp inode.before inode.after &&
	cmp before .ama/index
'
test_expect_success 'same size, new content, mtime put back: modified (ctime)' '
	touch -r b ref &&
	echo "CONTENT OF b" >b &&
	touch -r ref b &&
	test "$(stat -c %Y b)" = 1600000000 &&
	ama-status --porcelain >out &&
	printf "modified\tb\n" >expect &&
	test_cmp expect out
'
test_expect_success 'a file replaced by a rename, same content: clean, refreshed' '
	cp c c.new && touch -r c c.new && mv c.new c &&
	ama-status --porcelain >out &&
	printf "modified\tb\n" >expect &&
	test_cmp expect out &&
	fresh c >expect &&
	entry c >actual &&
	test_cmp expect actual
'
test_expect_success 'a file replaced by a rename, new content, same size: modified' '
	echo "CONTENT OF c" >c.new && touch -r c c.new && mv c.new c &&
	ama-status --porcelain >out &&
	printf "modified\tb\nmodified\tc\n" >expect &&
	test_cmp expect out
'
test_expect_success 'a deleted file, and a file turned into a folder' '
	rm d/e/f && rmdir d/e &&
	rm h && mkdir h && echo "now below" >h/x &&
	ama-status --porcelain >out &&
	printf "modified\tb\nmodified\tc\ndeleted\td/e/f\ndeleted\th\nuntracked\th/x\n" >expect &&
	test_cmp expect out
'
test_expect_success 'new files and links are untracked, ignored ones are not shown' '
	echo new >new && echo tmp >x.tmp && echo "*.tmp" >>.amaignore &&
	ln -s a link && mkfifo fifo &&
	ama add -q .amaignore && commit .amaignore &&
	ama-status >out 2>err &&
	cat >expect <<\EOF &&
asset of class imaging, not uploaded yet
modified:
	b       ama add b
	c       ama add c
deleted:
	d/e/f   ama remove d/e/f
	h       ama remove h
untracked:
	h/x     ama add h/x
	link    ama add link
	new     ama add new
EOF
	test_cmp expect out &&
	test_must_be_empty err &&
	rm link
'
test_expect_success 'from a subfolder: paths relative to it, fixes too' '
	mkdir -p sub/deeper &&
	(cd sub/deeper && ama-status) >out &&
	cat >expect <<\EOF &&
asset of class imaging, not uploaded yet
modified:
	../../b       ama add ../../b
	../../c       ama add ../../c
deleted:
	../../d/e/f   ama remove ../../d/e/f
	../../h       ama remove ../../h
untracked:
	../../h/x     ama add ../../h/x
	../../new     ama add ../../new
EOF
	test_cmp expect out &&
	(cd sub/deeper && ama-status --porcelain) >out &&
	printf "modified\tb\nmodified\tc\ndeleted\td/e/f\ndeleted\th\nuntracked\th/x\nuntracked\tnew\n" >expect &&
	test_cmp expect out
'
test_expect_success 'operands select what is shown' '
	ama-status --porcelain c d h >out 2>err &&
	printf "modified\tc\ndeleted\td/e/f\ndeleted\th\nuntracked\th/x\n" >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	(cd d && ama-status --porcelain g ../new) >out 2>err &&
	printf "untracked\tnew\n" >expect &&
	test_cmp expect out &&
	test_must_be_empty err
'
test_expect_success 'a deleted file or folder named is deleted, not an error' '
	ama-status --porcelain d/e/f d/e >out 2>err &&
	printf "deleted\td/e/f\n" >expect &&
	test_cmp expect out &&
	test_must_be_empty err
'
test_expect_success 'an operand that names nothing is named, exit 1' '
	test_exit_code 1 ama-status --porcelain nosuch c >out 2>err &&
	printf "modified\tc\n" >expect &&
	test_cmp expect out &&
	echo "ama-status: nosuch: no such file" >expect &&
	test_cmp expect err
'
test_expect_success 'an operand outside the asset is a setup error' '
	test_exit_code 2 ama-status ../x >out 2>err &&
	test_must_be_empty out &&
	echo "ama-status: ../x: outside the asset" >expect &&
	test_cmp expect err
'
test_expect_success 'the fixes it prints work when pasted' '
	ama-status >out &&
	sed -n "s/^	.*   \(ama .*\)/\1/p" out >fixes &&
	cat >expect <<-\EOF &&
	ama add b
	ama add c
	ama remove d/e/f
	ama remove h
	ama add h/x
	ama add new
	EOF
	test_cmp expect fixes &&
	sh -e fixes >/dev/null &&
	commit . &&
	ama-status >out &&
	cat >expect <<-\EOF &&
	asset of class imaging, not uploaded yet
	nothing to do: every added file is unchanged and uploaded
	EOF
	test_cmp expect out
'
test_expect_success 'any -j gives the same answer' '
	mkdir many &&
	i=0 &&
	while test $i -lt 300
	do
		echo "file $i" >many/$i || return 1
		i=$((i + 1))
	done &&
	old many/* && ama-add -q many && commit many &&
	for n in 3 33 133; do
		echo "FILE $n" >many/$n || return 1
	done &&
	rm many/7 many/77 && echo new >many/new &&
	ama-status -j 1 --porcelain >expect &&
	ama-status -j 4 --porcelain >actual &&
	test_cmp expect actual &&
	cat >expect <<-\EOF &&
	modified	many/133
	modified	many/3
	modified	many/33
	deleted	many/7
	deleted	many/77
	untracked	many/new
	EOF
	test_cmp expect actual &&
	rm -r many && ama-remove -q many
'

test_expect_success 'setup awkward names' '
	mkdir awk &&
	printf 1 >"awk/tab	name" &&
	printf 2 >"awk/new
line" &&
	printf 3 >"awk/quo\"te" &&
	printf 4 >"awk/back\\slash" &&
	printf 5 >awk/-dash &&
	printf 6 >"awk/$(printf "latin1-\351")" &&
	printf 7 >"awk/it'"'"'s \$HOME" &&
	printf 8 >"awk/$(printf "caf\303\251")" &&
	old awk/*
'
test_expect_success 'awkward names: C-quoted paths, pasteable shell words' '
	(cd awk && ama-status .) >out &&
	esc=$(printf "\351") &&
	cafe=$(printf "caf\303\251") &&
	cat >expect <<EOF &&
asset of class imaging, not uploaded yet
untracked:
	-dash           ama add ./-dash
	"back\\\\slash"   ama add '"'"'back\\slash'"'"'
	$cafe            ama add '"'"'$cafe'"'"'
	it'"'"'s \$HOME      ama add '"'"'it'"'"'\\'"'"''"'"'s \$HOME'"'"'
	latin1-$esc        ama add \$'"'"'latin1-\\351'"'"'
	"new\\nline"     ama add \$'"'"'new\\012line'"'"'
	"quo\\"te"       ama add '"'"'quo"te'"'"'
	"tab\\tname"     ama add \$'"'"'tab\\011name'"'"'
EOF
	test_cmp expect out
'
test_expect_success 'awkward names: the fixes work when pasted into bash' '
	sed -n "s/^	.*   \(ama .*\)/\1/p" out >fixes &&
	(cd awk && bash -e ../fixes >/dev/null) &&
	ama-status --porcelain -z awk >actual &&
	printf "added\tawk/%s\0" -dash "back\\slash" "$(printf "caf\303\251")" \
		"it'"'"'s \$HOME" "$(printf "latin1-\351")" "new
line" "quo\"te" "tab	name" >expect &&
	cmp expect actual
'
test_expect_success 'awkward names in --porcelain without -z are C-quoted' '
	ama-status --porcelain awk >actual &&
	{
		printf "added\tawk/-dash\n" &&
		printf "%s\n" "added	\"awk/back\\\\slash\"" &&
		printf "added\tawk/%s\n" "$(printf "caf\303\251")" "it'"'"'s \$HOME" \
			"$(printf "latin1-\351")" &&
		printf "%s\n" "added	\"awk/new\\nline\"" \
			"added	\"awk/quo\\\"te\"" "added	\"awk/tab\\tname\""
	} >expect &&
	test_cmp expect actual
'
test_expect_success 'awkward names: modified and deleted, with and without -z' '
	commit awk &&
	printf 99 >"awk/new
line" && old "awk/new
line" &&
	rm "awk/tab	name" &&
	ama-status --porcelain -z >actual &&
	printf "modified\tawk/new\nline\0deleted\tawk/tab\tname\0" >expect &&
	cmp expect actual &&
	ama-status --porcelain >actual &&
	printf "%s\n" "modified	\"awk/new\\nline\"" "deleted	\"awk/tab\\tname\"" >expect &&
	test_cmp expect actual &&
	ama add -q "awk/new
line" && ama remove -q "awk/tab	name" && commit awk
'

test_expect_success 'an unreadable changed file is named and gets no verdict' '
	echo secret >secret && old secret && ama-add -q secret && commit secret &&
	echo SECRET >secret && old secret && chmod 0 secret &&
	test_when_finished "chmod 644 secret" &&
	test_give_to_user . &&
	test_exit_code 1 test_as_user ama-status --porcelain >out 2>err &&
	test_must_be_empty out &&
	echo "ama-status: secret: cannot open: Permission denied" >expect &&
	test_cmp expect err
'
test_expect_success 'an unreadable folder is named, exit 1' '
	chmod 644 secret && ama-add -q secret && commit secret &&
	mkdir closed && echo q >closed/q && chmod 0 closed &&
	test_when_finished "chmod 755 closed" &&
	test_give_to_user . &&
	test_exit_code 1 test_as_user ama-status >out 2>err &&
	cat >expect <<-\EOF &&
	asset of class imaging, not uploaded yet
	nothing to do: every added file is unchanged and uploaded
	EOF
	test_cmp expect out &&
	echo "ama-status: closed: cannot open folder: Permission denied" >expect &&
	test_cmp expect err
'
test_expect_success 'a read-only asset is checked, not refreshed' '
	rmdir closed 2>/dev/null || rm -r closed &&
	touch -d @1600000200 a &&
	chmod a-w .ama &&
	test_when_finished "chmod u+w .ama" &&
	cp .ama/index before &&
	test_as_user ama-status --porcelain a >out 2>err &&
	test_must_be_empty out &&
	test_must_be_empty err &&
	cmp before .ama/index
'
test_expect_success 'a held lock: the same answer, no refresh' '
	mkfifo lockfifo &&
	{ ama-update-index <lockfifo & } &&
	pid=$! &&
	{ sleep 1000 >lockfifo & } &&
	holder=$! &&
	test_when_finished "kill $holder $pid 2>/dev/null; rm -f lockfifo" &&
	n=0 &&
	while ! test -e .ama/index.lock; do
		n=$((n + 1)) && test $n -lt 1000 && sleep 0.01 || return 1
	done &&
	cp .ama/index before &&
	ama-status --porcelain >out 2>err &&
	test_must_be_empty out &&
	test_must_be_empty err &&
	cmp before .ama/index &&
	kill $holder && wait $pid
'
test_expect_success 'a stale lock: taken over and said, the same answer' '
	: >.ama/index.lock &&
	ama-status --porcelain >out 2>err &&
	test_must_be_empty out &&
	echo "ama-status: $(pwd -P)/.ama/index.lock: took over the lock of an ama process that was killed" >expect &&
	test_cmp expect err &&
	test_path_is_missing .ama/index.lock
'
test_expect_success 'the refresh is kept when no lock is in the way' '
	ama-status --porcelain >out &&
	test_must_be_empty out &&
	fresh a >expect &&
	entry a >actual &&
	test_cmp expect actual
'
test_expect_success 'a corrupt index is a setup error' '
	cp .ama/index good &&
	test_when_finished "cp good .ama/index" &&
	printf X | dd of=.ama/index bs=1 seek=30 conv=notrunc 2>/dev/null &&
	test_exit_code 2 ama-status >out 2>err &&
	test_must_be_empty out &&
	echo "ama-status: $(pwd -P)/.ama/index: index is corrupt: checksum mismatch (truncated or damaged)" >expect &&
	test_cmp expect err
'
test_expect_success 'a bad .ama/config is a setup error' '
	cp .ama/config good &&
	test_when_finished "cp good .ama/config" &&
	printf "[asset\n" >.ama/config &&
	test_exit_code 2 ama-status >out 2>err &&
	test_must_be_empty out &&
	echo "ama-status: $(pwd -P)/.ama/config: line 1: not valid INI" >expect &&
	test_cmp expect err
'
test_expect_success 'a failing stdout is a setup error' '
	test_exit_code 2 ama-status >/dev/full 2>err &&
	echo "ama-status: cannot write output: No space left on device" >expect &&
	test_cmp expect err
'
test_done
