#!/bin/sh
# t/fuzz/build.sh: build the libFuzzer targets (record, manifest, index,
# s3xml) with clang, ASan and UBSan.
#
# usage: t/fuzz/build.sh [<out-dir>]	(default /tmp/ama-fuzz)
# Run from anywhere; the tree must be configured (auto-config.h exists).
# Each target is compiled together with the lib/*.c files it needs, all
# instrumented, rather than linked against lib/libama.a built by gcc.
# Binaries go to <out-dir>, never into the source tree. CC (default
# clang) may name another clang; CFLAGS defaults to -g -O1.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-/tmp/ama-fuzz}
CC=${CC:-clang}
CFLAGS=${CFLAGS:--g -O1}
SAN='-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined'

if test ! -f "$top/auto-config.h"; then
	echo "build.sh: $top is not configured (no auto-config.h)" >&2
	exit 2
fi
case $out in
/*) ;;
*) out=$(pwd)/$out ;;
esac
case $out/ in
"$top"/*)
	echo "build.sh: $out: refusing to build inside the source tree" >&2
	exit 2
	;;
esac
mkdir -p "$out"

# build <target> <pkg-config modules|-> <lib sources...> [-- <link flags...>]
build() {
	name=$1 mods=$2
	shift 2
	srcs=
	while test $# -gt 0 && test "$1" != --; do
		srcs="$srcs $top/lib/$1.c"
		shift
	done
	test $# -gt 0 && shift
	pc=
	test "$mods" = - || pc=$(pkg-config --cflags --libs $mods)
	echo "build.sh: $out/$name"
	# shellcheck disable=SC2086 # word splitting of flag lists is wanted
	$CC $CFLAGS $SAN -std=c11 -fno-omit-frame-pointer -pthread \
		-Wall -Wextra -Wno-unused-parameter -I "$top/lib" -I "$top" \
		-o "$out/$name" "$top/t/fuzz/$name.c" $srcs "$@" $pc
}

build record - record buf error
build manifest libcrypto manifest record buf error asset md5 stat version
# the loader's mmap is wrapped so that ASan sees reads past the end
build index libcrypto index asset buf error lockfile record shellquote \
	utf8 -- -Wl,--wrap=mmap,--wrap=munmap
# store.c (page release, ETag classes) pulls in the store backends
build s3xml "expat libcrypto libcurl inih" s3xml buf error store \
	store_file store_s3 store_s3_http store_s3_put s3creds config \
	curlerr lockfile md5 progress shellquote stat utf8
