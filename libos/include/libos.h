/* SPDX-License-Identifier: MIT */
/*
 * What an appliance sees of libos beyond newlib's C library: clocks, the
 * console, sleeping, panic and exit. Everything here works the same on
 * every platform.
 */
#ifndef LIBOS_H
#define LIBOS_H

#include <stddef.h>
#include <stdint.h>

#include "evtchn.h"

/* Exit status of an appliance that called panic(). */
#define LIBOS_PANIC_STATUS 255

/* Nanoseconds since boot, from the TSC: monotonic, no exit. */
uint64_t clock_monotonic_ns(void);

/* Nanoseconds since the Unix epoch. The first call asks the platform once. */
uint64_t clock_realtime_ns(void);

/* The TSC frequency the clock runs on, in Hz. */
uint64_t clock_tsc_hz(void);

/* No deadline, for the calls below that take one. */
#define LIBOS_FOREVER UINT64_MAX

/* Sleep (let other threads run) until the monotonic clock reaches deadline_ns. */
void sleep_until(uint64_t deadline_ns);

/*
 * Cooperative threads. A thread runs until it blocks, sleeps, yields or
 * returns; nothing preempts it, so code between two such calls needs no
 * lock. When no thread can run, the vCPU blocks in the platform until an
 * event or the earliest deadline.
 */
struct thread;

/* Default stack of a thread (there is no guard page: a canary is checked at each switch). */
#define LIBOS_THREAD_STACK (64u << 10)

/* Start fn(arg) in a new thread with a stack of stack_bytes (0: the default). NULL + errno. */
struct thread *thread_create(const char *name, void *(*fn)(void *), void *arg,
			     size_t stack_bytes);
/* Wait for t to return, take its result, and free it. 0 or -EINVAL (t is this thread). */
int thread_join(struct thread *t, void **result);
/* Let t be freed by itself when it returns; it may not be joined after this. */
void thread_detach(struct thread *t);
struct thread *thread_self(void);
const char *thread_name(const struct thread *t);
void thread_yield(void);

/*
 * Wait queues: a thread waits for a condition someone else makes true.
 * Check the condition, and wait while it is false:
 *     while (!ready) if (wait_queue_wait(&wq, deadline) == -ETIMEDOUT) break;
 * Cooperative scheduling makes the check-then-wait race-free.
 */
struct wait_queue {
	struct thread *head, *tail;
};
#define WAIT_QUEUE_INIT { 0, 0 }

/* Block until woken (0) or until deadline_ns (-ETIMEDOUT). */
int wait_queue_wait(struct wait_queue *wq, uint64_t deadline_ns);
/* Make the longest waiter runnable; returns whether there was one. */
int wait_queue_wake_one(struct wait_queue *wq);
void wait_queue_wake_all(struct wait_queue *wq);

/* This domain's id: 1, 2 ... on hv, in the order hv was given them; 0 where there are none. */
uint16_t libos_domid(void);

/* Write len bytes to the console, unbuffered. */
void console_write(const char *buf, size_t len);

/*
 * Report a broken invariant with the values that broke it, print the
 * frame-pointer backtrace, and end the appliance with LIBOS_PANIC_STATUS.
 */
_Noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* LIBOS_H */
