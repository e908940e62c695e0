#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make bench: the paravirtualization-overhead suite.

Runs every benchmark side by side with its baseline (alternating runs), keeps every sample,
and writes build/bench/results.json (samples, machine, versions, date, exact commands) and
build/bench/report.md with PNG plots (gnuplot). QUICK=1 runs a short version.

Usage: bench/suite.py BUILD_DIR        (root: network namespaces, tap devices)
"""
import datetime
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

B = sys.argv[1] if len(sys.argv) > 1 else "build"
QUICK = os.environ.get("QUICK") == "1"
OUT = os.path.join(B, "bench")
TMP = tempfile.mkdtemp(prefix="pvkit-bench-")
HV = os.path.join(B, "hv")
REPORT = {"benchmarks": [], "skipped": []}
NO_KVM = "not measured here: no /dev/kvm"

# The backends hv runs guests with here, as tests/lib.sh decides: kvm where /dev/kvm is usable,
# proc always (BACKENDS="kvm proc" chooses). main() keeps those that boot hello. Every hv
# figure is taken once per backend; its baseline's backend is "native" or "QEMU TCG".
BACKENDS = os.environ.get("BACKENDS", "").split() or \
    (["kvm"] if os.access("/dev/kvm", os.R_OK | os.W_OK) else []) + ["proc"]

# The targets, beside the figures they judge: (what, met(cost, subject median), and
# the figure shown: the cost ratio, the subject's median, or its share of the baseline's
# throughput, 1 / cost, which the throughput targets speak of). A figure meets its target or
# not; a benchmark never passes or fails.
T_HELLO = ("within 2x /bin/true", lambda cost, s: cost <= 2.0, "cost")
T_CPU = ("1.00x native, within 2%", lambda cost, s: abs(cost - 1) <= 0.02, "cost")
T_HCALL = ("under 10 us", lambda cost, s: s < 10, "median")
T_SERVER = ("at least 1.0x the native server", lambda cost, s: cost <= 1.0, "share")
T_PIPELINED = ("at least 0.8x the native server", lambda cost, s: cost <= 1.25, "share")
T_TCP = ("at least 0.5x native", lambda cost, s: cost <= 2.0, "share")
T_IOPS1 = ("at least 200k IOPS", lambda cost, s: s >= 200000, "median")
T_HALF = ("at least 0.5x native", lambda cost, s: cost <= 2.0, "share")
T_SEQ = ("at least 0.8x native", lambda cost, s: cost <= 1.25, "share")
T_HELLO_BYTES = 48 << 10


def log(msg):
    print(msg, flush=True)


def sh(cmd, **kw):
    """Run cmd (a list), return its stdout; raise with its output if it fails."""
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}: {p.stdout[-400:]}{p.stderr[-400:]}")
    return p.stdout + p.stderr


def hv(backend, *args):
    """The command line of hv on backend."""
    return [HV, f"--backend={backend}", *args]


def field(text, name):
    """The number after 'name=' in text (the bench programs print key=value)."""
    m = re.search(rf"\b{re.escape(name)}=([0-9.]+)", text)
    if not m:
        raise RuntimeError(f"no {name}= in: {text[-300:]}")
    return float(m.group(1))


def stat(text, name):
    """A count from hv --stats ("exits", or a kind's or device's line), summed over domains."""
    pat = r"stats: (\d+) exits in" if name == "exits" else rf"stats:\s+{re.escape(name)}\s+(\d+)$"
    return sum(int(n) for n in re.findall(pat, text, re.M))


def cost_of(better, s, b):
    """How many times the baseline's cost the subject's is: above 1 the subject is slower."""
    return s / b if better == "lower" else b / s


def record(group, name, unit, better, subject, baseline, note="", exits=None, target=None):
    """One benchmark: subject and baseline are (label, backend, samples, command), the backend
    kvm, proc, QEMU TCG or native; target, where the issue sets one, is a T_ above."""
    side = lambda x: {"label": x[0], "backend": x[1], "machine": REPORT["machine"]["name"],
                      "samples": x[2], "command": x[3]}
    s, b = statistics.median(subject[2]), statistics.median(baseline[2])
    cost = cost_of(better, s, b)
    REPORT["benchmarks"].append({
        "group": group, "name": name, "unit": unit, "better": better,
        "subject": side(subject), "baseline": side(baseline), "exits_per_op": exits, "note": note,
        "target": target and {"what": target[0], "met": target[1](cost, s),
                              "figure": f"{s:.3g} {unit}" if target[2] == "median" else
                                        f"{1 / cost:.2f}x native's {unit}" if target[2] == "share" else
                                        f"{cost:.2f}x"},
    })
    log(f"  {name}: {subject[0]} ({subject[1]}) {s:.4g} {unit} vs {baseline[0]} ({baseline[1]}) {b:.4g} {unit}")


def record_hv(group, name, unit, better, subjects, baseline, note="", exits=None, target=None):
    """One row per backend: subjects[backend] = (label, samples, command) against baseline (a
    (label, backend, samples, command), or a dict of them by backend), exits a dict by backend;
    then, where both backends ran, proc against kvm (once for a subject with two baselines)."""
    exits = exits or {}
    for be, (label, samples, command) in subjects.items():
        base = baseline.get(be) if isinstance(baseline, dict) else baseline
        if base:
            record(group, name, unit, better, (label, be, samples, command), base, note, exits.get(be), target)
    both = f"{name.split(' vs ')[0].rstrip(', ')}, proc against kvm"
    if "kvm" in subjects and "proc" in subjects and both not in [b["name"] for b in REPORT["benchmarks"]]:
        k, p = subjects["kvm"], subjects["proc"]
        record(group, both, unit, better, (p[0], "proc", p[1], p[2]), (k[0], "kvm", k[1], k[2]),
               exits=exits.get("proc"))


def skip(group, name, why):
    REPORT["skipped"].append({"group": group, "name": name, "why": why})
    log(f"  {name}: skipped: {why}")


def alternate(runs, fns):
    """Call each fn once per round, RUNS rounds, in turn: drift hits all alike."""
    samples = [[] for _ in fns]
    for _ in range(runs):
        for i, fn in enumerate(fns):
            samples[i].append(fn())
    return samples


def timecmd(runs, cmds, warmup=3):
    """Wall times (ms) of whole commands, alternating (bench/timecmd): {label: samples}."""
    tsv = os.path.join(TMP, "times.tsv")
    argv = [f"{B}/bench/timecmd", "-n", str(runs), "-w", str(warmup), "-o", tsv]
    for label, cmd in cmds:
        argv += ["--", label] + cmd
    sh(argv)
    samples = {label: [] for label, _ in cmds}
    for line in open(tsv):
        label, ms = line.split("\t")
        samples[label].append(float(ms))
    return samples


# --- boot -------------------------------------------------------------------------------
def bench_boot():
    log("== boot")
    runs = 20 if QUICK else 100
    hello = f"{B}/apps/hello.img"
    cmds = [("/bin/true", ["/bin/true"])] + [(be, hv(be, hello)) for be in BACKENDS]
    if "kvm" in BACKENDS:
        cmds.append(("kvm_floor", [f"{B}/bench/kvm_floor"]))
    t = timecmd(runs, cmds)
    c = dict(cmds)
    hv_hello = {be: ("hv hello.img", t[be], " ".join(c[be])) for be in BACKENDS}
    exits = {be: stat(sh(hv(be, "--stats", hello)), "exits") for be in BACKENDS}
    record_hv("boot", "hello end to end vs /bin/true", "ms", "lower", hv_hello,
              ("/bin/true", "native", t["/bin/true"], "/bin/true"), exits=exits, target=T_HELLO,
              note="exits_per_op: exits of one whole hello run")
    if "kvm" in BACKENDS:
        record_hv("boot", "hello end to end vs the KVM floor", "ms", "lower", {"kvm": hv_hello["kvm"]},
                  ("kvm_floor (VM + one exit)", "kvm", t["kvm_floor"], " ".join(c["kvm_floor"])), exits=exits)
    else:
        skip("boot", "the KVM floor (bench/kvm_floor: a VM run to its first exit)", NO_KVM)
    if shutil.which("qemu-system-x86_64"):
        qemu = ["mk/qemu-run.sh", hello]
        q = timecmd(3 if QUICK else 15, [(be, hv(be, hello)) for be in BACKENDS] + [("qemu", qemu)], warmup=1)
        for be in BACKENDS:
            record("boot", "hello end to end on QEMU microvm vs on hv", "ms", "lower",
                   ("QEMU microvm, mk/qemu-run.sh", "QEMU TCG", q["qemu"], " ".join(qemu)),
                   ("hv hello.img", be, q[be], " ".join(hv(be, hello))))
    else:
        skip("boot", "boot on QEMU", "qemu-system-x86_64 not installed")


# --- hypercall and doorbell -------------------------------------------------------------
def bench_calls():
    """The guest's two ways to reach hv, timed inside the guest, against what the backend's own
    mechanism costs with nothing of hv's around it (a KVM exit; a ptrace stop) and against a
    native process's system call."""
    log("== hypercall and doorbell")
    runs, n = (3, 5000) if QUICK else (10, 20000)
    disk = os.path.join(TMP, "hcall.disk")
    with open(disk, "wb") as f:
        f.truncate(1 << 20)
    guest = {be: hv(be, "--stats", f"--disk={disk}", f"{B}/bench/hcall.img", str(n)) for be in BACKENDS}
    floors = {"proc": {"exits": [f"{B}/bench/proc_floor", "exits", str(n)],
                       "doorbell": [f"{B}/bench/proc_floor", "doorbell", str(n)]},
              "kvm": {"exits": [f"{B}/bench/kvm_floor3", "exits", str(n)],
                      "doorbell": [f"{B}/bench/kvm_floor3", "doorbell", "300"]}}
    floor_label = {"proc": ("ptrace stop of a traced process", "store to a no-access page, ptrace stop"),
                   "kvm": ("KVM port exit, ring 3", "KVM MMIO ioeventfd, ring 3")}
    syscall = [f"{B}/bench/proc_floor", "syscall", str(n)]
    runs_of = [lambda be=be: sh(guest[be]) for be in BACKENDS]
    runs_of += [lambda be=be, k=k: sh(floors[be][k]) for be in BACKENDS for k in ("exits", "doorbell")]
    runs_of.append(lambda: sh(syscall))
    out = alternate(runs, runs_of)
    outs = dict(zip(BACKENDS, out))
    floor = dict(zip([(be, k) for be in BACKENDS for k in ("exits", "doorbell")], out[len(BACKENDS):-1]))
    us = lambda texts, name: [field(o, name) / 1000 for o in texts]
    hcall = {be: ("hv hypercall, wallclock", us(outs[be], "hcall_ns"), " ".join(guest[be])) for be in BACKENDS}
    # Exits per operation from --stats: the run's wallclock calls, and its disk's MMIO exits
    # (setup included), each over n.
    exits_h = {be: stat(outs[be][-1], "wallclock") / n for be in BACKENDS}
    exits_d = {be: stat(outs[be][-1], "virtio-blk0") / n for be in BACKENDS}
    record_hv("calls", "hypercall round trip vs a native system call", "us", "lower", hcall,
              ("getppid system call", "native", us(out[-1], "syscall_ns"), " ".join(syscall)),
              exits=exits_h, target=T_HCALL)
    record_hv("calls", "hypercall round trip vs the backend's raw trap", "us", "lower", hcall,
              {be: (floor_label[be][0], be, us(floor[(be, "exits")], "exit_ns"), " ".join(floors[be]["exits"]))
               for be in BACKENDS}, exits=exits_h,
              note="the floors: kvm, a guest set up as hv sets one up with no run loop around it "
                   "(bench/kvm_floor3); proc, a traced child stepped over its trap by its parent "
                   "(bench/proc_floor)")
    record_hv("calls", "doorbell (virtio QueueNotify) vs the backend's raw trap", "us", "lower",
              {be: ("virtio QueueNotify on hv", us(outs[be], "doorbell_ns"), " ".join(guest[be])) for be in BACKENDS},
              {be: (floor_label[be][1], be, us(floor[(be, "doorbell")], "doorbell_ns"), " ".join(floors[be]["doorbell"]))
               for be in BACKENDS}, exits=exits_d,
              note="on kvm hv's doorbell is an ioeventfd that also wakes the device's I/O thread (the "
                   "floor's eventfd has no reader); on proc it is an exit, served by hv")
    if "kvm" not in BACKENDS:
        skip("calls", "the KVM floors (bench/kvm_floor3: a port exit, an ioeventfd write)", NO_KVM)


# --- CPU- and memory-bound work ---------------------------------------------------------
def bench_work():
    log("== CPU and memory")
    runs = 3 if QUICK else 10
    # The pure CPU loop of bench-boot (no memory traffic beyond L1), then the kernels.
    loop = [f"{B}/bench/cpuloop", "20000000"]
    guest = {be: hv(be, f"{B}/bench/cpuloop.img", "20000000") for be in BACKENDS}
    outs = alternate(3 * runs, [lambda: sh(loop)] + [lambda be=be: sh(guest[be]) for be in BACKENDS])
    ms = lambda texts: [field(o, "loop_ns") / 1e6 for o in texts]
    record_hv("cpu", "CPU loop, 20 Mi splitmix64 steps", "ms", "lower",
              {be: ("guest on hv", ms(outs[1 + i]), " ".join(guest[be])) for i, be in enumerate(BACKENDS)},
              ("native process", "native", ms(outs[0]), " ".join(loop)), target=T_CPU,
              note="the same machine code at the same 64-byte alignment in both (mk/bench.mk)")
    native = [f"{B}/bench/work"]
    guest = {be: hv(be, "--mem=1G", f"{B}/bench/work.img") for be in BACKENDS}
    outs = alternate(runs, [lambda: sh(native)] + [lambda be=be: sh(guest[be]) for be in BACKENDS])
    for kernel, what in [("hash", "hash of 64 MiB"), ("sort", "radix sort of 4 Mi keys"),
                         ("lz", "LZ77 round trip of 16 MiB"),
                         ("memcpy", "copy of 256 MiB, rep movsb, page-aligned buffers"),
                         ("copy2k", "256 MiB in 2 KiB memcpy() calls, in the cache"),
                         ("chase", "pointer chase over 256 MiB, 8 Mi steps")]:
        def ms(texts):
            return [int(re.search(rf"kernel={kernel} ns=(\d+)", o).group(1)) / 1e6 for o in texts]
        cpu = kernel not in ("memcpy", "copy2k", "chase")
        note = "the same source, compiled for each; buffers written before the clock starts"
        if kernel == "copy2k":
            note = "the C library's memcpy: libos's own in the guest (SSE2 moves, rep movsb from 4 KiB; newlib's streams past the cache from 256 B), glibc's natively"
        record_hv("cpu" if cpu else "memory", what, "ms", "lower",
                  {be: ("guest on hv", ms(outs[1 + i]), " ".join(guest[be])) for i, be in enumerate(BACKENDS)},
                  ("native process", "native", ms(outs[0]), " ".join(native)), target=T_CPU if cpu else None,
                  note=note)


# --- block and network, through bench-io and bench-net ----------------------------------
def rows(text, pattern):
    return [m.groups() for m in re.finditer(pattern, text, re.M)]


def bench_io():
    log("== block and network (bench/io.sh, bench/net.sh)")
    env = dict(os.environ, RUNS="1" if QUICK else "3", PINGS="3000" if QUICK else "20000", BACKENDS=" ".join(BACKENDS))
    try:
        out = sh(["bench/io.sh", B], env=env)
    except RuntimeError as e:
        skip("io", "bench-io", str(e)[:200])
        return
    pk = {}
    for label, pps, rtt in rows(out, r"^(Linux over veth \(the floor\)|nettest on hv, \w+ \(tap\)|nettest on QEMU[^\n]*?)\s+(\d+) pkt/s\s+([\d.]+) us avg RTT"):
        pk.setdefault(label, []).append(float(rtt))
    epp = dict((be, float(x)) for be, x in rows(out, r"\((\w+)\): \d+ exits for .* ([\d.]+) exits per packet"))
    ping = {be: ("nettest on hv", pk[f"nettest on hv, {be} (tap)"], f"bench/io.sh: ping -f to nettest, hv --backend={be}")
            for be in BACKENDS if f"nettest on hv, {be} (tap)" in pk}
    record_hv("io", "flood ping round trip", "us", "lower", ping,
              ("Linux over veth", "native", pk.get("Linux over veth (the floor)"), "bench/io.sh: ping -f over veth"),
              exits=epp)
    q = [v for k, v in pk.items() if k.startswith("nettest on QEMU")]
    for be in ping if q else []:
        record("io", "flood ping round trip, QEMU vs hv", "us", "lower",
               ("nettest on QEMU microvm", "QEMU TCG", q[0], "bench/io.sh"), ("nettest on hv", be, ping[be][1], ping[be][2]))
    blocks = re.split(r"^-- round \d+: ", out, flags=re.M)
    by = {}
    for blk in blocks[1:]:
        head = blk.split("\n")[0]
        m = re.match(r"blktest on hv, (\w+)", head)
        who = "native" if head.startswith("native") else m.group(1) if m else "QEMU TCG"
        for name, val in rows(blk, r"bench: (sequential write|sequential read) ([\d.]+) MiB/s"):
            by.setdefault((who, name), []).append(float(val))
        for name, val, how in rows(blk, r"bench: (random 4 KiB read|random 4 KiB write) [\d.]+ MiB/s, (\d+) IOPS, [^\n]*?(\d+ in flight|one at a time)"):
            by.setdefault((who, name if how == "one at a time" else f"{name}, {how}"), []).append(float(val))
    epr = dict((be, float(x)) for be, x in rows(out, r"\((\w+)\): \d+ exits for .* ([\d.]+) exits per request"))
    for name, unit, target in [("sequential read", "MiB/s", T_SEQ), ("sequential write", "MiB/s", None),
                               ("random 4 KiB read", "IOPS", T_IOPS1), ("random 4 KiB write", "IOPS", None),
                               ("random 4 KiB read, 32 in flight", "IOPS", T_HALF)]:
        if ("native", name) not in by:
            continue
        record_hv("io", f"block {name}", unit, "higher",
                  {be: ("blktest on hv", by[(be, name)], f"bench/io.sh: hv --backend={be} blktest.img bench 64")
                   for be in BACKENDS if (be, name) in by},
                  ("native on the same file", "native", by[("native", name)], "bench/io.sh: blkbench"), exits=epr,
                  target=target)
    env = dict(os.environ, RUNS="1" if QUICK else "3", SECONDS_PER="2" if QUICK else "5", BACKENDS=" ".join(BACKENDS))
    try:
        out = sh(["bench/net.sh", B], env=env)
    except RuntimeError as e:
        skip("net", "bench-net", str(e)[:200])
        return
    num = {k: [float(v)] for k, v in rows(out, r"^((?:http|tcp)-[\w-]+)\s+([\d.]+)")}
    red = {k: (float(s), float(g)) for k, s, g in rows(out, r"^((?:redis|kv)-[\w-]+)\s+([\d.]+)\s+([\d.]+)")}
    # Each placement's figures, each judged against the targets: neither is the one truth
    # (on two CPUs split helped the TCP stream and Redis and cost HTTP).
    m = re.search(r"^placements: ([\w, ]+?)(?: \(split: servers on CPU (\d+), clients on ([\d,]+)\))?$", out, re.M)
    places = m.group(1).split(", ") if m else ["unpinned"]
    for n, place in enumerate(places):
        x = "" if n == 0 else f"-{place}"
        how = (f", server on CPU {m.group(2)}, client on {m.group(3)}" if place == "split" and m and m.group(2)
               else ", unpinned" if len(places) > 1 else "")
        hv_of = lambda prefix, label, what: {be: (label, num[f"{prefix}-hv-{be}{x}"], f"bench/net.sh: {what}, hv --backend={be}")
                                             for be in BACKENDS if f"{prefix}-hv-{be}{x}" in num}
        if f"http-native{x}" in num:
            record_hv("net", f"HTTP requests/s (wrk, 32 connections{how})", "req/s", "higher", hv_of("http", "httpd on hv", "wrk"),
                      ("nginx, 1 worker", "native", num[f"http-native{x}"], "bench/net.sh: wrk"),
                      target=T_SERVER)
        if f"tcp-native{x}" in num:
            record_hv("net", f"TCP stream, one connection{how}", "Mbit/s", "higher", hv_of("tcp", "tcpstream sink on hv", "tcpstream"),
                      ("tcpstream sink", "native", num[f"tcp-native{x}"], "bench/net.sh: tcpstream"),
                      target=T_TCP)
        for p, label in [("", "50 clients"), ("-p16", "pipelined 16")]:
            if f"redis-native{p}{x}" not in red:
                continue
            for i, op in enumerate(("SET", "GET")):
                record_hv("net", f"Redis {op}/s, {label}{how}", "ops/s", "higher",
                          {be: ("kvstore on hv, memory only", [red[f"kv-hv-{be}{p}{x}"][i]], f"bench/net.sh: redis-benchmark, hv --backend={be}")
                           for be in BACKENDS if f"kv-hv-{be}{p}{x}" in red},
                          ("redis-server", "native", [red[f"redis-native{p}{x}"][i]], "bench/net.sh: redis-benchmark"),
                          target=T_PIPELINED if p else T_SERVER)


# --- event channels and the shared-memory channel, through bench-pv ---------------------
def bench_pv():
    log("== event channels and channels between two domains (bench/pv.sh)")
    env = dict(os.environ, RUNS="1" if QUICK else "5", RTTS="5000" if QUICK else "20000", BACKENDS=" ".join(BACKENDS))
    out = sh(["bench/pv.sh", B], env=env)
    num = r"([\d.]+)"
    ring, hcall, pipe, efd = {}, {}, {}, {}
    for be, rtt, p, e, exits in rows(out, rf"^event channel on (\w+), sends through the ring\s+{num} us\s+{num} us\s+{num} us\s+{num}"):
        ring[be] = ("two domains on hv, ring sends", [float(rtt)], "bench/pv.sh: pingpong mode=evtchn", float(exits))
        pipe, efd = [float(p)], [float(e)]
    for be, rtt, exits in rows(out, rf"^event channel on (\w+), sends by EVTCHNOP_send\s+{num} us\s+{num}\s*$"):
        hcall[be] = ("two domains on hv, hypercall sends", [float(rtt)], "bench/pv.sh: pingpong mode=evtchn send=hypercall", float(exits))
    if not ring or not hcall:
        skip("pv", "event-channel round trip", "no figure in bench/pv.sh's output")
        return
    for subjects, base, what in [(ring, ("two processes, pipe", "native", pipe, "bench/ipc_native"), "ring sends, vs a pipe"),
                                 (ring, ("two processes, eventfd", "native", efd, "bench/ipc_native"), "ring sends, vs an eventfd"),
                                 (hcall, ("two processes, pipe", "native", pipe, "bench/ipc_native"), "hypercall sends, vs a pipe")]:
        record_hv("pv", f"event-channel round trip, {what}", "us", "lower",
                  {be: v[:3] for be, v in subjects.items()}, base, exits={be: v[3] for be, v in subjects.items()})
    stream = {}
    for size, be, mb, p, events, exits in rows(out, rf"^(\d+)-byte messages \([^)]*\) on (\w+)\s+{num} MB/s\s+{num} MB/s\s+{num}\s+{num}"):
        stream.setdefault(size, ({}, [float(p)], {}, []))
        stream[size][0][be] = ("vchan between two domains", [float(mb)], "bench/pv.sh: pingpong mode=stream")
        stream[size][2][be] = float(exits)
        stream[size][3].append(f"{float(events):.5f} events per message on {be}")
    for size, (subjects, p, exits, events) in stream.items():
        record_hv("pv", f"channel throughput, {size}-byte messages, vs a pipe", "MB/s", "higher", subjects,
                  ("two processes, pipe", "native", p, "bench/ipc_native"), exits=exits, note=", ".join(events))


# --- sizes, memory, density -------------------------------------------------------------
def rss_of_run(cmd):
    """Peak resident memory (KiB) of a command run to its end (through a small C parent)."""
    return field(sh([f"{B}/bench/maxrss"] + cmd), "maxrss_kib")


def stripped_size(path):
    """The size of path without symbols and debug information: of a stripped copy, so the
    file itself keeps what gdb and crash backtraces need."""
    copy = os.path.join(TMP, "stripped")
    sh(["strip", "-o", copy, path])
    size = os.path.getsize(copy)
    os.remove(copy)
    return size


def bench_sizes():
    log("== image size")
    # Every image in build/apps beside, where there is one, a native program that does its
    # job: the same hello statically linked with glibc, and the Debian binaries of nginx and
    # redis-server (which also load shared libraries not counted here).
    hello_native = os.path.join(TMP, "hello-static")
    try:
        sh(["gcc", "-O2", "-static", "-o", hello_native, "apps/hello/hello.c", "-lm"])
    except RuntimeError:
        hello_native = None
    peers = {"hello.img": hello_native, "httpd.img": shutil.which("nginx"),
             "kvstore.img": shutil.which("redis-server")}
    for img in sorted(os.listdir(f"{B}/apps")):
        path = f"{B}/apps/{img}"
        if not img.endswith(".img") or not os.path.isfile(path):
            continue
        text = sh(["size", path]).split("\n")[1].split()
        peer = peers.get(img)
        REPORT.setdefault("images", []).append({
            "image": img, "file_bytes": os.path.getsize(path), "stripped_bytes": stripped_size(path),
            "text": int(text[0]), "data": int(text[1]), "bss": int(text[2]),
            "peer": os.path.basename(peer) if peer else "",
            "peer_bytes": os.path.getsize(peer) if peer else 0,
            "peer_stripped_bytes": stripped_size(peer) if peer else 0})


def bench_memory():
    log("== resident memory")
    runs = 3 if QUICK else 10
    hello = {be: hv(be, f"{B}/apps/hello.img") for be in BACKENDS}
    s = alternate(runs, [lambda: rss_of_run(["/bin/true"]) / 1024] +
                  [lambda be=be: rss_of_run(hello[be]) / 1024 for be in BACKENDS])
    record_hv("memory", "peak resident memory, hello", "MiB", "lower",
              {be: ("hv + hello guest", s[1 + i], " ".join(hello[be])) for i, be in enumerate(BACKENDS)},
              ("/bin/true", "native", s[0], "/bin/true"),
              note="on proc the guest is a second process, hv's child, and the figure is the larger "
                   "of the two peaks (what wait4 reports for a process and its children), not their sum")
    bench_server_memory()


def tree_pss(pid):
    """Proportional resident memory (KiB) of pid and its descendants (children of any of their
    threads): a page that n of them share counts 1/n in each, so the sum counts it once."""
    pids, kib = [pid], 0
    for p in pids:
        try:
            for t in os.listdir(f"/proc/{p}/task"):
                pids += [int(c) for c in open(f"/proc/{p}/task/{t}/children").read().split()]
            kib += int(re.search(r"^Pss:\s+(\d+)", open(f"/proc/{p}/smaps_rollup").read(), re.M).group(1))
        except OSError:
            pass
    return kib


def start_waiting(cmd, ready, timeout=20):
    """Start cmd, wait until a line of its output contains ready; the Popen."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    end = time.monotonic() + timeout
    for line in p.stdout:
        if ready in line:
            return p
        if time.monotonic() > end:
            break
    p.kill()
    raise RuntimeError(f"{' '.join(cmd)} never said {ready!r}")


def bench_server_memory():
    """Resident memory of hv + an idle server appliance, against the native server idle."""
    ns = f"pvkit-rss-{os.getpid()}"
    sh(["ip", "netns", "add", ns])
    try:
        sh(["ip", "-n", ns, "tuntap", "add", "tap0", "mode", "tap"])
        sh(["ip", "-n", ns, "link", "set", "tap0", "up"])
        netns = ["ip", "netns", "exec", ns]
        conf = os.path.join(TMP, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"daemon off; worker_processes 1; pid {TMP}/nginx.pid; error_log /dev/null;\n"
                    f"events {{}} http {{ access_log off; server {{ listen 127.0.0.1:18080; root {TMP}; }} }}\n")
        for app, ready, native, nready in [
                ("httpd", "serving", ["nginx", "-c", conf, "-p", TMP], None),
                ("kvstore", "kvstore: ready", ["redis-server", "--port", "16379", "--save", "",
                                               "--appendonly", "no"], "Ready to accept")]:
            kib = {}
            for be in BACKENDS:
                g = start_waiting(netns + hv(be, "--mem=128M", "--net=tap0", f"{B}/apps/{app}.img",
                                             "ip=10.95.0.2/24"), ready)
                time.sleep(0.3)
                kib[be] = tree_pss(g.pid)  # ip netns exec execs hv: the pid is hv's
                g.terminate()
                g.wait()
            if nready:
                n = start_waiting(native, nready)
            else:
                n = subprocess.Popen(native)
                time.sleep(0.5)
            nkib = tree_pss(n.pid)
            n.terminate()
            n.wait()
            record_hv("memory", f"resident memory, {app} idle", "MiB", "lower",
                      {be: (f"hv + {app}, --mem=128M", [kib[be] / 1024], f"hv --backend={be} --mem=128M --net=TAP {app}.img")
                       for be in BACKENDS},
                      (native[0], "native", [nkib / 1024], " ".join(native)),
                      note="proportional resident memory (Pss) of the process and its children: a guest's "
                           "touched memory counts once, in hv or in its proc guest process")
    finally:
        subprocess.run(["ip", "netns", "del", ns])


def bench_density():
    log("== density: idle VMs, one hv process each")
    counts = [1, 10, 50] if QUICK else [1, 10, 100, 1000]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(counts) * 8 + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
        REPORT["open_files_limit"] = f"raised from {soft} to {min(want, hard)}"
    img = f"{B}/tests/integration/sleeper.img"
    for n in counts:
        t0 = time.monotonic()
        native = [subprocess.Popen(["sh", "-c", "echo up; exec sleep 60"], stdout=subprocess.PIPE) for _ in range(n)]
        for p in native:
            p.stdout.readline()
        t_native = (time.monotonic() - t0) * 1000
        for p in native:
            p.kill()
            p.wait()
        for be in BACKENDS:
            t0 = time.monotonic()
            procs = [subprocess.Popen(hv(be, "--mem=8M", img), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
                     for _ in range(n)]
            ok = all(p.stdout.readline().startswith(b"sleeper") for p in procs)
            t_vm = (time.monotonic() - t0) * 1000
            pss = sum(tree_pss(p.pid) for p in procs)
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait()
            if not ok:
                skip("density", f"{n} idle VMs on {be}", "not every VM came up")
                continue
            REPORT.setdefault("_procs_ms", {})[(be, n)] = t_vm
            record("density", f"start {n} idle VMs (until each is running main)", "ms", "lower",
                   (f"{n} hv processes", be, [t_vm], f"{n} x hv --backend={be} --mem=8M sleeper.img"),
                   (f"{n} processes (sh, then sleep)", "native", [t_native], "sh -c 'echo up; exec sleep 60'"),
                   note=f"resident memory (Pss) of the {n} hv processes on {be} and their children: "
                        f"{pss / 1024:.1f} MiB ({pss / n / 1024:.2f} MiB each)")


def bench_density_one_hv():
    log("== density: idle VMs, all in one hv process")
    counts = [1, 10, 50] if QUICK else [1, 10, 100, 1000]
    img = f"{B}/tests/integration/sleeper.img"
    for n, be in [(n, be) for n in counts for be in BACKENDS]:
        conf = os.path.join(TMP, f"idle-{n}.conf")
        with open(conf, "w") as f:
            f.write("# one idle domain a line\n" + f"--mem=8M {img}\n" * n)
        t0 = time.monotonic()
        p = subprocess.Popen(hv(be, f"--config={conf}"), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        up = 0
        while up < n:
            line = p.stdout.readline()
            if not line:
                break
            up += line.startswith(b"sleeper")
        t = (time.monotonic() - t0) * 1000
        pss = tree_pss(p.pid) if up == n else 0
        p.terminate()
        p.wait()
        if up != n:
            skip("density", f"{n} idle domains in one hv on {be}", f"only {up} came up")
            continue
        procs = REPORT.get("_procs_ms", {}).get((be, n))
        if procs is None:
            skip("density", f"{n} idle domains in one hv on {be}", "no figure for n hv processes to compare")
            continue
        record("density", f"start {n} idle domains in one hv, vs {n} hv processes", "ms", "lower",
               (f"one hv, {n} domains", be, [t], f"hv --backend={be} --config=FILE ({n} lines: --mem=8M sleeper.img)"),
               (f"{n} hv processes", be, [procs], f"{n} x hv --backend={be} --mem=8M sleeper.img"),
               note=f"resident memory (Pss) of the one hv on {be} and its children: {pss / 1024:.1f} MiB "
                    f"({pss / n / 1024:.2f} MiB a domain)")


# --- report -----------------------------------------------------------------------------
def spread(v):
    v = sorted(v)
    if len(v) < 3:
        return "n=%d" % len(v)
    q = statistics.quantiles(v, n=10)
    return f"{q[0]:.4g}-{q[-1]:.4g}"


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    flags = open("/proc/cpuinfo").read()
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        kvm = "none: no usable /dev/kvm"
    elif re.search(r"\b(vmx|svm)\b", flags):
        kvm = "hardware (VMX/SVM)"
    else:
        kvm = "software-assisted: no VMX/SVM visible; ring-0 guest code is emulated"
    return {"name": platform.node(), "cpu": cpu, "cpus": os.cpu_count(), "kernel": platform.release(),
            "virtual": bool(re.search(r"\bhypervisor\b", flags)), "kvm": kvm,
            "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)}


def versions():
    def first(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True).stdout.split("\n")[0]
        except OSError:
            return "absent"
    return {"hv": first([HV, "--version"]), "gcc": first(["gcc", "--version"]),
            "qemu": first(["qemu-system-x86_64", "--version"]), "newlib": "3.3.0", "lwip": "2.1.3",
            "git": first(["git", "rev-parse", "--short", "HEAD"])}


def plot(name, script):
    path = os.path.join(OUT, name)
    try:
        subprocess.run(["gnuplot"], input=f"set terminal pngcairo size 900,500 font ',10'\nset output '{path}'\n" + script,
                       text=True, check=True, capture_output=True)
        return name
    except (OSError, subprocess.CalledProcessError) as e:
        REPORT["skipped"].append({"group": "plots", "name": name, "why": str(e)[:200]})
        return None


def write_report():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump(REPORT, f, indent=1)
    # Plots: every sample of the boot benchmarks as boxes; the ratios as bars.
    who = lambda side: f"{side['label']} ({side['backend']})"
    data = os.path.join(OUT, "boot-samples.dat")
    boot = [b for b in REPORT["benchmarks"] if b["group"] == "boot"]
    series = {}
    for b in boot:
        for side in ("subject", "baseline"):
            series[who(b[side])] = b[side]["samples"]
    with open(data, "w") as f:
        for i, (label, v) in enumerate(series.items()):
            for x in v:
                f.write(f"{i} {x}\n")
    xt = ", ".join(f'"{l}" {i}' for i, l in enumerate(series))
    boot_png = plot("boot.png", f"set style fill solid 0.3\nset style data boxplot\nset logscale y\n"
                    f"set ylabel 'ms (log scale)'\nset xtics ({xt}) rotate by -20\nunset key\n"
                    f"set title 'Boot, end to end: every sample'\nplot '{data}' using (column(1)):2:(0.5):1 lc variable")
    rdat = os.path.join(OUT, "ratios.dat")
    with open(rdat, "w") as f:
        for b in REPORT["benchmarks"]:
            s, base = statistics.median(b["subject"]["samples"]), statistics.median(b["baseline"]["samples"])
            f.write(f"\"{b['name'][:34]}, {b['subject']['backend']}\" {cost_of(b['better'], s, base):.4f}\n")
    ratio_png = plot("ratios.png", "set style fill solid 0.5\nset boxwidth 0.7\nset xtics rotate by -50 font ',7'\n"
                     "set ylabel 'cost: subject / baseline (1 = as fast)'\nset logscale y\nunset key\n"
                     "set title 'What each result costs against its baseline (lower is better)'\n"
                     f"plot '{rdat}' using 0:2:xtic(1) with boxes, 1 with lines dt 2")
    m, v = REPORT["machine"], REPORT["versions"]
    L = ["# pvkit: paravirtualization overhead", "",
         f"Run {REPORT['date']}{' (QUICK=1: short runs, wide spreads)' if QUICK else ''}, commit {v['git']}.",
         "", f"**Machine** `{m['name']}`: {m['cpu']}, {m['cpus']} CPUs, {m['memory_gib']} GiB, Linux {m['kernel']}"
         f"{', itself a virtual machine' if m['virtual'] else ''}. **KVM**: {m['kvm']}. Every figure below "
         "was measured on this machine in this run. Absolute times here are not bare-metal times; the "
         "ratios, measured side by side in one run with alternating runs, are the result.", "",
         "**Backends**: each hv figure was taken once per backend hv has here, and each row names the "
         "backend of both of its figures: " +
         "; ".join(f"{be} (in hv --stats, {what})" for be, what in REPORT["backends"].items()) +
         ("" if "kvm" in REPORT["backends"] else f"; kvm: {NO_KVM}") +
         ". The baselines ran natively (native) or on QEMU microvm (QEMU TCG).", "",
         f"Versions: {v['hv']}; {v['gcc']}; {v['qemu']}; newlib {v['newlib']}; lwIP {v['lwip']}.", ""]
    if REPORT.get("open_files_limit"):
        L += [f"The open-file limit was {REPORT['open_files_limit']} for the density runs.", ""]
    judged = [b for b in REPORT["benchmarks"] if b["target"]]
    if judged:
        L += ["## targets", "", "The issue's targets, judged on the medians below.", ""]
        L += [f"- {b['name']}, {who(b['subject'])} on `{b['subject']['machine']}`: {b['target']['figure']} "
              f"(target {b['target']['what']}): {'met' if b['target']['met'] else 'not met'}" for b in judged] + [""]
    L += ["Each row: the median of the subject and of its baseline, each with the backend it ran "
          "on, the spread (10th-90th percentile, or n when fewer than 3 samples), n, the cost ratio "
          "(how many times the baseline's time, or the inverse for throughputs: above 1 the kit is "
          "slower), hv's exits per operation (hv --stats) and the target where the issue sets one.", ""]
    for group in dict.fromkeys(b["group"] for b in REPORT["benchmarks"]):
        L += [f"## {group} (on `{m['name']}`)", "",
              "| what | subject (backend) | median | spread | baseline (backend) | median | spread | n | cost | exits/op | target |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
        for b in [x for x in REPORT["benchmarks"] if x["group"] == group]:
            s, base = b["subject"]["samples"], b["baseline"]["samples"]
            ms, mb = statistics.median(s), statistics.median(base)
            ex = "" if b["exits_per_op"] is None else f"{b['exits_per_op']:.3g}"
            t = b["target"]
            tc = f"{t['what']}: {'met' if t['met'] else 'not met'}" if t else ""
            L.append(f"| {b['name']} ({b['unit']}, {b['better']} is better) | {who(b['subject'])} | {ms:.4g} | "
                     f"{spread(s)} | {who(b['baseline'])} | {mb:.4g} | {spread(base)} | {len(s)} | "
                     f"{cost_of(b['better'], ms, mb):.2f}x | {ex} | {tc} |")
        notes = dict.fromkeys(f"- {b['name']}: {b['note']}." for b in REPORT["benchmarks"] if b["group"] == group and b["note"])
        L += [""] + list(notes) + [""]
    if REPORT.get("images"):
        L += ["## image size", "",
              "Bytes, of every image in build/apps. The image is the whole appliance (app, libos, "
              "newlib, lwIP where used); file is as built, with symbols and debug information for "
              "gdb and backtraces; stripped is what `strip` leaves of a copy, the bytes a loader "
              "reads; text, data and bss are `size`'s (bss takes no room in the file). The native "
              "peer is a program doing the same job (hello: the same source linked statically "
              "with glibc; nginx and redis-server: Debian's binaries, without the shared libraries "
              "they load).", "",
              "| image | file | stripped | text | data | bss | native peer | its file | stripped |",
              "|---|---|---|---|---|---|---|---|---|"]
        L += [f"| {i['image']} | {i['file_bytes']} | {i['stripped_bytes']} | {i['text']} | {i['data']} | "
              f"{i['bss']} | {i['peer'] or '(none)'} | {i['peer_bytes'] or ''} | "
              f"{i['peer_stripped_bytes'] or ''} |" for i in REPORT["images"]]
        hello = [i["stripped_bytes"] for i in REPORT["images"] if i["image"] == "hello.img"]
        if hello:
            L += ["", f"Target: hello stripped at most {T_HELLO_BYTES} bytes (48 KiB): "
                      f"{hello[0]} bytes, {'met' if hello[0] <= T_HELLO_BYTES else 'not met'}."]
        L += [""]
    if REPORT["skipped"]:
        L += ["## not measured in this run", ""] + [f"- {s['group']}: {s['name']}: {s['why']}" for s in REPORT["skipped"]] + [""]
    L += ["## where the kit is slower, and why", "",
          "- Every exit to hv's user space (a hypercall, an MMIO register read, a block) costs what "
          "the backend charges for it: on kvm a KVM exit, tens of microseconds on a software-assisted "
          "KVM; on proc a ptrace stop of the guest's process, and there every doorbell is an exit too. "
          "The calls group sets each against its backend's raw floor, so the guest avoids exits "
          "rather than making them cheap.",
          "- A virtio request pays a doorbell and a hop to hv's device thread and back: block I/O "
          "one at a time is far behind a native page-cache copy, and ping round trips are longer "
          "than Linux's own; throughput with many requests in flight (HTTP, Redis) comes close "
          "to the native servers.",
          "- Where the guest is faster on kvm (memory-bound kernels, and sort and LZ, whose 32-48 MiB "
          "working sets make them memory-bound too), it is the memory system, not the CPU: hv maps "
          "the guest's heap with 2 MiB pages, against the 4 KiB pages of a native process. Say so "
          "before reading it as virtualization being free; the CPU loop and the hash are the "
          "CPU-bound figures. On proc the guest's pages are 4 KiB too, and the figures meet. (Sort "
          "and LZ once ran 2-3x faster in the guest on proc: the native build's compiler had made "
          "a zeroing of fresh buffers a calloc(), so their page faults fell in the timed part; "
          "bench/work.c now fills them with a non-zero byte.)", ""]
    L += ["## plots", ""] + [f"![{p}]({p})" for p in (boot_png, ratio_png) if p] + [""]
    L += ["## commands", ""] + [f"- {b['name']} ({b['subject']['backend']}): `{b['subject']['command']}` vs "
                               f"`{b['baseline']['command']}`" for b in REPORT["benchmarks"]]
    with open(os.path.join(OUT, "report.md"), "w") as f:
        f.write("\n".join(L) + "\n")


def check_backends():
    """Keep the backends that boot hello, each with what hv --stats says an exit is there."""
    REPORT["backends"] = {}
    if "kvm" not in BACKENDS:
        skip("backends", "hv on kvm, and the KVM floors", NO_KVM)
    for be in list(BACKENDS):
        try:
            m = re.search(r"stats: backend \w+ \((.*)\)", sh(hv(be, "--stats", f"{B}/apps/hello.img")))
            REPORT["backends"][be] = m.group(1) if m else "hv --stats does not say what an exit is"
        except RuntimeError as e:
            BACKENDS.remove(be)
            skip("backends", f"hv on {be}", str(e)[:300])
    log(f"hv backends: {' '.join(BACKENDS) or 'none'}")


def main():
    if os.geteuid() != 0:
        sys.exit("make bench needs root (network namespaces and tap devices for the I/O benchmarks)")
    t0 = time.monotonic()
    REPORT["date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    REPORT["quick"] = QUICK
    REPORT["machine"] = machine()
    REPORT["versions"] = versions()
    check_backends()
    for fn in (bench_boot, bench_calls, bench_work, bench_sizes, bench_memory, bench_density,
               bench_density_one_hv, bench_pv, bench_io):
        try:
            fn()
        except (RuntimeError, OSError) as e:
            skip(fn.__name__[6:], fn.__name__, str(e)[:300])
    REPORT.pop("_procs_ms", None)
    REPORT["seconds"] = round(time.monotonic() - t0, 1)
    write_report()
    shutil.rmtree(TMP, ignore_errors=True)
    log(f"wrote {OUT}/results.json and {OUT}/report.md in {REPORT['seconds']} s")


if __name__ == "__main__":
    main()
