#!/bin/sh
test_description='ama-commit: the object list as the next version, in-process and through ama-server'
. ./test-lib.sh

PATH="$AMA_BUILD_DIR/t/helper:$PATH"

# stage FILE...: put the files' content into the asset's staging bucket,
# where ama-stage-put would: <top-hash>/<md5>
stage() {
	staging=$(git config -f .ama/config class.staging) &&
	top=$(git config -f .ama/config class.top-hash) &&
	for f; do
		ama-store-tool "$staging" put -- "$top/$(md5_of "$f")" "$f" \
			>/dev/null || return 1
	done
}

# the objects part of a manifest for ama-ls-files' output on stdin
objects_of() {
	sed 's/^\([0-9a-f]* [0-9]*\) [a-z]*	/\1	/'
}

# the commit id of the objects in file $2 on parent $1 ("" for none)
commit_id() {
	{
		echo "ama-commit-id 1" &&
		echo "parent${1:+ $1}" &&
		cat "$2"
	} | sha256sum | cut -d" " -f1
}

test_expect_code 2 'an operand is a usage error' '
	ama-commit x 2>err
'
test_expect_success '... that says records come on stdin' '
	cat >expect <<-\EOF &&
	ama-commit: records come on stdin, not as operands
	ama-commit: usage: ama-commit [-z] [-m <message>] [--parent=<version> | --no-parent] [--print-refused]
	EOF
	test_cmp expect err
'
test_expect_success '-h prints the usage' '
	ama-commit -h >out &&
	echo "usage: ama-commit [-z] [-m <message>] [--parent=<version> | --no-parent] [--print-refused]" >expect &&
	test_cmp expect out
'
test_expect_success '--parent and --no-parent exclude each other' '
	test_exit_code 2 ama-commit --parent=0.0.1 --no-parent 2>err &&
	head -n 1 err >actual &&
	echo "ama-commit: --parent and --no-parent exclude each other" >expect &&
	test_cmp expect actual
'
test_expect_success 'a bad --parent is a usage error' '
	test_exit_code 2 ama-commit --parent=0.01.0 2>err &&
	head -n 1 err >actual &&
	echo "ama-commit: --parent: bad version '"'0.01.0'"' (want X.Y.Z, Y and Z 0..98)" >expect &&
	test_cmp expect actual
'
test_expect_success 'a message that is not UTF-8 is a usage error' '
	test_exit_code 2 ama-commit -m "$(printf "caf\351")" 2>err &&
	head -n 1 err >actual &&
	echo "ama-commit: the message is not valid UTF-8" >expect &&
	test_cmp expect actual
'
test_expect_success 'outside an asset' '
	test_exit_code 2 ama-commit </dev/null 2>err &&
	echo "ama-commit: not inside an ama asset (no .ama in this folder or any parent); run '"'"'ama init CLASS'"'"' first" >expect &&
	test_cmp expect err
'

test_expect_success 'setup: ama-server on file:// buckets, user alice' '
	mkdir srv &&
	cat >srv/server.conf <<-EOF &&
	[listen]
	port = 0
	threads = 4
	[store]
	remote = file://$TRASH_DIRECTORY/srv/remote
	staging = file://$TRASH_DIRECTORY/srv/staging
	[repository]
	path = $TRASH_DIRECTORY/srv/meta.git
	[auth]
	tokens = $TRASH_DIRECTORY/srv/tokens
	EOF
	mkdir -p .config/ama &&
	ama-server --config srv/server.conf token add alice \
		>.config/ama/token 2>/dev/null &&
	chmod 600 .config/ama/token &&
	test_server_start srv/server.conf
'

# The same cases, in-process (local) and through the server.
for mode in local server; do
	if test $mode = local; then
		author=${USER:-$(id -un)}
	else
		author=alice
	fi

test_expect_success "$mode: setup: an asset of hostile names" '
	mkdir $mode && cd $mode &&
	ama init -q imaging &&
	if test $mode = server; then
		ama-client-tool config server.url "$SERVER_URL" &&
		ama-client-tool config store.remote &&
		ama-client-tool config store.staging
	fi &&
	printf "plain" >plain &&
	printf "tab" >"a	tab" &&
	printf "newline" >"new
line" &&
	printf "quote" >"q\"uote" &&
	printf "backslash" >"back\\slash" &&
	printf "dash" >-dash &&
	printf "latin1" >"$(printf "l\351")" &&
	mkdir d && printf "deep" >d/deep &&
	ama add -q . &&
	ama-ls-files | objects_of >../$mode.objects
'
test_expect_success "$mode: an asset with no number yet" '
	cd $mode &&
	test_exit_code 2 ama-commit </dev/null 2>err &&
	echo "ama-commit: the asset has no number yet: run ama upload" >expect &&
	test_cmp expect err
'
test_expect_success "$mode: setup: the class and a number, as ama upload gets them" '
	cd $mode &&
	ama-client-tool record --create imaging &&
	seq=$(ama-client-tool asset-create imaging) &&
	ama-client-tool config asset.seq $seq &&
	echo 1 >expect && echo $seq >actual && test_cmp expect actual
'
test_expect_success "$mode: nothing staged: refused, each object named" '
	cd $mode &&
	ama-ls-files | test_exit_code 1 ama-commit -m first >out 2>err &&
	test_must_be_empty out &&
	sed -n "s/^.*	//p" ../$mode.objects | while IFS= read -r p; do
		printf "ama-commit: %s: missing from staging and remote\n" \
			"$p" || return 1
	done >expect &&
	echo "ama-commit: refused: 8 objects not verified" >>expect &&
	test_cmp expect err &&
	ama-client-tool versions imaging 1 >out &&
	test_must_be_empty out
'
test_expect_success "$mode: staged: the first version" '
	cd $mode &&
	stage plain "a	tab" "new
line" "q\"uote" "back\\slash" -dash "$(printf "l\351")" d/deep &&
	ama-ls-files | ama-commit -m "first light" >out 2>err &&
	echo 0.0.0 >expect &&
	test_cmp expect out &&
	test_must_be_empty err
'
test_expect_success "$mode: the version, by its author, with its commit id" '
	cd $mode &&
	printf "0.0.0 - %s imaging/1 %s\tfirst light\n" $author \
		$(commit_id "" ../$mode.objects) >expect &&
	ama-client-tool versions imaging 1 >actual &&
	test_cmp expect actual
'
test_expect_success "$mode: its manifest holds the objects, quoted as records are" '
	cd $mode &&
	cat >expect <<-EOF &&
	version 0.0.0
	parent
	class imaging
	seq 1
	commit-id $(commit_id "" ../$mode.objects)
	author $author
	message first light

	EOF
	cat ../$mode.objects >>expect &&
	ama-client-tool manifest imaging 1 0.0.0 | sed "/^time [0-9]*$/d" >actual &&
	test_cmp expect actual
'
test_expect_success "$mode: the same request again gives the same version" '
	cd $mode &&
	ama-ls-files | ama-commit -m "first light" >out 2>err &&
	echo 0.0.0 >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	ama-client-tool versions imaging 1 | wc -l >count &&
	echo 1 >expect && test_cmp expect count
'
test_expect_success "$mode: the same objects on the current version: nothing to commit" '
	cd $mode &&
	ama-client-tool config asset.version 0.0.0 &&
	ama-ls-files | ama-commit -m again >out 2>err &&
	echo 0.0.0 >expect &&
	test_cmp expect out &&
	echo "ama-commit: nothing to commit: 0.0.0 has these objects" >expect &&
	test_cmp expect err
'
test_expect_success "$mode: a changed file, with -z: the next version" '
	cd $mode &&
	printf "plain, changed" >plain &&
	ama add -q plain &&
	stage plain &&
	ama-ls-files -z | ama-commit -z -m "second" >out &&
	echo 0.0.1 >expect &&
	test_cmp expect out &&
	ama-ls-files | objects_of >../$mode.objects1 &&
	printf "0.0.1 0.0.0 %s imaging/1 %s\tsecond\n" $author \
		$(commit_id 0.0.0 ../$mode.objects1) >expect &&
	ama-client-tool versions --max 1 imaging 1 >actual &&
	test_cmp expect actual &&
	ama-client-tool manifest imaging 1 0.0.1 | sed "1,/^$/d" >actual &&
	test_cmp ../$mode.objects1 actual
'
test_expect_success "$mode: records of two fields do as well; a file left out is gone" '
	cd $mode &&
	ama-client-tool config asset.version 0.0.1 &&
	objects_of <../$mode.objects1 | grep -v "	-dash$" >list &&
	ama-commit -m third <list >out &&
	echo 0.0.2 >expect &&
	test_cmp expect out &&
	ama-client-tool manifest imaging 1 0.0.2 | sed "1,/^$/d" >actual &&
	test_cmp list actual
'
test_expect_success "$mode: a version goes on top of the newest, whatever the parent" '
	cd $mode &&
	grep -v "	plain$" list >listA &&
	grep -v "	d/deep$" list >listB && mv listB list &&
	ama-commit --no-parent <listA >out &&
	echo 0.0.3 >expect && test_cmp expect out &&
	ama-commit --parent=0.0.1 <list >out &&
	echo 0.0.4 >expect && test_cmp expect out &&
	ama-client-tool versions imaging 1 --max 2 | cut -d" " -f1,2,5 >actual &&
	printf "0.0.4 0.0.3 %s\t\n0.0.3 0.0.2 %s\t\n" \
		$(commit_id 0.0.3 list) $(commit_id 0.0.2 listA) >expect &&
	test_cmp expect actual
'
test_expect_success "$mode: a malformed record: nothing is committed" '
	cd $mode &&
	{ cat list && printf "nothex 1\tx\n"; } | test_exit_code 1 ama-commit >out 2>err &&
	test_must_be_empty out &&
	cat >expect <<-\EOF &&
	ama-commit: x: malformed record: bad MD5 (want 32 lowercase hex)
	ama-commit: nothing committed: the object list has errors
	EOF
	test_cmp expect err
'
test_expect_success "$mode: a path twice or outside the asset: nothing is committed" '
	cd $mode &&
	{ cat list && sed -n 1p list; } | test_exit_code 1 ama-commit 2>err &&
	sed -n "1s/^.*	//p" list >p &&
	printf "ama-commit: %s: duplicate path\n" "$(cat p)" >expect &&
	echo "ama-commit: nothing committed: the object list has errors" >>expect &&
	test_cmp expect err &&
	printf "%s 1\t../up\n" $(md5_of plain) | test_exit_code 1 ama-commit 2>err &&
	head -n 1 err >actual &&
	echo "ama-commit: ../up: '"'.'"' or '"'..'"' part" >expect &&
	test_cmp expect actual &&
	ama-client-tool versions imaging 1 --max 1 | cut -d" " -f1 >actual &&
	echo 0.0.4 >expect && test_cmp expect actual
'
test_expect_success "$mode: other bytes staged under an MD5: refused" '
	cd $mode &&
	printf "one" >one && printf "two" >two &&
	ama add -q one two &&
	staging=$(git config -f .ama/config class.staging) &&
	top=$(git config -f .ama/config class.top-hash) &&
	printf "ONE" >fake &&
	ama-store-tool "$staging" put "$top/$(md5_of one)" fake >/dev/null &&
	ama-ls-files one | test_exit_code 1 ama-commit 2>err &&
	cat >expect <<-\EOF &&
	ama-commit: one: staged bytes do not match the recorded MD5
	ama-commit: refused: 1 object not verified
	EOF
	test_cmp expect err
'
test_expect_success "$mode: content staged with another size: refused" '
	cd $mode &&
	staging=$(git config -f .ama/config class.staging) &&
	top=$(git config -f .ama/config class.top-hash) &&
	printf "twotwo" >long &&
	ama-store-tool "$staging" put "$top/$(md5_of two)" long >/dev/null &&
	ama-ls-files two | test_exit_code 1 ama-commit 2>err &&
	cat >expect <<-\EOF &&
	ama-commit: two: staged with another size than recorded
	ama-commit: refused: 1 object not verified
	EOF
	test_cmp expect err
'
test_expect_success "$mode: --print-refused writes the record of each object refused" '
	cd $mode &&
	printf "three" >three && ama add -q three &&
	ama-ls-files two three >ls &&
	test_exit_code 1 ama-commit --print-refused <ls >out 2>err &&
	sed "s/ [a-z]*	/	/" ls >expect &&
	test_cmp expect out &&
	cat >expect <<-\EOF &&
	ama-commit: three: missing from staging and remote
	ama-commit: two: staged with another size than recorded
	ama-commit: refused: 2 objects not verified
	EOF
	test_cmp expect err &&
	ama-ls-files -z two three >ls.z &&
	test_exit_code 1 ama-commit -z --print-refused <ls.z >out.z 2>err &&
	tr "\0" "\n" <ls.z | sed "s/ [a-z]*	/	/" | tr "\n" "\0" >expect.z &&
	cmp expect.z out.z
'
test_expect_success "$mode: 8 commits at once make 8 versions, one after the other" '
	cd $mode &&
	for i in 1 2 3 4 5 6 7 8; do
		echo "content $i" >c$i && ama add -q c$i && stage c$i || return 1
	done &&
	for i in 1 2 3 4 5 6 7 8; do
		{ cat list && ama-ls-files c$i; } >list$i || return 1
	done &&
	pids= &&
	for i in 1 2 3 4 5 6 7 8; do
		ama-commit -m "racer $i" <list$i >out$i 2>err$i &
		pids="$pids $!"
	done &&
	wait $pids &&
	cat out1 out2 out3 out4 out5 out6 out7 out8 | sort >actual &&
	printf "0.0.%s\n" 5 6 7 8 9 10 11 12 | sort >expect &&
	test_cmp expect actual &&
	cat err1 err2 err3 err4 err5 err6 err7 err8 >errs &&
	test_must_be_empty errs &&
	ama-client-tool versions imaging 1 --max 9 | cut -d" " -f1,2 >actual &&
	printf "0.0.%s 0.0.%s\n" 12 11 11 10 10 9 9 8 8 7 7 6 6 5 5 4 4 3 >expect &&
	test_cmp expect actual
'
done

test_expect_success 'server: a wrong token is refused (exit 2), nothing is committed' '
	cd server &&
	cp "$HOME/.config/ama/token" token.good &&
	test_when_finished "cp token.good \"\$HOME/.config/ama/token\"" &&
	echo ama_0000 >"$HOME/.config/ama/token" &&
	test_exit_code 2 ama-commit <list 2>err &&
	echo "ama-commit: the server refused the token ($SERVER_URL, token from $HOME/.config/ama/token)" >expect &&
	test_cmp expect err
'
test_expect_success 'server: a token file others may read is refused' '
	cd server &&
	chmod 640 "$HOME/.config/ama/token" &&
	test_when_finished "chmod 600 \"\$HOME/.config/ama/token\"" &&
	test_exit_code 2 ama-commit <list 2>err &&
	echo "ama-commit: $HOME/.config/ama/token: the token file may be read by group or others: make it private with chmod 600" >expect &&
	test_cmp expect err
'
test_expect_success 'server: no token file' '
	cd server &&
	AMA_SERVER_TOKEN_FILE="$HOME/nosuch" test_exit_code 2 ama-commit <list 2>err &&
	echo "ama-commit: $HOME/nosuch: no token file: ask the server'"'"'s administrator for a token (ama-server token add USER) and put it there, mode 0600" >expect &&
	test_cmp expect err
'
test_expect_success 'server: no server there' '
	cd server &&
	port=$(test_free_port) &&
	AMA_SERVER_URL=http://127.0.0.1:$port test_exit_code 2 ama-commit <list 2>err &&
	echo "ama-commit: cannot connect to http://127.0.0.1:$port: Connection refused" >expect &&
	test_cmp expect err
'
test_expect_success 'server: the token appears in no message and no log' '
	token=$(cat "$HOME/.config/ama/token") &&
	test -n "$token" &&
	test_path_is_file server/err &&
	test -s "$SERVER_LOG" &&
	test_exit_code 1 grep -F -e "$token" server/err "$SERVER_LOG"
'
test_expect_success 'server: SIGTERM stops the server, exit 0' '
	test_server_stop
'
test_done
