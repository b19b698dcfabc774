#!/bin/sh
test_description='ama upload, ama versions: the upload flow on the embedded default (local publishing, file:// buckets)'
. ./test-lib.sh

usage='ama upload [-m <message>] [-q | --quiet] [-j <n>]'
STORE="$XDG_DATA_HOME/ama"
# the author of every version made here
USER=tester
export USER

# what the two buckets hold: every file, sorted (the repository aside)
store_files() {
	if test -d "$STORE"; then
		(cd "$STORE" && find . -type f ! -path "./meta.git/*" | sort)
	fi
}

# the objects of a manifest file: what follows its empty line
manifest_objects() {
	sed "1,/^\$/d" "$1"
}

# ama-ls-files without the state: the objects of a manifest
objects_of_index() {
	ama-ls-files | sed "s/^\([0-9a-f]* [0-9]*\) [a-z]*	/\1	/"
}

# ama versions with the time as TIME
versions() {
	ama versions "$@" >versions.out &&
	sed "s/ [0-9-]* [0-9:]* UTC / TIME /" versions.out
}

# spy ARGS...: ama upload ARGS with ama-stage-put watched: its options go
# to ../spy.args and its input to ../spy.in (neither exists if it did not
# run); the real one does the work
SPY="$TRASH_DIRECTORY/spy"
mkdir "$SPY" &&
cat >"$SPY/ama-stage-put" <<EOF &&
#!/bin/sh
printf "%s\n" "\$*" >>"$TRASH_DIRECTORY/spy.args"
tee -a "$TRASH_DIRECTORY/spy.in" | "$AMA_BUILD_DIR/plumbing/ama-stage-put" "\$@"
EOF
chmod +x "$SPY/ama-stage-put" || exit 1
spy() {
	rm -f "$TRASH_DIRECTORY/spy.args" "$TRASH_DIRECTORY/spy.in" &&
	AMA_EXEC_PATH="$SPY:$AMA_EXEC_PATH" ama upload "$@"
}

test_expect_success 'an operand is a usage error' '
	test_exit_code 2 ama upload x 2>err &&
	cat >expect <<-EOF &&
	ama-upload: ama upload takes no paths: it publishes every added file
	ama-upload: usage: $usage
	EOF
	test_cmp expect err
'
test_expect_success '-h prints the usage' '
	ama upload -h >out &&
	echo "usage: $usage" >expect &&
	test_cmp expect out
'
test_expect_success 'a message that is not UTF-8 is a usage error' '
	test_exit_code 2 ama upload -m "$(printf "caf\351")" 2>err &&
	cat >expect <<-EOF &&
	ama-upload: the message is not valid UTF-8
	ama-upload: usage: $usage
	EOF
	test_cmp expect err
'
test_expect_success '-j stops at 1024' '
	test_exit_code 2 ama upload -j 1025 2>err &&
	cat >expect <<-EOF &&
	ama-upload: option '"'-j'"' wants 0 (one job a core) to 1024, not '"'1025'"'
	ama-upload: usage: $usage
	EOF
	test_cmp expect err
'
test_expect_success 'outside an asset' '
	test_exit_code 2 ama upload 2>err &&
	echo "ama-upload: not inside an ama asset (no .ama in this folder or any parent); run '"'"'ama init CLASS'"'"' first" >expect &&
	test_cmp expect err
'
test_expect_success 'ama versions: no operands, -n counts from 1' '
	test_exit_code 2 ama versions x 2>err &&
	cat >expect <<-\EOF &&
	ama-versions: no operands
	ama-versions: usage: ama versions [-n <count>] [--fetch]
	EOF
	test_cmp expect err &&
	test_exit_code 2 ama versions -n 0 2>err &&
	cat >expect <<-\EOF &&
	ama-versions: -n wants a count of 1 or more
	ama-versions: usage: ama versions [-n <count>] [--fetch]
	EOF
	test_cmp expect err
'

test_expect_success 'nothing added: exit 1, nothing sent' '
	mkdir empty && cd empty && ama init -q imaging &&
	test_exit_code 1 ama upload -m x >out 2>err &&
	test_must_be_empty out &&
	echo "ama-upload: nothing to upload: no file is added (ama add PATH)" >expect &&
	test_cmp expect err &&
	store_files >actual &&
	test_must_be_empty actual
'
test_expect_success 'ama versions before any upload: exit 1' '
	cd empty &&
	test_exit_code 1 ama versions >out 2>err &&
	test_must_be_empty out &&
	echo "ama-versions: no versions yet: the asset was never uploaded (ama upload)" >expect &&
	test_cmp expect err
'

test_expect_success 'setup: an asset of hostile names, two files alike' '
	mkdir asset && cd asset &&
	ama init -q imaging &&
	printf "plain" >plain &&
	printf "tab" >"a	tab" &&
	printf "newline" >"new
line" &&
	printf "quote" >"q\"uote" &&
	printf "backslash" >"back\\slash" &&
	printf "dash" >-dash &&
	printf "latin1" >"$(printf "l\351")" &&
	mkdir d && printf "deep" >d/deep && printf "plain" >d/same &&
	ama add -q . &&
	ama-ls-files >../listed &&
	ama-ls-files -z | tr "\0" "\n" >../listed.z &&
	test "$(wc -l <../listed)" = 9
'

test_expect_success 'a deleted file stops the upload and names ama remove FILE' '
	cd asset &&
	cp .ama/config ../config.before &&
	mv "new
line" ../keep &&
	test_exit_code 1 ama upload -m x >out 2>err &&
	mv ../keep "new
line" &&
	test_must_be_empty out &&
	cat >expect <<-\EOF &&
	ama-upload: "new\nline": deleted; run: ama remove $'"'"'new\012line'"'"'
	ama-upload: nothing sent: 1 deleted, 0 modified; fix them first
	EOF
	test_cmp expect err &&
	store_files >actual &&
	test_must_be_empty actual &&
	test_cmp ../config.before .ama/config &&
	ama-ls-files >actual &&
	test_cmp ../listed actual
'
test_expect_success 'a modified file stops it and names ama add FILE' '
	cd asset &&
	printf "TAB" >"a	tab" &&
	test_exit_code 1 ama upload -m x >out 2>err &&
	printf "tab" >"a	tab" &&
	test_must_be_empty out &&
	cat >expect <<-\EOF &&
	ama-upload: "a\ttab": modified since added; run: ama add $'"'"'a\011tab'"'"'
	ama-upload: nothing sent: 0 deleted, 1 modified; fix them first
	EOF
	test_cmp expect err &&
	store_files >actual &&
	test_must_be_empty actual
'
test_expect_success 'both at once, from a subfolder: every file named from there' '
	cd asset/d &&
	printf "DASH" >../-dash && mv deep ../../keep &&
	printf "QUOTE" >"../q\"uote" && rm "../$(printf "l\351")" &&
	test_exit_code 1 ama upload >out 2>err &&
	printf "dash" >../-dash && mv ../../keep deep &&
	printf "quote" >"../q\"uote" && printf "latin1" >"../$(printf "l\351")" &&
	test_must_be_empty out &&
	cat >expect <<-EOF &&
	ama-upload: ../-dash: modified since added; run: ama add ../-dash
	ama-upload: deep: deleted; run: ama remove deep
	ama-upload: ../$(printf "l\351"): deleted; run: ama remove \$'"'"'../l\\351'"'"'
	ama-upload: "../q\\"uote": modified since added; run: ama add '"'"'../q"uote'"'"'
	ama-upload: nothing sent: 2 deleted, 2 modified; fix them first
	EOF
	test_cmp expect err &&
	store_files >actual &&
	test_must_be_empty actual
'
test_expect_success 'a leading dash is suggested as ./-dash' '
	cd asset &&
	printf "DASH" >-dash &&
	test_exit_code 1 ama upload 2>err &&
	printf "dash" >-dash &&
	head -n 1 err >actual &&
	echo "ama-upload: -dash: modified since added; run: ama add ./-dash" >expect &&
	test_cmp expect actual
'

test_expect_success 'the first upload: the class, asset 1, version 0.0.0' '
	cd asset &&
	spy -m "first light" >out 2>err &&
	echo "published imaging/1 version 0.0.0" >expect &&
	test_cmp expect out &&
	test_must_be_empty err
'
test_expect_success '... sent each content once, the options as given' '
	cd asset &&
	printf "%s\n" -z >expect &&
	test_cmp expect ../spy.args &&
	tr "\0" "\n" <../spy.in >actual &&
	test_cmp ../listed.z actual
'
test_expect_success 'every entry is committed' '
	cd asset &&
	sed "s/ pending	/ committed	/" ../listed >expect &&
	ama-ls-files >actual &&
	test_cmp expect actual
'
test_expect_success '.ama/config holds the asset number and the version' '
	cd asset &&
	git config -f .ama/config asset.seq >actual &&
	git config -f .ama/config asset.version >>actual &&
	printf "1\n0.0.0\n" >expect &&
	test_cmp expect actual &&
	git config -f .ama/config class.top-hash >../top &&
	grep -x "[0-9a-f]\{32\}" ../top
'
test_expect_success 'remote holds the manifest, every name as it is, each content once' '
	cd asset &&
	top=$(cat ../top) &&
	m="$STORE/remote/$top/assets/1/0.0.0.manifest" &&
	sed "s/^time [0-9]*$/time T/;s/^commit-id [0-9a-f]\{64\}$/commit-id ID/" "$m" >actual &&
	cat >expect <<-\EOF &&
	version 0.0.0
	parent
	class imaging
	seq 1
	commit-id ID
	author tester
	time T
	message first light

	EOF
	objects_of_index >>expect &&
	test_cmp expect actual &&
	manifest_objects "$m" >actual &&
	objects_of_index >expect &&
	test_cmp expect actual &&
	for f in plain "a	tab" "new
line" "q\"uote" "back\\slash" -dash "$(printf "l\351")" d/deep d/same; do
		cmp -- "$f" "$STORE/remote/$top/contents/$(md5_of "$f")" || return 1
	done &&
	ls "$STORE/remote/$top/contents" | wc -l >actual &&
	echo 8 >expect &&
	test_cmp expect actual
'
test_expect_success '... and staging is drained' '
	find "$STORE/staging" -type f >actual &&
	test_must_be_empty actual
'
test_expect_success 'ama versions: version, time, author, message' '
	cd asset &&
	versions >actual &&
	echo "* 0.0.0    TIME  tester  first light" >expect &&
	test_cmp expect actual
'
test_expect_success 'git --git-dir=.ama/meta log shows it' '
	cd asset &&
	git --git-dir=.ama/meta log --format="%an %s" >actual &&
	echo "tester first light" >expect &&
	test_cmp expect actual
'

test_expect_success 'nothing changed: no version, nothing sent' '
	cd asset &&
	store_files >before &&
	spy -m again >out 2>err &&
	echo "nothing to publish: imaging/1 is at version 0.0.0" >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	test_path_is_missing ../spy.args &&
	store_files >after &&
	test_cmp before after &&
	git --git-dir="$STORE/meta.git" rev-list --count refs/ama/imaging/1 >actual &&
	echo 1 >expect &&
	test_cmp expect actual
'
test_expect_success 'one changed file: 0.0.1, only its content sent and new in remote' '
	cd asset &&
	printf "plain, changed" >plain &&
	ama add -q plain &&
	ama-ls-files -z plain | tr "\0" "\n" >expect.in &&
	store_files >before &&
	spy -m "one change" >out 2>err &&
	echo "published imaging/1 version 0.0.1" >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	tr "\0" "\n" <../spy.in >actual &&
	test_cmp expect.in actual &&
	store_files >after &&
	top=$(cat ../top) &&
	printf "./remote/%s\n" "$top/assets/1/0.0.1.manifest" \
		"$top/contents/$(md5_of plain)" | sort >expect &&
	comm -13 before after >actual &&
	test_cmp expect actual &&
	comm -23 before after >actual &&
	test_must_be_empty actual &&
	git config -f .ama/config asset.version >actual &&
	echo 0.0.1 >expect &&
	test_cmp expect actual
'
test_expect_success 'ama versions: newest first, the current one starred; -n' '
	cd asset &&
	versions >actual &&
	cat >expect <<-\EOF &&
	* 0.0.1    TIME  tester  one change
	  0.0.0    TIME  tester  first light
	EOF
	test_cmp expect actual &&
	versions -n 1 >actual &&
	head -n 1 expect >expect.1 &&
	test_cmp expect.1 actual
'
test_expect_success 'git --git-dir=.ama/meta log: both versions' '
	cd asset &&
	git --git-dir=.ama/meta log --format="%an %s" >actual &&
	printf "tester one change\ntester first light\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'a second asset of the class sharing content sends nothing for it' '
	mkdir asset2 && cd asset2 &&
	ama init -q imaging &&
	printf "plain, changed" >shared && printf "own" >own &&
	ama add -q . &&
	ama-ls-files -z own | tr "\0" "\n" >expect.in &&
	store_files >before &&
	spy -m "second asset" >out 2>err &&
	echo "published imaging/2 version 0.0.0" >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	tr "\0" "\n" <../spy.in >actual &&
	test_cmp expect.in actual &&
	store_files >after &&
	top=$(cat ../top) &&
	claim=$(git config -f .ama/config asset.claim) &&
	printf "./remote/%s\n" "$top/assets/2/0.0.0.manifest" \
		"$top/assets/2/asset.json" "$top/assets/by-claim/$claim" \
		"$top/contents/$(md5_of own)" | sort >expect &&
	comm -13 before after >actual &&
	test_cmp expect actual
'

test_expect_success 'content staged by hand before the upload is not sent again' '
	cd asset &&
	printf "deep, changed" >d/deep && ama add -q d/deep &&
	ama-ls-files | ama-exists --missing | ama-stage-put | ama-update-index --state=staged &&
	ama-ls-files d/deep >actual &&
	printf "%s 13 staged\td/deep\n" $(md5_of d/deep) >expect &&
	test_cmp expect actual &&
	spy -m "staged first" >out 2>err &&
	echo "published imaging/1 version 0.0.2" >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	test_path_is_missing ../spy.args
'
test_expect_success 'a commit whose answer was not recorded: the rerun prints it, makes no second' '
	cd asset &&
	printf "tab, changed" >"a	tab" && ama add -q "a	tab" &&
	ama-ls-files | ama-exists --missing | ama-stage-put | ama-update-index --state=staged &&
	ama-ls-files | ama-commit -m "answer lost" >out &&
	echo 0.0.3 >expect && test_cmp expect out &&
	git config -f .ama/config asset.version >actual &&
	echo 0.0.2 >expect && test_cmp expect actual &&
	spy -m "answer lost" >out 2>err &&
	echo "published imaging/1 version 0.0.3" >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	test_path_is_missing ../spy.args &&
	git --git-dir="$STORE/meta.git" rev-list --count refs/ama/imaging/1 >actual &&
	echo 4 >expect &&
	test_cmp expect actual &&
	git config -f .ama/config asset.version >actual &&
	echo 0.0.3 >expect && test_cmp expect actual &&
	ama-ls-files "a	tab" >actual &&
	printf "%s 12 committed\t\"a\\\\ttab\"\n" $(md5_of "a	tab") >expect &&
	test_cmp expect actual
'
test_expect_success '-q: nothing on stdout, ama-stage-put quiet too; -j is passed on' '
	cd asset &&
	printf "quote, changed" >"q\"uote" && ama add -q "q\"uote" &&
	spy -q -m quiet >out 2>err &&
	test_must_be_empty out &&
	test_must_be_empty err &&
	echo "-z -q" >expect &&
	test_cmp expect ../spy.args &&
	printf "backslash, changed" >"back\\slash" && ama add -q "back\\slash" &&
	spy -j 3 -m "three jobs" >out 2>err &&
	echo "published imaging/1 version 0.0.5" >expect &&
	test_cmp expect out &&
	echo "-z -j 3" >expect &&
	test_cmp expect ../spy.args
'
test_expect_success 'the history in the store'"'"'s repository and in .ama/meta' '
	cd asset &&
	git --git-dir="$STORE/meta.git" log --format=%s refs/ama/imaging/1 >actual &&
	cat >expect <<-\EOF &&
	three jobs
	quiet
	answer lost
	staged first
	one change
	first light
	EOF
	test_cmp expect actual &&
	git --git-dir=.ama/meta log --format=%s >actual &&
	test_cmp expect actual
'

test_expect_success 'setup: the store and the assets belong to nobody' '
	test_give_to_user "$TRASH_DIRECTORY"
'
test_expect_success 'a file made unreadable after add: the check names it, nothing sent' '
	cd asset &&
	store_files >before &&
	chmod 000 d/same &&
	test_exit_code 1 test_as_user ama upload -m x >out 2>err &&
	chmod 644 d/same &&
	test_must_be_empty out &&
	cat >expect <<-\EOF &&
	ama-upload: d/same: cannot open: Permission denied
	ama-upload: nothing sent: 0 deleted, 0 modified, 1 unreadable; fix them first
	EOF
	test_cmp expect err &&
	store_files >after &&
	test_cmp before after
'
test_expect_success 'a failing stage stops the upload with its status and its message' '
	cd asset &&
	printf "sent" >sent && printf "unreadable" >secret &&
	test_give_to_user sent secret &&
	touch -d "2020-01-01 00:00" secret && chmod 000 secret &&
	ama add -q sent secret &&
	test_exit_code 1 test_as_user ama upload -m x >out 2>err &&
	test_must_be_empty out &&
	echo "ama-stage-put: secret: cannot open: Permission denied" >expect &&
	test_cmp expect err &&
	git config -f .ama/config asset.version >actual &&
	echo 0.0.5 >expect && test_cmp expect actual &&
	ama-ls-files secret sent >actual &&
	printf "%s 10 staging\tsecret\n%s 4 staged\tsent\n" \
		$(md5_of secret) $(md5_of sent) >expect &&
	test_cmp expect actual &&
	find "$STORE/staging" -type f >actual &&
	echo "$STORE/staging/$(cat ../top)/$(md5_of sent)" >expect &&
	test_cmp expect actual
'
test_expect_success '... and once it is readable, the rerun sends only what is missing' '
	cd asset &&
	chmod 644 secret &&
	ama-ls-files -z secret | tr "\0" "\n" >expect.in &&
	spy -m "after the failure" >out 2>err &&
	echo "published imaging/1 version 0.0.6" >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	tr "\0" "\n" <../spy.in >actual &&
	test_cmp expect.in actual
'
test_expect_success 'a staging bucket that cannot be used: the stage'"'"'s exit 2' '
	cd asset &&
	printf "more" >more && ama add -q more &&
	mv "$STORE/staging" "$STORE/staging.away" &&
	: >"$STORE/staging" &&
	test_exit_code 2 ama upload -m x >out 2>err &&
	rm "$STORE/staging" && mv "$STORE/staging.away" "$STORE/staging" &&
	test_must_be_empty out &&
	echo "ama-exists: no such folder: $STORE/staging" >expect &&
	test_cmp expect err
'
test_expect_success 'ama versions: the first line of a message, control bytes as ?' '
	cd asset &&
	ama upload -q -m "$(printf "tab\there, escape \033[31m\nsecond line")" &&
	versions -n 1 >actual &&
	echo "* 0.0.7    TIME  tester  tab?here, escape ?[31m ..." >expect &&
	test_cmp expect actual
'
test_expect_success 'ama versions of an asset numbered but never published: exit 1' '
	cd empty &&
	PATH="$AMA_BUILD_DIR/t/helper:$PATH" &&
	ama-client-tool record --create imaging &&
	ama-client-tool config asset.seq $(ama-client-tool asset-create imaging) &&
	test_exit_code 1 ama versions >out 2>err &&
	test_must_be_empty out &&
	echo "ama-versions: no versions yet: imaging/3 has none" >expect &&
	test_cmp expect err
'
test_expect_success 'an asset number whose answer was lost: the rerun gets the same one' '
	mkdir lost && cd lost &&
	PATH="$AMA_BUILD_DIR/t/helper:$PATH" &&
	ama init -q imaging && printf "lost" >f && ama add -q f &&
	claim=0123456789abcdef0123456789abcdef &&
	ama-client-tool config asset.claim $claim &&
	ama-client-tool asset-create imaging $claim >out &&
	echo 4 >expect && test_cmp expect out &&
	ama upload -m lost >out &&
	echo "published imaging/4 version 0.0.0" >expect &&
	test_cmp expect out &&
	git config -f .ama/config asset.seq >actual &&
	echo 4 >expect && test_cmp expect actual &&
	ama-client-tool assets imaging >actual &&
	printf "1 0.0.7\n2 0.0.0\n3 -\n4 0.0.0\n" >expect &&
	test_cmp expect actual
'
test_expect_success 'a claim in .ama/config that is not one: exit 2, nothing asked' '
	mkdir badclaim && cd badclaim &&
	ama init -q imaging && printf "bad" >f && ama add -q f &&
	git config -f .ama/config asset.claim XYZ &&
	test_exit_code 2 ama upload -m bad >out 2>err &&
	test_must_be_empty out &&
	echo "ama-upload: .ama/config: [asset] claim: '"'"'XYZ'"'"' is not 32 lower-case hex digits" >expect &&
	test_cmp expect err &&
	test_exit_code 1 git config -f .ama/config asset.seq
'
test_expect_success 'a server that cannot be reached: exit 2, nothing sent' '
	cd asset &&
	printf "unreachable" >far && ama add -q far &&
	mkdir -p "$HOME/.config/ama" && echo ama_x >"$HOME/.config/ama/token" &&
	chmod 600 "$HOME/.config/ama/token" &&
	test_when_finished "rm -f \"\$HOME/.config/ama/token\"" &&
	store_files >before &&
	test_exit_code 2 env AMA_SERVER_URL=http://127.0.0.1:1 \
		AMA_SERVER_RETRIES=1 ama upload -m x >out 2>err &&
	test_must_be_empty out &&
	echo "ama-upload: cannot connect to http://127.0.0.1:1: Connection refused" >expect &&
	test_cmp expect err &&
	store_files >after &&
	test_cmp before after
'
test_expect_success 'run directly from a subfolder, a relative AMA_EXEC_PATH is the user'"'"'s' '
	cd asset/d &&
	rm -f ../../spy.args &&
	AMA_EXEC_PATH="../../spy:$AMA_EXEC_PATH" ama-upload -m direct >out 2>err &&
	echo "published imaging/1 version 0.0.8" >expect &&
	test_cmp expect out &&
	printf "%s\n" -z >expect &&
	test_cmp expect ../../spy.args
'
# A file:// staging bucket keeps no ETag: the lookup trusts an object of
# the right size, and the server, which rehashes, refuses other bytes.
# ama upload sends what was refused again, overwriting it, and commits
# once more.
test_expect_success 'staged bytes that are not the content: sent again, published on the first run' '
	cd asset &&
	printf "genuine!" >r1 && ama add -q r1 &&
	top=$(cat ../top) && m=$(md5_of r1) &&
	mkdir -p "$STORE/staging/$top" &&
	printf "forged!!" >"$STORE/staging/$top/$m" &&
	spy -m "sent again" >out 2>err &&
	echo "published imaging/1 version 0.0.9" >expect &&
	test_cmp expect out &&
	cat >expect <<-\EOF &&
	ama-commit: r1: staged bytes do not match the recorded MD5
	ama-commit: refused: 1 object not verified
	ama-upload: sending the 1 refused object again
	EOF
	test_cmp expect err &&
	printf "%s 8\tr1\n" $m >expect &&
	tr "\0" "\n" <../spy.in >actual &&
	test_cmp expect actual &&
	cmp r1 "$STORE/remote/$top/contents/$m" &&
	ama-ls-files r1 >actual &&
	printf "%s 8 committed\tr1\n" $m >expect &&
	test_cmp expect actual
'
test_expect_success 'refused again after the second sending: exit 1, sent once more, no more' '
	cd asset &&
	printf "genuine2" >r2 && ama add -q r2 &&
	top=$(cat ../top) && m=$(md5_of r2) &&
	mkdir -p ../spy2 &&
	cat >../spy2/ama-stage-put <<-EOF &&
	#!/bin/sh
	printf "%s\n" "\$*" >>"$TRASH_DIRECTORY/spy.args"
	"$AMA_BUILD_DIR/plumbing/ama-stage-put" "\$@"
	st=\$?
	printf "forged!!" >"$STORE/staging/$top/$m"
	exit \$st
	EOF
	chmod +x ../spy2/ama-stage-put &&
	rm -f ../spy.args &&
	AMA_EXEC_PATH="$TRASH_DIRECTORY/spy2:$AMA_EXEC_PATH" \
		test_exit_code 1 ama upload -m "forged twice" >out 2>err &&
	test_must_be_empty out &&
	cat >expect <<-\EOF &&
	ama-commit: r2: staged bytes do not match the recorded MD5
	ama-commit: refused: 1 object not verified
	ama-upload: sending the 1 refused object again
	ama-commit: r2: staged bytes do not match the recorded MD5
	ama-commit: refused: 1 object not verified
	EOF
	test_cmp expect err &&
	printf "%s\n" -z -z >expect &&
	test_cmp expect ../spy.args &&
	git config -f .ama/config asset.version >actual &&
	echo 0.0.9 >expect &&
	test_cmp expect actual &&
	test_path_is_missing "$STORE/remote/$top/contents/$m"
'
test_expect_success '... and a plain rerun heals it' '
	cd asset &&
	ama upload -m "healed" >out 2>err &&
	echo "published imaging/1 version 0.0.10" >expect &&
	test_cmp expect out &&
	cmp r2 "$STORE/remote/$top/contents/$(md5_of r2)"
'
test_expect_success '-j 0 is one job a core, as for every ama program' '
	cd asset &&
	printf "all cores" >cores && ama add -q cores &&
	spy -q -j 0 -m "all cores" &&
	echo "-z -q -j $(nproc)" >expect &&
	test_cmp expect ../spy.args
'
test_done
