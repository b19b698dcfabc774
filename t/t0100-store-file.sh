#!/bin/sh
test_description='lib/store.h on file://: atomic objects in a folder'
. ./test-lib.sh

PATH="$AMA_BUILD_DIR/t/helper:$PATH"
S="file://$TRASH_DIRECTORY/staging"

# what "put" and "head" print on file://: size, no ETag, single
info_line() { # file key
	printf '%s - other single -\t%s\n' "$(wc -c <"$1" | tr -d " ")" "$2"
}

test_expect_code 2 'a missing command is a usage error' '
	ama-store-tool "$S" 2>err
'
test_expect_success '... with the usage' '
	sed -n "1,2p" err >actual &&
	cat >expect <<-\EOF &&
	ama-store-tool: need <url> and <command>
	ama-store-tool: usage: ama-store-tool [-z] [-j <n>] [--role <role>] <url> <command> [<arg>...]
	EOF
	test_cmp expect actual
'
test_expect_success 'a relative file:// URL is a setup error' '
	test_exit_code 2 ama-store-tool file://staging head k 2>err &&
	echo "ama-store-tool: not a bucket URL: '"'file://staging'"': a file:// URL needs an absolute folder (file:///dir)" >expect &&
	test_cmp expect err
'
test_expect_success 'a missing folder is a setup error, and nothing is made' '
	: >e0 &&
	test_exit_code 2 ama-store-tool "$S" put k e0 2>err &&
	echo "ama-store-tool: no such folder: $TRASH_DIRECTORY/staging" >expect &&
	test_cmp expect err &&
	test_path_is_missing staging
'
test_expect_success 'mb makes the folder' '
	ama-store-tool "$S" mb &&
	test -d staging
'

test_expect_success 'setup: files of 0, 1 and 5 MiB bytes' '
	: >empty &&
	printf x >one &&
	head -c 5242880 /dev/urandom >five
'
for f in empty one five; do
	test_expect_success "round trip of '$f' is byte-identical" '
		ama-store-tool "$S" put '$f' '$f' >out &&
		info_line '$f' '$f' >expect &&
		test_cmp expect out &&
		ama-store-tool "$S" get '$f' >back &&
		cmp '$f' back &&
		cmp '$f' staging/'$f' &&
		ama-store-tool "$S" head '$f' >out &&
		test_cmp expect out
	'
done
test_expect_success 'a 300 MiB sparse file round-trips' '
	truncate -s 300M big &&
	printf start | dd of=big conv=notrunc 2>/dev/null &&
	head -c 1000000 /dev/urandom | dd of=big bs=1M seek=299 conv=notrunc 2>/dev/null &&
	ama-store-tool "$S" put data/big big >out &&
	info_line big data/big >expect &&
	test_cmp expect out &&
	ama-store-tool "$S" get data/big | cmp big -
'
test_expect_success 'put-multipart joins the parts in order' '
	AMA_TRANSFER_PART_SIZE=1MiB ama-store-tool "$S" put-multipart five5 five >out &&
	printf "%s - other multipart -\tfive5\n" 5242880 >expect &&
	test_cmp expect out &&
	cmp five staging/five5 &&
	test_path_is_missing "staging/.ama-uploads/$(ls staging/.ama-uploads)/00001"
'
test_expect_success 'ranges' '
	ama-store-tool "$S" get --range 0:5 data/big >actual &&
	printf start >expect && test_cmp expect actual &&
	ama-store-tool "$S" get --range 314572700:100 data/big >actual &&
	tail -c 100 big >expect && cmp expect actual &&
	ama-store-tool "$S" get --range 1048576:3145728 five >actual &&
	dd if=five bs=1M skip=1 count=3 2>/dev/null >expect && cmp expect actual
'
test_expect_success 'a range past the end is refused' '
	test_exit_code 1 ama-store-tool "$S" get --range 2:1 one 2>err &&
	echo "ama-store-tool: one: range past the end of the object" >expect &&
	test_cmp expect err
'
test_expect_success 'a missing object' '
	test_exit_code 1 ama-store-tool "$S" head nothere 2>err &&
	echo "ama-store-tool: nothere: no such object" >expect &&
	test_cmp expect err
'

test_expect_success 'a listing of more keys than a page comes in pages' '
	for i in 01 02 03 04 05 06 07 08 09 10 11 12; do
		ama-store-tool "$S" put page/$i one >/dev/null || return 1
	done &&
	ama-store-tool "$S" list --max-keys 5 --pages page/ >out &&
	{
		echo "page 1 5" &&
		for i in 01 02 03 04 05; do info_line one page/$i; done &&
		echo "page 2 5" &&
		for i in 06 07 08 09 10; do info_line one page/$i; done &&
		echo "page 3 2" &&
		for i in 11 12; do info_line one page/$i; done
	} >expect &&
	test_cmp expect out
'
test_expect_success 'a prefix need not end at a folder' '
	ama-store-tool "$S" list page/1 >out &&
	for i in 10 11 12; do info_line one page/$i; done >expect &&
	test_cmp expect out
'

test_expect_success 'awkward keys round-trip and list in byte order' '
	for k in "sp ace" "ex!cl'"'"'am(a)t*ion" "utf8-é" "amp&ersand" \
		"q\"uote" "back\\slash" "tab	in" "new
line" "-dash" "$(printf "latin1-\351")"; do
		ama-store-tool "$S" put -- "awk/$k" one >/dev/null &&
		ama-store-tool "$S" get -- "awk/$k" | cmp one - || return 1
	done &&
	ama-store-tool "$S" list awk/ | cut -f2 >actual &&
	cat >expect <<-EOF &&
	awk/-dash
	awk/amp&ersand
	"awk/back\\\\slash"
	awk/ex!cl'"'"'am(a)t*ion
	$(printf "awk/latin1-\351")
	"awk/new\\nline"
	"awk/q\\"uote"
	awk/sp ace
	"awk/tab\\tin"
	awk/utf8-é
	EOF
	test_cmp expect actual
'
test_expect_success 'awkward keys pass raw with -z' '
	ama-store-tool -z "$S" list awk/ | tr "\0" "\n" | grep -c . >count &&
	echo 11 >expect && test_cmp expect count &&
	ama-store-tool -z "$S" head "awk/tab	in" "awk/new
line" >out &&
	printf "1 - other single -\t%s\0" "awk/tab	in" "awk/new
line" >expect &&
	cmp expect out
'
test_expect_success 'keys that could leave the folder or hit the store'"'"'s own files are refused' '
	: >err &&
	for k in ../x a/../b ./a a//b a/ .ama-tmp-x d/.ama-uploads; do
		test_exit_code 1 ama-store-tool "$S" put "$k" one 2>>err || return 1
	done &&
	test_path_is_missing x &&
	cat >expect <<-\EOF &&
	ama-store-tool: ../x: a file:// store key may not have an empty, '"'.'"' or '"'..'"' part
	ama-store-tool: a/../b: a file:// store key may not have an empty, '"'.'"' or '"'..'"' part
	ama-store-tool: ./a: a file:// store key may not have an empty, '"'.'"' or '"'..'"' part
	ama-store-tool: a//b: a file:// store key may not have an empty, '"'.'"' or '"'..'"' part
	ama-store-tool: a/: a file:// store key may not end with '"'/'"'
	ama-store-tool: .ama-tmp-x: a file:// store key may not have a part starting with '"'.ama-'"'
	ama-store-tool: d/.ama-uploads: a file:// store key may not have a part starting with '"'.ama-'"'
	EOF
	test_cmp expect err
'

test_expect_success 'a wrong MD5 is refused and nothing is left behind' '
	test_exit_code 1 ama-store-tool "$S" put --md5 0123456789abcdef0123456789abcdef bad five 2>err &&
	echo "ama-store-tool: bad: content does not match its MD5" >expect &&
	test_cmp expect err &&
	test_path_is_missing staging/bad &&
	find staging -name ".ama-tmp-*" >left &&
	test_must_be_empty left
'
test_expect_success 'a put replaces an object whole' '
	ama-store-tool "$S" put swap five >/dev/null &&
	ama-store-tool "$S" put swap one >/dev/null &&
	cmp one staging/swap
'
test_expect_success 'a conditional create refuses the second writer' '
	ama-store-tool "$S" put --if-none-match manifest one >out &&
	info_line one manifest >expect && test_cmp expect out &&
	test_exit_code 1 ama-store-tool "$S" put --if-none-match manifest five 2>err &&
	echo "ama-store-tool: manifest: the object exists already" >expect &&
	test_cmp expect err &&
	cmp one staging/manifest &&
	find staging -name ".ama-tmp-*" >left &&
	test_must_be_empty left
'

test_expect_success 'a copy into another folder' '
	mkdir remote &&
	ama-store-tool "file://$PWD/remote" copy "$S" five top/contents/five >out &&
	printf "copied\ttop/contents/five\n" >expect && test_cmp expect out &&
	cmp five remote/top/contents/five
'
test_expect_success 'a copy with If-Match checks the source' '
	ama-store-tool "file://$PWD/remote" copy --if-match "$(md5_of one)" "$S" one one >out &&
	cmp one remote/one &&
	test_exit_code 1 ama-store-tool "file://$PWD/remote" copy --if-match "$(md5_of one)" \
		"$S" five five 2>err &&
	echo "ama-store-tool: five: the source is not the object expected (ETag $(md5_of five), not $(md5_of one))" >expect &&
	test_cmp expect err &&
	test_path_is_missing remote/five
'
test_expect_success 'a copy between file:// and s3:// is refused' '
	AWS_ACCESS_KEY_ID=k AWS_SECRET_ACCESS_KEY=s test_exit_code 2 \
		ama-store-tool "$S" copy s3://bucket one one 2>err &&
	echo "ama-store-tool: cannot copy between a file:// and an s3:// store on the store'"'"'s side" >expect &&
	test_cmp expect err
'

test_expect_success 'delete removes the object and the folders it leaves empty' '
	ama-store-tool "$S" delete data/big nothere &&
	test_path_is_missing staging/data
'

test_expect_success 'a batch of puts reports each file' '
	mkdir small &&
	for i in 1 2 3 4 5; do echo "file $i" >small/$i || return 1; done &&
	for f in small/*; do printf "%s -\t%s\n" "$(md5_of $f)" $f; done >records &&
	printf "%s 99\t%s\n" "$(md5_of small/1)" small/1 >>records &&
	printf "%s -\t%s\n" 0123456789abcdef0123456789abcdef small/2 >>records &&
	test_exit_code 1 ama-store-tool "$S" batch-put --prefix b/ <records >out 2>err &&
	for f in small/1 small/2 small/3 small/4 small/5; do
		printf "stored %s %s -\t%s\n" "$(md5_of $f)" "$(wc -c <$f)" $f
	done >expect &&
	test_cmp expect out &&
	cat >expect <<-\EOF &&
	ama-store-tool: small/1: changed: 7 bytes, not 99
	ama-store-tool: small/2: content does not match its MD5
	EOF
	test_cmp expect err &&
	for f in small/*; do cmp $f staging/b/$(md5_of $f) || return 1; done
'
# wait_for_tmp: until a put's temporary file in staging holds over 1 MiB;
# fails after 10 seconds if none does
wait_for_tmp() {
	n=0
	until test -n "$(find staging -name ".ama-tmp-*" -size +1M)"; do
		test $n -lt 200 || { say "no temporary file appeared" >&2; return 1; }
		sleep 0.05
		n=$((n + 1))
	done
}
test_expect_success 'kill -9 in the middle of a put leaves no partial object' '
	truncate -s 2G huge &&
	{ ama-store-tool "$S" put huge huge & } &&
	pid=$! &&
	test_when_finished "kill -9 $pid 2>/dev/null" &&
	wait_for_tmp &&
	kill -9 $pid &&
	test_exit_code 137 wait $pid &&
	test_path_is_missing staging/huge &&
	ama-store-tool "$S" list >listed &&
	test_exit_code 1 grep "	huge$" listed &&
	find staging -name ".ama-tmp-*" >left &&
	test $(wc -l <left) = 1 &&
	find staging -name ".ama-tmp-*" -delete
'
test_expect_success 'SIGTERM in the middle of a put removes the temporary file' '
	{ ama-store-tool "$S" put huge2 huge >tout 2>terr & } &&
	pid=$! &&
	test_when_finished "kill -9 $pid 2>/dev/null" &&
	wait_for_tmp &&
	kill -TERM $pid &&
	{ wait $pid; echo $? >status; } &&
	echo 143 >expect && test_cmp expect status &&
	echo "ama-store-tool: huge2: interrupted" >expect && test_cmp expect terr &&
	test_must_be_empty tout &&
	test_path_is_missing staging/huge2 &&
	find staging -name ".ama-tmp-*" >left &&
	test_must_be_empty left
'
test_done
