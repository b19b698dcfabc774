#!/bin/sh
test_description='hostile names round-trip through the porcelain and the plumbing, with and without -z'
. ./test-lib.sh

# The names, in index (bytewise) order, NUL-terminated: TAB, newline,
# double quote, backslash, CR, DEL, a leading dash, a byte that is not
# UTF-8, UTF-8, a space, and a leading dash at the root.
raw() {
	printf '%s\0' -root h/-dash "h/a-tab	name" "h/b-new
line" 'h/c-quo"te' 'h/d-back\slash' "$(printf 'h/e-cr\rx')" \
		"$(printf 'h/f-del\177x')" "$(printf 'h/g-latin1-\351')" \
		"$(printf 'h/h-caf\303\251')" "h/i-sp ace"
}
# the same names as records show them without -z, one a line
quoted() {
	printf '%s\n' -root h/-dash '"h/a-tab\tname"' '"h/b-new\nline"' \
		'"h/c-quo\"te"' '"h/d-back\\slash"' '"h/e-cr\rx"' \
		'"h/f-del\177x"' "$(printf 'h/g-latin1-\351')" \
		"$(printf 'h/h-caf\303\251')" "h/i-sp ace"
}
# for each name: FMT applied to the file's "md5 size" and stat fields,
# one a line (the fields hold no TAB or newline)
each() {
	raw | xargs -0 sh -c '
		for f; do
			set -- "$f" "$(md5sum <"$f" | cut -c1-32)" \
				"$(stat -c "%s %.9Y %.9Z %i %h" -- "$f" | sed "s/\.//g")"
			printf "%s %s\n" "$2" "$3"
		done' sh
}
# ama-ls-files records: <md5> <size> <state> TAB path; quoted or -z
ls_quoted() {
	each | cut -d" " -f1,2 | sed "s/\$/ $1/" >fields.tmp &&
	quoted | paste fields.tmp -
}
ls_raw() {
	each | cut -d" " -f1,2 | sed "s/\$/ $1/" | tr "\n" "\0" >fields.tmp &&
	raw | paste -z fields.tmp -
}
# records of a fixed first field: WORD TAB path
word_quoted() {
	quoted | sed "s/^/$1	/"
}
word_raw() {
	raw | sed -z "s/^/$1	/"
}

test_expect_success 'setup: an asset with hostile names' '
	ama init -q hostile &&
	printf "%s\n" /.amaignore "/*.tmp" "/out*" "/err*" "/expect*" \
		"/actual*" /verdicts /.test-output >.amaignore &&
	mkdir h &&
	raw | xargs -0 sh -c "for f; do printf \"%s\" \"\$f\" >\"\$f\"; done" sh &&
	raw | xargs -0 touch -d @1600000000 -- &&
	set -- h/* &&
	test $# = 10
'
test_expect_success 'ama add takes them as operands' '
	ama add -- -root h >out 2>err &&
	echo "11 new, 0 updated, 0 unchanged" >expect &&
	test_cmp expect out &&
	test_must_be_empty err
'
test_expect_success 'ama-ls-files: C-quoted without -z, raw with -z' '
	ama-ls-files -- -root h >actual &&
	ls_quoted pending >expect &&
	test_cmp expect actual &&
	ama-ls-files -z -- -root h >actual &&
	ls_raw pending >expect &&
	cmp expect actual
'
test_expect_success 'ama-stat-record reads the quoted paths back' '
	ama-ls-files -- -root h | cut -f2 | ama-stat-record --stdin >actual &&
	each | cut -d" " -f2- >fields.tmp &&
	quoted | paste fields.tmp - >expect &&
	test_cmp expect actual
'
test_expect_success 'ama-stat-record -z reads the raw paths back' '
	ama-ls-files -z -- -root h | cut -z -f2- | ama-stat-record -z --stdin >actual &&
	each | cut -d" " -f2- | tr "\n" "\0" >fields.tmp &&
	raw | paste -z fields.tmp - >expect &&
	cmp expect actual
'
test_expect_success 'ama-verify: ok for each, quoted and raw' '
	ama-ls-files -- -root h | cut -f2 | ama-verify --stdin >actual &&
	word_quoted ok >expect &&
	test_cmp expect actual &&
	ama-ls-files -z -- -root h | cut -z -f2- | ama-verify -z --stdin >actual &&
	word_raw ok >expect &&
	cmp expect actual
'
test_expect_success 'ama status --porcelain: added, quoted and raw' '
	ama status --porcelain >actual &&
	word_quoted added >expect &&
	test_cmp expect actual &&
	ama status --porcelain -z >actual &&
	word_raw added >expect &&
	cmp expect actual
'
test_expect_success 'change every file, same size, mtime put back' '
	raw | xargs -0 sh -c "
		for f; do
			printf \"%s\" \"\$f\" | tr a-z A-Z >\"\$f\"
		done" sh &&
	raw | xargs -0 touch -d @1600000000 -- &&
	ama status --porcelain -- -root h >actual &&
	word_quoted modified >expect &&
	test_cmp expect actual &&
	ama status --porcelain -z -- -root h >actual &&
	word_raw modified >expect &&
	cmp expect actual
'
test_expect_success 'verify | hash --stat | update-index re-adds them, without -z' '
	test_exit_code 1 ama-verify >verdicts &&
	grep "^modified" verdicts | cut -f2 |
		ama-hash --stat --stdin | ama-update-index &&
	ama-verify -- -root h >actual &&
	word_quoted ok >expect &&
	test_cmp expect actual &&
	ama-ls-files -- -root h >actual &&
	ls_quoted pending >expect &&
	test_cmp expect actual
'
test_expect_success 'the same with -z' '
	raw | xargs -0 sh -c "
		for f; do
			printf \"%s\" \"\$f\" | tr A-Z a-z >\"\$f\"
		done" sh &&
	raw | xargs -0 touch -d @1600000000 -- &&
	test_exit_code 1 ama-verify -z >verdicts.tmp &&
	grep -z "^modified" verdicts.tmp | cut -z -f2- |
		ama-hash -z --stat --stdin | ama-update-index -z &&
	ama-verify -z -- -root h >actual &&
	word_raw ok >expect &&
	cmp expect actual &&
	ama-ls-files -z -- -root h >actual &&
	ls_raw pending >expect &&
	cmp expect actual
'
test_expect_success 'ama add of changed files, then a clean status' '
	ama-ls-files -z | ama-update-index -z --state=committed &&
	raw | xargs -0 sh -c "for f; do printf x >>\"\$f\"; done" sh &&
	ama status --porcelain -z -- -root h >actual &&
	word_raw modified >expect &&
	cmp expect actual &&
	ama status --porcelain -z -- -root h | cut -z -f2- |
		xargs -0 ama add -- >out &&
	echo "0 new, 11 updated, 0 unchanged" >expect &&
	test_cmp expect out &&
	ama-ls-files -z | ama-update-index -z --state=committed &&
	ama status --porcelain -- -root h >actual &&
	test_must_be_empty actual
'
test_expect_success 'deleted, then dropped with ama remove from a -z pipeline' '
	raw | xargs -0 rm -- &&
	ama status --porcelain >actual &&
	word_quoted deleted >expect &&
	test_cmp expect actual &&
	ama status --porcelain -z | cut -z -f2- | xargs -0 ama remove -- >out &&
	echo "removed 11 files from the index; they were already gone from disk" >expect &&
	test_cmp expect out &&
	ama-ls-files >actual &&
	test_must_be_empty actual &&
	ama status --porcelain >actual &&
	test_must_be_empty actual
'
test_done
