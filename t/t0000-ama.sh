#!/bin/sh
test_description='ama: the dispatcher runs ama-COMMAND from the exec path'
. ./test-lib.sh

cat >overview <<\EOF
usage: ama [-C <path>] [--version] <command> [<args>]

The ama commands:
   init       make this folder an asset of a class
   add        record the stat and MD5 of files, or of folders' files
   remove     drop files from the asset (they stay on disk)
   status     show added, modified, deleted and untracked files
   upload     send new content to staging and publish a version
   versions   list the published versions of the asset
   clone      a new folder holding a version of an asset
   fetch      bring the versions published elsewhere into .ama/meta
   switch     make the work tree hold another version
   pull       fetch, then switch to the newest version
   download   fill in files of the version the work tree lacks
   diff       what changed between versions or in the work tree
   log        the versions, newest first, and what each changed
   info       the asset: class, number, version, files, stores
   list       the assets of a class and their newest versions
   class      the classes of the store (ama class list)
   cache      the shared download cache: its size; prune
   hook       install git hooks that refuse unpublished files

'ama help <command>' shows the manual of a command; 'man 7 ama' describes
assets, buckets, records and the plumbing commands.
EOF

test_expect_success '--version prints the version' '
	ama --version >out &&
	echo "ama version 0.1.0" >expect &&
	test_cmp expect out
'
test_expect_success '-h prints the usage' '
	ama -h >out &&
	echo "usage: ama [-C <path>] [--version] <command> [<args>]" >expect &&
	test_cmp expect out
'
test_expect_code 2 'an unknown option is a usage error' '
	ama --bogus 2>err
'
test_expect_success 'the usage error names the option' '
	cat >expect <<-\EOF &&
	ama: unknown option '"'--bogus'"'
	ama: usage: ama [-C <path>] [--version] <command> [<args>]
	EOF
	test_cmp expect err
'
test_expect_success 'help prints the overview on stdout' '
	ama help >out 2>err &&
	test_cmp overview out &&
	test_must_be_empty err
'
test_expect_success 'no command prints the overview on stderr and exits 2' '
	test_exit_code 2 ama >out 2>err &&
	test_must_be_empty out &&
	test_cmp overview err
'
test_expect_code 2 'help takes one command at most' '
	ama help add status 2>err
'

test_expect_success 'setup: programs on the exec path' '
	mkdir "bin dir" "path dir" sub &&
	cat >"bin dir/ama-frob" <<-\EOF &&
	#!/bin/sh
	for a in "$@"; do printf "[%s]\n" "$a"; done
	exit ${FROB_EXIT:-0}
	EOF
	cp "bin dir/ama-frob" "bin dir/ama-frog" &&
	printf "#!/bin/sh\necho from PATH\n" >"path dir/ama-frob" &&
	printf "#!/bin/sh\nprintf \"%%s\\\\n\" \"\${PATH%%%%:*}\"\n" >"bin dir/ama-path" &&
	printf "#!/bin/sh\npwd\n" >"bin dir/ama-pwd" &&
	printf "#!/bin/sh\nkill -TERM \$\$\n" >"bin dir/ama-die" &&
	printf "#!/bin/sh\nprintf \"man %%s\\\\n\" \"\$@\"\n" >"bin dir/man" &&
	printf "#!/bin/sh\n" >"bin dir/ama-noexec" &&
	chmod +x "bin dir"/ama-frob "bin dir"/ama-frog "bin dir"/ama-path \
		"bin dir"/ama-pwd "bin dir"/ama-die "bin dir"/man \
		"path dir/ama-frob"
'
AMA_EXEC_PATH="$TRASH_DIRECTORY/bin dir:$AMA_EXEC_PATH"
PATH="$TRASH_DIRECTORY/path dir:$PATH"

test_expect_success 'a command runs with its arguments untouched' '
	ama frob "a	b" "new
line" "q\"uote" "back\\slash" -dash --version -C "$(printf "\351")" "" \
		"sp ace" >out &&
	{
		printf "[a\tb]\n[new\nline]\n[q\"uote]\n[back\\\\slash]\n" &&
		printf "[-dash]\n[--version]\n[-C]\n[\351]\n[]\n[sp ace]\n"
	} >expect &&
	test_cmp expect out
'
test_expect_success 'the exit status of the command is passed on' '
	test_exit_code 7 env FROB_EXIT=7 ama frob &&
	test_exit_code 1 env FROB_EXIT=1 ama frob &&
	test_exit_code 143 ama die
'
test_expect_success 'the exec path comes before PATH' '
	ama frob x >out &&
	echo "[x]" >expect &&
	test_cmp expect out &&
	AMA_EXEC_PATH= ama frob x >out &&
	echo "from PATH" >expect &&
	test_cmp expect out
'
test_expect_success 'the command finds the exec path first on its PATH' '
	ama path >out &&
	echo "$TRASH_DIRECTORY/bin dir" >expect &&
	test_cmp expect out
'
test_expect_success '-C runs the command in another folder' '
	ama -C sub pwd >out &&
	echo "$TRASH_DIRECTORY/sub" >expect &&
	test_cmp expect out &&
	ama -C "" pwd >out &&
	echo "$TRASH_DIRECTORY" >expect &&
	test_cmp expect out
'
test_expect_success 'a relative exec path holds before -C' '
	AMA_EXEC_PATH="bin dir" ama -C sub frob y >out &&
	echo "[y]" >expect &&
	test_cmp expect out
'
test_expect_success '-C to a missing folder is a setup error' '
	test_exit_code 2 ama -C nosuch frob 2>err &&
	echo "ama: nosuch: cannot change to this folder: No such file or directory" >expect &&
	test_cmp expect err
'
test_expect_success 'an unknown command exits 2 and points to help' '
	test_exit_code 2 ama nosuchcmd >out 2>err &&
	test_must_be_empty out &&
	echo "ama: '"'nosuchcmd'"' is not an ama command; see '"'ama help'"'" >expect &&
	test_cmp expect err
'
test_expect_success 'a close command is suggested' '
	test_exit_code 2 ama stauts 2>err &&
	cat >expect <<-\EOF &&
	ama: '"'stauts'"' is not an ama command; see '"'ama help'"'
	ama: did you mean '"'status'"'?
	EOF
	test_cmp expect err &&
	test_exit_code 2 ama ad 2>err &&
	cat >expect <<-\EOF &&
	ama: '"'ad'"' is not an ama command; see '"'ama help'"'
	ama: did you mean '"'add'"'?
	EOF
	test_cmp expect err
'
test_expect_success 'commands on the exec path are suggested too' '
	test_exit_code 2 ama fro 2>err &&
	cat >expect <<-\EOF &&
	ama: '"'fro'"' is not an ama command; see '"'ama help'"'
	ama: did you mean '"'frob'"' or '"'frog'"'?
	EOF
	test_cmp expect err
'
test_expect_success 'a name with a slash or an empty name is no command' '
	test_exit_code 2 ama "../bin dir/ama-frob" 2>err &&
	echo "ama: '"'../bin dir/ama-frob'"' is not an ama command; see '"'ama help'"'" >expect &&
	test_cmp expect err &&
	test_exit_code 2 ama "" 2>err &&
	echo "ama: '"''"' is not an ama command; see '"'ama help'"'" >expect &&
	test_cmp expect err
'
test_expect_success 'a name with control bytes is quoted in the message' '
	test_exit_code 2 ama "new
line" 2>err &&
	cat >expect <<-\EOF &&
	ama: "new\nline" is not an ama command; see '"'ama help'"'
	EOF
	test_cmp expect err
'
test_expect_success '-C names a hostile folder quoted' '
	test_exit_code 2 ama -C "tab	\"x\"" frob 2>err &&
	cat >expect <<-\EOF &&
	ama: "tab\t\"x\"": cannot change to this folder: No such file or directory
	EOF
	test_cmp expect err
'
test_expect_success 'a program that cannot run is a setup error' '
	test_exit_code 2 ama noexec 2>err &&
	echo "ama: cannot run '"'ama-noexec'"': Permission denied" >expect &&
	test_cmp expect err
'
test_expect_success 'help COMMAND opens the manual page ama-COMMAND' '
	ama help status >out &&
	echo "man ama-status" >expect &&
	test_cmp expect out
'
test_expect_success 'a failing stdout is a setup error' '
	test_exit_code 2 ama --version >/dev/full 2>err &&
	echo "ama: cannot write output: No space left on device" >expect &&
	test_cmp expect err
'
test_expect_success 'a porcelain command that is not installed says so' '
	AMA_EXEC_PATH="$TRASH_DIRECTORY/empty" PATH=/usr/bin:/bin \
		test_exit_code 2 "$AMA_BUILD_DIR/porcelain/ama" init x 2>err &&
	sed "s|installed in $TRASH_DIRECTORY/empty:.* or on|installed in EMPTY:LIBEXEC or on|" err >actual &&
	echo "ama: '"'init'"' is an ama command, but ama-init is not installed in EMPTY:LIBEXEC or on \$PATH" >expect &&
	test_cmp expect actual
'
test_done
