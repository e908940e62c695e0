/* SPDX-License-Identifier: MIT */
/*
 * Guest test: threads run, yield, wait with and without deadlines, sleep in
 * deadline order, keep their own errno, and join with their results.
 * expect-status: 0
 * expect-stdout: SUCCESS
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "libos.h"

static int failed;
#define EXPECT(cond)                                                             \
	do {                                                                     \
		if (!(cond)) {                                                   \
			printf("FAIL: %s (line %d)\n", #cond, __LINE__);         \
			failed = 1;                                              \
		}                                                                \
	} while (0)

static char order[64];
static int order_len;

static void *yielder(void *arg)
{
	for (int i = 0; i < 3; i++) {
		order[order_len++] = *(const char *)arg;
		thread_yield();
	}
	return (void *)(uintptr_t)(*(const char *)arg);
}

static int detached_ran;

static void *short_lived(void *arg)
{
	(void)arg;
	thread_yield();
	detached_ran++;
	return NULL;
}

static void *sleeper(void *arg)
{
	uint64_t ms = (uintptr_t)arg;

	sleep_until(clock_monotonic_ns() + ms * 1000000ull);
	order[order_len++] = (char)('0' + ms / 10);
	return NULL;
}

static struct wait_queue wq = WAIT_QUEUE_INIT;
static int ready;

static void *waiter(void *arg)
{
	(void)arg;
	errno = 1234; /* each thread has its own errno */
	while (!ready)
		wait_queue_wait(&wq, LIBOS_FOREVER);
	return (void *)(uintptr_t)errno;
}

int main(void)
{
	void *r1, *r2;

	/* Round-robin among runnable threads. */
	struct thread *a = thread_create("a", yielder, "a", 0), *b = thread_create("b", yielder, "b", 0);
	EXPECT(a && b);
	thread_join(a, &r1);
	thread_join(b, &r2);
	order[order_len] = '\0';
	EXPECT(strcmp(order, "ababab") == 0);
	EXPECT((uintptr_t)r1 == 'a' && (uintptr_t)r2 == 'b');

	/* Sleepers wake in deadline order, whatever order they started in. */
	order_len = 0;
	struct thread *s3 = thread_create("s30", sleeper, (void *)30, 0);
	struct thread *s1 = thread_create("s10", sleeper, (void *)10, 0);
	struct thread *s2 = thread_create("s20", sleeper, (void *)20, 0);
	thread_join(s3, NULL);
	thread_join(s1, NULL);
	thread_join(s2, NULL);
	order[order_len] = '\0';
	EXPECT(strcmp(order, "123") == 0);

	/* A wait queue: the waiter sleeps until woken; errno stays per thread. */
	errno = 0;
	struct thread *w = thread_create("waiter", waiter, NULL, 0);
	thread_yield();
	EXPECT(errno == 0);
	ready = 1;
	EXPECT(wait_queue_wake_one(&wq) == 1);
	thread_join(w, &r1);
	EXPECT((uintptr_t)r1 == 1234);

	/* A timed wait times out at its deadline, not before. */
	struct wait_queue nobody = WAIT_QUEUE_INIT;
	uint64_t t0 = clock_monotonic_ns();
	EXPECT(wait_queue_wait(&nobody, t0 + 5000000ull) == -ETIMEDOUT);
	EXPECT(clock_monotonic_ns() - t0 >= 5000000ull);
	EXPECT(wait_queue_wake_one(&nobody) == 0);

	/* Many threads, detached, each freed when it ends. */
	for (int round = 0; round < 20; round++)
		for (int i = 0; i < 50; i++) {
			struct thread *t = thread_create("detached", short_lived, NULL, 16 << 10);
			EXPECT(t != NULL);
			if (t)
				thread_detach(t);
		}
	/* Let them all run (not a fixed sleep: under emulation 1000 threads take a while). */
	uint64_t give_up = clock_monotonic_ns() + 10000000000ull;
	while (detached_ran < 1000 && clock_monotonic_ns() < give_up)
		thread_yield();
	EXPECT(detached_ran == 1000);
	EXPECT(thread_join(thread_self(), NULL) == -EINVAL);

	puts(failed ? "FAILURE" : "SUCCESS");
	return failed;
}
