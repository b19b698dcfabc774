#!/bin/sh
test_description='ama mount: a published version as a read-only filesystem'
. ./test-lib.sh

test -c /dev/fuse && test -r /dev/fuse && test -w /dev/fuse ||
	test_skip_all "no usable /dev/fuse (the README's set-up loads fuse)"
command -v fusermount3 >/dev/null 2>&1 ||
	test_skip_all "no fusermount3 (Debian package fuse3, the README's set-up installs it)"

# mount_start REF DIR: ama mount in the background, until DIR is mounted
mount_start() {
	mkdir -p "$2" &&
	ama mount "$1" "$2" 2>>mount.err &
	MOUNT_PID=$!
	test_atexit "fusermount3 -u '$TRASH_DIRECTORY/$2' 2>/dev/null; kill $MOUNT_PID 2>/dev/null"
	n=0
	while ! mountpoint -q "$2"; do
		kill -0 "$MOUNT_PID" 2>/dev/null || return 1
		test $n -lt 200 || return 1
		sleep 0.05
		n=$((n + 1))
	done
}

# mount_stop DIR: unmount; ama mount ends with exit 0 and leaves nothing
mount_stop() {
	fusermount3 -u "$1" &&
	wait "$MOUNT_PID" &&
	! kill -0 "$MOUNT_PID" 2>/dev/null &&
	! mountpoint -q "$1"
}

test_expect_code 2 'usage: a reference and a folder' '
	ama mount demo/1
'

test_expect_success 'setup: an asset with awkward names, a link and a large file, uploaded' '
	mkdir src && cd src &&
	ama init -q demo &&
	mkdir -p "d/e f" "new
line" &&
	printf "hello\n" >a.txt &&
	: >empty &&
	printf "tab" >"t	ab" &&
	printf "quote" >"q\"uote" &&
	printf "in" >"new
line/x" &&
	head -c 3000000 /dev/urandom >"d/e f/big" &&
	printf "-" >-dash &&
	ln -s a.txt link &&
	ama add -q . &&
	ama upload -q -m first &&
	cd .. && ama clone -q demo/1 clone
'

test_expect_success 'the tree is there at once: names, sizes, types' '
	AMA_CACHE_DIR="$TRASH_DIRECTORY/cache1" &&
	export AMA_CACHE_DIR &&
	mount_start demo/1 mnt &&
	(cd mnt && find . | sort) >actual &&
	(cd clone && find . -path ./.ama -prune -o -print | sort) >expect &&
	test_cmp expect actual &&
	(cd mnt && find . -type l -printf "%p %l\n") >actual &&
	echo "./link a.txt" >expect &&
	test_cmp expect actual &&
	stat -c "%s %A" "mnt/d/e f/big" >actual &&
	echo "3000000 -r--r--r--" >expect &&
	test_cmp expect actual
'

test_expect_success 'every file reads as in a clone, and as its MD5 says' '
	diff -r --no-dereference -x .ama clone mnt &&
	# md5sum -c of the manifest (names it would have to escape apart:
	# diff -r above compared those)
	ama-cat-manifest demo/1 | grep -v " link	" | grep -v "	\"" |
		sed "s/^\([0-9a-f]*\) [0-9]*	/\1  /" >sums &&
	test $(wc -l <sums) = 4 &&
	(cd mnt && md5sum --quiet -c ../sums)
'

test_expect_success 'writing is refused' '
	! sh -c "echo x >mnt/a.txt" 2>/dev/null &&
	! touch mnt/new 2>/dev/null &&
	test_path_is_missing src/new
'

test_expect_success 'unmounting ends the program and leaves no process' '
	mount_stop mnt &&
	test_must_be_empty mount.err
'

test_expect_success 'a remote content whose bytes were changed gives EIO and is named' '
	AMA_CACHE_DIR="$TRASH_DIRECTORY/cache2" &&
	export AMA_CACHE_DIR &&
	top=$(sed -n "s/^top-hash = //p" src/.ama/config) &&
	obj="$XDG_DATA_HOME/ama/remote/$top/contents/$(md5_of src/a.txt)" &&
	chmod u+w "$obj" && printf "HELLO\n" >"$obj" &&
	mount_start demo/1 mnt2 &&
	test_exit_code 1 cat mnt2/a.txt 2>err &&
	echo "cat: mnt2/a.txt: Input/output error" >expect &&
	test_cmp expect err &&
	cmp src/empty mnt2/empty &&
	cmp "src/t	ab" "mnt2/t	ab" &&
	mount_stop mnt2 &&
	printf "ama-mount: a.txt: has MD5 %s, not %s\n" \
		"$(printf "HELLO\n" | md5sum | cut -c1-32)" \
		"$(md5_of src/a.txt)" >expect &&
	test_cmp expect mount.err &&
	test_path_is_missing "$AMA_CACHE_DIR/contents/$(md5_of src/a.txt | cut -c1-2)/$(md5_of src/a.txt)"
'

test_done
