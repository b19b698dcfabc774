#!/bin/sh
test_description='symbolic links are data: recorded as links, published, restored by clone and switch'
. ./test-lib.sh

# links DIR: every link under DIR with its target, sorted
links() {
	(cd "$1" && find . -path ./.ama -prune -o -type l -printf "%p %l\n" |
		sort)
}

test_expect_success 'setup: relative, absolute, dangling, chained and folder links' '
	mkdir src && cd src &&
	ama init -q demo &&
	mkdir -p data/run-0042 shared &&
	printf "r" >data/run-0042/r.bin &&
	printf "ref" >shared/genome.fa &&
	ln -s run-0042 data/latest &&
	ln -s ../shared/genome.fa data/genome.fa &&
	ln -s /etc/hostname abs &&
	ln -s no/such/file dangling &&
	ln -s data/latest chain &&
	ln -s "with	tab" "link	tab" &&
	ama add . >../out &&
	echo "8 new, 0 updated, 0 unchanged" >../expect &&
	test_cmp ../expect ../out &&
	ama upload -q -m links
'

test_expect_success 'the manifest says link, in format 2' '
	ama-cat-manifest --header demo/1 >m &&
	head -1 m >actual &&
	echo "format 2" >expect &&
	test_cmp expect actual &&
	printf "%s 8 link\tdata/latest\n" "$(printf run-0042 | md5sum | cut -c1-32)" >expect &&
	grep "	data/latest\$" m >actual &&
	test_cmp expect actual
'

test_expect_success 'a clone restores every link as it was recorded, byte for byte' '
	ama clone -q demo/1 copy &&
	diff -r --no-dereference -x .ama src copy &&
	links src >expect &&
	links copy >actual &&
	test_cmp expect actual &&
	(cd copy && ama status) >actual &&
	printf "asset demo/1 at version 0.0.0\nnothing to do: every added file is unchanged and uploaded\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'nothing is written through a link: a link to a folder stays a link' '
	test -L copy/data/latest &&
	test_path_is_file copy/data/run-0042/r.bin
'

test_expect_success 'a link replaced by a file, and back, is a modification each time' '
	cd copy &&
	rm data/latest && printf x >data/latest &&
	ama status --porcelain >../actual &&
	printf "modified\tdata/latest\n" >../expect &&
	test_cmp ../expect ../actual &&
	ama add -q data/latest && ama upload -q -m file &&
	rm data/latest && ln -s run-0042 data/latest &&
	ama status --porcelain >../actual &&
	test_cmp ../expect ../actual &&
	ama add -q data/latest && ama upload -q -m "link again" &&
	ama-cat-manifest demo/1@0.0.1 | grep "	data/latest\$" >../actual &&
	printf "%s 1\tdata/latest\n" "$(printf x | md5sum | cut -c1-32)" >../expect &&
	test_cmp ../expect ../actual
'

test_expect_success 'switch makes links and files of the same path in turn' '
	cd copy &&
	ama switch -q 0.0.1 && test -f data/latest && ! test -L data/latest &&
	ama switch -q 0.0.2 && test -L data/latest &&
	echo run-0042 >../expect && readlink data/latest >../actual &&
	test_cmp ../expect ../actual &&
	ama switch -q 0.0.0 && links . >../actual && links ../src >../expect &&
	test_cmp ../expect ../actual
'

test_expect_code 1 '--no-external-links refuses links out of the tree, naming them' '
	ama clone -q --no-external-links demo/1@0.0.0 strict 2>err &&
	cat err >&2
'

test_expect_success '... and places everything else' '
	cat >expect <<-\EOF &&
	ama-clone: abs: a link out of the work tree (to /etc/hostname): not made (--no-external-links)
	EOF
	test_cmp expect err &&
	test_path_is_missing strict/abs &&
	test -L strict/data/genome.fa &&
	test -L strict/dangling
'

test_expect_success 'a manifest making d a link to / and then writing d/x is refused whole' '
	top=$(sed -n "s/^top-hash = //p" src/.ama/config) &&
	m="$XDG_DATA_HOME/ama/remote/$top/assets/1/0.0.3.manifest" &&
	slash=$(printf / | md5sum | cut -c1-32) &&
	x=$(printf x | md5sum | cut -c1-32) &&
	printf "format 2\nversion 0.0.3\nparent 0.0.2\nauthor eve\ntime 1\n\n%s 1 link\td\n%s 1\td/x\n" \
		"$slash" "$x" >"$m" &&
	test_exit_code 2 ama-cat-manifest demo/1@0.0.3 >out 2>err &&
	test_must_be_empty out &&
	echo "ama-cat-manifest: file://$m: line 8: d/x: inside d, which is a symbolic link" >expect &&
	test_cmp expect err &&
	rm "$m"
'

test_expect_success 'an older format 1 manifest with a link is refused, not misread' '
	top=$(sed -n "s/^top-hash = //p" src/.ama/config) &&
	m="$XDG_DATA_HOME/ama/remote/$top/assets/1/0.0.3.manifest" &&
	printf "version 0.0.3\nparent 0.0.2\nauthor eve\ntime 1\n\n%s 1 link\td\n" \
		"$(printf / | md5sum | cut -c1-32)" >"$m" &&
	test_exit_code 2 ama-cat-manifest demo/1@0.0.3 2>err &&
	echo "ama-cat-manifest: file://$m: line 6: a symbolic link in a manifest without '"'"'format 2'"'"'" >expect &&
	test_cmp expect err &&
	rm "$m"
'

test_done
