/* SPDX-License-Identifier: MIT */
/*
 * What a confined proc-backend guest may still do: the seccomp filter, which
 * lets through one-page grant maps and unmaps, the guest's own waits and
 * kicks (hv_abi.h's HV_BOOT_LINUX_CALLS) and nothing else, and, next to it
 * so the two can be checked against each other, the injected calls it is
 * shaped for.
 */
#define _GNU_SOURCE
#include <asm/unistd.h>
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "backend_proc_child.h"

/* Room for the filter in the scratch page, after its sock_fprog. */
#define FILTER_OFFSET 64
#define FILTER_MAX    128
_Static_assert(FILTER_OFFSET + FILTER_MAX * sizeof(struct sock_filter) <= PROC_BATCH_SCRATCH_END,
	       "the filter must fit in the stub's scratch page, below the batch's table");

/* recvmsg's arguments as proc_child_map_foreign lays them out at PROC_STUB_SCRATCH. */
struct fd_msg {
	struct msghdr msg;
	struct iovec iov;
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	char byte;
};
_Static_assert(sizeof(struct fd_msg) <= PROC_STUB_SCRATCH_SIZE, "recvmsg's arguments must fit");

/*
 * A jump offset meaning "to the final SECCOMP_RET_TRAP", patched once the
 * filter is complete. Real offsets stay below it: the filter is checked to
 * be shorter than 255 instructions.
 */
#define TO_TRAP 0xff

#define JEQ (BPF_JMP | BPF_JEQ | BPF_K)
#define JGE (BPF_JMP | BPF_JGE | BPF_K)

/* seccomp_data's 64-bit arguments, in the two 32-bit loads BPF can do (little-endian). */
#define ARG_LO(i) ((uint32_t)offsetof(struct seccomp_data, args[i]))
#define ARG_HI(i) ((uint32_t)offsetof(struct seccomp_data, args[i]) + 4)

struct filter {
	struct sock_filter *insn;
	int n, max;
};

/* Counts past max instead of failing, so proc_seccomp_build reports the size once. */
static void emit(struct filter *f, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
	if (f->n < f->max)
		f->insn[f->n] = (struct sock_filter){code, jt, jf, k};
	f->n++;
}

static void load(struct filter *f, uint32_t offset)
{
	emit(f, BPF_LD | BPF_W | BPF_ABS, 0, 0, offset);
}

/* Traps unless argument i is v, all 64 bits of it. */
static void arg_is(struct filter *f, int i, uint64_t v)
{
	load(f, ARG_HI(i));
	emit(f, JEQ, 0, TO_TRAP, (uint32_t)(v >> 32));
	load(f, ARG_LO(i));
	emit(f, JEQ, 0, TO_TRAP, (uint32_t)v);
}

/* Traps unless argument i is a or b. */
static void arg_is_either(struct filter *f, int i, uint32_t a, uint32_t b)
{
	load(f, ARG_HI(i));
	emit(f, JEQ, 0, TO_TRAP, 0);
	load(f, ARG_LO(i));
	emit(f, JEQ, 1, 0, a);
	emit(f, JEQ, 0, TO_TRAP, b);
}

/* Traps unless argument i is in [lo, hi); hi is at most 4 GiB. */
static void arg_in(struct filter *f, int i, uint64_t lo, uint64_t hi)
{
	load(f, ARG_HI(i));
	emit(f, JEQ, 0, TO_TRAP, 0);
	load(f, ARG_LO(i));
	emit(f, JGE, 0, TO_TRAP, (uint32_t)lo);
	if (hi < (1ULL << 32)) /* else every 32-bit value is below it */
		emit(f, JGE, TO_TRAP, 0, (uint32_t)hi);
}

/* Traps when argument i is 0 (a NULL pointer). */
static void arg_not_zero(struct filter *f, int i)
{
	load(f, ARG_HI(i));
	emit(f, JEQ, 0, 2, 0); /* high half not 0: past the low half's test */
	load(f, ARG_LO(i));
	emit(f, JEQ, TO_TRAP, 0, 0);
}

/* Opens the rule for system call nr; returns the jump that rule_end points past it. */
static int rule_begin(struct filter *f, uint32_t nr)
{
	load(f, offsetof(struct seccomp_data, nr));
	emit(f, JEQ, 0, 0, nr);
	return f->n - 1;
}

/* Closes a rule: the call is allowed when every check in it passed. */
static void rule_end(struct filter *f, int skip)
{
	emit(f, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW);
	if (skip < f->max)
		f->insn[skip].jf = (uint8_t)(f->n - skip - 1);
}

int proc_seccomp_build(struct sock_filter *out, int max, uint64_t window_lo, uint64_t window_hi,
		       const struct proc_linux_calls *lc)
{
	struct filter f = {.insn = out, .max = max};
	int rule, i;

	if (window_lo >= window_hi || window_hi > (1ULL << 32) || window_lo % 4096 != 0 ||
	    window_hi % 4096 != 0)
		return -EINVAL;

	/* Another architecture's table (int $0x80) or x32's numbers: nr would mean another call. */
	load(&f, offsetof(struct seccomp_data, arch));
	emit(&f, JEQ, 0, TO_TRAP, AUDIT_ARCH_X86_64);
	load(&f, offsetof(struct seccomp_data, nr));
	emit(&f, JGE, TO_TRAP, 0, __X32_SYSCALL_BIT);

	/*
	 * mmap: proc_child_map_foreign maps one page of the granter's memfd,
	 * just received at fd 0, over a page of the grant window. The guest may
	 * make this call too, but fd 0 exists only while hv injects one.
	 */
	rule = rule_begin(&f, __NR_mmap);
	arg_in(&f, 0, window_lo, window_hi);
	arg_is(&f, 1, 4096);
	arg_is_either(&f, 2, PROT_READ, PROT_READ | PROT_WRITE);
	arg_is(&f, 3, MAP_SHARED | MAP_FIXED);
	arg_is(&f, 4, 0);
	rule_end(&f, rule);

	/* munmap: proc_child_unmap ends a grant map; the guest can only drop its own grants. */
	rule = rule_begin(&f, __NR_munmap);
	arg_in(&f, 0, window_lo, window_hi);
	arg_is(&f, 1, 4096);
	rule_end(&f, rule);

	/*
	 * recvmsg: takes the granter's memfd off the socket at fd 1. hv sends
	 * one only while the guest is stopped, and takes it in the same stop.
	 */
	rule = rule_begin(&f, __NR_recvmsg);
	arg_is(&f, 0, 1);
	arg_is(&f, 2, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	rule_end(&f, rule);

	/* close: drops the received memfd once it is mapped. */
	rule = rule_begin(&f, __NR_close);
	arg_is(&f, 0, 0);
	rule_end(&f, rule);

	/*
	 * The guest's own calls (hv_abi.h, HV_BOOT_LINUX_CALLS): a wait on its
	 * futex word, never without a timeout, and its restart after a stop;
	 * kicks, 8-byte writes to its doorbells' eventfds.
	 */
	if (lc && lc->futex) {
		rule = rule_begin(&f, __NR_futex);
		arg_is(&f, 0, lc->futex);
		arg_is(&f, 1, FUTEX_WAIT);
		arg_not_zero(&f, 3);
		rule_end(&f, rule);
		rule = rule_begin(&f, __NR_restart_syscall);
		rule_end(&f, rule);
	}
	if (lc && lc->nr_fds) {
		rule = rule_begin(&f, __NR_write);
		arg_in(&f, 0, (uint64_t)lc->fd_base, (uint64_t)lc->fd_base + lc->nr_fds);
		arg_is(&f, 2, 8);
		rule_end(&f, rule);
	}

	/* Everything else, exit included (hv ends the guest), stops the guest with SIGSYS. */
	emit(&f, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_TRAP);

	if (f.n > max || f.n >= TO_TRAP)
		return -E2BIG;
	for (i = 0; i < f.n; i++) {
		if (BPF_CLASS(out[i].code) != BPF_JMP)
			continue;
		if (out[i].jt == TO_TRAP)
			out[i].jt = (uint8_t)(f.n - 1 - i - 1);
		if (out[i].jf == TO_TRAP)
			out[i].jf = (uint8_t)(f.n - 1 - i - 1);
	}
	return f.n;
}

/*
 * Brings fd into the child as its fd 0: sends it over c->sock, makes the
 * child receive it, and checks what it received.
 */
static int send_fd(struct proc_child *c, int fd)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl = {0};
	char byte = 0;
	struct iovec iov = {&byte, 1};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf)};
	struct fd_msg in = {0};
	long r;
	int err, got;

	ctl.hdr.cmsg_level = SOL_SOCKET;
	ctl.hdr.cmsg_type = SCM_RIGHTS;
	ctl.hdr.cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(&ctl.hdr), &fd, sizeof(int));
	while (sendmsg(c->sock, &msg, MSG_DONTWAIT) < 0)
		if (errno != EINTR)
			return -errno;

	/* The same message, with the child's addresses, in its scratch page. */
	in.msg.msg_iov = (void *)(uintptr_t)(PROC_STUB_SCRATCH + offsetof(struct fd_msg, iov));
	in.msg.msg_iovlen = 1;
	in.msg.msg_control = (void *)(uintptr_t)(PROC_STUB_SCRATCH + offsetof(struct fd_msg, ctl));
	in.msg.msg_controllen = sizeof(in.ctl.buf);
	in.iov.iov_base = (void *)(uintptr_t)(PROC_STUB_SCRATCH + offsetof(struct fd_msg, byte));
	in.iov.iov_len = 1;
	err = proc_child_poke(c, PROC_STUB_SCRATCH, &in, sizeof(in));
	if (err < 0)
		return err;
	r = proc_child_syscall(c, __NR_recvmsg, 1, (long)PROC_STUB_SCRATCH,
			       MSG_DONTWAIT | MSG_CMSG_CLOEXEC, 0, 0, 0);
	if (r < 0)
		return (int)r;
	err = proc_child_peek(c, PROC_STUB_SCRATCH, &in, sizeof(in));
	if (err < 0)
		return err;
	/* RLIMIT_NOFILE 2 and fd 1 taken: the fd is at 0, or was dropped (MSG_CTRUNC). */
	memcpy(&got, CMSG_DATA(&in.ctl.hdr), sizeof(int));
	if (r != 1 || (in.msg.msg_flags & MSG_CTRUNC) || in.ctl.hdr.cmsg_level != SOL_SOCKET ||
	    in.ctl.hdr.cmsg_type != SCM_RIGHTS || in.ctl.hdr.cmsg_len != CMSG_LEN(sizeof(int)) ||
	    got != 0)
		return -EPROTO;
	return 0;
}

int proc_child_map_foreign(struct proc_child *c, int fd, uint64_t addr, int prot, uint64_t off)
{
	struct proc_call calls[2] = {
	    {.nr = __NR_mmap, .a = {(long)addr, 4096, prot, MAP_SHARED | MAP_FIXED, 0, (long)off}},
	    {.nr = __NR_close, .a = {0}},
	};
	int err;

	err = send_fd(c, fd);
	if (err == 0) {
		/* mmap and close for one stop; the close runs only if the mmap worked. */
		err = proc_child_batch(c, calls, 2);
		if (err == 0 && (uint64_t)calls[0].result != addr)
			err = -EPROTO;
	}
	/* Whatever failed: the guest must never run with the granter's memfd. */
	if (err && calls[1].result == 0)
		(void)proc_child_syscall(c, __NR_close, 0, 0, 0, 0, 0, 0);
	return err;
}

int proc_child_unmap(struct proc_child *c, uint64_t addr)
{
	return (int)proc_child_syscall(c, __NR_munmap, (long)addr, 4096, 0, 0, 0, 0);
}

/*
 * The calls that confine the child, appended to calls[*n]: close the guest
 * memfd, no_new_privs, the filter (written into the scratch page now).
 */
static int confine_calls(struct proc_child *c, struct proc_call *calls, unsigned *n,
			 uint64_t window_lo, uint64_t window_hi)
{
	struct sock_filter insn[FILTER_MAX];
	struct sock_fprog prog;
	int len, err;

	len = proc_seccomp_build(insn, FILTER_MAX, window_lo, window_hi, &c->linux_calls);
	if (len < 0)
		return len;
	memset(&prog, 0, sizeof(prog));
	prog.len = (unsigned short)len;
	prog.filter = (void *)(uintptr_t)(PROC_STUB_SCRATCH + FILTER_OFFSET);
	err = proc_child_poke(c, PROC_STUB_SCRATCH, &prog, sizeof(prog));
	if (err == 0)
		err = proc_child_poke(c, PROC_STUB_SCRATCH + FILTER_OFFSET, insn,
				      (size_t)len * sizeof(insn[0]));
	if (err < 0)
		return err;
	calls[(*n)++] = (struct proc_call){.nr = __NR_close, .a = {0}};
	/* Required to install a filter without CAP_SYS_ADMIN; also no exec may gain privileges. */
	calls[(*n)++] = (struct proc_call){.nr = __NR_prctl, .a = {PR_SET_NO_NEW_PRIVS, 1}};
	calls[(*n)++] = (struct proc_call){
	    .nr = __NR_seccomp, .a = {SECCOMP_SET_MODE_FILTER, 0, (long)PROC_STUB_SCRATCH}};
	return 0;
}

int proc_child_confine(struct proc_child *c, uint64_t window_lo, uint64_t window_hi)
{
	return proc_child_start(c, NULL, 0, window_lo, window_hi);
}

int proc_child_start(struct proc_child *c, const struct proc_map *maps, unsigned n,
		     uint64_t window_lo, uint64_t window_hi)
{
	struct proc_call calls[PROC_BATCH_MAX];
	unsigned nr = 0;
	int err;

	if (n > PROC_BATCH_MAX - 3)
		return -E2BIG;
	for (unsigned i = 0; i < n; i++)
		calls[nr++] = (struct proc_call){
		    .nr = __NR_mmap,
		    .a = {(long)maps[i].addr, (long)maps[i].len, maps[i].prot,
			  MAP_SHARED | MAP_FIXED_NOREPLACE | (maps[i].populate ? MAP_POPULATE : 0),
			  0, (long)maps[i].off},
		};
	err = confine_calls(c, calls, &nr, window_lo, window_hi);
	if (err == 0)
		err = proc_child_batch(c, calls, nr);
	/* A kernel that ignores NOREPLACE maps elsewhere rather than fail. */
	for (unsigned i = 0; err == 0 && i < n; i++)
		if ((uint64_t)calls[i].result != maps[i].addr)
			err = -EEXIST;
	return err;
}
