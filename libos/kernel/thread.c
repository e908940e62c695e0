/* SPDX-License-Identifier: MIT */
/*
 * Cooperative threads and the scheduler: a FIFO run queue, wait queues, a
 * deadline-sorted list of timed waiters, and the idle loop that blocks the
 * vCPU in the platform when nothing can run.
 */
#include <errno.h>
#include <reent.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "libos.h"

#define STACK_CANARY 0x5354414b43414e59ull /* "STAKCANY" */
#define CANARY_WORDS 8

enum thread_state { THREAD_RUNNABLE, THREAD_BLOCKED, THREAD_DONE };

struct thread {
	uintptr_t rsp;                /* saved by ctx_switch while not running */
	struct thread *next;          /* run queue or wait queue link */
	struct thread *timer_next;    /* timed-waiter list link */
	const char *name;
	enum thread_state state;
	struct wait_queue *waiting_on; /* the queue this thread sleeps in, if any */
	uint64_t deadline;            /* LIBOS_FOREVER unless a timed waiter */
	bool timed_out;
	bool detached;
	uint64_t *stack;              /* lowest address; canary words at the bottom */
	size_t stack_pages;
	void *(*fn)(void *);
	void *arg;
	void *result;
	struct wait_queue joiners;
	struct _reent *reent;         /* newlib's per-thread state (errno, strtok ...) */
	struct _reent own_reent;
};

void ctx_switch(uintptr_t *save_rsp, uintptr_t next_rsp);
void thread_start(void);
_Noreturn void thread_main(struct thread *t);

static struct thread main_thread; /* filled in by sched_init: in .bss, no room in the file */
static struct thread *current = &main_thread;
static struct thread *runq_head, *runq_tail;
static struct thread *timed;  /* sorted by deadline */
static struct thread *reaped; /* a detached thread that ended; freed by the next one to run */

void sched_init(void)
{
	main_thread.name = "main";
	main_thread.deadline = LIBOS_FOREVER;
	main_thread.reent = _impure_ptr;
}

struct thread *thread_self(void)
{
	return current;
}

const char *thread_name(const struct thread *t)
{
	return t->name;
}

static void runq_push(struct thread *t)
{
	t->state = THREAD_RUNNABLE;
	t->next = NULL;
	if (runq_tail)
		runq_tail->next = t;
	else
		runq_head = t;
	runq_tail = t;
}

static struct thread *runq_pop(void)
{
	struct thread *t = runq_head;

	if (t) {
		runq_head = t->next;
		if (!runq_head)
			runq_tail = NULL;
	}
	return t;
}

static void timed_insert(struct thread *t, uint64_t deadline)
{
	struct thread **p = &timed;

	t->deadline = deadline;
	while (*p && (*p)->deadline <= deadline)
		p = &(*p)->timer_next;
	t->timer_next = *p;
	*p = t;
}

static void timed_remove(struct thread *t)
{
	if (t->deadline == LIBOS_FOREVER)
		return;
	for (struct thread **p = &timed; *p; p = &(*p)->timer_next)
		if (*p == t) {
			*p = t->timer_next;
			break;
		}
	t->deadline = LIBOS_FOREVER;
}

static void wq_remove(struct wait_queue *wq, struct thread *t)
{
	struct thread *prev = NULL;

	for (struct thread *i = wq->head; i; prev = i, i = i->next)
		if (i == t) {
			if (prev)
				prev->next = t->next;
			else
				wq->head = t->next;
			if (wq->tail == t)
				wq->tail = prev;
			return;
		}
}

/* Wake the timed waiters whose deadline has passed. */
static void wake_expired(void)
{
	uint64_t now;

	if (!timed)
		return;
	now = clock_monotonic_ns();
	while (timed && timed->deadline <= now) {
		struct thread *t = timed;

		timed = t->timer_next;
		t->deadline = LIBOS_FOREVER;
		t->timed_out = true;
		if (t->waiting_on) {
			wq_remove(t->waiting_on, t);
			t->waiting_on = NULL;
		}
		runq_push(t);
	}
}

static void check_stack(const struct thread *t)
{
	if (!t->stack)
		return; /* the main thread's stack has hv's guard page */
	for (int i = 0; i < CANARY_WORDS; i++)
		if (t->stack[i] != STACK_CANARY)
			panic("thread '%s' overflowed its %zu-byte stack", t->name,
			      t->stack_pages * PAGE_BYTES);
}

static void free_thread(struct thread *t)
{
	pages_free(t->stack, t->stack_pages);
	_reclaim_reent(&t->own_reent);
	free(t);
}

static int owed; /* completions drivers expect within microseconds (sched_owed) */

void sched_owed(int n)
{
	owed += n;
}

/*
 * Nothing can run until an event or the deadline: poll for an event a
 * little while, long if a driver is owed a completion, a few microseconds
 * if not (the platform says how long each), then block in the platform.
 * Returns after either; the caller dispatches and looks again. Polling
 * long for traffic that may never come takes the CPU from its sender,
 * where CPUs are few: measured on a 2-CPU host, one TCP stream into a
 * guest ran at 1.9-2.0 Gbit/s with a 200 us poll on every idle and 2.7-2.8
 * Gbit/s without (lwIP's 128 KiB window); with the 512 KiB window the poll
 * halved the exits and gained nothing (7.4-8.1 against 7.3-8.8 Gbit/s).
 */
static void idle(uint64_t deadline)
{
	uint64_t poll_ns = owed > 0 ? platform->idle_poll_ns : platform->idle_spin_ns;

	if (poll_ns) {
		uint64_t now = clock_monotonic_ns(), until = now + poll_ns;

		if (until > deadline)
			until = deadline;
		while (!evtchn_upcall_pending() && now < until) {
			__builtin_ia32_pause();
			now = clock_monotonic_ns();
		}
		if (evtchn_upcall_pending() || now >= deadline)
			return;
	}
	platform->block(deadline);
}

/*
 * Pick the next thread and switch to it. The caller has already put the
 * current thread where it belongs (run queue, a wait queue, or nowhere if
 * it ended). Events are dispatched first, so their handlers can make
 * threads runnable; only when none can run does the vCPU block, and the
 * platform's block returns at once if an event arrived after the dispatch
 * cleared the pending flag.
 */
static void schedule(void)
{
	struct thread *prev = current, *next;

	check_stack(prev);
	for (;;) {
		evtchn_dispatch();
		wake_expired();
		next = runq_pop();
		if (next)
			break;
		idle(timed ? timed->deadline : LIBOS_FOREVER);
	}
	if (next == prev)
		return;
	current = next;
	_impure_ptr = next->reent;
	ctx_switch(&prev->rsp, next->rsp);
	/* Back in prev: a detached thread that ended before us can go now. */
	if (reaped && reaped != current) {
		free_thread(reaped);
		reaped = NULL;
	}
}

void thread_yield(void)
{
	runq_push(current);
	schedule();
}

int wait_queue_wait(struct wait_queue *wq, uint64_t deadline_ns)
{
	struct thread *t = current;

	t->state = THREAD_BLOCKED;
	t->timed_out = false;
	t->waiting_on = wq;
	if (wq) {
		t->next = NULL;
		if (wq->tail)
			wq->tail->next = t;
		else
			wq->head = t;
		wq->tail = t;
	}
	if (deadline_ns != LIBOS_FOREVER)
		timed_insert(t, deadline_ns);
	schedule();
	return t->timed_out ? -ETIMEDOUT : 0;
}

static void wake(struct thread *t)
{
	t->waiting_on = NULL;
	timed_remove(t);
	runq_push(t);
}

int wait_queue_wake_one(struct wait_queue *wq)
{
	struct thread *t = wq->head;

	if (!t)
		return 0;
	wq->head = t->next;
	if (!wq->head)
		wq->tail = NULL;
	wake(t);
	return 1;
}

void wait_queue_wake_all(struct wait_queue *wq)
{
	while (wait_queue_wake_one(wq))
		;
}

void sleep_until(uint64_t deadline_ns)
{
	while (clock_monotonic_ns() < deadline_ns)
		wait_queue_wait(NULL, deadline_ns);
}

_Noreturn void thread_main(struct thread *t)
{
	t->result = t->fn(t->arg);
	t->state = THREAD_DONE;
	wait_queue_wake_all(&t->joiners);
	if (t->detached) {
		if (reaped) /* not us, and not running: free it before taking its place */
			free_thread(reaped);
		reaped = t;
	}
	schedule();
	panic("thread '%s' ran after it ended", t->name);
}

struct thread *thread_create(const char *name, void *(*fn)(void *), void *arg, size_t stack_bytes)
{
	struct thread *t = calloc(1, sizeof(*t));
	size_t pages = ((stack_bytes ? stack_bytes : LIBOS_THREAD_STACK) + PAGE_BYTES - 1) / PAGE_BYTES;
	uint64_t *top;

	if (!t) {
		errno = ENOMEM;
		return NULL;
	}
	t->stack = pages_alloc(pages);
	if (!t->stack) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	t->stack_pages = pages;
	for (int i = 0; i < CANARY_WORDS; i++)
		t->stack[i] = STACK_CANARY;
	t->name = name;
	t->fn = fn;
	t->arg = arg;
	t->deadline = LIBOS_FOREVER;
	_REENT_INIT_PTR(&t->own_reent);
	t->reent = &t->own_reent;

	/* A ctx_switch frame: control words, r15..r12, rbx, rbp, then the return address. */
	top = (uint64_t *)((uintptr_t)t->stack + pages * PAGE_BYTES);
	*--top = 0; /* alignment slot: thread_start realigns anyway */
	*--top = (uintptr_t)thread_start;
	*--top = 0;                       /* rbp: the end of backtraces */
	*--top = 0;                       /* rbx */
	*--top = (uintptr_t)t;            /* r12: thread_start's argument */
	*--top = 0;                       /* r13 */
	*--top = 0;                       /* r14 */
	*--top = 0;                       /* r15 */
	*--top = 0x037f00001f80ull;       /* MXCSR default, then the x87 control word default */
	t->rsp = (uintptr_t)top;
	runq_push(t);
	return t;
}

int thread_join(struct thread *t, void **result)
{
	if (t == current || t->detached)
		return -EINVAL;
	while (t->state != THREAD_DONE)
		wait_queue_wait(&t->joiners, LIBOS_FOREVER);
	if (result)
		*result = t->result;
	free_thread(t);
	return 0;
}

void thread_detach(struct thread *t)
{
	if (t->state == THREAD_DONE) {
		free_thread(t);
		return;
	}
	t->detached = true;
}
