/* SPDX-License-Identifier: MIT */
/*
 * The GDB remote stub (gdb.h). The protocol is gdb's remote serial protocol:
 * packets "$data#cc" (cc: the sum of data's bytes mod 256, in hex), each
 * acknowledged with '+', and a lone 0x03 byte for Ctrl-C. The stub answers
 * the packets gdb needs to debug one x86-64 thread: registers (g, G: the
 * general-purpose ones, rip, eflags and the segment selectors; the rest is
 * "unavailable"), memory (m, M), software breakpoints (Z0, z0: an int3 byte
 * written into the guest's memory, which memory reads hide), continue and
 * step (c, s: the trap flag), the stop reason (?), kill (k) and detach (D).
 *
 * Everything runs on the domain's vCPU thread while the guest is stopped.
 * While it runs, a watcher thread polls the connection; a byte from gdb
 * (its Ctrl-C) makes it kick the vCPU, which stops at its next exit.
 */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend.h"
#include "gdb.h"
#include "hv.h"

#define GDB_PACKET_MAX 4096 /* what the stub offers gdb (PacketSize) */
#define GDB_BREAKPOINTS 64  /* software breakpoints placed at once */
#define GDB_REGS_BYTES 164  /* rax..r15, rip (8 bytes each), eflags, cs..gs (4 each) */

/* The signals gdb is told of, by number (gdb's own numbering agrees for these). */
enum { SIG_INT = 2, SIG_ILL = 4, SIG_TRAP = 5, SIG_FPE = 8, SIG_KILL = 9, SIG_SEGV = 11 };

struct gdb_bp {
	uint64_t addr;
	uint8_t saved; /* the byte the int3 replaced */
	bool used;
};

struct gdb {
	int fd;      /* the connection */
	int wake_fd; /* an eventfd: the guest stopped, the watcher looks again */
	pthread_t watcher;
	bool watching; /* the watcher was started */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool running;   /* lock: the guest runs, a byte from gdb is a Ctrl-C */
	bool quit;      /* lock: the watcher ends */
	bool want_stop; /* atomic: stop at the next exit (the start, a Ctrl-C) */
	bool replying;  /* gdb resumed the guest and waits for a stop reply */
	bool stepping;  /* the trap flag is set for a step */
	bool detached;  /* gdb went away: the guest runs as without it */
	char stop[24];  /* the last stop reply, for '?' */
	char in[512];   /* bytes read from gdb, not yet taken */
	size_t in_len, in_pos;
	/* This domain's packets: each domain's vCPU thread serves its own gdb at once. */
	char pkt[GDB_PACKET_MAX + 1];       /* the packet being served */
	char reply[2 * GDB_PACKET_MAX + 1]; /* its answer (hex: two characters a byte) */
	char wire[2 * GDB_PACKET_MAX + 8];  /* the answer framed: "$reply#cc" */
	struct gdb_bp bp[GDB_BREAKPOINTS];
};

/* --- the connection ------------------------------------------------------------------------ */

static const char hexdigits[] = "0123456789abcdef";

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The next byte from gdb, or -1 when the connection is gone. */
static int next_byte(struct gdb *g)
{
	if (g->in_pos == g->in_len) {
		ssize_t n;

		do
			n = read(g->fd, g->in, sizeof(g->in));
		while (n < 0 && errno == EINTR);
		if (n <= 0)
			return -1;
		g->in_len = (size_t)n;
		g->in_pos = 0;
	}
	return (unsigned char)g->in[g->in_pos++];
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Send one packet: "$data#cc". gdb's '+' comes back and is skipped by read_packet. */
static int send_packet(struct gdb *g, const char *data)
{
	char *out = g->wire;
	size_t len = strlen(data);
	uint8_t sum = 0;

	if (len > sizeof(g->wire) - 5)
		len = sizeof(g->wire) - 5;
	out[0] = '$';
	for (size_t i = 0; i < len; i++) {
		out[1 + i] = data[i];
		sum = (uint8_t)(sum + (uint8_t)data[i]);
	}
	out[1 + len] = '#';
	out[2 + len] = hexdigits[sum >> 4];
	out[3 + len] = hexdigits[sum & 15];
	return write_all(g->fd, out, len + 4);
}

/*
 * The next packet's data, NUL-terminated, acknowledged ('+', or '-' for a bad
 * checksum, after which gdb sends it again). Acks and Ctrl-Cs between packets
 * are skipped: the guest is stopped already. -1 when the connection is gone.
 */
static int read_packet(struct gdb *g, char *buf, size_t max)
{
	for (;;) {
		int c, hi, lo;
		size_t len = 0;
		uint8_t sum = 0;

		while ((c = next_byte(g)) != '$')
			if (c < 0)
				return -1;
		while ((c = next_byte(g)) != '#') {
			if (c < 0)
				return -1;
			if (len + 1 < max)
				buf[len++] = (char)c;
			sum = (uint8_t)(sum + c);
		}
		buf[len] = '\0';
		hi = hexval(next_byte(g));
		lo = hexval(next_byte(g));
		if (hi >= 0 && lo >= 0 && (hi << 4 | lo) == sum) {
			if (write_all(g->fd, "+", 1))
				return -1;
			return 0;
		}
		if (write_all(g->fd, "-", 1))
			return -1;
	}
}

/* --- the watcher: a Ctrl-C while the guest runs -------------------------------------------- */

static void *watch(void *arg)
{
	struct hv_vm *vm = arg;
	struct gdb *g = vm->gdb;

	pthread_mutex_lock(&g->lock);
	for (;;) {
		while (!g->running && !g->quit)
			pthread_cond_wait(&g->cond, &g->lock);
		if (g->quit)
			break;
		pthread_mutex_unlock(&g->lock);
		struct pollfd p[2] = { { .fd = g->fd, .events = POLLIN }, { .fd = g->wake_fd, .events = POLLIN } };
		uint64_t n;

		if (poll(p, 2, -1) > 0 && (p[1].revents & POLLIN))
			(void)!read(g->wake_fd, &n, sizeof(n));
		pthread_mutex_lock(&g->lock);
		if (g->running && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			__atomic_store_n(&g->want_stop, true, __ATOMIC_SEQ_CST);
			vm_kick(vm);
			/* Until the vCPU stops: the byte stays unread, for it to take. */
			while (g->running && !g->quit)
				pthread_cond_wait(&g->cond, &g->lock);
		}
	}
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

static void set_running(struct gdb *g, bool running)
{
	uint64_t one = 1;

	pthread_mutex_lock(&g->lock);
	g->running = running;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
	if (!running)
		(void)!write(g->wake_fd, &one, sizeof(one)); /* out of its poll */
}

int gdb_attach(struct hv_vm *vm, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	struct gdb *g;
	int ls, one = 1, rc;

	g = calloc(1, sizeof(*g));
	if (!g)
		return HV_EXIT_OSERR;
	g->fd = g->wake_fd = -1;
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
	g->want_stop = true; /* gdb sees the guest stopped before its first instruction */
	snprintf(g->stop, sizeof(g->stop), "S%02x", SIG_TRAP);
	vm->gdb = g;
	ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 1) ||
	    getsockname(ls, (struct sockaddr *)&a, &alen)) {
		fprintf(stderr, "hv: %s: --gdb=%u: cannot listen on 127.0.0.1:%u: %s\n", vm->name,
			port, port, strerror(errno));
		if (ls >= 0)
			close(ls);
		return HV_EXIT_UNAVAILABLE;
	}
	fprintf(stderr, "hv: %s: waiting for gdb on 127.0.0.1:%u (in gdb: target remote :%u)\n",
		vm->name, ntohs(a.sin_port), ntohs(a.sin_port));
	do
		g->fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
	while (g->fd < 0 && errno == EINTR);
	rc = errno;
	close(ls);
	if (g->fd < 0) {
		fprintf(stderr, "hv: %s: --gdb: accept: %s\n", vm->name, strerror(rc));
		return HV_EXIT_OSERR;
	}
	setsockopt(g->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	g->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	rc = g->wake_fd < 0 ? errno : pthread_create(&g->watcher, NULL, watch, vm);
	g->watching = rc == 0;
	if (rc) {
		fprintf(stderr, "hv: %s: --gdb: %s\n", vm->name, strerror(rc));
		return HV_EXIT_OSERR;
	}
	fprintf(stderr, "hv: %s: gdb connected\n", vm->name);
	return 0;
}

/* --- memory and breakpoints ---------------------------------------------------------------- */

/* Whether gdb may read [addr, addr + len): the guest's memory from its boot info up. */
static bool readable(const struct hv_vm *vm, uint64_t addr, uint64_t len)
{
	return addr >= HV_L_BOOT_INFO && addr <= vm->mem_size && len <= vm->mem_size - addr;
}

/* ... and write it: the guest's own writable memory and its image (breakpoints go there). */
static bool writable(const struct hv_vm *vm, uint64_t addr, uint64_t len)
{
	return addr >= HV_L_SHARED && readable(vm, addr, len);
}

static struct gdb_bp *find_bp(struct gdb *g, uint64_t addr)
{
	for (unsigned i = 0; i < GDB_BREAKPOINTS; i++)
		if (g->bp[i].used && g->bp[i].addr == addr)
			return &g->bp[i];
	return NULL;
}

static const char *insert_bp(struct hv_vm *vm, uint64_t addr)
{
	struct gdb *g = vm->gdb;
	struct gdb_bp *b;

	if (!writable(vm, addr, 1))
		return "E0e";
	if (find_bp(g, addr))
		return "OK";
	for (b = g->bp; b < g->bp + GDB_BREAKPOINTS && b->used; b++)
		;
	if (b == g->bp + GDB_BREAKPOINTS)
		return "E1c"; /* ENOSPC */
	*b = (struct gdb_bp){ .addr = addr, .saved = vm->mem[addr], .used = true };
	vm->mem[addr] = 0xcc; /* int3 */
	return "OK";
}

static void remove_bp(struct hv_vm *vm, struct gdb_bp *b)
{
	vm->mem[b->addr] = b->saved;
	b->used = false;
}

/* The byte gdb should see at addr: the original one under a breakpoint. */
static uint8_t peek(struct hv_vm *vm, uint64_t addr)
{
	struct gdb_bp *b = find_bp(vm->gdb, addr);

	return b ? b->saved : vm->mem[addr];
}

/* --- registers ------------------------------------------------------------------------------ */

static void put_le(char **p, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++, v >>= 8) {
		*(*p)++ = hexdigits[(v >> 4) & 15];
		*(*p)++ = hexdigits[v & 15];
	}
}

static bool get_le(const char **p, uint64_t *v, unsigned bytes)
{
	*v = 0;
	for (unsigned i = 0; i < bytes; i++) {
		int hi = hexval((*p)[0]), lo = hi < 0 ? -1 : hexval((*p)[1]);

		if (lo < 0)
			return false;
		*v |= (uint64_t)(hi << 4 | lo) << (8 * i);
		*p += 2;
	}
	return true;
}

/* gdb's order for x86-64: 16 general registers, rip, eflags, then cs, ss, ds, es, fs, gs. */
#define GPR_LIST(r)                                                                               \
	&(r)->rax, &(r)->rbx, &(r)->rcx, &(r)->rdx, &(r)->rsi, &(r)->rdi, &(r)->rbp, &(r)->rsp,  \
	    &(r)->r8, &(r)->r9, &(r)->r10, &(r)->r11, &(r)->r12, &(r)->r13, &(r)->r14, &(r)->r15, \
	    &(r)->rip

static void regs_to_hex(const struct hv_regs *r, char *out)
{
	const uint64_t *gprs[] = { GPR_LIST(r) };
	const uint32_t segs[] = { r->cs, r->ss, r->ds, r->es, r->fs, r->gs };

	for (unsigned i = 0; i < sizeof(gprs) / sizeof(gprs[0]); i++)
		put_le(&out, *gprs[i], 8);
	put_le(&out, r->rflags, 4);
	for (unsigned i = 0; i < 6; i++)
		put_le(&out, segs[i], 4);
	*out = '\0';
}

static bool regs_from_hex(struct hv_regs *r, const char *in)
{
	uint64_t *gprs[] = { GPR_LIST(r) };

	for (unsigned i = 0; i < sizeof(gprs) / sizeof(gprs[0]); i++)
		if (!get_le(&in, gprs[i], 8))
			return false;
	return get_le(&in, &r->rflags, 4); /* the segments stay as they are */
}

/* --- the stop: serving gdb until it resumes the guest -------------------------------------- */

/* Remove every breakpoint and the trap flag: the guest runs on as without gdb. */
static void detach(struct hv_vm *vm)
{
	struct gdb *g = vm->gdb;
	struct hv_regs r;

	for (unsigned i = 0; i < GDB_BREAKPOINTS; i++)
		if (g->bp[i].used)
			remove_bp(vm, &g->bp[i]);
	if (g->stepping && vm->be->get_regs(vm, &r) == 0) {
		r.rflags &= ~HV_REGS_TF;
		vm->be->set_regs(vm, &r);
	}
	g->stepping = false;
	g->detached = true;
	fprintf(stderr, "hv: %s: gdb detached; the guest runs on\n", vm->name);
}

static void read_memory(struct hv_vm *vm, const char *args, char *out)
{
	unsigned long long addr, len;

	if (sscanf(args, "%llx,%llx", &addr, &len) != 2 || len > GDB_PACKET_MAX / 2 - 8 ||
	    !readable(vm, addr, len)) {
		strcpy(out, "E0e"); /* EFAULT */
		return;
	}
	for (uint64_t i = 0; i < len; i++)
		put_le(&out, peek(vm, addr + i), 1);
	*out = '\0';
}

static const char *write_memory(struct hv_vm *vm, const char *args)
{
	unsigned long long addr, len;
	const char *data = strchr(args, ':');
	uint64_t b;

	if (!data || sscanf(args, "%llx,%llx", &addr, &len) != 2 || !writable(vm, addr, len) ||
	    strlen(data + 1) != 2 * len)
		return "E0e";
	data++;
	for (uint64_t i = 0; i < len; i++) {
		struct gdb_bp *bp = find_bp(vm->gdb, addr + i);

		if (!get_le(&data, &b, 1))
			return "E16"; /* EINVAL */
		if (bp)
			bp->saved = (uint8_t)b; /* under a breakpoint: its saved byte */
		else
			vm->mem[addr + i] = (uint8_t)b;
	}
	return "OK";
}

/* c or s: resume, from addr if given; false when the registers could not be set. */
static bool resume(struct hv_vm *vm, const char *args, bool step)
{
	struct gdb *g = vm->gdb;
	unsigned long long addr;
	struct hv_regs r;

	if (vm->be->get_regs(vm, &r))
		return false;
	if (sscanf(args, "%llx", &addr) == 1)
		r.rip = addr;
	r.rflags = step ? r.rflags | HV_REGS_TF : r.rflags & ~HV_REGS_TF;
	if (vm->be->set_regs(vm, &r))
		return false;
	g->stepping = step;
	g->replying = true;
	return true;
}

/* One packet's answer; returns true when the guest is to run again. */
static bool serve(struct hv_vm *vm, char *pkt, char *out)
{
	struct gdb *g = vm->gdb;
	unsigned long long addr, kind;
	struct hv_regs r;

	out[0] = '\0';
	switch (pkt[0]) {
	case '?': strcpy(out, g->stop); break;
	case 'g':
		if (vm->be->get_regs(vm, &r) == 0)
			regs_to_hex(&r, out);
		else
			strcpy(out, "E05");
		break;
	case 'G':
		if (vm->be->get_regs(vm, &r) || !regs_from_hex(&r, pkt + 1) ||
		    vm->be->set_regs(vm, &r))
			strcpy(out, "E16");
		else
			strcpy(out, "OK");
		break;
	case 'm': read_memory(vm, pkt + 1, out); break;
	case 'M': strcpy(out, write_memory(vm, pkt + 1)); break;
	case 'c':
	case 's':
	case 'C':
	case 'S': {
		/* C and S name a signal for the guest, which has no use for one: dropped. */
		const char *at = pkt + 1;

		if (pkt[0] == 'C' || pkt[0] == 'S')
			at = strchr(pkt, ';') ? strchr(pkt, ';') + 1 : "";
		if (resume(vm, at, pkt[0] == 's' || pkt[0] == 'S'))
			return true;
		strcpy(out, "E05");
		break;
	}
	case 'Z':
	case 'z':
		if (pkt[1] != '0' || sscanf(pkt + 2, ",%llx,%llx", &addr, &kind) != 2)
			break; /* only software breakpoints: gdb then uses those */
		if (pkt[0] == 'Z') {
			strcpy(out, insert_bp(vm, addr));
		} else {
			struct gdb_bp *b = find_bp(g, addr);

			if (b)
				remove_bp(vm, b);
			strcpy(out, "OK");
		}
		break;
	case 'k':
		vm_fail(vm, 128 + SIG_KILL, "killed from gdb");
		return true;
	case 'D':
		send_packet(g, "OK");
		detach(vm);
		return true;
	case 'H': case 'T': strcpy(out, "OK"); break;
	case 'q':
		if (!strncmp(pkt, "qSupported", 10))
			snprintf(out, 64, "PacketSize=%x;swbreak+", GDB_PACKET_MAX);
		else if (!strcmp(pkt, "qAttached"))
			strcpy(out, "1");
		else if (!strcmp(pkt, "qC"))
			strcpy(out, "QC1");
		else if (!strcmp(pkt, "qfThreadInfo"))
			strcpy(out, "m1");
		else if (!strcmp(pkt, "qsThreadInfo"))
			strcpy(out, "l");
		break;
	case 'v':
		if (!strncmp(pkt, "vKill", 5)) {
			vm_fail(vm, 128 + SIG_KILL, "killed from gdb");
			send_packet(g, "OK");
			return true;
		}
		break; /* vCont and the rest: not offered, gdb uses c and s */
	default: break;
	}
	return false;
}

bool gdb_wants_stop(const struct hv_vm *vm)
{
	return vm->gdb && !vm->gdb->detached && __atomic_load_n(&vm->gdb->want_stop, __ATOMIC_SEQ_CST);
}

/* Stopped with the reply reply: tell gdb if it waits for one, then serve it until it resumes. */
static void stopped(struct hv_vm *vm, const char *reply)
{
	struct gdb *g = vm->gdb;

	set_running(g, false);
	__atomic_store_n(&g->want_stop, false, __ATOMIC_SEQ_CST);
	g->stepping = false;
	snprintf(g->stop, sizeof(g->stop), "%s", reply);
	if (g->replying) {
		g->replying = false;
		if (send_packet(g, g->stop))
			goto gone;
	}
	for (;;) {
		if (read_packet(g, g->pkt, sizeof(g->pkt)))
			goto gone;
		if (serve(vm, g->pkt, g->reply))
			break;
		if (send_packet(g, g->reply))
			goto gone;
	}
	if (!g->detached && !vm_ended(vm))
		set_running(g, true);
	return;
gone:
	detach(vm);
}

void gdb_stop(struct hv_vm *vm)
{
	struct hv_regs r;
	char reply[8];

	/* proc: a kick's stop may still be on its way; the next run() takes it. */
	if (vm->be->get_regs(vm, &r) == -EBUSY)
		return;
	/* The start (nobody resumed yet) is a trap; a Ctrl-C an interrupt. */
	snprintf(reply, sizeof(reply), "S%02x", vm->gdb->replying ? SIG_INT : SIG_TRAP);
	stopped(vm, reply);
}

bool gdb_fault(struct hv_vm *vm, const struct hv_fault *f)
{
	struct gdb *g = vm->gdb;
	struct hv_regs r;
	char reply[24];

	if (!g || g->detached)
		return false;
	if (f->vector == 1 || f->vector == 3) {
		snprintf(reply, sizeof(reply), "S%02x", SIG_TRAP);
		/* A breakpoint of gdb's: the int3 reported the address after it. */
		if (f->vector == 3 && vm->be->get_regs(vm, &r) == 0 && find_bp(g, r.rip - 1)) {
			r.rip--;
			vm->be->set_regs(vm, &r);
			snprintf(reply, sizeof(reply), "T%02xswbreak:;", SIG_TRAP);
		}
		if (f->vector == 1 && g->stepping && vm->be->get_regs(vm, &r) == 0) {
			r.rflags &= ~HV_REGS_TF;
			vm->be->set_regs(vm, &r);
		}
		stopped(vm, reply);
		return true;
	}
	/* Any other fault: gdb sees it, then hv ends the domain as it would without gdb. */
	snprintf(reply, sizeof(reply), "S%02x",
		 f->vector == 0 || f->vector == 16 || f->vector == 19 ? SIG_FPE
		 : f->vector == 6				       ? SIG_ILL
								       : SIG_SEGV);
	stopped(vm, reply);
	return false;
}

void gdb_end(struct hv_vm *vm)
{
	struct gdb *g = vm->gdb;
	char reply[8];

	if (!g)
		return;
	if (g->replying && !g->detached) {
		if (vm->exited)
			snprintf(reply, sizeof(reply), "W%02x", vm->status & 0xff);
		else
			snprintf(reply, sizeof(reply), "X%02x", SIG_KILL);
		send_packet(g, reply);
	}
	pthread_mutex_lock(&g->lock);
	g->quit = true;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
	if (g->watching) {
		uint64_t one = 1;

		(void)!write(g->wake_fd, &one, sizeof(one));
		pthread_join(g->watcher, NULL);
	}
	if (g->wake_fd >= 0)
		close(g->wake_fd);
	if (g->fd >= 0)
		close(g->fd);
	vm->gdb = NULL;
	free(g);
}
