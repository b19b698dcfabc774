#!/bin/sh
test_description='ama-server: hostile request paths, the memory of bodies in flight, the empty object list, quoted paths in its log'
. ./test-lib.sh

PATH="$AMA_BUILD_DIR/t/helper:$PATH"
CONF="$TRASH_DIRECTORY/srv/server.conf"

# raw.py PORT PATH: send "GET PATH HTTP/1.1" with alice's token, PATH's
# bytes as they are (with Python escapes: \000 for a NUL); prints
# "STATUS BODY"
cat >raw.py <<\EOF
import socket, sys
port, path = int(sys.argv[1]), sys.argv[2]
tok = open("alice.token").read().strip()
path = path.encode("latin-1").decode("unicode_escape").encode("latin-1")
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
          + tok.encode() + b"\r\nConnection: close\r\n\r\n")
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
head, _, body = data.partition(b"\r\n\r\n")
sys.stdout.write(head.split(b" ")[1].decode() + " " + body.decode())
EOF
raw() {
	python3 "$TRASH_DIRECTORY/raw.py" "$SERVER_PORT" "$1"
}

# bigcommit.py N: a commit body of N objects, 48 bytes each
cat >bigcommit.py <<\EOF
import sys
n = int(sys.argv[1])
lines = "".join("%032x 1\\tfile%06d\\n" % (i, i) for i in range(n))
sys.stdout.write('{"parent":null,"message":"","objects":"' + lines + '"}')
EOF

# the server's peak resident memory, in KiB
peak_kib() {
	awk "/^VmHWM:/ { print \$2 }" /proc/$SERVER_PID/status
}

test_expect_success 'setup: file:// buckets, small limits, a token' '
	mkdir srv &&
	cat >"$CONF" <<-EOF &&
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
	[limits]
	commit-body = 8MiB
	memory = 24MiB
	EOF
	ama-server --config "$CONF" token add alice >alice.token 2>/dev/null &&
	printf "Authorization: Bearer %s\n" "$(cat alice.token)" >hdr &&
	test_server_start "$CONF" &&
	curl -sf -o /dev/null -H @hdr -d "{\"name\":\"imaging\"}" "$SERVER_URL/v1/classes" &&
	curl -sf -o /dev/null -H @hdr -X POST "$SERVER_URL/v1/classes/imaging/assets"
'

# each line: the path as sent (printf escapes), the status, the message
cat >paths <<\EOF
/v1/classes/imaging%00x	400	the request path holds %00, which has no place in a path segment
/v1/classes%00/imaging/assets	400	the request path holds %00, which has no place in a path segment
/v1/classes/imaging\000x	400	the request path holds a NUL byte
/v1/classes\000/imaging/assets	400	the request path holds a NUL byte
/v1/classes/a%2Fb	400	the request path holds %2F, which has no place in a path segment
/v1/classes/a%2fb/assets	400	the request path holds %2f, which has no place in a path segment
/v1/classes/%25	400	the request path holds %25, which has no place in a path segment
/v1/classes/a%20b	400	the request path holds %20, which has no place in a path segment
/v1/classes/a%0Ab	400	the request path holds %0A, which has no place in a path segment
/v1/classes/a%7Fb	400	the request path holds %7F, which has no place in a path segment
/v1/classes/%C3%A9	400	the request path holds %C3, which has no place in a path segment
/v1/classes/\303\251	400	the request path holds byte 0xC3, which has no place in it
/v1/classes/a\tb	400	the request path holds byte 0x09, which has no place in it
/v1/classes/a"b	400	the request path holds byte 0x22, which has no place in it
/v1/classes/a\\b	400	the request path holds byte 0x5C, which has no place in it
/v1/classes/a<b>	400	the request path holds byte 0x3C, which has no place in it
/v1/classes/a%zz	400	the request path holds a '%' without two hex digits after it
/v1/classes/a%2	400	the request path holds a '%' without two hex digits after it
/v1/classes/a%	400	the request path holds a '%' without two hex digits after it
http://x/v1/classes	400	the request path does not start with '/'
*	400	the request path does not start with '/'
/v1/classes?x=%00	400	the query holds %00, a NUL or control byte
/v1/classes/imaging/assets/1/versions?max=1%00	400	the query holds %00, a NUL or control byte
/v1/classes?a\177	400	the query holds byte 0x7F, which has no place in it
/v1/classes/%2E%2E	400	bad class name: must start with a letter or digit
/v1/classes/..	400	bad class name: must start with a letter or digit
/v1/../v1/classes	404	no such endpoint: /v1/../v1/classes
/v1//classes	404	no such endpoint: /v1//classes
/v1/classes/imaging/assets/1%2F..%2F2/versions	400	the request path holds %2F, which has no place in a path segment
/v1/classes/imaging/assets/01/versions	400	'01' is not an asset number
/v1/classes/imaging/assets/1/versions/0.0.0%00/manifest	400	the request path holds %00, which has no place in a path segment
/v1/classes/imaging/assets/1/commits/%00	400	the request path holds %00, which has no place in a path segment
/v1/classes/imaging/assets/1/commits/nosuch	400	'nosuch' is not a commit job
/v1/classes/%69maging	200	-
EOF

test_expect_success 'a byte with no place in a path segment is a 400, whatever comes after it' '
	while IFS="	" read -r path status msg; do
		raw "$path" >answer &&
		cut -d" " -f1 answer >actual &&
		echo "$status" >expect &&
		test_cmp expect actual &&
		if test "$msg" != -; then
			cut -d" " -f2- answer | jq -r .error >actual &&
			echo "$msg" >expect &&
			test_cmp expect actual
		fi || return 1
	done <paths
'
test_expect_success '... and is logged as it came, with no user' '
	grep " 400 - [0-9]*$" "$SERVER_LOG" | sed "s/ [0-9]*$//" | head -n 6 >actual &&
	cat >expect <<-\EOF &&
	GET /v1/classes/imaging%00x 400 -
	GET /v1/classes%00/imaging/assets 400 -
	GET /v1/classes/imaging%00 400 -
	GET /v1/classes%00 400 -
	GET /v1/classes/a%2Fb 400 -
	GET /v1/classes/a%2fb/assets 400 -
	EOF
	test_cmp expect actual
'
test_expect_success 'a bad path is refused before the token is looked at' '
	curl -s -o body -w "%{http_code}\n" "$SERVER_URL/v1/classes/imaging%00x" >actual &&
	echo 400 >expect && test_cmp expect actual &&
	curl -s -o body -w "%{http_code}\n" -X POST -d "{\"name\":\"x\"}" \
		"$SERVER_URL/v1/classes%00/imaging/assets" >actual &&
	test_cmp expect actual &&
	curl -s -o /dev/null -H @hdr "$SERVER_URL/v1/classes" &&
	curl -s -H @hdr "$SERVER_URL/v1/classes" | jq -r ".classes[].name" >actual &&
	echo imaging >expect && test_cmp expect actual
'

# post.py PORT HEADERS BODY: POST /v1/classes with alice's token, the
# extra HEADERS and the BODY as given (Python escapes); prints "STATUS BODY"
cat >post.py <<\EOF
import socket, sys
port, headers, body = int(sys.argv[1]), sys.argv[2], sys.argv[3]
tok = open("alice.token").read().strip()
def raw(s):
    return s.encode("latin-1").decode("unicode_escape").encode("latin-1")
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"POST /v1/classes HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
          + tok.encode() + b"\r\n" + raw(headers) + b"Connection: close\r\n\r\n"
          + raw(body))
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
head, _, body = data.partition(b"\r\n\r\n")
sys.stdout.write(head.split(b" ")[1].decode() + " " + body.decode())
EOF

test_expect_success 'a body framed two ways is a 400, and nothing is made' '
	python3 post.py $SERVER_PORT "Content-Length: 16\r\nContent-Length: 1\r\n" \
		"{\"name\":\"two\"}" >answer &&
	echo "400 {\"error\":\"the request has more than one Content-Length\",\"code\":\"inval\"}" >expect &&
	test_cmp expect answer &&
	python3 post.py $SERVER_PORT "Content-Length: 16\r\nContent-Length: 16\r\n" \
		"{\"name\":\"two\"}" >answer &&
	test_cmp expect answer &&
	python3 post.py $SERVER_PORT "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n" \
		"10\r\n{\"name\":\"two\"}\r\n0\r\n\r\n" >answer &&
	echo "400 {\"error\":\"the request has both Content-Length and Transfer-Encoding\",\"code\":\"inval\"}" >expect &&
	test_cmp expect answer &&
	curl -s -H @hdr "$SERVER_URL/v1/classes" | jq -r ".classes[].name" >actual &&
	echo imaging >expect && test_cmp expect actual
'

test_expect_success 'an empty object list is refused, with 400, over HTTP' '
	printf "{\"parent\":null,\"message\":\"\",\"objects\":\"\"}" >empty.json &&
	curl -s -o body -w "%{http_code}\n" -H @hdr --data-binary @empty.json \
		"$SERVER_URL/v1/classes/imaging/assets/1/commits" >actual &&
	echo 400 >expect && test_cmp expect actual &&
	jq -r .error body >actual &&
	echo "an empty object list: a version holds at least one object" >expect &&
	test_cmp expect actual &&
	curl -s -H @hdr "$SERVER_URL/v1/classes/imaging/assets/1/versions" >actual &&
	echo "{\"versions\":[]}" >expect &&
	test_cmp expect actual
'
test_expect_success '... and by ama-commit, through the server or in-process (exit 1)' '
	mkdir -p .config/ama asset &&
	cp alice.token .config/ama/token && chmod 600 .config/ama/token &&
	printf "[server]\nurl = %s\n" "$SERVER_URL" >.config/ama/config &&
	(
		cd asset && ama init -q imaging &&
		ama-client-tool config asset.seq 1 &&
		test_exit_code 1 ama-commit </dev/null 2>err &&
		echo "ama-commit: an empty object list: a version holds at least one object" >expect &&
		test_cmp expect err &&
		AMA_SERVER_URL=local test_exit_code 1 ama-commit </dev/null 2>err &&
		test_cmp expect err
	)
'

test_expect_success 'a body that would go past the memory budget: 503 and Retry-After' '
	python3 "$TRASH_DIRECTORY/bigcommit.py" 174000 >big.json &&
	test $(wc -c <big.json) -gt 8000000 &&
	base=$(peak_kib) &&
	test "$base" -gt 0 &&
	pids= &&
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do
		curl -s -D head$i -o body$i -w "%{http_code}\n" -H @hdr \
			--data-binary @big.json \
			"$SERVER_URL/v1/classes/nosuch/assets/1/commits" >status$i &
		pids="$pids $!"
	done &&
	wait $pids &&
	cat status* | sort | uniq -c | sed "s/^ *//" >counts &&
	cat counts &&
	grep " 404$" counts &&
	grep " 503$" counts &&
	test $(cat status* | grep -c "^\(404\|503\)$") = 16 &&
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do
		if test "$(cat status$i)" = 503; then
			grep -i "^Retry-After: 2" head$i &&
			jq -r .error body$i >actual &&
			echo "the server is busy: too many large requests at once; try again later" >expect &&
			test_cmp expect actual || return 1
		fi
	done &&
	peak=$(peak_kib) &&
	echo "peak RSS $base KiB before, $peak KiB after" &&
	# one body of 8 MiB in flight at a time, and its parsing: far below
	# the 16 x 8 MiB = 128 MiB that the bodies alone would take at once
	test $((peak - base)) -lt 65536
'
test_expect_success '... a chunked body pays as it comes' '
	pids= &&
	for i in 1 2 3; do
		curl -s -o /dev/null -w "%{http_code}\n" -H @hdr \
			-H "Transfer-Encoding: chunked" --data-binary @big.json \
			"$SERVER_URL/v1/classes/nosuch/assets/1/commits" >chunked$i &
		pids="$pids $!"
	done &&
	wait $pids &&
	cat chunked1 chunked2 chunked3 >all &&
	grep -x 503 all &&
	test $(grep -c "^\(404\|503\)$" all) = 3
'
test_expect_success '... and when the bodies are gone the budget is whole again' '
	curl -s -o body -w "%{http_code}\n" -H @hdr --data-binary @big.json \
		"$SERVER_URL/v1/classes/nosuch/assets/1/commits" >actual &&
	echo 404 >expect && test_cmp expect actual
'

test_expect_success 'a client whose commit meets a spent budget waits as Retry-After says' '
	python3 "$TRASH_DIRECTORY/bigcommit.py" 40000 >mid.json &&
	jq -j .objects mid.json >mid.records &&
	{ curl -s -o /dev/null --limit-rate 2M -H @hdr --data-binary @big.json \
		"$SERVER_URL/v1/classes/nosuch/assets/1/commits" & } &&
	slow=$! &&
	sleep 1 &&	# its 8 MiB, sent slowly, hold the budget for 4 s
	n=0 && until curl -s -o /dev/null -w "%{http_code}\n" -H @hdr \
			--data-binary @mid.json \
			"$SERVER_URL/v1/classes/nosuch/assets/1/commits" | grep -qx 503; do
		sleep 0.1; n=$((n + 1)); test $n -lt 50 || return 1
	done &&
	wc -l <"$SERVER_LOG" >mark &&
	(
		cd asset &&
		AMA_ASSET_CLASS=nosuch test_exit_code 2 ama-commit <../mid.records 2>err &&
		echo "ama-commit: no such class: nosuch" >expect &&
		test_cmp expect err
	) &&
	wait $slow &&
	tail -n +$(($(cat mark) + 1)) "$SERVER_LOG" | sed "s/ [0-9]*$//" | sort | uniq -c >actual &&
	cat actual &&
	grep "POST /v1/classes/nosuch/assets/1/commits 503 alice" actual &&
	grep "POST /v1/classes/nosuch/assets/1/commits 404 alice" actual
'

test_expect_success 'a refused configuration: a commit body the budget cannot hold' '
	sed "s/^memory = .*/memory = 16MiB/" "$CONF" >small.conf &&
	test_exit_code 2 ama-server --config small.conf 2>err &&
	echo "ama-server: small.conf: [limits] memory: 16777216 bytes cannot hold one body of the largest size (8388608 bytes, counted 3 times): raise it, or lower [limits] commit-body" >expect &&
	test_cmp expect err
'

test_expect_success 'the tokens file named in the server log is quoted' '
	test_server_stop &&
	tokens="$TRASH_DIRECTORY/srv/tok
ens" &&
	cp srv/tokens "$tokens" &&
	test_server_start "$CONF" AMA_AUTH_TOKENS="$tokens" &&
	chmod 644 "$tokens" &&
	curl -s -o body -w "%{http_code}\n" -H @hdr "$SERVER_URL/v1/classes" >actual &&
	echo 500 >expect && test_cmp expect actual &&
	grep "^ama-server: \"" "$SERVER_LOG" >actual &&
	printf "%s\n" "ama-server: \"$TRASH_DIRECTORY/srv/tok\\nens\": the tokens file may be used by group or others: make it private with chmod 600" >expect &&
	test_cmp expect actual
'
test_done
