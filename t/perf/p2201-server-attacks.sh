#!/bin/sh
# p2201-server-attacks.sh: the hostile-HTTP and resource attacks of issue 9
# run again against ama-server, on demand (minutes; never by make check):
#   hostile HTTP  ~100 requests: paths, methods, headers, bodies, tokens;
#                 each must get the status it names (never 2xx for a bad
#                 one, never 5xx), the server must live and publish nothing
#   slow clients  headers sent a byte a second; a body that stops halfway
#   ulimit        ulimit -n 256 with 32 uploads of 20 files at once: every one
#                 succeeds; 1,100 idle connections: an authenticated request
#                 is served (not 500) once they close
#   SIGSTOP       ama versions and ama upload against a stopped server,
#                 TRIALS times each: each fails within [server] timeout + 5 s
#                 naming the server and the timeout
# Each class prints its trials and failures; the script is a test-lib
# script run from t/ (TAP output, exit 1 when a class failed):
#
#   sh t/perf/p2201-server-attacks.sh [-v]      # from the build tree
#
# Needs what make check needs (node/npm for the S3 test server), python3,
# curl, jq and prlimit.
if ! test -f ./test-lib.sh; then
	cd "$(dirname "$0")/.." || exit 2
	exec sh "perf/$(basename "$0")" "$@"
fi
test_description='ama-server: the attacks of issue 9 again, with their numbers'
. ./test-lib.sh

PATH="$AMA_BUILD_DIR/t/helper:$PATH"
CONF="$TRASH_DIRECTORY/srv/server.conf"
REPO="$TRASH_DIRECTORY/srv/meta.git"
TRIALS=${AMA_TEST_TRIALS:-5}

# attack.py PORT: the hostile requests, one a line of output:
# "ok|FAIL STATUS DESCRIPTION"
cat >attack.py <<\EOF
import json, socket, sys, time
port = int(sys.argv[1])
tok = open("token").read().strip()
good = "Authorization: Bearer " + tok + "\r\n"

def send(raw, timeout=10, trickle=0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    data = b""
    try:
        try:
            if trickle:
                for b in raw:
                    s.sendall(bytes([b]))
                    time.sleep(trickle)
            else:
                s.sendall(raw)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass    # the server answered and closed before the end
        while True:
            c = s.recv(65536)
            if not c:
                break
            data += c
    except (ConnectionResetError, BrokenPipeError):
        if not data:
            return "RST"
    except socket.timeout:
        return "TIMEOUT"
    finally:
        s.close()
    if not data:
        return "EOF"
    return data.split(b" ", 2)[1].decode("latin-1")

def req(method, path, body=None, headers="", auth=True, version="HTTP/1.1"):
    h = method.encode("latin-1") + b" " + path + b" " + version.encode() + b"\r\nHost: x\r\n"
    if auth:
        h += good.encode()
    h += headers.encode("latin-1")
    if body is not None:
        if isinstance(body, str):
            body = body.encode("utf-8", "surrogateescape")
        if "Content-Length" not in headers and "Transfer-Encoding" not in headers:
            h += b"Content-Length: %d\r\n" % len(body)
    h += b"Connection: close\r\n\r\n"
    return h + (body or b"")

A = b"/v1/classes/imaging/assets/1"
C = A + b"/commits"
def commit(objects, parent=None, message=""):
    return json.dumps({"parent": parent, "message": message, "objects": objects})

cases = [
    # paths
    ("%00 in a class", req("GET", b"/v1/classes/imaging%00x"), "400"),
    ("%00 after classes", req("POST", b"/v1/classes%00/imaging/assets", "{}"), "400"),
    ("raw NUL", req("GET", b"/v1/classes/imaging\0x"), "400"),
    ("%2F in a class", req("GET", b"/v1/classes/a%2Fb"), "400"),
    ("%2F in a seq", req("GET", b"/v1/classes/imaging/assets/1%2F..%2F2/versions"), "400"),
    ("%25", req("GET", b"/v1/classes/%25"), "400"),
    ("%2e%2e", req("GET", b"/v1/classes/%2e%2e"), "400"),
    ("..", req("GET", b"/v1/classes/.."), "400"),
    ("../ out of /v1", req("GET", b"/v1/../etc/passwd"), "404"),
    ("//", req("GET", b"/v1//classes"), "404"),
    ("trailing /", req("GET", b"/v1/classes/"), "404"),
    ("raw space", req("GET", b"/v1/classes/a b"), "400"),
    ("raw tab", req("GET", b"/v1/classes/a\tb"), "400"),
    ("raw UTF-8", req("GET", "/v1/classes/\u00e9".encode()), "400"),
    ("escaped UTF-8", req("GET", b"/v1/classes/%C3%A9"), "400"),
    ("raw DEL", req("GET", b"/v1/classes/a\x7fb"), "400"),
    ("raw 0xff", req("GET", b"/v1/classes/a\xffb"), "400"),
    ("backslash", req("GET", b"/v1/classes/a\\b"), "400"),
    ("quote", req("GET", b'/v1/classes/a"b'), "400"),
    ("angle brackets", req("GET", b"/v1/classes/<script>"), "400"),
    ("bad escape", req("GET", b"/v1/classes/a%zz"), "400"),
    ("cut escape", req("GET", b"/v1/classes/a%"), "400"),
    ("absolute form", req("GET", b"http://evil/v1/classes"), "400"),
    ("asterisk", req("OPTIONS", b"*"), "400"),
    ("no /v1", req("GET", b"/classes"), "404"),
    ("query NUL", req("GET", b"/v1/classes?x=%00"), "400"),
    ("query max=0", req("GET", A + b"/versions?max=0"), "400"),
    ("query max=-1", req("GET", A + b"/versions?max=-1"), "400"),
    ("query max huge", req("GET", A + b"/versions?max=99999999999999999999999"), "400"),
    ("query max=1e3", req("GET", A + b"/versions?max=1e3"), "400"),
    ("seq 0", req("GET", b"/v1/classes/imaging/assets/0/versions"), "400"),
    ("seq 01", req("GET", b"/v1/classes/imaging/assets/01/versions"), "400"),
    ("seq -1", req("GET", b"/v1/classes/imaging/assets/-1/versions"), "400"),
    ("seq 2^64", req("GET", b"/v1/classes/imaging/assets/18446744073709551616/versions"), "400"),
    ("seq 2^63", req("GET", b"/v1/classes/imaging/assets/9223372036854775808/versions"), "400"),
    ("version 0.01.0", req("GET", A + b"/versions/0.01.0/manifest"), "400"),
    ("version 99.99.99", req("GET", A + b"/versions/99.99.99/manifest"), "400"),
    ("version huge", req("GET", A + b"/versions/4294967296.0.0/manifest"), "400"),
    ("class of 65 bytes", req("GET", b"/v1/classes/" + b"a" * 65), "400"),
    ("class .lock", req("GET", b"/v1/classes/a.lock"), "400"),
    ("class -x", req("GET", b"/v1/classes/-x"), "400"),
    ("a path of 100 KB", req("GET", b"/v1/classes/" + b"a" * 100000), "414"),
    ("job id bad", req("GET", C + b"/zz"), "400"),
    ("job id unknown", req("GET", C + b"/" + b"0" * 32), "404"),
    ("job id upper case", req("GET", C + b"/" + b"A" * 32), "400"),
    # methods
    ("DELETE classes", req("DELETE", b"/v1/classes"), "405"),
    ("PUT class", req("PUT", b"/v1/classes/imaging", "{}"), "405"),
    ("TRACE", req("TRACE", b"/v1/classes"), "405"),
    ("PATCH commits", req("PATCH", C, "{}"), "405"),
    ("GET commits", req("GET", C), "405"),
    ("POST versions", req("POST", A + b"/versions", "{}"), "405"),
    ("lower-case method", req("get", b"/v1/classes"), "405"),
    ("method of 1 KB", req("X" * 1024, b"/v1/classes"), "405"),
    # tokens
    ("no token", req("GET", b"/v1/classes", auth=False), "401"),
    ("Basic", req("GET", b"/v1/classes", auth=False,
                  headers="Authorization: Basic YWxpY2U6eA==\r\n"), "401"),
    ("empty Bearer", req("GET", b"/v1/classes", auth=False,
                         headers="Authorization: Bearer \r\n"), "401"),
    ("a token cut by one", req("GET", b"/v1/classes", auth=False,
                               headers="Authorization: Bearer " + tok[:-1] + "\r\n"), "401"),
    ("a token and a byte", req("GET", b"/v1/classes", auth=False,
                               headers="Authorization: Bearer " + tok + "0\r\n"), "401"),
    ("a token of 2 KB", req("GET", b"/v1/classes", auth=False,
                            headers="Authorization: Bearer " + "a" * 2048 + "\r\n"), "401"),
    ("a token with NUL", req("GET", b"/v1/classes", auth=False,
                             headers="Authorization: Bearer " + tok[:10] + "\0" + tok[10:] + "\r\n"), "400|401"),
    ("the token lower-cased", req("GET", b"/v1/classes", auth=False,
                                  headers="authorization: bearer " + tok + "\r\n"), "200"),
    ("the SHA-256 as token", req("GET", b"/v1/classes", auth=False,
                                 headers="Authorization: Bearer " + "0" * 64 + "\r\n"), "401"),
    ("no token, a big body", req("POST", b"/v1/classes", "x" * 100000, auth=False), "401"),
    # headers
    ("Content-Length huge", req("POST", C, "", headers="Content-Length: 99999999999999999999\r\n"), "400|413"),
    ("Content-Length negative", req("POST", b"/v1/classes", "", headers="Content-Length: -5\r\n"), "400|413"),
    ("Content-Length not a number", req("POST", b"/v1/classes", "", headers="Content-Length: abc\r\n"), "400|413"),
    ("Content-Length twice", req("POST", b"/v1/classes", '{"name":"x"}',
                                 headers="Content-Length: 12\r\nContent-Length: 1\r\n"), "400"),
    ("Content-Length twice, same", req("POST", b"/v1/classes", '{"name":"x"}',
                                       headers="Content-Length: 12\r\nContent-Length: 12\r\n"), "400"),
    ("Content-Length and chunked", req("POST", b"/v1/classes", b"c\r\n{\"name\":\"x\"}\r\n0\r\n\r\n",
                                       headers="Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"), "400"),
    ("body over the limit", req("POST", b"/v1/classes", "x" * 5000), "413"),
    ("chunked over the limit", req("POST", b"/v1/classes",
        b"1388\r\n" + b"x" * 5000 + b"\r\n0\r\n\r\n", headers="Transfer-Encoding: chunked\r\n"), "413"),
    ("bad chunk size", req("POST", b"/v1/classes", b"zz\r\nabc\r\n0\r\n\r\n",
                           headers="Transfer-Encoding: chunked\r\n"), "400|RST|EOF"),
    ("a header of 100 KB", req("GET", b"/v1/classes", headers="X-Big: " + "a" * 100000 + "\r\n"), "431|413|RST|EOF"),
    ("10,000 headers", req("GET", b"/v1/classes", headers="X-A: b\r\n" * 10000), "431|413|RST|EOF"),
    ("HTTP/1.0", req("GET", b"/v1/classes", version="HTTP/1.0"), "200"),
    ("HTTP/0.9", b"GET /v1/classes\r\n\r\n", "400|505|EOF"),
    ("HTTP/2.0", req("GET", b"/v1/classes", version="HTTP/2.0"), "505"),
    ("no version", b"GET /v1/classes HTTP/\r\n\r\n", "400|505|EOF"),
    ("garbage", b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + b"\0" * 64, "400|505|EOF|RST"),
    ("empty request", b"\r\n\r\n", "400|EOF"),
    # bodies
    ("not JSON", req("POST", b"/v1/classes", "{name"), "400"),
    ("JSON array", req("POST", b"/v1/classes", "[1]"), "400"),
    ("nested 100,000 deep", req("POST", b"/v1/classes", "[" * 100000), "400|413"),
    ("nested 2,000 deep", req("POST", b"/v1/classes", "[" * 2000 + "]" * 2000), "400"),
    ("duplicate keys", req("POST", b"/v1/classes", '{"name":"a","name":"b"}'), "400"),
    ("name not a string", req("POST", b"/v1/classes", '{"name":7}'), "400"),
    ("name with NUL", req("POST", b"/v1/classes", '{"name":"a\\u0000b"}'), "400"),
    ("name with /", req("POST", b"/v1/classes", '{"name":"a/b"}'), "400"),
    ("name not UTF-8", req("POST", b"/v1/classes", b'{"name":"\xff"}'), "400"),
    ("claim not hex", req("POST", b"/v1/classes/imaging/assets", '{"claim":"zz"}'), "400"),
    ("claim a number", req("POST", b"/v1/classes/imaging/assets", '{"claim":1}'), "400"),
    ("commit: empty list", req("POST", C, commit("")), "400"),
    ("commit: objects missing", req("POST", C, '{"parent":null,"message":""}'), "400"),
    ("commit: objects a list", req("POST", C, '{"parent":null,"message":"","objects":[]}'), "400"),
    ("commit: md5 short", req("POST", C, commit("abc 1\tf\n")), "400"),
    ("commit: md5 upper", req("POST", C, commit("D41D8CD98F00B204E9800998ECF8427E 0\tf\n")), "400"),
    ("commit: size negative", req("POST", C, commit("d41d8cd98f00b204e9800998ecf8427e -1\tf\n")), "400"),
    ("commit: size 2^64", req("POST", C, commit("d41d8cd98f00b204e9800998ecf8427e 18446744073709551616\tf\n")), "400"),
    ("commit: path ..", req("POST", C, commit("d41d8cd98f00b204e9800998ecf8427e 0\t../x\n")), "400"),
    ("commit: path absolute", req("POST", C, commit("d41d8cd98f00b204e9800998ecf8427e 0\t/etc/passwd\n")), "400"),
    ("commit: path .git", req("POST", C, commit("d41d8cd98f00b204e9800998ecf8427e 0\t.git/config\n")), "400"),
    # refused by the repository only after verification: missing here
    ("commit: path git~1", req("POST", C, commit("d41d8cd98f00b204e9800998ecf8427e 0\tgit~1/config\n")), "400|422"),
    ("commit: path //", req("POST", C, commit("d41d8cd98f00b204e9800998ecf8427e 0\ta//b\n")), "400"),
    ("commit: path twice", req("POST", C, commit("d41d8cd98f00b204e9800998ecf8427e 0\ta\nd41d8cd98f00b204e9800998ecf8427e 0\ta\n")), "400"),
    ("commit: unsorted", req("POST", C, commit("d41d8cd98f00b204e9800998ecf8427e 0\tb\nd41d8cd98f00b204e9800998ecf8427e 0\ta\n")), "400"),
    ("commit: NUL in a path", req("POST", C, commit("d41d8cd98f00b204e9800998ecf8427e 0\ta\u0000b\n")), "400"),
    ("commit: no TAB", req("POST", C, commit("d41d8cd98f00b204e9800998ecf8427e 0 a\n")), "400"),
    ("commit: bad parent", req("POST", C, commit("d41d8cd98f00b204e9800998ecf8427e 0\ta\n", parent="x")), "400"),
    ("commit: message not UTF-8", req("POST", C, b'{"parent":null,"message":"\xff","objects":"d41d8cd98f00b204e9800998ecf8427e 0\\ta\\n"}'), "400"),
    ("commit: missing content", req("POST", C, commit("0123456789abcdef0123456789abcdef 5\ta\n")), "422"),
    ("commit: no such asset", req("POST", b"/v1/classes/imaging/assets/999/commits",
                                  commit("0123456789abcdef0123456789abcdef 5\ta\n")), "404"),
    ("commit: no such class", req("POST", b"/v1/classes/nosuch/assets/1/commits",
                                  commit("0123456789abcdef0123456789abcdef 5\ta\n")), "404"),
]

fails = 0
for desc, raw, want in cases:
    got = send(raw)
    ok = got in want.split("|")
    fails += not ok
    print("%s %s %s (want %s)" % ("ok" if ok else "FAIL", got, desc, want), flush=True)
# slow clients: headers a byte at a time (the server must not wait on them
# for others), and a body that stops halfway
got = send(req("GET", b"/v1/classes"), timeout=60, trickle=0.01)
print("%s %s headers sent a byte at a time" % ("ok" if got == "200" else "FAIL", got))
fails += got != "200"
sys.exit(1 if fails else 0)
EOF

test_expect_success 'setup: S3, ama-server (small limits), a user' '
	test_s3_start S3TS_KEYS=AMASTAGE:AMASTAGESECRET \
		"S3TS_KEY_BUCKETS=AMASTAGE=staging" staging remote &&
	mkdir srv &&
	printf "[server]\naws_access_key_id = %s\naws_secret_access_key = %s\n" \
		"$S3_KEY" "$S3_SECRET" >srv/aws &&
	chmod 600 srv/aws &&
	cat >"$CONF" <<-EOF &&
	[listen]
	port = $(test_free_port)
	threads = 4
	idle-timeout = 5
	[store]
	remote = s3://remote/pre
	staging = s3://staging/pre
	[s3]
	endpoint = $S3_ENDPOINT
	region = us-east-1
	server-profile = server
	[repository]
	path = $REPO
	[auth]
	tokens = $TRASH_DIRECTORY/srv/tokens
	[limits]
	body = 4KiB
	commit-body = 64KiB
	[transfer]
	jobs = 4
	EOF
	mkdir -p .config/ama &&
	ama-server --config "$CONF" token add alice >token 2>/dev/null &&
	cp token .config/ama/token && chmod 600 .config/ama/token &&
	printf "Authorization: Bearer %s\n" "$(cat token)" >hdr &&
	test_server_start "$CONF" AWS_SHARED_CREDENTIALS_FILE="$TRASH_DIRECTORY/srv/aws" &&
	printf "[staging]\naws_access_key_id = AMASTAGE\naws_secret_access_key = AMASTAGESECRET\n[readonly]\naws_access_key_id = %s\naws_secret_access_key = %s\n" \
		"$S3_RO_KEY" "$S3_RO_SECRET" >.aws/credentials &&
	printf "[server]\nurl = %s\ntimeout = 3\n[s3]\nstaging-profile = staging\nremote-profile = readonly\n" \
		"$SERVER_URL" >.config/ama/config &&
	unset AWS_ENDPOINT_URL AWS_REGION AWS_DEFAULT_REGION &&
	mkdir a && (cd a && ama init -q imaging && echo one >one &&
		ama add -q one && ama upload -q -m first >/dev/null)
'

test_expect_success 'hostile HTTP: every request gets its status, nothing is published, the server lives' '
	git --git-dir="$REPO" for-each-ref >refs.before &&
	python3 attack.py $SERVER_PORT >attack.out; status=$? &&
	cat attack.out &&
	echo "hostile HTTP: $(grep -c . attack.out) trials, $(grep -c "^FAIL" attack.out) failures" &&
	test $status = 0 &&
	kill -0 $SERVER_PID &&
	git --git-dir="$REPO" for-each-ref >refs.after &&
	test_cmp refs.before refs.after &&
	! grep " 5[0-9][0-9] " "$SERVER_LOG" | grep -v "^ama-server"
'

test_expect_success 'ulimit -n 256: 32 uploads of 20 files at once all succeed' '
	test_server_stop &&
	sed "s/^threads = 4$/threads = 4\nper-ip-connections = 0/" "$CONF" >small.conf &&
	printf "[limits]\ncommits = 2\n" >>small.conf &&
	( AWS_SHARED_CREDENTIALS_FILE="$TRASH_DIRECTORY/srv/aws" \
		prlimit --nofile=256:256 -- ama-server --config small.conf \
		--port-file "$TRASH_DIRECTORY/.server.port" 2>>"$SERVER_LOG" & echo $! >spid ) &&
	SERVER_PID=$(cat spid) &&
	sleep 1 && kill -0 $SERVER_PID &&
	i=1 && while test $i -le 32; do
		mkdir u$i && (cd u$i && ama init -q imaging &&
			for k in $(seq 20); do echo "u$i $k" >f$k; done &&
			ama add -q .) || return 1
		i=$((i + 1))
	done &&
	pids= && i=1 && while test $i -le 32; do
		(cd u$i && ama upload -q -m "u$i" >out 2>err; echo $? >rc) &
		pids="$pids $!"
		i=$((i + 1))
	done &&
	wait $pids &&
	cat u*/rc | sort | uniq -c &&
	echo "ulimit -n 256: 32 uploads, $(cat u*/rc | grep -vc "^0$") failed" &&
	cat u*/err | sort | uniq -c | head &&
	wc -c <"$SERVER_LOG" &&
	test "$(cat u*/rc | grep -vc "^0$")" = 0
'
test_expect_success '... 1,100 idle connections: a request is served, not 500, once they close' '
	cat >idle.py <<-\EOF &&
	import socket, sys, time
	held = []
	for _ in range(1100):
	    try:
	        held.append(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5))
	    except OSError:
	        break
	print(len(held), flush=True)
	time.sleep(3)
	EOF
	python3 idle.py $(cat .server.port) >idle.out &
	holder=$! &&
	sleep 1 &&
	curl -s -o body -w "%{http_code}\n" -m 60 -H @hdr \
		"http://127.0.0.1:$(cat .server.port)/v1/classes" >status &&
	wait $holder &&
	echo "$(cat idle.out) idle connections; the request: $(cat status)" &&
	echo 200 >expect && test_cmp expect status &&
	wc -c <"$SERVER_LOG"
'

test_expect_success "SIGSTOP: ama versions and ama upload, $TRIALS times each" '
	kill $SERVER_PID; wait $SERVER_PID 2>/dev/null;
	test_server_start "$CONF" AWS_SHARED_CREDENTIALS_FILE="$TRASH_DIRECTORY/srv/aws" &&
	fails=0 && i=0 && while test $i -lt $TRIALS; do
		kill -STOP $SERVER_PID &&
		(cd a && start=$(date +%s) &&
			ama versions >/dev/null 2>err; rc=$?;
			echo "$rc $(($(date +%s) - start)) $(cat err)") >>stop.versions &&
		(cd a && echo "$i" >>one && ama add -q one && start=$(date +%s) &&
			ama upload -q -m "t$i" >/dev/null 2>err; rc=$?;
			echo "$rc $(($(date +%s) - start)) $(cat err)") >>stop.upload &&
		kill -CONT $SERVER_PID || return 1
		i=$((i + 1))
	done &&
	cat stop.versions stop.upload &&
	bad=$(cat stop.versions stop.upload | awk -v url="$SERVER_URL" "
		!(\$1 == 2 && \$2 <= 8 && index(\$0, \"no answer from \" url \" for 3 s ([server] timeout)\"))" | wc -l) &&
	echo "SIGSTOP: $((2 * TRIALS)) trials, $bad failures" &&
	test $bad = 0
'
test_done
