#!/bin/sh
test_description='ama init: make the working folder an asset of a class'
. ./test-lib.sh

usage='ama init [-q | --quiet] <class>'
data="$TRASH_DIRECTORY/.local/share/ama"

test_expect_success 'an unknown option is a usage error' '
	test_exit_code 2 ama-init --bogus 2>err &&
	cat >expect <<-EOF &&
	ama-init: unknown option '"'--bogus'"'
	ama-init: usage: $usage
	EOF
	test_cmp expect err &&
	test_path_is_missing .ama
'
test_expect_success '-h prints the usage' '
	ama-init -h >out &&
	echo "usage: $usage" >expect &&
	test_cmp expect out &&
	test_path_is_missing .ama
'
test_expect_success 'no class is a usage error' '
	test_exit_code 2 ama-init >out 2>err &&
	test_must_be_empty out &&
	cat >expect <<-EOF &&
	ama-init: wants one class name
	ama-init: usage: $usage
	EOF
	test_cmp expect err &&
	test_path_is_missing .ama
'
test_expect_success 'two classes are a usage error' '
	test_exit_code 2 ama-init a b 2>err &&
	cat >expect <<-EOF &&
	ama-init: wants one class name
	ama-init: usage: $usage
	EOF
	test_cmp expect err &&
	test_path_is_missing .ama
'
test_expect_success 'bad class names are refused, nothing made' '
	rm -f err &&
	for c in "a b" "a/b" "a..b" "a." "a.lock" ".a" "_a" "$(printf "a\nb")" \
		"$(printf "caf\303\251")" ""; do
		test_exit_code 2 ama-init -- "$c" 2>>err || return 1
	done &&
	cat >expect <<-\EOF &&
	ama-init: a b: bad class name: only letters, digits, '"'.'"', '"'_'"' and '"'-'"' are allowed
	ama-init: a/b: bad class name: only letters, digits, '"'.'"', '"'_'"' and '"'-'"' are allowed
	ama-init: a..b: bad class name: no '"'..'"', and no '"'.'"' or '"'.lock'"' at the end
	ama-init: a.: bad class name: no '"'..'"', and no '"'.'"' or '"'.lock'"' at the end
	ama-init: a.lock: bad class name: no '"'..'"', and no '"'.'"' or '"'.lock'"' at the end
	ama-init: .a: bad class name: must start with a letter or digit
	ama-init: _a: bad class name: must start with a letter or digit
	ama-init: "a\nb": bad class name: only letters, digits, '"'.'"', '"'_'"' and '"'-'"' are allowed
	EOF
	printf "%s\n" "ama-init: caf$(printf "\303\251"): bad class name: only letters, digits, '"'.'"', '"'_'"' and '"'-'"' are allowed" >>expect &&
	echo "ama-init: : bad class name: want 1 to 64 bytes" >>expect &&
	test_cmp expect err &&
	{ ls -A | grep "^\.ama" || :; } >files &&
	test_must_be_empty files
'
test_expect_success 'a class name of 64 bytes is fine, 65 are not' '
	mkdir long && cd long &&
	c64=$(printf "%064d" 7) &&
	test_exit_code 2 ama-init "${c64}8" 2>../err &&
	echo "ama-init: ${c64}8: bad class name: want 1 to 64 bytes" >../expect &&
	test_cmp ../expect ../err &&
	ama-init -q "$c64" &&
	printf "[asset]\nclass = %s\n" "$c64" >../expect &&
	sed -n 1,2p .ama/config >../actual &&
	test_cmp ../expect ../actual
'

test_expect_success 'init makes .ama/config and says where' '
	mkdir a && cd a &&
	ama-init imaging >../out 2>../err &&
	echo "Initialized empty ama asset of class imaging in $(pwd -P)/.ama/" >../expect &&
	test_cmp ../expect ../out &&
	test_must_be_empty ../err &&
	ls -A .ama >../files &&
	echo config >../expect &&
	test_cmp ../expect ../files
'
test_expect_success 'with nothing configured, the embedded default is pinned' '
	cat >expect <<-EOF &&
	[asset]
	class = imaging
	[server]
	url = local
	[store]
	remote = file://$data/remote
	staging = file://$data/staging
	EOF
	test_cmp expect a/.ama/config
'
test_expect_success 'without XDG_DATA_HOME the default is under ~/.local/share' '
	mkdir b && cd b &&
	(unset XDG_DATA_HOME && ama-init -q imaging) &&
	sed -n "/^\[store\]/,\$p" .ama/config >../actual &&
	cat >../expect <<-EOF &&
	[store]
	remote = file://$HOME/.local/share/ama/remote
	staging = file://$HOME/.local/share/ama/staging
	EOF
	test_cmp ../expect ../actual
'
test_expect_success 'a relative XDG_DATA_HOME is ignored, as the spec says' '
	mkdir b2 && cd b2 &&
	XDG_DATA_HOME=rel ama-init -q imaging &&
	grep "^remote = " .ama/config >../actual &&
	echo "remote = file://$HOME/.local/share/ama/remote" >../expect &&
	test_cmp ../expect ../actual
'
test_expect_success 'a configured server or store is not pinned over' '
	mkdir -p .config/ama c d e &&
	printf "[server]\nurl = http://127.0.0.1:8417\n" >.config/ama/config &&
	(cd c && ama-init -q imaging) &&
	rm .config/ama/config &&
	(cd d && AMA_STORE_STAGING=file:///srv/staging ama-init -q imaging) &&
	printf "[store]\nremote = s3://bucket/p\n" >user.ini &&
	(cd e && AMA_CONFIG="$TRASH_DIRECTORY/user.ini" ama-init -q imaging) &&
	printf "[asset]\nclass = imaging\n" >expect &&
	test_cmp expect c/.ama/config &&
	test_cmp expect d/.ama/config &&
	test_cmp expect e/.ama/config
'
test_expect_success '-q and --quiet print nothing' '
	mkdir f g && (cd f && ama-init -q x >../out 2>../err) &&
	(cd g && ama-init --quiet x >>../out 2>>../err) &&
	test_must_be_empty out &&
	test_must_be_empty err &&
	test_path_is_file f/.ama/config &&
	test_path_is_file g/.ama/config
'
test_expect_success 'ama init runs ama-init' '
	mkdir h && cd h &&
	ama init data-2 >../out &&
	echo "Initialized empty ama asset of class data-2 in $(pwd -P)/.ama/" >../expect &&
	test_cmp ../expect ../out
'
test_expect_success 'a folder name with a newline or a backslash is quoted' '
	mkdir "n
l" "b\\s" &&
	(cd "n
l" && ama-init x) >out &&
	(cd "b\\s" && ama-init x) >>out &&
	printf "%s\n" "Initialized empty ama asset of class x in \"$(pwd -P)/n\\nl/.ama/\"" \
		"Initialized empty ama asset of class x in \"$(pwd -P)/b\\\\s/.ama/\"" >expect &&
	test_cmp expect out
'

test_expect_success 'init over an asset is refused, the config kept' '
	cp a/.ama/config before &&
	(cd a && test_exit_code 2 ama-init other >../out 2>../err) &&
	test_must_be_empty out &&
	echo "ama-init: .ama: already an ama asset" >expect &&
	test_cmp expect err &&
	test_cmp before a/.ama/config
'
test_expect_success 'init inside an asset is refused: assets do not nest' '
	mkdir -p a/sub/deeper &&
	(cd a/sub/deeper && test_exit_code 2 ama-init other >../../../out 2>../../../err) &&
	test_must_be_empty out &&
	echo "ama-init: $(cd a && pwd -P): inside this ama asset; assets do not nest" >expect &&
	test_cmp expect err &&
	test_path_is_missing a/sub/deeper/.ama &&
	ls -A a/sub/deeper >files &&
	test_must_be_empty files
'
test_expect_success 'a file named .ama is in the way' '
	mkdir i && : >i/.ama &&
	(cd i && test_exit_code 2 ama-init x 2>../err) &&
	echo "ama-init: .ama: cannot create: Not a directory" >expect &&
	test_cmp expect err &&
	ls -A i >files &&
	echo .ama >expect &&
	test_cmp expect files
'
test_expect_success 'a folder it cannot write to is a setup error' '
	mkdir j && test_give_to_user . && chmod 555 j &&
	(cd j && test_exit_code 2 test_as_user ama-init x 2>../err) &&
	echo "ama-init: .ama: cannot create: Permission denied" >expect &&
	test_cmp expect err &&
	test_path_is_missing j/.ama
'
test_expect_success 'an unreadable user config is a setup error' '
	mkdir k &&
	printf "[server\n" >bad.ini &&
	(cd k && AMA_CONFIG="$TRASH_DIRECTORY/bad.ini" test_exit_code 2 ama-init x 2>../err) &&
	echo "ama-init: $TRASH_DIRECTORY/bad.ini: line 1: not valid INI" >expect &&
	test_cmp expect err &&
	test_path_is_missing k/.ama
'
test_expect_success 'a failing stdout is a setup error' '
	mkdir l && cd l &&
	test_exit_code 2 ama-init x >/dev/full 2>../err &&
	echo "ama-init: cannot write output: No space left on device" >../expect &&
	test_cmp ../expect ../err
'
test_done
