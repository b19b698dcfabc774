#!/bin/sh
# setup.sh: install what a Debian 12 machine lacks to build and test ama, then build it.
# Used by scripts/demo.sh and scripts/check.sh; safe to run again (it only
# installs what is missing and only rebuilds what changed).
#   sh scripts/setup.sh --missing   only print what it would install, one a line
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

pkgs="build-essential autoconf automake pkg-config git libssl-dev
libcurl4-openssl-dev libgit2-dev libinih-dev libcriterion-dev
libmicrohttpd-dev libjansson-dev libexpat1-dev liburing-dev libfuse3-dev
fuse3 curl util-linux python3"

missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
# Node.js and npm run the S3 test server, the aws CLI reads buckets in the
# tests: any install of them will do (an aws from pip or AWS's installer
# is not replaced by Debian's)
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
command -v aws >/dev/null 2>&1 || missing="$missing awscli"

if [ "${1:-}" = --missing ]; then
	for p in $missing; do echo "$p"; done
	exit 0
fi

if [ -n "$missing" ]; then
	echo "setup: installing:$missing" >&2
	if [ "$(id -u)" = 0 ]; then
		sudo=
	elif command -v sudo >/dev/null 2>&1; then
		sudo=sudo
	else
		echo "setup: need root (or sudo) to install:$missing" >&2
		exit 2
	fi
	$sudo apt-get update -q >&2
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q $missing >&2
fi

if [ ! -x configure ] || [ configure.ac -nt configure ] || [ ! -f build-aux/tap-driver.sh ]; then
	autoreconf -fi
fi
if [ ! -f Makefile ] || [ configure -nt config.status ]; then
	./configure -q
fi
make -j"$(nproc)" >/dev/null
echo "setup: built ama in $top" >&2
