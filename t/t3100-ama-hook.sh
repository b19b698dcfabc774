#!/bin/sh
test_description='ama hook: git hooks refuse a commit or push while an asset holds unpublished files'
. ./test-lib.sh

usage='ama hook (install | uninstall | run <hook>) [-q | --quiet] [-j <n>]'

test_expect_success 'an unknown subcommand is a usage error' '
	test_exit_code 2 ama hook frob 2>err &&
	cat >expect <<-EOF &&
	ama-hook: install, uninstall or run <hook>?
	ama-hook: usage: $usage
	EOF
	test_cmp expect err
'
test_expect_success 'outside a git repository it says so' '
	mkdir nogit && (cd nogit && GIT_CEILING_DIRECTORIES="$TRASH_DIRECTORY" test_exit_code 2 ama hook install 2>../err) &&
	echo "ama-hook: not in a git repository" >expect &&
	test_cmp expect err
'
test_expect_success 'setup: a repository with an asset and a hook of its own' '
	git init -q repo &&
	(cd repo && git config user.name tester && git config user.email t@example.com) &&
	git init -q --bare remote.git &&
	printf "#!/bin/sh\necho \"own hook ran: \$*\" >>\"\$(git rev-parse --git-dir)/own.log\"\n" >repo/.git/hooks/pre-commit &&
	chmod +x repo/.git/hooks/pre-commit &&
	mkdir -p "repo/data/scan 1" &&
	(cd "repo/data/scan 1" && ama init -q scans && printf a >a.bin && printf b >"b c.bin" &&
	 ama add -q .) &&
	printf "readme\n" >repo/README &&
	printf "data/scan 1/.ama/\n" >repo/.gitignore
'
test_expect_success 'install keeps the own hook as pre-commit.ama-chained' '
	(cd repo && ama hook install >../out) &&
	cat >expect <<-\EOF &&
	kept the pre-commit hook: it runs first, from .git/hooks/pre-commit.ama-chained
	installed the pre-commit hook: .git/hooks/pre-commit
	installed the pre-push hook: .git/hooks/pre-push
	EOF
	test_cmp expect out &&
	test -x repo/.git/hooks/pre-commit.ama-chained
'
test_expect_success 'installing twice changes nothing' '
	cp repo/.git/hooks/pre-commit before &&
	(cd repo && ama hook install >../out) &&
	cat >expect <<-\EOF &&
	installed the pre-commit hook: .git/hooks/pre-commit
	installed the pre-push hook: .git/hooks/pre-push
	EOF
	test_cmp expect out &&
	test_cmp before repo/.git/hooks/pre-commit &&
	test -x repo/.git/hooks/pre-commit.ama-chained
'
test_expect_success 'git commit is refused while files are not published' '
	(cd repo && git add README .gitignore &&
	 test_exit_code 1 git commit -q -m first 2>../err) &&
	cat >expect <<-\EOF &&
	ama-hook: data/scan 1/a.bin: not published; run: cd '"'"'data/scan 1'"'"' && ama upload
	ama-hook: data/scan 1/b c.bin: not published; run: cd '"'"'data/scan 1'"'"' && ama upload
	ama-hook: pre-commit refused: 2 files in ama assets are not published (git commit --no-verify skips this check)
	EOF
	test_cmp expect err &&
	test_exit_code 1 git -C repo rev-parse -q --verify HEAD
'
test_expect_success 'the own hook ran first' '
	echo "own hook ran: " >expect &&
	test_cmp expect repo/.git/own.log
'
test_expect_success 'modified and deleted files are named with the command that fixes them' '
	(cd "repo/data/scan 1" && ama upload -q -m one) &&
	printf x >>"repo/data/scan 1/a.bin" &&
	rm "repo/data/scan 1/b c.bin" &&
	(cd repo && test_exit_code 1 git commit -q -m first 2>../err) &&
	cat >expect <<-\EOF &&
	ama-hook: data/scan 1/a.bin: modified since added; run: cd '"'"'data/scan 1'"'"' && ama add a.bin
	ama-hook: data/scan 1/b c.bin: deleted; run: cd '"'"'data/scan 1'"'"' && ama remove '"'"'b c.bin'"'"'
	ama-hook: pre-commit refused: 2 files in ama assets are not published (git commit --no-verify skips this check)
	EOF
	test_cmp expect err
'
test_expect_success 'the suggested commands fix it, and the commit passes' '
	(cd "repo/data/scan 1" && ama add -q a.bin && ama remove -q "b c.bin" &&
	 ama upload -q -m two) &&
	(cd repo && git commit -q -m first) &&
	git -C repo log --format=%s >out &&
	echo first >expect &&
	test_cmp expect out
'
test_expect_success 'git commit --no-verify skips the check' '
	printf y >>"repo/data/scan 1/a.bin" &&
	(cd repo && printf more >>README && git commit -q -a --no-verify -m second) &&
	git -C repo log --format=%s >out &&
	printf "second\nfirst\n" >expect &&
	test_cmp expect out
'
test_expect_success 'git push is refused while a file is modified' '
	git -C repo remote add origin ../remote.git &&
	(cd repo && test_exit_code 1 git push -q origin HEAD:main 2>../err) &&
	grep "^ama-hook: pre-push refused: 1 file in ama assets is not published (git push --no-verify skips this check)\$" err &&
	test_exit_code 1 git -C remote.git rev-parse -q --verify main
'
test_expect_success 'and passes once the asset is published' '
	(cd "repo/data/scan 1" && ama add -q a.bin && ama upload -q -m three) &&
	(cd repo && git push -q origin HEAD:main 2>../err) &&
	git -C remote.git log --format=%s main >out &&
	printf "second\nfirst\n" >expect &&
	test_cmp expect out
'
test_expect_success 'uninstall puts the own hook back and removes pre-push' '
	(cd repo && ama hook uninstall >../out) &&
	cat >expect <<-\EOF &&
	restored the pre-commit hook
	removed the pre-push hook
	EOF
	test_cmp expect out &&
	test_path_is_missing repo/.git/hooks/pre-push &&
	test_path_is_missing repo/.git/hooks/pre-commit.ama-chained &&
	grep "own hook ran" repo/.git/hooks/pre-commit
'
test_expect_success 'uninstall with nothing installed says so' '
	(cd repo && ama hook uninstall >../out) &&
	echo "no ama hooks were installed" >expect &&
	test_cmp expect out
'
test_expect_success 'an asset at the top of the work tree is checked too' '
	git init -q top && (cd top && git config user.name t && git config user.email t@e &&
	 ama init -q top && printf z >z.bin && ama add -q z.bin && printf ".ama/\n" >.gitignore &&
	 ama hook install -q && git add .gitignore &&
	 test_exit_code 1 git commit -q -m x 2>../err) &&
	cat >expect <<-\EOF &&
	ama-hook: z.bin: not published; run: ama upload
	ama-hook: pre-commit refused: 1 file in ama assets is not published (git commit --no-verify skips this check)
	EOF
	test_cmp expect err
'
test_expect_success 'without ama on PATH the hook runs ama-hook from where it was installed' '
	mkdir "bin'"'"'q" && cp "$AMA_BUILD_DIR/porcelain/ama-hook" "bin'"'"'q/" &&
	git init -q quoted &&
	(cd quoted && git config user.name t && git config user.email t@e &&
	 ama init -q q && printf z >z.bin && ama add -q z.bin &&
	 printf ".ama/\n" >.gitignore && git add .gitignore &&
	 "../bin'"'"'q/ama-hook" install -q &&
	 PATH=/usr/bin:/bin && export PATH &&
	 test_exit_code 1 git commit -q -m x 2>../err) &&
	cat >expect <<-\EOF &&
	ama-hook: z.bin: not published; run: ama upload
	ama-hook: pre-commit refused: 1 file in ama assets is not published (git commit --no-verify skips this check)
	EOF
	test_cmp expect err &&
	word=$(sed -n "s/^exec \(.*\) run pre-commit\$/\1/p" quoted/.git/hooks/pre-commit) &&
	eval "set -- $word" && test $# = 1 &&
	test "$1" = "$TRASH_DIRECTORY/bin'"'"'q/ama-hook"
'
test_expect_success 'a hooks folder with a hostile name is printed quoted' '
	git init -q hostile &&
	git -C hostile config core.hooksPath "$(printf "ho\"oks\tdir\nx")" &&
	(cd hostile && ama hook install >../out && ama hook uninstall >../out2) &&
	cat >expect <<-\EOF &&
	installed the pre-commit hook: "ho\"oks\tdir\nx/pre-commit"
	installed the pre-push hook: "ho\"oks\tdir\nx/pre-push"
	EOF
	test_cmp expect out &&
	printf "%s\n" "removed the pre-commit hook" "removed the pre-push hook" >expect &&
	test_cmp expect out2
'
test_expect_success '... and so is the hook it keeps' '
	mkdir -p "hostile/$(printf "ho\"oks\tdir\nx")" &&
	printf "#!/bin/sh\n" >"hostile/$(printf "ho\"oks\tdir\nx")/pre-push" &&
	(cd hostile && ama hook install >../out) &&
	cat >expect <<-\EOF &&
	installed the pre-commit hook: "ho\"oks\tdir\nx/pre-commit"
	kept the pre-push hook: it runs first, from "ho\"oks\tdir\nx/pre-push.ama-chained"
	installed the pre-push hook: "ho\"oks\tdir\nx/pre-push"
	EOF
	test_cmp expect out
'
test_done
