#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the fuzz targets' seed corpora, tests/fuzz/corpus/NAME/, from the formats the
targets read (see the comment at the top of each tests/fuzz/fuzz_NAME.c). The files are
checked in; run this again only to change them: python3 tests/fuzz/make_corpus.py
A few seeds were found by the fuzzer and kept as they are (store/long-key-read); the
inputs of fixed crashes are in tests/fuzz/crashes/NAME/, not written here."""

import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def abi_define(name):
    text = open(os.path.join(ROOT, "hv-iface/include/hv_abi.h")).read()
    return int(re.search(r"#define %s (\w+?)u?\b" % name, text).group(1), 0)


def write(target, name, data):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("latin-1")
    assert len(data) < 64 << 10, (target, name)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


# --- elf: small static images, as hv's loader wants them and a few it refuses ---------------

PT_LOAD, PT_NOTE, PT_GNU_STACK = 1, 4, 0x6474E551
PF_X, PF_W, PF_R = 1, 2, 4
BASE = abi_define("HV_IMAGE_BASE")


def note(name, ntype, desc):
    name = name + b"\0"
    pad = lambda b: b + b"\0" * (-len(b) % 4)
    return struct.pack("<III", len(name), len(desc), ntype) + pad(name) + pad(desc)


def hv_note(version):
    return note(b"hv", abi_define("HV_NOTE_ABI"), struct.pack("<II", version, 0))


def elf(segments, entry, machine=62, etype=2):
    """segments: (type, flags, vaddr, data, memsz); the data is laid out after the headers."""
    phoff, nph = 64, len(segments)
    off = phoff + 56 * nph
    phdrs, body = b"", b""
    for ptype, flags, vaddr, data, memsz in segments:
        phdrs += struct.pack("<IIQQQQQQ", ptype, flags, off + len(body), vaddr, vaddr,
                             len(data), memsz, 0x1000 if ptype == PT_LOAD else 4)
        body += data + b"\0" * (-len(data) % 8)
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + b"\0" * 8
    ehdr = ident + struct.pack("<HHIQQQIHHHHHH", etype, machine, 1, entry, phoff, 0, 0, 64,
                               56, nph, 64, 0, 0)
    return ehdr + phdrs + body


def elf_seeds():
    version = abi_define("HV_ABI_VERSION")
    text = bytes([0xF4, 0xEB, 0xFD]) + b"\x90" * 29  # hlt; jmp back
    data = bytes(range(32))
    build_id = note(b"GNU", 3, bytes(range(20)))
    valid = [
        (PT_NOTE, PF_R, 0, build_id + hv_note(version), 0),
        (PT_LOAD, PF_R | PF_X, BASE, text, 0x1000),
        (PT_LOAD, PF_R | PF_W, BASE + 0x1000, data, 0x3000),
        (PT_GNU_STACK, PF_R | PF_W, 0, b"", 0),
    ]
    write("elf", "valid", elf(valid, BASE))
    write("elf", "valid-bss-only", elf(valid[:2] + [(PT_LOAD, PF_R | PF_W, BASE + 0x2000, b"",
                                                     0x10000)], BASE + 1))
    write("elf", "old-abi", elf([(PT_NOTE, PF_R, 0, hv_note(version - 1), 0)] + valid[1:], BASE))
    write("elf", "no-note", elf(valid[1:], BASE))
    write("elf", "overlap", elf(valid[:2] + [(PT_LOAD, PF_R, BASE + 0x800, data, 0x1000)], BASE))
    write("elf", "entry-not-exec", elf(valid, BASE + 0x1000))
    many = [valid[0]] + [(PT_LOAD, PF_R | PF_X, BASE + i * 0x1000, text, 0x1000)
                         for i in range(17)]
    write("elf", "seventeen-segments", elf(many, BASE))
    write("elf", "below-base", elf([valid[0], (PT_LOAD, PF_R | PF_X, 0x1000, text, 0x1000)],
                                   0x1000))
    write("elf", "dyn", elf(valid, BASE, etype=3))
    write("elf", "truncated", elf(valid, BASE)[:150])


# --- cmdline: hv's words one a line, then NUL and a config file ------------------------------

def cmdline_seeds():
    seeds = {
        "one": "img",
        "devices": "--mem=64M\n--disk=a.img,ro\n--net\ntap0\nimg\n--mem=1G\nx",
        "domains": "--name=a\na.img\n1\n::\n--stats\n--mem=16M\nb.img\n::\nc.img\nx\ny",
        "prefixes": "--st\n--me=8M\n--back\nproc\nimg",
        "dashdash": "--\n-img-\narg",
        "help": "--help\n--bogus",
        "version": "a.img\n::\n--version",
        "no-sandbox": "--no-sandbox\n--backend=proc\nimg",
        "console-max": "--console-max=1M\n--conf\nimg\narg",
        "ambiguous-prefix": "--co=x\nimg",
        "bad-mem": "--mem=3\nimg",
        "names": "--name=x\na.img\n::\n--name=x\nb.img",
        "config": "--config=x\nc.img\n::\nd.img\ny\0# comment\n\n   # indented\n"
                  "--name=first a.img \"two words\" \"\" x\r\n\t--mem=16M --stats b.img\n",
        "config-next-word": "--config\nc.img\0a.img\nb.img \"open\n",
        "config-refusals": "--config=x\0--config=y a.img\n--help\na.img :: b.img\n",
        "config-only": "--config=x\0--net tap0 --disk d.img --name=n img arg\n",
    }
    # The limits: 17 devices on one domain; 1025 domains on the line, and from 16 files.
    seeds["too-many-devices"] = "--disk=d\n" * 16 + "--net=t\nimg"
    seeds["too-many-domains"] = "a\n::\n" * 1024 + "a"
    seeds["too-many-from-files"] = "--config=x\n" * 16 + "\0" + "a\n" * 65
    for name, text in seeds.items():
        write("cmdline", name, text)


# --- virtq_dev: a queue's setup, then the driver's writes and the device's operations ---------

WINDOW = 0x100000
POKE, POP, PUSH, UNPOP, NEED_EVENT, ENABLE_KICKS, COPY, INIT = range(8)
F_NEXT, F_WRITE, F_INDIRECT = 1, 2, 4


def setup(num, event_idx, desc=0x0000, avail=0x1000, used=0x2000):
    return struct.pack("<HBHHH", num, 1 if event_idx else 0, desc, avail, used)


def pokes(op, off, data):
    """data written at off, as operations op (offset, a length byte, the bytes) of 255 at most:
    the form of virtq_dev's and virtio_dev's writes into guest memory."""
    out = b""
    while data:
        part, data = data[:255], data[255:]
        out += struct.pack("<BHB", op, off, len(part)) + part
        off += len(part)
    return out


def poke(off, data):
    return pokes(POKE, off, data)


def descs(entries, first=0):
    """entries: (gpa, len, flags, next) at index first, first + 1, ..."""
    table = b"".join(struct.pack("<QIHH", *e) for e in entries)
    return poke(first * 16, table)


def avail(heads, idx, avail_off=0x1000, flags=0):
    return poke(avail_off, struct.pack("<HH", flags, idx)) + \
        poke(avail_off + 4, b"".join(struct.pack("<H", h) for h in heads))


def virtq_dev_seeds():
    buf = WINDOW + 0x4000
    chain = descs([(buf, 16, F_NEXT, 1), (buf + 0x100, 512, F_NEXT, 2),
                   (buf + 0x400, 1024, F_NEXT | F_WRITE, 3), (buf + 0x800, 1, F_WRITE, 0)])
    ops = lambda *o: bytes(o)
    copy = struct.pack("<BHH", COPY, 4, 600)
    push = lambda which, n: struct.pack("<BBI", PUSH, which, n)
    write("virtq_dev", "chain", setup(8, False) + chain + avail([0], 1) + ops(POP) + copy +
          push(0, 513) + ops(NEED_EVENT, ENABLE_KICKS, POP))
    # EVENT_IDX: used_event after the avail ring asks for an event at 0.
    write("virtq_dev", "event-idx", setup(8, True) + chain + avail([0, 0], 2) +
          poke(0x1000 + 4 + 16, struct.pack("<H", 0)) +
          ops(POP, UNPOP, POP) + push(0, 1) + ops(NEED_EVENT, POP) + push(0, 0) +
          ops(NEED_EVENT, ENABLE_KICKS))
    write("virtq_dev", "loop", setup(4, False) +
          descs([(buf, 8, F_NEXT, 1), (buf, 8, F_NEXT, 0)]) + avail([0], 1) + ops(POP, POP))
    write("virtq_dev", "bad-buffer", setup(4, False) +
          descs([(0xFFFFFFFFFFFFFF00, 0x200, 0, 0)]) + avail([0], 1) + ops(POP) +
          ops(INIT) + setup(4, False) + descs([(0x1000, 8, F_WRITE, 0)]) + avail([0], 1) +
          ops(POP))
    write("virtq_dev", "read-after-write", setup(4, False) +
          descs([(buf, 8, F_NEXT | F_WRITE, 1), (buf, 8, 0, 0)]) + avail([0], 1) + ops(POP))
    write("virtq_dev", "indirect", setup(4, False) + descs([(buf, 16, F_INDIRECT, 0)]) +
          avail([0], 1) + ops(POP))
    write("virtq_dev", "index-ahead", setup(4, False) + avail([0, 1, 2, 3], 9) + ops(POP))
    longest = [(buf + 16 * i, 16, F_NEXT | (F_WRITE if i >= 128 else 0), (i + 1) % 256)
               for i in range(256)]
    longest[255] = (buf + 16 * 255, 16, F_WRITE, 0)
    write("virtq_dev", "longest-chain", setup(256, False, 0x0000, 0x1000, 0x1400) +
          descs(longest) + avail([0], 1, 0x1000) + ops(POP) + copy + push(0, 2048))
    raw = struct.pack("<HBQHH", 8, 2, 0xFFFFFFFFFFFFFFF0, 0x1000, 0x2000)
    write("virtq_dev", "bad-init", raw + ops(POP, INIT) + setup(3, False) + ops(INIT) +
          setup(8, False, 0x8, 0x1001, 0x2002) + ops(INIT) + setup(8, False) + chain +
          avail([0], 1) + ops(POP))


# --- evtchn: each domain's device ports, then operations --------------------------------------

ALLOC, BIND, VIRQ, CLOSE, SEND, STATUS, REMOVE = range(7)
SELF = 6  # pick_dom: a byte with b % 8 == 6 is HV_DOMID_SELF; 0-3 are domains 1-4


def evtchn_seeds():
    d = lambda dom: dom - 1  # the byte for domain dom
    write("evtchn", "pair", bytes([3, 1, 1, 1,
                                   ALLOC, d(1), SELF, d(2),          # 1:3 offered to 2
                                   BIND, d(2), d(1), 3,              # 2:1 <-> 1:3
                                   SEND, d(1), 3, SEND, d(2), 1,
                                   STATUS, d(1), SELF, 3, STATUS, d(2), d(2), 1,
                                   CLOSE, d(1), 3,                   # 2:1 unbound for 1
                                   BIND, d(1), d(2), 1,              # 1 binds it again
                                   VIRQ, d(3), 0, VIRQ, d(3), 0, CLOSE, d(3), 4,
                                   ALLOC, d(3), SELF, d(2), BIND, d(2), d(3), 2,
                                   REMOVE, d(2), STATUS, d(1), SELF, 3, BIND, d(1), d(2), 1]))
    write("evtchn", "loopback", bytes([1, 1, 1, 1,
                                       ALLOC, d(2), SELF, SELF, BIND, d(2), SELF, 1,
                                       SEND, d(2), 1, CLOSE, d(2), 2, CLOSE, d(2), 1,
                                       STATUS, d(2), SELF, 1]))
    # Domain 4 has device ports up to the top 12: its table fills after a few allocations.
    full = [1, 1, 1, 0xFE] + [ALLOC, d(4), SELF, d(1)] * 13 + [VIRQ, d(4), 0,
                                                              CLOSE, d(4), 0xE5,
                                                              ALLOC, d(1), SELF, d(4),
                                                              BIND, d(4), d(1), 1,
                                                              REMOVE, d(4), REMOVE, d(4)]
    write("evtchn", "full", bytes(full))
    write("evtchn", "refusals", bytes([2, 1, 1, 1,
                                       ALLOC, d(1), d(2), d(1), ALLOC, d(1), 5, d(1),
                                       BIND, d(2), d(1), 1, BIND, d(2), d(1), 0xF2,
                                       CLOSE, d(1), 0, CLOSE, d(1), 0xF3,
                                       SEND, d(1), 0xF4, 0xFF, 0xFF, 0xFF, 0xFF,
                                       VIRQ, d(1), 0xF1, 0xF1, STATUS, d(1), d(2), 1,
                                       STATUS, 7, 0x00, 0x04, SELF, 1, REMOVE, 4]))


# --- grant: entries the granter writes, hv's pins and unpins ---------------------------------

PIN, UNPIN, GWRITE, END_ACCESS, FRAME = range(5)
PERMIT, READONLY, READING, WRITING = 1, 4, 8, 0x10


def gwrite(i, flags, domid, frame):
    return struct.pack("<BBHHI", GWRITE, i, flags, domid, frame)


def grant_seeds():
    ro, rw = 4, 0  # the arg's bit 2: read-only
    frame = lambda i, mem: struct.pack("<BBI", FRAME, i, mem >> 12)
    write("grant", "pins", gwrite(0, PERMIT, 1, 0x100) +
          bytes([PIN, rw, PIN, ro, PIN, rw, END_ACCESS, 0, UNPIN, rw, UNPIN, rw,
                 END_ACCESS, 0, UNPIN, ro, END_ACCESS, 0, PIN, ro]) + frame(0, 32 << 20))
    write("grant", "readonly", gwrite(1, PERMIT | READONLY, 1, 0xFF) +
          bytes([PIN, 1 | rw, PIN, 1 | ro]) + gwrite(1, PERMIT | READONLY | READING, 1, 0x200) +
          bytes([UNPIN, 1 | ro, UNPIN, 1 | ro]) + frame(1, 1 << 20) + frame(1, 0))
    write("grant", "other-grantee", gwrite(2, PERMIT, 7, 0x300) +
          bytes([PIN, 0x80 | 2 | ro]) + struct.pack("<H", 7) + bytes([PIN, 2 | ro]) +
          gwrite(2, 2, 1, 0) + bytes([PIN, 2 | ro]) + gwrite(3, 3, 1, 0xFFFFFFFF) +
          bytes([PIN, 3 | rw]) + frame(3, 0xFFFFF000))


# --- store: keys and values by hv and domains, and the hypercall over guest memory -----------

SWRITE, SREMOVE, SREAD, SPOKE, SCALL = range(5)


def key(text, prefix=False, own_dom=False):
    """make_key(): flags (bit 0: "/local/domain/<n>/" first; bit 1: n is the writer), text."""
    text = text.encode()
    return bytes([(1 if prefix else 0) | (2 if own_dom else 0), len(text)]) + text


def swrite(dom, k, value):
    value = value.encode() if isinstance(value, str) else value
    return bytes([SWRITE, dom]) + struct.pack("<H", len(value)) + k + value


def sremove(dom, k):
    return bytes([SREMOVE, dom]) + k


def sread(k, size):
    return bytes([SREAD]) + struct.pack("<H", size) + bytes([1]) + k


def spoke(off, data):
    return struct.pack("<BHB", SPOKE, off, len(data)) + data


def scall(dom, cmd, key_off, buf_off, length):
    b = (dom - 1) | (cmd << 3)
    return bytes([SCALL, b, 0x00]) + struct.pack("<H", key_off) + bytes([0x00]) + \
        struct.pack("<H", buf_off) + bytes([0x00]) + struct.pack("<H", length)


def store_seeds():
    write("store", "permissions",
          swrite(0, key("/local/domain/1/name"), "ping") +
          swrite(1, key("port", True, True), "5") +
          swrite(2, key("port", True, False), "6") +
          swrite(1, key("name", True, True), "pong") +
          sread(key("/local/domain/1/port"), 8) +
          swrite(1, key("/local/domain/1"), "x") +
          swrite(1, key("a/b/c", True, True), "3") + swrite(1, key("a/b", True, True), "2") +
          swrite(1, key("ab", True, True), "4") + sremove(1, key("a", True, True)) +
          sread(key("/local/domain/1/ab"), 0) + sremove(1, key("a", True, True)))
    write("store", "keys",
          swrite(1, key("relative"), "x") + swrite(1, key("/"), "x") +
          swrite(1, key("x/", True, True), "x") + swrite(1, key("a//b", True, True), "x") +
          swrite(1, key("ok-_.:@9", True, True), "x") +
          swrite(1, key("k" * 112, True, True), "x") + swrite(1, key("k" * 113, True, True), "x") +
          swrite(1, key("v", True, True), b"v" * 1024) + sread(key("/local/domain/1/v"), 8) +
          swrite(1, key("v", True, True), b"v" * 1025) + swrite(1, key("e", True, True), ""))
    write("store", "hypercall",
          spoke(0, b"/local/domain/1/x\0") + spoke(0x100, b"hello") +
          scall(1, 1, 0, 0x100, 5) + scall(1, 0, 0, 0x200, 64) + scall(1, 0, 0, 0x200, 2) +
          scall(2, 1, 0, 0x100, 5) + scall(1, 2, 0, 0, 0) + scall(1, 0, 0, 0x200, 64) +
          scall(1, 1, 0xFFFF, 0x100, 5))
    quota = b"".join(swrite(3, key("k%d" % i, True, True), "x") for i in range(260))
    write("store", "quota", quota + sremove(3, key("k0", True, True)) +
          swrite(3, key("again", True, True), "y") + swrite(0, key("name", True, True), "n"))


# --- hypercall: three domains write argument blocks into their memory and make the calls -----

def hv_define(name):
    text = open(os.path.join(ROOT, "hv-iface/hv/hv.h")).read()
    return int(re.search(r"#define %s (0x[0-9a-fA-F]+|\d+)" % name, text).group(1), 0)


HWRITE, HCALL, HCLOCK, HREFUSE = range(4)
CONSOLE_WRITE, EXIT, WALLCLOCK, BLOCK, EVTCHN_OP, GNTTAB_OP, STORE_OP = range(7)
SHARED = hv_define("HV_L_SHARED")
DOMID_SELF = abi_define("HV_DOMID_SELF")
ARG, KEY, BUF, TABLE = BASE + 0x100, BASE + 0x200, BASE + 0x300, BASE + 0x1000
NO_DEADLINE = (1 << 64) - 1
PENDING, MASK = 0x800, 0xA00  # evtchn_pending and evtchn_mask in the shared-info page


def hheader(trace=False, configs=(0, 0, 0)):
    """Bit 0 of the first byte: --trace; a byte per domain: its console budget, a device."""
    return bytes([1 if trace else 0]) + bytes(configs)


def hgpa(gpa):
    if SHARED <= gpa < SHARED + 0x10000:
        return bytes([0]) + struct.pack("<H", gpa - SHARED)
    return bytes([0xFF]) + struct.pack("<I", gpa)


def hwrite(dom, gpa, data):
    return struct.pack("<BBHB", HWRITE, dom - 1, gpa - SHARED, len(data)) + data


def hcall(dom, call, gpa, block=None, raw=False):
    """Domain dom writes block at gpa (if given), then makes the call."""
    number = bytes([0xFF, call]) if raw else bytes([call])
    return (hwrite(dom, gpa, block) if block else b"") + bytes([HCALL, dom - 1]) + number + \
        hgpa(gpa)


def evtchn(dom, cmd, port=0, remote_dom=0, remote_port=0, virq=0, at=ARG, dom_field=DOMID_SELF):
    op = struct.pack("<IihHIIIII", cmd, 0, dom_field, remote_dom, remote_port, port, virq, 0, 0)
    return hcall(dom, EVTCHN_OP, at, op)


def gnttab(dom, cmd, table=0, nr_entries=0, gdom=0, flags=0, ref=0, handle=0, length=0,
           src=(0, DOMID_SELF), dst=(0, DOMID_SELF)):
    op = struct.pack("<IiQIIHHIQII", cmd, 0, table, nr_entries, 0, gdom, flags, ref, 0,
                     handle, length)
    op += struct.pack("<QH6x", *src) + struct.pack("<QH6x", *dst)
    return hcall(dom, GNTTAB_OP, ARG, op)


def store(dom, cmd, k, value=b"", size=0):
    """A store op with its key at KEY and its value (or room for one) at BUF."""
    op = struct.pack("<IiQQII", cmd, 0, KEY, BUF, len(value) or size, 0)
    return hwrite(dom, KEY, k.encode() + b"\0") + (hwrite(dom, BUF, value) if value else b"") + \
        hcall(dom, STORE_OP, ARG, op)


def grant(dom, ref, flags, grantee, frame):
    return hwrite(dom, TABLE + 8 * ref, struct.pack("<HHI", flags, grantee, frame))


def hypercall_seeds():
    PERMIT, READONLY = abi_define("HV_GTF_PERMIT_ACCESS"), abi_define("HV_GTF_READONLY")
    MAP, UNMAP, SETUP, COPY, QUERY = 0, 1, 2, 5, 6
    BIND, VIRQ, CLOSE, SEND, STATUS, ALLOC, UNMASK = 0, 1, 3, 4, 5, 6, 9
    READ, WRITE, REMOVE, TX_START = 0, 1, 2, 6
    text = b"hello from dom1\n"
    console = lambda dom, buf, n: hcall(dom, CONSOLE_WRITE, ARG, struct.pack("<QQq", buf, n, 0))
    block = lambda dom, deadline: hcall(dom, BLOCK, ARG, struct.pack("<Qq", deadline, 0))
    exit_ = lambda dom, status: hcall(dom, EXIT, ARG, struct.pack("<iI", status, 0))
    # Budgets of 16 and 0 bytes; the boot info is readable, memory's last byte + 1 is not.
    write("hypercall", "console",
          hheader(configs=(2, 0, 1)) + hwrite(1, BUF, text) + console(1, SHARED - 0x4000, 4) +
          console(1, BUF, 12) + console(1, BUF, 1) + console(2, BUF, 0) + console(3, BUF, 1))
    # dom2 exits with 0x1ff (255 remains) and calls no more; dom1's exit block in shared info.
    write("hypercall", "exit-wallclock",
          hheader() + hcall(1, WALLCLOCK, ARG, bytes(16)) + exit_(2, 0x1FF) +
          hcall(2, WALLCLOCK, ARG) + hcall(1, EXIT, SHARED + 0x800, struct.pack("<iI", 0, 0)))
    # A deadline ahead (the clock jumps to it, the timer port goes pending), one passed, none:
    # dom1 has a pending port, dom2 a device that may wake it, dom3 nothing (it ends).
    write("hypercall", "block",
          hheader(configs=(0, 4, 0)) + evtchn(1, VIRQ, virq=0) + block(1, 1000000) +
          block(1, NO_DEADLINE) + block(2, 0) + struct.pack("<BBI", HCLOCK, 1, 5000) +
          block(2, 2000000) + block(2, NO_DEADLINE) + block(3, NO_DEADLINE))
    # 1:1 offered to 2, bound by 2:1; sends both ways, one to 1:1 masked (its unmask delivers
    # it); closed by 1, so 2:1 is unbound again.
    write("hypercall", "evtchn-pair",
          hheader() + evtchn(1, ALLOC, remote_dom=2) +
          evtchn(2, BIND, remote_dom=1, remote_port=1) + evtchn(2, SEND, port=1) +
          evtchn(1, STATUS, port=1) + hwrite(1, SHARED + PENDING, bytes(8)) +
          hwrite(1, SHARED + MASK, struct.pack("<Q", 2)) + evtchn(2, SEND, port=1) +
          evtchn(1, UNMASK, port=1) + evtchn(1, SEND, port=1) +
          block(2, NO_DEADLINE) + evtchn(1, CLOSE, port=1) + evtchn(2, SEND, port=1) +
          evtchn(2, STATUS, port=1) + block(3, NO_DEADLINE))
    write("hypercall", "evtchn-refusals",
          hheader(configs=(4, 0, 0)) + evtchn(1, ALLOC, remote_dom=7) +
          evtchn(1, ALLOC, remote_dom=2, dom_field=2) +
          evtchn(1, BIND, remote_dom=2, remote_port=1) + evtchn(1, CLOSE, port=1) +
          evtchn(1, SEND, port=4096) + evtchn(1, UNMASK, port=0) + evtchn(1, VIRQ, virq=1) +
          evtchn(1, 2) + evtchn(1, STATUS, port=2, dom_field=2))
    # dom1's table: ref 0 for dom2, ref 1 read-only for dom2, ref 2 for dom3.
    table = grant(1, 0, PERMIT, 2, 0x100) + grant(1, 1, PERMIT | READONLY, 2, 0x100) + \
        grant(1, 2, PERMIT, 3, 0x101) + gnttab(1, SETUP, table=TABLE, nr_entries=4)
    write("hypercall", "grant-map",
          hheader() + table + gnttab(2, MAP, gdom=1, ref=0) +
          gnttab(2, MAP, gdom=1, ref=1, flags=1) + gnttab(2, MAP, gdom=1, ref=1) +
          gnttab(2, QUERY, gdom=DOMID_SELF) + gnttab(1, QUERY, gdom=2) +
          gnttab(1, SETUP, table=TABLE, nr_entries=8) + gnttab(2, UNMAP, handle=0) +
          gnttab(2, UNMAP, handle=0) + gnttab(2, MAP, gdom=1, ref=0) +
          gnttab(3, MAP, gdom=1, ref=2) + gnttab(2, UNMAP, handle=1) +
          gnttab(1, SETUP, table=TABLE, nr_entries=8))
    write("hypercall", "grant-copy",
          hheader(True) + table + hwrite(2, BUF, text) +
          gnttab(2, COPY, flags=2, length=16, src=(BUF, DOMID_SELF), dst=(0x40 << 32, 1)) +
          gnttab(2, COPY, flags=1, length=16, src=(0x40 << 32, 1),
                 dst=(BUF + 0x40, DOMID_SELF)) +
          gnttab(2, COPY, flags=3, length=8, src=(1 | 0x40 << 32, 1), dst=(0x80 << 32, 1)) +
          gnttab(2, COPY, flags=2, length=16, src=(BUF, DOMID_SELF), dst=(1 | 0x40 << 32, 1)) +
          gnttab(3, COPY, flags=0, length=4097, src=(BUF, DOMID_SELF), dst=(BUF, DOMID_SELF)))
    # The backend refuses a map and an unmap; the granter ends while dom3 holds its page.
    write("hypercall", "grant-ends",
          hheader() + table + bytes([HREFUSE, 1, 0]) + gnttab(2, MAP, gdom=1, ref=0) +
          gnttab(2, MAP, gdom=1, ref=0) + bytes([HREFUSE, 1, 1 | 2 << 1]) +
          gnttab(2, UNMAP, handle=0) + gnttab(3, MAP, gdom=1, ref=2) + exit_(1, 0) +
          gnttab(2, MAP, gdom=1, ref=0) + gnttab(3, UNMAP, handle=0) + exit_(2, 2))
    write("hypercall", "store",
          hheader(True) + store(1, WRITE, "/local/domain/1/ring-ref", b"8") +
          store(2, READ, "/local/domain/1/ring-ref", size=16) +
          store(2, READ, "/local/domain/1/name", size=2) +
          store(2, WRITE, "/local/domain/1/ring-ref", b"9") +
          store(1, REMOVE, "/local/domain/1") + store(3, READ, "/local/domain/1/ring-ref") +
          store(3, TX_START, "/tx") + evtchn(3, ALLOC, remote_dom=1) + block(3, NO_DEADLINE))
    # Each ends its domain: a call hv has no number for, a block not aligned, one in hv's area.
    write("hypercall", "bad-calls",
          hheader(True) + hcall(1, 9, ARG, raw=True) + hcall(2, EVTCHN_OP, ARG + 4) +
          hcall(3, STORE_OP, 0x1000) + hcall(1, WALLCLOCK, ARG))
    # A block past dom1's memory, one below the shared-info page, a buffer past dom3's memory.
    write("hypercall", "bad-blocks",
          hheader() + hcall(1, GNTTAB_OP, BASE + 12 * 0x1000 - 8) +
          hcall(2, CONSOLE_WRITE, SHARED - 8) + console(3, BASE + 0x1FFF, 2))


# --- resp: what redis-cli and redis-benchmark send -------------------------------------------

def resp_cmd(*args):
    out = "*%d\r\n" % len(args)
    for a in args:
        out += "$%d\r\n%s\r\n" % (len(a), a)
    return out


def resp_seeds():
    write("resp", "set-get", resp_cmd("SET", "key", "value") + resp_cmd("GET", "key"))
    write("resp", "inline", "PING\r\nSET a b\r\nGET a\r\nINCR n\r\nINCRBY n 5\r\nDECR n\r\n"
                            "DECRBY n 2\r\nMGET a n x\r\n  set \t a  b \r\n\r\nPING\n")
    write("resp", "expiry", resp_cmd("SET", "k", "", "EX", "10") + "TTL k\r\nPTTL k\r\n"
          "SET k v PX 100 NX\r\nSET k v XX GET\r\nSET k v KEEPTTL\r\nSET k v EXAT 1\r\n")
    write("resp", "keys", "MSET a 1 b 2 c 3\r\nKEYS *\r\nKEYS a?\r\nKEYS [a-b]*\r\n"
                          "SCAN 0 MATCH * COUNT 10\r\nEXISTS a b z\r\nDEL a b\r\nDBSIZE\r\n"
                          "FLUSHALL\r\nDBSIZE\r\n")
    write("resp", "server", "INFO\r\nINFO persistence\r\nCONFIG GET appendonly\r\n"
                            "CONFIG GET *\r\nCOMMAND\r\nSELECT 0\r\nSELECT 1\r\nECHO hi\r\n"
                            "NOSUCH a b\r\nQUIT\r\nPING\r\n")
    write("resp", "binary", "*2\r\n$3\r\nGET\r\n$5\r\na\0\r\nb\r\n*0\r\n*-1\r\n")
    write("resp", "pipelined", resp_cmd("PING") * 3 + resp_cmd("INCR", "x") * 3)
    write("resp", "error-dollar", "*1\r\nGET\r\n")
    write("resp", "error-length", "*1\r\n$x\r\n")
    write("resp", "error-crlf", "*1\r\n$3\r\nGETxx")
    write("resp", "incomplete", "*2\r\n$3\r\nGET\r\n$10\r\nabc")


# --- http: a byte for the size of each receive, then what the client sends -------------------

def http_seeds():
    whole = "\xff"
    write("http", "get", whole + "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    write("http", "pipelined", "\x04" + "GET /docs/index.html HTTP/1.1\r\nHost: a\r\n\r\n"
          "HEAD /style.css HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    write("http", "query", whole + "GET /a%20b.txt?q=1#top HTTP/1.0\r\n\r\n")
    write("http", "dotdot", whole + "GET /docs/%2e%2e/../x HTTP/1.1\r\nHost: x\r\n\r\n")
    write("http", "body", whole + "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
    write("http", "get-body", whole + "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
          "\r\n\r\n0\r\n\r\n")
    write("http", "http2", "\x00" + "GET / HTTP/2.0\r\n\r\n")
    write("http", "bare-lf", whole + "GET / HTTP/1.1\nHost: x\nConnection: keep-alive\n\n"
          "HEAD /x.PNG HTTP/1.1\nhost: y\n\n")
    write("http", "bad-header", whole + "GET / HTTP/1.1\r\nHost : x\r\n\r\n")
    write("http", "no-host", whole + "GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
    write("http", "long-line", whole + "GET /" + "a" * 8200 + " HTTP/1.1\r\n\r\n")
    write("http", "header-flood", "\x7f" + "GET / HTTP/1.1\r\nHost: x\r\nX: " + "a" * 16400)


# --- x86_decode: instructions a guest traps on, then register values -------------------------

def x86_seeds():
    regs = bytes(range(1, 8 + 16 * 8 + 1))
    insns = {
        "in-dx": "ec", "in-imm": "e4 60", "out-ax-dx": "66 ef", "out-imm": "e6 e9",
        "mov-store": "89 07", "mov-store64": "48 89 07", "mov-store-ah": "88 27",
        "mov-store-r15b": "44 88 b8 78 56 34 12", "mov-load-disp8": "8b 47 04",
        "movzx": "0f b6 06", "movsx16": "48 0f bf 06", "movsxd": "48 63 06",
        "mov-imm32": "c7 07 78 56 34 12", "mov-imm8": "c6 47 01 ff",
        "mov-imm64": "48 c7 80 00 01 00 00 ff ff ff ff", "moffs": "a1 00 10 00 c0 00 00 00 00",
        "moffs-67": "67 a3 00 10 00 c0", "sib-disp32": "44 89 24 25 00 f0 0f c0",
        "rip-rel": "8b 05 f0 ff ff ff", "gs-load": "65 48 8b 04 25 28 00 00 00",
        "too-long": "66 66 66 66 66 66 66 66 66 66 66 66 66 89 00",
        "rep": "f3 a4", "lock": "f0 89 07", "register-form": "89 c0",
    }
    for name, hexes in insns.items():
        code = bytes.fromhex(hexes)
        write("x86_decode", name, code)
        if len(code) < 15 and name.startswith("mov"):
            write("x86_decode", name + "-regs", code + b"\x90" * (15 - len(code)) + regs)


# --- virtio_dev: a device, then the driver's registers, memory writes and notifies; frames -----

VD_SETUP, VD_WRITE, VD_READ, VD_POKE, VD_DESC, VD_AVAIL, VD_NOTIFY, VD_FRAME = range(8)
VD_RAW = 0x10
BLK, BLK_RO, BLK_PLAIN, NET, NET_PLAIN = range(5)
EVENT_IDX, VERSION_1 = 1 << 29, 1 << 32
BLK_SEG_MAX, BLK_FLUSH = 1 << 2, 1 << 9
CSUM, GUEST_CSUM, GUEST_TSO4, HOST_TSO4, HOST_TSO6 = 1 << 0, 1 << 1, 1 << 7, 1 << 11, 1 << 12
MRG_RXBUF = 1 << 15
T_IN, T_OUT, T_FLUSH, T_GET_ID = 0, 1, 4, 8
NEEDS_CSUM, GSO_TCPV4, GSO_TCPV6 = 1, 1, 4
VD_BUF = 0x8000  # window offset of the buffers; queue q's parts at 0x3000 * q (+ 0x1000, + 0x2000)


def vd_setup(mask, nr_queues, size=3, flags=0):
    """The driver's bring-up: features (a mask over the offer; raw: as they are), queues of
    1 << size entries (raw: size)."""
    out = bytes([VD_SETUP | flags]) + struct.pack("<Q" if flags & VD_RAW else "<I", mask)
    for q in range(nr_queues):
        out += struct.pack("<BHHH", size, 0x3000 * q, 0x3000 * q + 0x1000, 0x3000 * q + 0x2000)
    return out


def vd_poke(off, data):
    return pokes(VD_POKE, off, data)


def vd_chain(q, first, bufs):
    """Descriptors first, first + 1, ... of queue q, one a buffer: (offset, length, writable)."""
    out = b""
    for i, (off, length, writable) in enumerate(bufs):
        more = i < len(bufs) - 1
        flags = (F_NEXT if more else 0) | (F_WRITE if writable else 0)
        out += struct.pack("<BBHHBB", VD_DESC | q << 3, first + i, off, length, flags,
                           first + i + 1 if more else 0)
    return out


def vd_avail(q, head, n=1):
    return bytes([VD_AVAIL | q << 3 | (n - 1) << 5, head])


def vd_notify(q):
    return bytes([VD_NOTIFY | q << 3])


def vd_frame(length, head=b""):
    return struct.pack("<BHB", VD_FRAME, length, len(head)) + head


def blk_req(head, rtype, sector, data_len, at):
    """A disk request at descriptors head...: its header, data (written by the device for a
    read) and status byte laid out from window offset at; a write's data is a pattern."""
    out = vd_poke(at, struct.pack("<IIQ", rtype, 0, sector))
    bufs = [(at, 16, False)]
    if data_len:
        bufs.append((at + 16, data_len, rtype != T_OUT))
        if rtype == T_OUT:
            out += vd_poke(at + 16, bytes((i * 5 + head) & 0xFF for i in range(data_len)))
    return out + vd_chain(0, head, bufs + [(at + 16 + data_len, 1, True)])


def one_request(kind, *req):
    return bytes([kind]) + vd_setup(BLK_FLUSH, 1) + blk_req(0, *req, VD_BUF) + vd_avail(0, 0) + \
        vd_notify(0)


def net_hdr(flags=0, gso=0, csum_start=0, csum_offset=0):
    return struct.pack("<BBHHHHH", flags, gso, 0, 0, csum_start, csum_offset, 0)


def net_tx(head, hdr, frame_len):
    """A frame to send at transmit descriptors head, head + 1: the header, then the frame."""
    frame = bytes(range(256)) * (frame_len // 256 + 1)
    return vd_poke(VD_BUF, hdr) + vd_poke(VD_BUF + 0x100, frame[:frame_len]) + \
        vd_chain(1, head, [(VD_BUF, 12, False), (VD_BUF + 0x100, frame_len, False)])


def net_rx_bufs(first, n, length, at=VD_BUF):
    """Receive chains first... of one writable buffer each, length bytes apart from at."""
    out = b""
    for i in range(n):
        out += vd_chain(0, first + i, [(at + i * length, length, True)])
    return out


def virtio_dev_seeds():
    w = lambda name, data: write("virtio_dev", name, data)
    w("blk-read", one_request(BLK, T_IN, 2, 1024))
    w("blk-write", one_request(BLK, T_OUT, 3, 512))
    w("blk-flush", one_request(BLK, T_FLUSH, 0, 0))
    w("blk-get-id", one_request(BLK, T_GET_ID, 0, 20))
    # One notify, seven requests: read, write, flush, ID, out of range, part of a sector, unknown.
    reqs = [(T_IN, 0, 512), (T_OUT, 1, 1024), (T_FLUSH, 0, 0), (T_GET_ID, 0, 8),
            (T_IN, 15, 1024), (T_OUT, 4, 100), (7, 0, 0)]
    batch = vd_setup(BLK_FLUSH | EVENT_IDX, 1, 5)
    for i, (rtype, sector, length) in enumerate(reqs):
        batch += blk_req(3 * i, rtype, sector, length, VD_BUF + 0x800 * i) + vd_avail(0, 3 * i)
    batch += vd_notify(0)
    w("blk-batch", bytes([BLK]) + batch)
    w("blk-plain-batch", bytes([BLK_PLAIN]) + batch)
    w("blk-ro-write", one_request(BLK_RO, T_OUT, 0, 512))
    w("blk-ro-batch", bytes([BLK_RO]) + batch)
    # Broken: no status byte; no status byte in a batch's second request; a queue size of 3;
    # an available index far ahead; features without VERSION_1, then one never offered.
    w("blk-no-status", bytes([BLK]) + vd_setup(0, 1) + vd_poke(VD_BUF, struct.pack("<IIQ", 0, 0, 0))
      + vd_chain(0, 0, [(VD_BUF, 16, False)]) + vd_avail(0, 0) + vd_notify(0))
    w("blk-break-mid-batch", bytes([BLK]) + vd_setup(0, 1) + blk_req(0, T_GET_ID, 0, 8, VD_BUF) +
      vd_chain(0, 3, [(VD_BUF + 0x100, 16, False)]) + blk_req(4, T_IN, 1, 512, VD_BUF + 0x200) +
      vd_avail(0, 0) + vd_avail(0, 3, 2) + vd_notify(0))
    w("blk-bad-size", bytes([BLK]) + vd_setup(VERSION_1, 1, 3, VD_RAW) + vd_notify(0))
    w("blk-index-ahead", bytes([BLK]) + vd_setup(0, 1) + vd_poke(0x1002, struct.pack("<H", 100))
      + vd_notify(0))
    raw_status = lambda v: struct.pack("<BHBI", VD_WRITE | VD_RAW, 0x70, 4, v)
    w("blk-refused", bytes([BLK]) + vd_setup(0, 1, 8, VD_RAW) +
      vd_setup(VERSION_1 | 1 << 40, 1, 8, VD_RAW) + raw_status(0) + raw_status(3) +
      struct.pack("<BHBI", VD_WRITE | VD_RAW, 0x20, 4, 1 << 20) + raw_status(11) +
      bytes([VD_READ | VD_RAW]) + struct.pack("<HB", 0x70, 4))
    regs = b"".join(bytes([VD_READ, i]) for i in range(24)) + bytes([VD_READ | 0x20, 21]) + \
        bytes([VD_READ | 0x60, 22]) + struct.pack("<BHB", VD_READ | VD_RAW, 0x101, 3) + \
        struct.pack("<BHBI", VD_WRITE | VD_RAW, 0x100, 4, 1) + bytes([VD_WRITE, 10, 5, 0])
    w("blk-registers", bytes([BLK]) + regs + vd_setup(0, 1) + regs)

    nic = CSUM | GUEST_CSUM | EVENT_IDX
    w("net-tx", bytes([NET]) + vd_setup(nic, 2) + net_tx(0, net_hdr(), 60) + vd_avail(1, 0) +
      vd_notify(1))
    w("net-tx-csum", bytes([NET]) + vd_setup(nic, 2) + net_tx(0, net_hdr(NEEDS_CSUM, 0, 34, 16),
                                                             74) + vd_avail(1, 0) + vd_notify(1))
    w("net-tx-tso", bytes([NET]) + vd_setup(nic | HOST_TSO4 | HOST_TSO6, 2) +
      net_tx(0, net_hdr(NEEDS_CSUM, GSO_TCPV4, 34, 16), 3000) + vd_avail(1, 0) + vd_notify(1) +
      net_tx(2, net_hdr(NEEDS_CSUM, GSO_TCPV6, 54, 16), 3000) + vd_avail(1, 2) + vd_notify(1))
    # offload=off: a partial checksum is refused, a plain frame goes.
    w("net-plain-tx", bytes([NET_PLAIN]) + vd_setup(nic, 2) +
      net_tx(0, net_hdr(NEEDS_CSUM, 0, 34, 16), 60) + vd_avail(1, 0) + vd_notify(1) +
      net_tx(2, net_hdr(), 60) + vd_avail(1, 2) + vd_notify(1))
    # Mergeable buffers: 512-byte chains; a frame takes two; then too few are left for the
    # next, which waits for four more.
    w("net-rx-merge", bytes([NET]) + vd_setup(nic | MRG_RXBUF, 2) + net_rx_bufs(0, 4, 512) +
      vd_avail(0, 0, 4) + vd_notify(0) + vd_frame(1000, net_hdr(0x2)) + vd_frame(1500) +
      net_rx_bufs(4, 4, 512, VD_BUF + 0x800) + vd_avail(0, 4, 4) + vd_notify(0))
    w("net-rx-one", bytes([NET]) + vd_setup(nic, 2) + net_rx_bufs(0, 1, 1600) + vd_avail(0, 0) +
      vd_notify(0) + vd_frame(100, net_hdr()))
    # Without them one chain a frame: one too long for it is dropped, a shorter one fits.
    w("net-rx-drop", bytes([NET_PLAIN]) + vd_setup(0, 2) + net_rx_bufs(0, 1, 64) +
      vd_avail(0, 0) + vd_notify(0) + vd_frame(1000) + vd_frame(50))
    # Segments: 66 chains over the same 1 KiB take a 64 KiB one; a 20 KB one uses 20.
    tso = nic | MRG_RXBUF | GUEST_TSO4
    w("net-rx-segment", bytes([NET]) + vd_setup(tso, 2, 7) + b"".join(
        vd_chain(0, i, [(VD_BUF, 1024, True)]) + vd_avail(0, i) for i in range(66)) +
      vd_notify(0) + vd_frame(20000))
    # Broken or refused: a receive buffer shorter than the header; TSO without a checksum;
    # offloads the tap refuses.
    w("net-rx-short", bytes([NET]) + vd_setup(nic, 2) + net_rx_bufs(0, 1, 8) + vd_avail(0, 0) +
      vd_notify(0))
    w("net-refused", bytes([NET]) + vd_setup(HOST_TSO4 | GUEST_CSUM, 2) +
      vd_setup(nic, 2, 3, 0x20) + vd_setup(nic, 2) + net_tx(0, net_hdr(0x4), 60) +
      vd_avail(1, 0) + vd_notify(1))


def main():
    elf_seeds()
    cmdline_seeds()
    virtq_dev_seeds()
    evtchn_seeds()
    grant_seeds()
    store_seeds()
    hypercall_seeds()
    resp_seeds()
    http_seeds()
    x86_seeds()
    virtio_dev_seeds()


if __name__ == "__main__":
    sys.exit(main())
