#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Clients for the httpd tests that curl cannot play: many concurrent keep-alive
connections, and a slow client that must not stall the others.

usage: httpd_clients.py concurrent HOST PORT N   -- N connections open at once, each
                                                    sends 3 requests on the same socket
       httpd_clients.py slowloris HOST PORT      -- a trickling client, then a fast one
Prints one result line; exits 0 when every expectation held.
"""
import socket
import sys
import time


def read_response(sock, buf):
    """One HTTP response from sock (with leftover bytes in buf): (status, body, buf)."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the head ended")
        buf += chunk
    head, buf = buf.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(buf) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed in the body")
        buf += chunk
    return status, buf[:length], buf[length:]


def concurrent(host, port, n):
    socks = []
    for _ in range(n):
        s = socket.create_connection((host, port), timeout=20)
        socks.append(s)
    # Every connection is open before any request is sent.
    ok = 0
    for round_ in range(3):
        for s in socks:
            s.sendall(b"GET /style.css HTTP/1.1\r\nHost: t\r\n\r\n")
        for i, s in enumerate(socks):
            buf = getattr(s, "_leftover", b"")
            status, body, rest = read_response(s, buf)
            if status == 200 and body.startswith(b"body"):
                ok += 1
    for s in socks:
        s.close()
    print(f"concurrent: {ok} of {3 * n} keep-alive requests on {n} connections answered 200")
    return ok == 3 * n


def slowloris(host, port):
    slow = socket.create_connection((host, port), timeout=20)
    slow.sendall(b"GET / HTTP/1.1\r\n")  # and then nothing for a while
    t0 = time.monotonic()
    fast = socket.create_connection((host, port), timeout=20)
    fast.sendall(b"GET /style.css HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    status, _, _ = read_response(fast, b"")
    took = time.monotonic() - t0
    slow.sendall(b"Host: t\r\n")
    fast.close()
    slow.close()
    print(f"slowloris: a fast request answered {status} in {took * 1000:.1f} ms "
          f"while a slow one was half sent")
    return status == 200 and took < 2.0


def main():
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ok = concurrent(host, port, int(sys.argv[4])) if mode == "concurrent" else slowloris(host, port)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
