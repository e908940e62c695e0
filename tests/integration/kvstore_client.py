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
  kvstore_client.py churn HOST PORT JOURNAL PREFIX KEYS FIRST COUNT [CONNS [DEPTH]]
      Operations i = FIRST, FIRST+1 ... (COUNT of them; 0: until the server goes away) on
      the keys PREFIX:0 .. PREFIX:KEYS-1 (KEYS a multiple of CONNS, so that each key's
      operations go in order over one connection): operation i is DEL PREFIX:(i % KEYS) in
      every fourth round of the keys, else SET PREFIX:(i % KEYS) to value(i). Appends
      "s i" to JOURNAL before sending i and "a i" once its reply is read.
  kvstore_client.py check HOST PORT JOURNAL PREFIX KEYS
      Check every key against the journal: a key whose last acknowledged operation is i
      must hold what i left (a value, or nothing after a DEL), or what an operation after
      i that was sent but not acknowledged would leave; with nothing acknowledged, nothing
      or what any sent operation would leave. Never an older value: that was superseded.
      No other key may exist. Prints "keys K ops O acked A: ok N lost L stale S wrong W
      extra E"; exits 0 if all are right, 3 if not.
  kvstore_client.py bgrewrite HOST PORT [CUTFILE SPEC]
      Write SPEC to CUTFILE (powerloss_fs.py's .cut: arm a power cut), then at once send
      BGREWRITEAOF; print its reply.
  kvstore_client.py format1 FILE
      Write a format-1 log (no superblock: records from byte 0) at the start of FILE, as
      kvstore wrote them before: f1a deleted, f1b = two, f1n = 5.
  kvstore_client.py raw HOST PORT BYTES
      Send BYTES (Python escapes: \\r \\n \\x00 ...) and print what comes back as a Python
      bytes literal, then "closed" if the server closed the connection (it waits up to a
      second, or 0.3 s of quiet once something came back).
"""
import os
import socket
import struct
import sys
import threading
import time
import zlib



def run_workers(worker, conns, errors, what):
    """worker(0) .. worker(conns - 1) on threads of their own, to the end; exit with the first error."""
    threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        sys.exit(what + ": " + errors[0])

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

    run_workers(worker, conns, errors, "load")


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


def churn_op(prefix, keys, i):
    """Operation i: (command args, the value it leaves or None)."""
    key = "%s:%d" % (prefix, i % keys)
    if (i // keys) % 4 == 3:
        return ("DEL", key), None
    return ("SET", key, value(prefix, i)), value(prefix, i)


def churn(host, port, journal, prefix, keys, first, count, conns=4, depth=4):
    if keys % conns:
        sys.exit("churn: KEYS must be a multiple of CONNS")
    fd = os.open(journal, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    lock = threading.Lock()
    errors = []
    end = first + count if count else None

    def note(kind, i):
        with lock:
            os.write(fd, b"%s %d\n" % (kind, i))

    def worker(c):
        try:
            sock = socket.create_connection((host, port), timeout=10)
            replies = Replies(sock)
            inflight = []
            i = first + c
            while True:
                while len(inflight) < depth and (end is None or i < end):
                    args, _ = churn_op(prefix, keys, i)
                    note(b"s", i)
                    sock.sendall(command(*args))
                    inflight.append(i)
                    i += conns
                if not inflight:
                    return
                reply = replies.read()
                done = inflight.pop(0)
                if reply != b"+OK" and not isinstance(reply, int):
                    errors.append("operation %d answered %r" % (done, reply))
                    return
                note(b"a", done)
        except (OSError, ConnectionError):
            return  # the server went away: the load is over

    run_workers(worker, conns, errors, "churn")


def check(host, port, journal, prefix, keys):
    sent, acked = set(), set()
    with open(journal) as f:
        for line in f:
            kind, i = line.split()
            (acked if kind == "a" else sent).add(int(i))
    ops = [[] for _ in range(keys)]
    for i in sorted(sent | acked):
        ops[i % keys].append(i)
    sock = socket.create_connection((host, port), timeout=10)
    replies = Replies(sock)
    counts = dict(ok=0, lost=0, stale=0, wrong=0, extra=0)
    first_bad = None
    for start in range(0, keys, 200):
        batch = range(start, min(keys, start + 200))
        sock.sendall(command("MGET", *["%s:%d" % (prefix, k) for k in batch]))
        for k, got in zip(batch, replies.read()):
            done = [i for i in ops[k] if i in acked]
            last = done[-1] if done else None
            # What the last acknowledged operation left, then what any later one may have.
            allowed = [churn_op(prefix, keys, last)[1]] if last is not None else [None]
            allowed += [churn_op(prefix, keys, i)[1] for i in ops[k]
                        if last is None or i > last]
            if got in allowed:
                counts["ok"] += 1
                continue
            older = [churn_op(prefix, keys, i)[1] for i in ops[k]]
            kind = "lost" if got is None else "stale" if got in older else "wrong"
            counts[kind] += 1
            if first_bad is None:
                first_bad = "%s:%d is %r, last acknowledged operation %s" % (
                    prefix, k, got if got is None else got[:40], last)
    # Any key but PREFIX:0 .. PREFIX:KEYS-1 came from nowhere.
    sock.sendall(command("KEYS", "*"))
    for name in replies.read():
        index = name[len(prefix) + 1:]
        if (not name.startswith(prefix.encode() + b":") or not index.isdigit() or
                int(index) >= keys):
            counts["extra"] += 1
    print("keys %d ops %d acked %d: ok %d lost %d stale %d wrong %d extra %d%s" % (
        keys, len(sent | acked), len(acked), counts["ok"], counts["lost"], counts["stale"],
        counts["wrong"], counts["extra"], "" if first_bad is None else " (first: %s)" % first_bad))
    bad = counts["lost"] + counts["stale"] + counts["wrong"] + counts["extra"]
    sys.exit(0 if bad == 0 else 3)


def bgrewrite(host, port, cutfile=None, spec=None):
    # A guest that stopped (the power went first) answers nothing, not even a reset.
    sock = socket.create_connection((host, port), timeout=2)
    replies = Replies(sock)
    if cutfile:
        with open(cutfile, "w") as f:
            f.write(spec)
    try:
        sock.sendall(command("BGREWRITEAOF"))
        print(replies.read().decode())
    except (OSError, ConnectionError) as e:  # the power may go before the reply
        print("no reply: %r" % e)


def format1_disk(path):
    """A log as kvstore wrote it before the superblock: records from byte 0, chained from 0."""
    records = [("SET", "f1a", "one"), ("SET", "f1b", "two"), ("SET", "f1n", "5"), ("DEL", "f1a")]
    prev, out = 0, bytearray()
    for seq, args in enumerate(records, 1):
        payload = command(*args)
        head = struct.pack("<IIQI", 0x314c564b, len(payload), seq, 1)
        prev = zlib.crc32(head + payload, zlib.crc32(struct.pack("<I", prev)))
        out += head + struct.pack("<I", prev) + payload
    with open(path, "r+b") as f:
        f.write(out)


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
    elif len(args) >= 8 and args[0] == "churn":
        churn(args[1], int(args[2]), args[3], args[4], *[int(a) for a in args[5:10]])
    elif len(args) == 6 and args[0] == "check":
        check(args[1], int(args[2]), args[3], args[4], int(args[5]))
    elif len(args) in (3, 5) and args[0] == "bgrewrite":
        bgrewrite(args[1], int(args[2]), *args[3:5])
    elif len(args) == 2 and args[0] == "format1":
        format1_disk(args[1])
    elif len(args) == 4 and args[0] == "raw":
        raw(args[1], int(args[2]), args[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
