/* SPDX-License-Identifier: MIT */
/*
 * lwIP's operating-system layer on libos: semaphores, mutexes, mailboxes
 * with timeouts on wait queues, threads, time, and diagnostics. Cooperative
 * scheduling makes every check-then-wait here free of races.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/err.h"
#include "lwip/sys.h"

static uint64_t deadline_of(u32_t timeout_ms)
{
	return timeout_ms ? clock_monotonic_ns() + (uint64_t)timeout_ms * 1000000ull : LIBOS_FOREVER;
}

/* lwIP wants the milliseconds waited (at least 0), or SYS_ARCH_TIMEOUT. */
static u32_t waited_ms(uint64_t start)
{
	return (u32_t)((clock_monotonic_ns() - start) / 1000000ull);
}

void sys_init(void)
{
}

u32_t sys_now(void)
{
	return (u32_t)(clock_monotonic_ns() / 1000000ull);
}

sys_prot_t sys_arch_protect(void)
{
	return 0;
}

void sys_arch_unprotect(sys_prot_t pval)
{
	(void)pval;
}

err_t sys_sem_new(sys_sem_t *sem, u8_t count)
{
	*sem = (sys_sem_t){ .valid = 1, .count = count, .wq = WAIT_QUEUE_INIT };
	return ERR_OK;
}

void sys_sem_signal(sys_sem_t *sem)
{
	sem->count++;
	wait_queue_wake_one(&sem->wq);
}

u32_t sys_arch_sem_wait(sys_sem_t *sem, u32_t timeout_ms)
{
	uint64_t start = clock_monotonic_ns(), deadline = deadline_of(timeout_ms);

	while (sem->count == 0)
		if (wait_queue_wait(&sem->wq, deadline) == -ETIMEDOUT && sem->count == 0)
			return SYS_ARCH_TIMEOUT;
	sem->count--;
	return waited_ms(start);
}

void sys_sem_free(sys_sem_t *sem)
{
	sem->valid = 0;
}

int sys_sem_valid(sys_sem_t *sem)
{
	return sem->valid;
}

void sys_sem_set_invalid(sys_sem_t *sem)
{
	sem->valid = 0;
}

err_t sys_mutex_new(sys_mutex_t *m)
{
	*m = (sys_mutex_t){ .valid = 1, .owner = NULL, .wq = WAIT_QUEUE_INIT };
	return ERR_OK;
}

void sys_mutex_lock(sys_mutex_t *m)
{
	while (m->owner)
		wait_queue_wait(&m->wq, LIBOS_FOREVER);
	m->owner = thread_self();
}

void sys_mutex_unlock(sys_mutex_t *m)
{
	m->owner = NULL;
	wait_queue_wake_one(&m->wq);
}

void sys_mutex_free(sys_mutex_t *m)
{
	m->valid = 0;
}

int sys_mutex_valid(sys_mutex_t *m)
{
	return m->valid;
}

void sys_mutex_set_invalid(sys_mutex_t *m)
{
	m->valid = 0;
}

err_t sys_mbox_new(sys_mbox_t *mb, int size)
{
	if (size <= 0)
		size = 64;
	*mb = (sys_mbox_t){ .valid = 1, .size = (unsigned)size };
	mb->msgs = calloc((size_t)size, sizeof(void *));
	if (!mb->msgs) {
		mb->valid = 0;
		return ERR_MEM;
	}
	return ERR_OK;
}

static void put(sys_mbox_t *mb, void *msg)
{
	mb->msgs[(mb->head + mb->count) % mb->size] = msg;
	mb->count++;
	wait_queue_wake_one(&mb->not_empty);
}

static void *take(sys_mbox_t *mb)
{
	void *msg = mb->msgs[mb->head];

	mb->head = (mb->head + 1) % mb->size;
	mb->count--;
	wait_queue_wake_one(&mb->not_full);
	return msg;
}

void sys_mbox_post(sys_mbox_t *mb, void *msg)
{
	while (mb->count == mb->size)
		wait_queue_wait(&mb->not_full, LIBOS_FOREVER);
	put(mb, msg);
}

err_t sys_mbox_trypost(sys_mbox_t *mb, void *msg)
{
	if (mb->count == mb->size)
		return ERR_MEM;
	put(mb, msg);
	return ERR_OK;
}

err_t sys_mbox_trypost_fromisr(sys_mbox_t *mb, void *msg)
{
	return sys_mbox_trypost(mb, msg);
}

u32_t sys_arch_mbox_fetch(sys_mbox_t *mb, void **msg, u32_t timeout_ms)
{
	uint64_t start = clock_monotonic_ns(), deadline = deadline_of(timeout_ms);
	void *m;

	while (mb->count == 0)
		if (wait_queue_wait(&mb->not_empty, deadline) == -ETIMEDOUT && mb->count == 0)
			return SYS_ARCH_TIMEOUT;
	m = take(mb);
	if (msg)
		*msg = m;
	return waited_ms(start);
}

u32_t sys_arch_mbox_tryfetch(sys_mbox_t *mb, void **msg)
{
	void *m;

	if (mb->count == 0)
		return SYS_MBOX_EMPTY;
	m = take(mb);
	if (msg)
		*msg = m;
	return 0;
}

void sys_mbox_free(sys_mbox_t *mb)
{
	free(mb->msgs);
	mb->msgs = NULL;
	mb->valid = 0;
}

int sys_mbox_valid(sys_mbox_t *mb)
{
	return mb->valid;
}

void sys_mbox_set_invalid(sys_mbox_t *mb)
{
	mb->valid = 0;
}

struct lwip_start {
	lwip_thread_fn fn;
	void *arg;
};

/* lwIP's thread functions return nothing; libos's return a result. */
static void *lwip_thread(void *p)
{
	struct lwip_start s = *(struct lwip_start *)p;

	free(p);
	s.fn(s.arg);
	return NULL;
}

sys_thread_t sys_thread_new(const char *name, lwip_thread_fn fn, void *arg, int stacksize, int prio)
{
	struct lwip_start *s = malloc(sizeof(*s));
	struct thread *t = NULL;

	(void)prio; /* one priority: the scheduler is FIFO */
	if (s) {
		*s = (struct lwip_start){ fn, arg };
		t = thread_create(name, lwip_thread, s, stacksize > 0 ? (size_t)stacksize : 0);
	}
	if (!t)
		panic("lwIP: cannot start thread '%s'", name);
	thread_detach(t);
	return t;
}

void libos_lwip_diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

_Noreturn void libos_lwip_assert(const char *msg, const char *file, int line)
{
	panic("lwIP assertion \"%s\" failed at %s:%d", msg, file, line);
}

/* xorshift64*, seeded from the TSC at first use: not for cryptography. */
uint32_t libos_lwip_rand(void)
{
	static uint64_t s;

	if (!s)
		s = clock_monotonic_ns() * 0x9e3779b97f4a7c15ull | 1;
	s ^= s >> 12;
	s ^= s << 25;
	s ^= s >> 27;
	return (uint32_t)((s * 0x2545f4914f6cdd1dull) >> 32);
}
