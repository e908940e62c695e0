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


def log(msg):
    print(msg, flush=True)


def sh(cmd, **kw):
    """Run cmd (a list), return its stdout; raise with its output if it fails."""
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}: {p.stdout[-400:]}{p.stderr[-400:]}")
    return p.stdout + p.stderr


def field(text, name):
    """The number after 'name=' in text (the bench programs print key=value)."""
    m = re.search(rf"\b{re.escape(name)}=([0-9.]+)", text)
    if not m:
        raise RuntimeError(f"no {name}= in: {text[-300:]}")
    return float(m.group(1))


def record(group, name, unit, better, subject, baseline, note="", exits=None):
    """One benchmark: subject and baseline are (label, samples, command)."""
    REPORT["benchmarks"].append({
        "group": group, "name": name, "unit": unit, "better": better,
        "subject": {"label": subject[0], "samples": subject[1], "command": subject[2]},
        "baseline": {"label": baseline[0], "samples": baseline[1], "command": baseline[2]},
        "exits_per_op": exits, "note": note,
    })
    s, b = statistics.median(subject[1]), statistics.median(baseline[1])
    log(f"  {name}: {subject[0]} {s:.4g} {unit} vs {baseline[0]} {b:.4g} {unit}")


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


# --- boot -------------------------------------------------------------------------------
def bench_boot():
    log("== boot")
    runs = 20 if QUICK else 100
    tsv = os.path.join(TMP, "boot.tsv")
    cmds = [("process", ["/bin/true"]), ("kvm_floor", [f"{B}/bench/kvm_floor"]),
            ("hv_hello", [HV, f"{B}/apps/hello.img"])]
    argv = [f"{B}/bench/timecmd", "-n", str(runs), "-o", tsv]
    for label, cmd in cmds:
        argv += ["--", label] + cmd
    sh(argv)
    samples = {label: [] for label, _ in cmds}
    for line in open(tsv):
        label, ms = line.split("\t")
        samples[label].append(float(ms))
    hv = ("hv hello.img", samples["hv_hello"], " ".join(cmds[2][1]))
    stats_out = sh([HV, "--stats", f"{B}/apps/hello.img"])
    exits = int(re.search(r"stats: (\d+) exits", stats_out).group(1))
    record("boot", "boot, end to end vs the KVM floor", "ms", "lower", hv,
           ("kvm_floor (VM + one exit)", samples["kvm_floor"], " ".join(cmds[1][1])), exits=exits,
           note="exits_per_op: exits of one whole hello run")
    record("boot", "boot, end to end vs the process floor", "ms", "lower", hv,
           ("/bin/true", samples["process"], "/bin/true"))
    if shutil.which("qemu-system-x86_64"):
        qruns = 3 if QUICK else 15
        tsv = os.path.join(TMP, "qboot.tsv")
        sh([f"{B}/bench/timecmd", "-n", str(qruns), "-w", "1", "-o", tsv,
            "--", "hv", HV, f"{B}/apps/hello.img",
            "--", "qemu", "mk/qemu-run.sh", f"{B}/apps/hello.img"])
        q = {"hv": [], "qemu": []}
        for line in open(tsv):
            label, ms = line.split("\t")
            q[label].append(float(ms))
        record("boot", "boot on QEMU microvm (TCG) vs on hv", "ms", "lower",
               ("QEMU microvm", q["qemu"], "mk/qemu-run.sh hello.img"), ("hv", q["hv"], "hv hello.img"))
    else:
        skip("boot", "boot on QEMU", "qemu-system-x86_64 not installed")


# --- hypercall and doorbell -------------------------------------------------------------
def bench_calls():
    log("== hypercall and doorbell")
    runs, n = (3, 5000) if QUICK else (10, 20000)
    disk = os.path.join(TMP, "hcall.disk")
    with open(disk, "wb") as f:
        f.truncate(1 << 20)
    guest = [HV, f"--disk={disk}", f"{B}/bench/hcall.img", str(n)]
    out = []

    def g():
        out.append(sh(guest))
        return 0

    floor_x = [f"{B}/bench/kvm_floor3", "exits", str(n)]
    floor_d = [f"{B}/bench/kvm_floor3", "doorbell", "300"]
    s = alternate(runs, [g, lambda: field(sh(floor_x), "exit_ns") / 1000,
                         lambda: field(sh(floor_d), "doorbell_ns") / 1000])
    hc = [field(o, "hcall_ns") / 1000 for o in out]
    db = [field(o, "doorbell_ns") / 1000 for o in out]
    record("calls", "hypercall round trip vs a raw KVM port exit", "us", "lower",
           ("hv hypercall (wallclock)", hc, " ".join(guest)),
           ("KVM port exit, ring 3", s[1], " ".join(floor_x)), exits=1.0,
           note="the floor guest is set up as hv sets one up, with no run loop around it")
    record("calls", "doorbell (ioeventfd) vs its raw floor", "us", "lower",
           ("virtio QueueNotify on hv", db, " ".join(guest)),
           ("KVM MMIO ioeventfd, ring 3", s[2], " ".join(floor_d)), exits=0.0,
           note="hv's doorbell also wakes the device's I/O thread; the floor's eventfd has no reader")


# --- CPU- and memory-bound work ---------------------------------------------------------
def bench_work():
    log("== CPU and memory")
    runs = 3 if QUICK else 10
    native = [f"{B}/bench/work"]
    guest = [HV, "--mem=1G", f"{B}/bench/work.img"]
    outs = alternate(runs, [lambda: sh(native), lambda: sh(guest)])
    for kernel, what in [("hash", "hash of 64 MiB"), ("sort", "radix sort of 4 Mi keys"),
                         ("lz", "LZ77 round trip of 16 MiB"), ("memcpy", "copy of 256 MiB"),
                         ("chase", "pointer chase over 256 MiB, 8 Mi steps")]:
        def ms(o):
            m = re.search(rf"kernel={kernel} ns=(\d+)", o)
            return int(m.group(1)) / 1e6
        group = "memory" if kernel in ("memcpy", "chase") else "cpu"
        record(group, what, "ms", "lower", ("guest on hv", [ms(o) for o in outs[1]], " ".join(guest)),
               ("native process", [ms(o) for o in outs[0]], " ".join(native)),
               note="the same source, compiled for each; buffers written before the clock starts")


# --- block and network, through bench-io and bench-net ----------------------------------
def rows(text, pattern):
    return [m.groups() for m in re.finditer(pattern, text, re.M)]


def bench_io():
    log("== block and network (bench/io.sh, bench/net.sh)")
    env = dict(os.environ, RUNS="1" if QUICK else "3", PINGS="3000" if QUICK else "20000")
    try:
        out = sh(["bench/io.sh", B], env=env)
    except RuntimeError as e:
        skip("io", "bench-io", str(e)[:200])
        return
    pk = {}
    for label, pps, rtt in rows(out, r"^(Linux over veth \(the floor\)|nettest on hv \(tap\)|nettest on QEMU[^\n]*?)\s+(\d+) pkt/s\s+([\d.]+) us avg RTT"):
        pk.setdefault(label, []).append((float(pps), float(rtt)))
    epp = re.search(r"([\d.]+) exits per packet", out)
    if "nettest on hv (tap)" in pk:
        floor = pk["Linux over veth (the floor)"]
        hvp = pk["nettest on hv (tap)"]
        record("io", "flood ping round trip", "us", "lower",
               ("nettest on hv", [r for _, r in hvp], "bench/io.sh: ping -f to nettest"),
               ("Linux over veth", [r for _, r in floor], "bench/io.sh: ping -f over veth"),
               exits=float(epp.group(1)) if epp else None)
        q = [v for k, v in pk.items() if k.startswith("nettest on QEMU")]
        if q:
            record("io", "flood ping round trip, QEMU vs hv", "us", "lower",
                   ("nettest on QEMU TCG", [r for _, r in q[0]], "bench/io.sh"),
                   ("nettest on hv", [r for _, r in hvp], "bench/io.sh"))
    blocks = re.split(r"^-- round \d+: ", out, flags=re.M)
    by = {}
    for b in blocks[1:]:
        who = "native" if b.startswith("native") else "hv" if "on hv" in b.split("\n")[0] else "qemu"
        for name, val in rows(b, r"bench: (sequential write|sequential read) ([\d.]+) MiB/s"):
            by.setdefault((who, name), []).append(float(val))
        for name, val in rows(b, r"bench: (random 4 KiB read|random 4 KiB write) [\d.]+ MiB/s, (\d+) IOPS"):
            by.setdefault((who, name), []).append(float(val))
    epr = re.search(r"([\d.]+) exits per request", out)
    for name, unit in [("sequential read", "MiB/s"), ("sequential write", "MiB/s"),
                       ("random 4 KiB read", "IOPS"), ("random 4 KiB write", "IOPS")]:
        if ("hv", name) in by:
            record("io", f"block {name}", unit, "higher",
                   ("blktest on hv", by[("hv", name)], "bench/io.sh: blktest bench 64"),
                   ("native on the same file", by[("native", name)], "bench/io.sh: blkbench"),
                   exits=float(epr.group(1)) if epr else None)
    env = dict(os.environ, RUNS="1" if QUICK else "3", SECONDS_PER="2" if QUICK else "5")
    try:
        out = sh(["bench/net.sh", B], env=env)
    except RuntimeError as e:
        skip("net", "bench-net", str(e)[:200])
        return
    web = {k: [float(v)] for k, v in rows(out, r"^(http-\w+)\s+([\d.]+)")}
    if "http-hv" in web:
        record("net", "HTTP requests/s (wrk, 32 connections)", "req/s", "higher",
               ("httpd on hv", web["http-hv"], "bench/net.sh: wrk"),
               ("nginx native, 1 worker", web["http-native"], "bench/net.sh: wrk"))
    tcp = {k: [float(v)] for k, v in rows(out, r"^(tcp-\w+)\s+([\d.]+)")}
    if "tcp-hv" in tcp and "tcp-native" in tcp:
        record("net", "TCP stream, one connection", "Mbit/s", "higher",
               ("tcpstream sink on hv", tcp["tcp-hv"], "bench/net.sh: tcpstream"),
               ("tcpstream sink native", tcp["tcp-native"], "bench/net.sh: tcpstream"))
    red = {k: (float(s), float(g)) for k, s, g in rows(out, r"^((?:redis|kv)-[\w-]+)\s+([\d.]+)\s+([\d.]+)")}
    for key, base, label in [("kv-hv", "redis-native", "50 clients"), ("kv-hv-p16", "redis-native-p16", "pipelined 16")]:
        if key in red and base in red:
            for i, op in enumerate(("SET", "GET")):
                record("net", f"Redis {op}/s, {label}", "ops/s", "higher",
                       ("kvstore on hv (memory)", [red[key][i]], "bench/net.sh: redis-benchmark"),
                       ("redis-server native", [red[base][i]], "bench/net.sh: redis-benchmark"))


# --- event channels and the shared-memory channel, through bench-pv ---------------------
def bench_pv():
    log("== event channels and channels between two domains (bench/pv.sh)")
    env = dict(os.environ, RUNS="1" if QUICK else "5", RTTS="5000" if QUICK else "20000")
    out = sh(["bench/pv.sh", B], env=env)
    num = r"([\d.]+)"
    for how, m in [("ring", re.search(rf"sends through the ring\s+{num} us\s+{num} us\s+{num} us\s+{num}", out)),
                   ("hypercall", re.search(rf"sends by EVTCHNOP_send\s+{num} us\s+.*?{num}\s*$", out, re.M))]:
        if not m:
            skip("pv", f"event-channel round trip ({how})", "no figure in bench/pv.sh's output")
            continue
        if how == "ring":
            rtt, pipe, efd, exits = map(float, m.groups())
            record("pv", "event-channel round trip, ring sends, vs a pipe", "us", "lower",
                   ("two domains on hv", [rtt], "bench/pv.sh: pingpong mode=evtchn"),
                   ("two processes, pipe", [pipe], "bench/ipc_native"), exits=exits)
            record("pv", "event-channel round trip, ring sends, vs an eventfd", "us", "lower",
                   ("two domains on hv", [rtt], "bench/pv.sh: pingpong mode=evtchn"),
                   ("two processes, eventfd", [efd], "bench/ipc_native"), exits=exits)
            REPORT["_pipe_rtt"] = pipe
        else:
            rtt, exits = map(float, m.groups())
            record("pv", "event-channel round trip, hypercall sends, vs a pipe", "us", "lower",
                   ("two domains on hv", [rtt], "bench/pv.sh: pingpong mode=evtchn send=hypercall"),
                   ("two processes, pipe", [REPORT.get("_pipe_rtt", rtt)], "bench/ipc_native"), exits=exits)
    for size, mb, pipe, events, exits in rows(out, rf"^(\d+)-byte messages \([^)]*\)\s+{num} MB/s\s+{num} MB/s\s+{num}\s+{num}"):
        record("pv", f"channel throughput, {size}-byte messages, vs a pipe", "MB/s", "higher",
               ("vchan between two domains", [float(mb)], "bench/pv.sh: pingpong mode=stream"),
               ("two processes, pipe", [float(pipe)], "bench/ipc_native"), exits=float(exits),
               note=f"{float(events):.5f} events per message")
    REPORT.pop("_pipe_rtt", None)


# --- sizes, memory, density -------------------------------------------------------------
def rss_of_run(cmd):
    """Peak resident memory (KiB) of a command run to its end (through a small C parent)."""
    return field(sh([f"{B}/bench/maxrss"] + cmd), "maxrss_kib")


def bench_memory():
    log("== image size and resident memory")
    # Each image beside a native program that does its job: the same hello statically linked
    # with glibc, and the Debian binaries of nginx and redis-server (which also load shared
    # libraries not counted here).
    hello_native = os.path.join(TMP, "hello-static")
    try:
        sh(["gcc", "-O2", "-static", "-o", hello_native, "apps/hello/hello.c", "-lm"])
    except RuntimeError:
        hello_native = None
    peers = {"hello.img": hello_native, "httpd.img": shutil.which("nginx"),
             "kvstore.img": shutil.which("redis-server")}
    for img in sorted(os.listdir(f"{B}/apps")):
        if not img.endswith(".img"):
            continue
        size = os.path.getsize(f"{B}/apps/{img}")
        text = sh(["size", f"{B}/apps/{img}"]).split("\n")[1].split()
        peer = peers.get(img)
        REPORT.setdefault("images", []).append({
            "image": img, "file_bytes": size, "text": int(text[0]), "data": int(text[1]),
            "bss": int(text[2]), "peer": os.path.basename(peer) if peer else "",
            "peer_bytes": os.path.getsize(peer) if peer else 0})
    runs = 3 if QUICK else 10
    s = alternate(runs, [lambda: rss_of_run([HV, f"{B}/apps/hello.img"]) / 1024,
                         lambda: rss_of_run(["/bin/true"]) / 1024])
    record("memory", "peak resident memory, hello", "MiB", "lower",
           ("hv + hello guest", s[0], f"{HV} {B}/apps/hello.img"), ("/bin/true", s[1], "/bin/true"))
    bench_server_memory()


def vmrss(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


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
            g = start_waiting(netns + [HV, "--mem=128M", "--net=tap0", f"{B}/apps/{app}.img",
                                       "ip=10.95.0.2/24"], ready)
            time.sleep(0.3)
            # ip netns exec execs hv: the pid is hv's.
            kib = vmrss(g.pid)
            g.terminate()
            g.wait()
            if nready:
                n = start_waiting(native, nready)
            else:
                n = subprocess.Popen(native)
                time.sleep(0.5)
            nkib = sum(vmrss(pid) for pid in [n.pid] + [int(c) for c in open(f"/proc/{n.pid}/task/{n.pid}/children").read().split()])
            n.terminate()
            n.wait()
            record("memory", f"resident memory, {app} idle", "MiB", "lower",
                   (f"hv + {app} (--mem=128M)", [kib / 1024], f"hv --mem=128M --net=TAP {app}.img"),
                   (f"{native[0]} native", [nkib / 1024], " ".join(native)),
                   note="a guest's touched memory counts in hv's resident set")
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
        procs = [subprocess.Popen([HV, "--mem=8M", img], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
                 for _ in range(n)]
        ok = all(p.stdout.readline().startswith(b"sleeper") for p in procs)
        t_vm = (time.monotonic() - t0) * 1000
        rss = 0
        for p in procs:
            try:
                for line in open(f"/proc/{p.pid}/status"):
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1])
            except OSError:
                pass
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait()
        t0 = time.monotonic()
        native = [subprocess.Popen(["sh", "-c", "echo up; exec sleep 60"], stdout=subprocess.PIPE) for _ in range(n)]
        for p in native:
            p.stdout.readline()
        t_native = (time.monotonic() - t0) * 1000
        for p in native:
            p.kill()
            p.wait()
        if not ok:
            skip("density", f"{n} idle VMs", "not every VM came up")
            continue
        REPORT.setdefault("_procs_ms", {})[n] = t_vm
        record("density", f"start {n} idle VMs (until each is running main)", "ms", "lower",
               (f"{n} hv processes", [t_vm], f"{n} x hv --mem=8M sleeper.img"),
               (f"{n} native processes (sh, then sleep)", [t_native], "sh -c 'echo up; exec sleep 60'"),
               note=f"resident memory of the {n} hv processes: {rss / 1024:.1f} MiB ({rss / n / 1024:.2f} MiB each)")


def bench_density_one_hv():
    log("== density: idle VMs, all in one hv process")
    counts = [1, 10, 50] if QUICK else [1, 10, 100, 1000]
    img = f"{B}/tests/integration/sleeper.img"
    for n in counts:
        conf = os.path.join(TMP, f"idle-{n}.conf")
        with open(conf, "w") as f:
            f.write("# one idle domain a line\n" + f"--mem=8M {img}\n" * n)
        t0 = time.monotonic()
        p = subprocess.Popen([HV, f"--config={conf}"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        up = 0
        while up < n:
            line = p.stdout.readline()
            if not line:
                break
            up += line.startswith(b"sleeper")
        t = (time.monotonic() - t0) * 1000
        rss = vmrss(p.pid) if up == n else 0
        p.terminate()
        p.wait()
        if up != n:
            skip("density", f"{n} idle domains in one hv", f"only {up} came up")
            continue
        procs = REPORT.get("_procs_ms", {}).get(n)
        if procs is None:
            skip("density", f"{n} idle domains in one hv", "no figure for n hv processes to compare")
            continue
        record("density", f"start {n} idle domains in one hv, vs {n} hv processes", "ms", "lower",
               (f"one hv, {n} domains", [t], f"hv --config=FILE ({n} lines: --mem=8M sleeper.img)"),
               (f"{n} hv processes", [procs], f"{n} x hv --mem=8M sleeper.img"),
               note=f"resident memory of the one hv: {rss / 1024:.1f} MiB ({rss / n / 1024:.2f} MiB a domain)")


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
    return {"cpu": cpu, "cpus": os.cpu_count(), "kernel": platform.release(),
            "kvm": "hardware (VMX/SVM)" if re.search(r"\b(vmx|svm)\b", flags) else
                   "software-assisted: no VMX/SVM visible; ring-0 guest code is emulated",
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
    data = os.path.join(OUT, "boot-samples.dat")
    boot = [b for b in REPORT["benchmarks"] if b["group"] == "boot"]
    series = {}
    for b in boot:
        for side in ("subject", "baseline"):
            series[b[side]["label"]] = b[side]["samples"]
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
            cost = s / base if b["better"] == "lower" else base / s
            f.write(f"\"{b['name'][:38]}\" {cost:.4f}\n")
    ratio_png = plot("ratios.png", "set style fill solid 0.5\nset boxwidth 0.7\nset xtics rotate by -50 font ',7'\n"
                     "set ylabel 'cost: subject / baseline (1 = as fast)'\nset logscale y\nunset key\n"
                     "set title 'What each result costs against its baseline (lower is better)'\n"
                     f"plot '{rdat}' using 0:2:xtic(1) with boxes, 1 with lines dt 2")
    m, v = REPORT["machine"], REPORT["versions"]
    L = ["# pvkit: paravirtualization overhead", "",
         f"Run {REPORT['date']}{' (QUICK=1: short runs, wide spreads)' if QUICK else ''}, commit {v['git']}.",
         "", f"**Machine**: {m['cpu']}, {m['cpus']} CPUs, {m['memory_gib']} GiB, Linux {m['kernel']}. "
         f"**KVM**: {m['kvm']}. Absolute times here are not bare-metal times; the ratios, "
         "measured side by side in one run with alternating runs, are the result.", "",
         f"Versions: {v['hv']}; {v['gcc']}; {v['qemu']}; newlib {v['newlib']}; lwIP {v['lwip']}.", ""]
    if REPORT.get("open_files_limit"):
        L += [f"The open-file limit was {REPORT['open_files_limit']} for the density runs.", ""]
    L += ["Each row: the median of the subject and of its baseline, the spread (10th-90th "
          "percentile, or n when fewer than 3 samples), n, and the cost ratio (how many times "
          "the baseline's time, or the inverse for throughputs: above 1 the kit is slower).", ""]
    for group in dict.fromkeys(b["group"] for b in REPORT["benchmarks"]):
        L += [f"## {group}", "", "| what | subject | median | spread | baseline | median | spread | n | cost | exits/op |",
              "|---|---|---|---|---|---|---|---|---|---|"]
        for b in [x for x in REPORT["benchmarks"] if x["group"] == group]:
            s, base = b["subject"]["samples"], b["baseline"]["samples"]
            ms, mb = statistics.median(s), statistics.median(base)
            cost = ms / mb if b["better"] == "lower" else mb / ms
            ex = "" if b["exits_per_op"] is None else f"{b['exits_per_op']:.3g}"
            L.append(f"| {b['name']} ({b['unit']}, {b['better']} is better) | {b['subject']['label']} | {ms:.4g} | "
                     f"{spread(s)} | {b['baseline']['label']} | {mb:.4g} | {spread(base)} | {len(s)} | {cost:.2f}x | {ex} |")
        notes = [b for b in REPORT["benchmarks"] if b["group"] == group and b["note"]]
        L += [""] + [f"- {b['name']}: {b['note']}." for b in notes] + [""]
    if REPORT.get("images"):
        L += ["## image size", "",
              "Bytes. The image is the whole appliance (app, libos, newlib, lwIP where used); the "
              "native peer is a program doing the same job (hello: the same source linked "
              "statically with glibc; nginx and redis-server: Debian's binaries, without the "
              "shared libraries they load).", "",
              "| image | file | text | data | bss | native peer | its file |", "|---|---|---|---|---|---|---|"]
        L += [f"| {i['image']} | {i['file_bytes']} | {i['text']} | {i['data']} | {i['bss']} | "
              f"{i['peer'] or '(none)'} | {i['peer_bytes'] or ''} |" for i in REPORT["images"]]
        L += [""]
    if REPORT["skipped"]:
        L += ["## not measured in this run", ""] + [f"- {s['group']}: {s['name']}: {s['why']}" for s in REPORT["skipped"]] + [""]
    L += ["## where the kit is slower, and why", "",
          "- Every exit to hv's user space (a hypercall, an MMIO register read, a block) costs what "
          "KVM charges for it here, tens of microseconds on this software-assisted KVM: hv sits at "
          "its floor (see calls), so the guest avoids exits rather than making them cheap.",
          "- A virtio request pays a doorbell and a hop to hv's device thread and back: block I/O "
          "one at a time is far behind a native page-cache copy, and ping round trips are longer "
          "than Linux's own; throughput with many requests in flight (HTTP, Redis) comes close "
          "to the native servers.",
          "- Where the guest is faster (some memory-bound kernels), it is the 2 MiB pages hv maps "
          "the guest's heap with, against the 4 KiB pages of a native process: say so before "
          "reading it as virtualization being free.", ""]
    L += ["## plots", ""] + [f"![{p}]({p})" for p in (boot_png, ratio_png) if p] + [""]
    L += ["## commands", ""] + [f"- {b['name']}: `{b['subject']['command']}` vs `{b['baseline']['command']}`"
                               for b in REPORT["benchmarks"]]
    with open(os.path.join(OUT, "report.md"), "w") as f:
        f.write("\n".join(L) + "\n")


def main():
    if os.geteuid() != 0:
        sys.exit("make bench needs root (network namespaces and tap devices for the I/O benchmarks)")
    t0 = time.monotonic()
    REPORT["date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    REPORT["quick"] = QUICK
    REPORT["machine"] = machine()
    REPORT["versions"] = versions()
    for fn in (bench_boot, bench_calls, bench_work, bench_memory, bench_density, bench_density_one_hv,
               bench_pv, bench_io):
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
