#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A small RESP client for kvstore's integration tests (Python's standard library only).

  kvstore_client.py load HOST PORT ACKED PREFIX [CONNS [DEPTH]]
      SET PREFIX:i to value(i) for i = 0, 1, 2 ... over CONNS connections (default 4), each
      with up to DEPTH requests in flight (default 4), until the server goes away or the
      process is killed. The number i of every SET whose +OK arrived is appended to the file
      ACKED, one per line, right after its reply is read: a line there is an acknowledged
      write, and nothing else is.
  kvstore_client.py verify HOST PORT ACKED PREFIX
      Read every key ACKED lists back (MGET in batches) and compare with value(i). Prints
      "acked N present P lost L wrong W"; exits 0 if every acknowledged write is there, 3 if
      not (any other status is the client's own failure).
  kvstore_client.py raw HOST PORT BYTES
      Send BYTES (Python escapes: \\r \\n \\x00 ...) and print what comes back as a Python
      bytes literal, then "closed" if the server closed the connection (it waits up to a
      second, or 0.3 s of quiet once something came back).
"""
import os
import socket
import sys
import threading
import time


def value(prefix, i):
    """The value of key i: unique, and long enough that records span sectors."""
    return ("%s-value-%d-" % (prefix, i) + "x" * (i % 97)).encode()


def command(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Replies:
    """Reads RESP replies from a socket: status, error, integer, bulk and arrays of those."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("closed")
        self.buf += data

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b"-"):
            return kind + rest
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self._fill()
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data
        if kind == b"*":
            return [self.read() for _ in range(int(rest))]
        raise ValueError("not a RESP reply: %r" % line)


def load(host, port, acked_path, prefix, conns=4, depth=4):
    fd = os.open(acked_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    lock = threading.Lock()
    errors = []

    def worker(first):
        try:
            sock = socket.create_connection((host, port), timeout=10)
            replies = Replies(sock)
            inflight = []
            i = first
            while True:
                while len(inflight) < depth:
                    key = "%s:%d" % (prefix, i)
                    sock.sendall(command("SET", key, value(prefix, i)))
                    inflight.append(i)
                    i += conns
                reply = replies.read()
                done = inflight.pop(0)
                if reply != b"+OK":
                    errors.append("SET %s:%d answered %r" % (prefix, done, reply))
                    return
                with lock:
                    os.write(fd, b"%d\n" % done)
        except (OSError, ConnectionError):
            return  # the server went away: the load is over

    threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        sys.exit("load: " + errors[0])


def verify(host, port, acked_path, prefix):
    with open(acked_path) as f:
        acked = sorted({int(line) for line in f if line.strip()})
    sock = socket.create_connection((host, port), timeout=10)
    replies = Replies(sock)
    present = lost = wrong = 0
    first_lost = None
    for start in range(0, len(acked), 200):
        batch = acked[start:start + 200]
        sock.sendall(command("MGET", *["%s:%d" % (prefix, i) for i in batch]))
        for i, got in zip(batch, replies.read()):
            if got is None:
                lost += 1
                first_lost = first_lost if first_lost is not None else i
            elif got != value(prefix, i):
                wrong += 1
            else:
                present += 1
    print("acked %d present %d lost %d wrong %d%s" % (
        len(acked), present, lost, wrong,
        "" if first_lost is None else " (first lost: %s:%d)" % (prefix, first_lost)))
    sys.exit(0 if lost == 0 and wrong == 0 else 3)


def raw(host, port, text):
    sock = socket.create_connection((host, port), timeout=5)
    sock.sendall(text.encode("latin-1").decode("unicode_escape").encode("latin-1"))
    # Until the server closes, a second passes, or it has been quiet for 0.3 s after answering.
    got, closed, deadline = b"", False, time.time() + 1.0
    sock.settimeout(0.3)
    while time.time() < deadline:
        try:
            data = sock.recv(65536)
        except socket.timeout:
            if got:
                break
            continue
        except ConnectionError:
            closed = True
            break
        if not data:
            closed = True
            break
        got += data
    print(repr(got) + (" closed" if closed else ""))


def main():
    args = sys.argv[1:]
    if len(args) >= 5 and args[0] == "load":
        load(args[1], int(args[2]), args[3], args[4], *[int(a) for a in args[5:7]])
    elif len(args) == 5 and args[0] == "verify":
        verify(args[1], int(args[2]), args[3], args[4])
    elif len(args) == 4 and args[0] == "raw":
        raw(args[1], int(args[2]), args[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
