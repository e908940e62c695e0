# SPDX-License-Identifier: MIT
# apps/httpd on hv, reached with curl and test clients from a network namespace made here:
# files from the image and from a disk, every status code, a 1 MB header, slow clients, 200
# concurrent keep-alive connections. Sourced by tests/run.sh.

NS=pvkit-httpd-$$
SUBNET=10.78.0
URL=http://$SUBNET.2
WWW=apps/httpd/rootfs

# curl_case NAME WANT_STATUS CURL_ARGS...: the HTTP status curl saw, and the exit code.
curl_case() {
	local name=$1 want=$2 got
	shift 2
	got=$(ip netns exec "$NS" curl -s -o "$TMP/body" -w '%{http_code}' --max-time 10 "$@")
	if [[ $got == "$want" ]]; then ok "httpd: $name ($got)"; else
		not_ok "httpd: $name: status $got, expected $want"; fi
}

same_bytes() { # same_bytes NAME FILE: the last body equals FILE
	if cmp -s "$TMP/body" "$2"; then ok "httpd: $1: bytes match"; else
		not_ok "httpd: $1: body differs from $2"; fi
}

httpd_tests() {
	curl_case "GET /" 200 "$URL/"
	same_bytes "GET /" "$WWW/index.html"
	ip netns exec "$NS" curl -s -D "$TMP/head" -o /dev/null "$URL/style.css"
	expect "httpd: Content-Type of a .css file" 0 0 "$TMP/head" "Content-Type: text/css" \
		"Content-Length: $(stat -c %s "$WWW/style.css")"
	curl_case "GET /docs/ serves its index.html" 200 "$URL/docs/"
	same_bytes "GET /docs/" "$WWW/docs/index.html"
	curl_case "GET /docs/readme.txt" 200 "$URL/docs/readme.txt"
	same_bytes "GET /docs/readme.txt" "$WWW/docs/readme.txt"
	ip netns exec "$NS" curl -s -I "$URL/" >"$TMP/head"
	expect "httpd: HEAD has the length and no body" 0 0 "$TMP/head" "HTTP/1.1 200 OK" \
		"Content-Length: $(stat -c %s "$WWW/index.html")"
	curl_case "missing file" 404 "$URL/no/such/file"
	curl_case "POST" 405 -X POST -d x "$URL/"
	curl_case "DELETE" 405 -X DELETE "$URL/"
	curl_case "path escaping the root" 400 --path-as-is "$URL/../etc/passwd"
	curl_case "10 KB request target" 414 "$URL/$(head -c 10000 /dev/zero | tr '\0' a)"
	head -c 1000000 /dev/zero | tr '\0' b | sed 's/^/X-Big: /' >"$TMP/bighdr"
	curl_case "1 MB header" 431 -H @"$TMP/bighdr" "$URL/"
	# Request lines curl will not send, by hand.
	raw() { ip netns exec "$NS" bash -c "exec 3<>/dev/tcp/$SUBNET.2/80; printf '$1' >&3; head -c 200 <&3"; }
	raw 'GARBAGE\r\n\r\n' >"$TMP/raw" 2>&1
	expect "httpd: malformed request line" 0 0 "$TMP/raw" "HTTP/1.1 400 Bad Request"
	raw 'GET / HTTP/2.0\r\nHost: x\r\n\r\n' >"$TMP/raw" 2>&1
	expect "httpd: HTTP/2.0 request line" 0 0 "$TMP/raw" "HTTP/1.1 505 HTTP Version Not Supported"
	raw 'GET / HTTP/1.1\r\n\r\n' >"$TMP/raw" 2>&1
	expect "httpd: HTTP/1.1 without Host" 0 0 "$TMP/raw" "HTTP/1.1 400 Bad Request"
	# Keep-alive: two requests on one connection.
	ip netns exec "$NS" curl -sv -o /dev/null -o /dev/null "$URL/" "$URL/style.css" 2>"$TMP/verbose"
	expect "httpd: keep-alive reuses the connection" 0 0 "$TMP/verbose" "Re-using existing connection"
	ip netns exec "$NS" python3 tests/integration/httpd_clients.py slowloris "$SUBNET.2" 80 >"$TMP/slow" 2>&1
	expect "httpd: a slow client does not stall others" $? 0 "$TMP/slow" "answered 200"
	ip netns exec "$NS" python3 tests/integration/httpd_clients.py concurrent "$SUBNET.2" 80 200 \
		>"$TMP/conc" 2>&1
	expect "httpd: 200 concurrent keep-alive connections" $? 0 "$TMP/conc" "600 of 600"
	guest_stop
	# Files from a virtio-blk disk: a ustar archive made by make disk.
	mkdir -p "$TMP/site/sub"
	head -c 300000 /dev/urandom >"$TMP/site/sub/blob.bin"
	echo "from the disk" >"$TMP/site/index.html"
	make -s disk DIR="$TMP/site" DISK="$TMP/site.tar" >/dev/null
	if guest_start "$NS" "$TMP/httpd-disk.log" "serving" "$HV" --mem=128M --net=tap0 \
		--disk="$TMP/site.tar,ro" "$B/apps/httpd.img" "ip=$SUBNET.2/24" disk=/disk root=/disk; then
		curl_case "disk: GET /" 200 "$URL/"
		same_bytes "disk: GET /" "$TMP/site/index.html"
		curl_case "disk: a 300 KB binary file" 200 "$URL/sub/blob.bin"
		same_bytes "disk: a 300 KB binary file" "$TMP/site/sub/blob.bin"
	else
		not_ok "httpd: did not start with a disk"
	fi
	guest_stop
}

if net_usable && hv_has --net=; then
	if netns_up "$NS" "$SUBNET" && guest_start "$NS" "$TMP/httpd.log" "serving" \
		"$HV" --mem=128M --net=tap0 "$B/apps/httpd.img" "ip=$SUBNET.2/24"; then
		httpd_tests
	else
		not_ok "httpd: did not start"
	fi
	guest_stop
	netns_down "$NS"
else
	skip "httpd: needs root, ip, /dev/net/tun and an hv with --net"
fi
