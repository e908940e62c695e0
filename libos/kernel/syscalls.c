/* SPDX-License-Identifier: MIT */
/*
 * The system calls newlib expects of its OS, for a single-purpose
 * appliance: descriptors from the table in fd.c, time, one process.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>

#include "fd.h"
#include "kernel.h"
#include "libos.h"

#define APPLIANCE_PID 1

/* Negative errno to the C library's convention: -1 with errno set. */
static long ret(long r)
{
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

static const struct fd_entry *lookup(int fd)
{
	const struct fd_entry *e = fd_get(fd);

	if (!e)
		errno = EBADF;
	return e;
}

_READ_WRITE_RETURN_TYPE write(int fd, const void *buf, size_t len)
{
	const struct fd_entry *e = lookup(fd);

	if (!e)
		return -1;
	return (_READ_WRITE_RETURN_TYPE)ret(e->ops->write ? e->ops->write(e->obj, buf, len) : -EBADF);
}

_READ_WRITE_RETURN_TYPE read(int fd, void *buf, size_t len)
{
	const struct fd_entry *e = lookup(fd);

	if (!e)
		return -1;
	return (_READ_WRITE_RETURN_TYPE)ret(e->ops->read ? e->ops->read(e->obj, buf, len) : -EBADF);
}

int close(int fd)
{
	const struct fd_entry *e = lookup(fd);
	int rc = 0;

	if (!e)
		return -1;
	if (e->ops->close)
		rc = e->ops->close(e->obj);
	fd_release(fd);
	return (int)ret(rc);
}

off_t lseek(int fd, off_t off, int whence)
{
	const struct fd_entry *e = lookup(fd);

	if (!e)
		return -1;
	return (off_t)ret(e->ops->lseek ? e->ops->lseek(e->obj, (long)off, whence) : -ESPIPE);
}

int fstat(int fd, struct stat *st)
{
	const struct fd_entry *e = lookup(fd);

	if (!e)
		return -1;
	if (!e->ops->fstat) {
		memset(st, 0, sizeof(*st));
		return 0;
	}
	return (int)ret(e->ops->fstat(e->obj, st));
}

int isatty(int fd)
{
	const struct fd_entry *e = lookup(fd);

	if (!e)
		return 0;
	if (!e->ops->isatty) {
		errno = ENOTTY;
		return 0;
	}
	return 1;
}

int getpid(void)
{
	return APPLIANCE_PID;
}

/* A signal to the appliance ends it the way a shell reports one: status 128 + sig. */
int kill(int pid, int sig)
{
	char msg[64];

	if (pid != APPLIANCE_PID) {
		errno = ESRCH;
		return -1;
	}
	if (sig == 0)
		return 0;
	snprintf(msg, sizeof(msg), "libos: killed by signal %d\n", sig);
	console_write(msg, strlen(msg));
	platform->exit(128 + sig);
}

_Noreturn void _exit(int status)
{
	/* Events sent just before the end reach their peers, as they would by hypercall. */
	evtchn_flush_sends();
	platform->exit(status);
}

int gettimeofday(struct timeval *tv, void *tz)
{
	uint64_t ns = clock_realtime_ns();

	(void)tz;
	tv->tv_sec = (time_t)(ns / 1000000000ull);
	tv->tv_usec = (suseconds_t)(ns % 1000000000ull / 1000);
	return 0;
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
	uint64_t ns;

	if (id == CLOCK_MONOTONIC)
		ns = clock_monotonic_ns();
	else if (id == CLOCK_REALTIME)
		ns = clock_realtime_ns();
	else {
		errno = EINVAL;
		return -1;
	}
	ts->tv_sec = (time_t)(ns / 1000000000ull);
	ts->tv_nsec = (long)(ns % 1000000000ull);
	return 0;
}

int nanosleep(const struct timespec *req, struct timespec *rem)
{
	if (req->tv_sec < 0 || req->tv_nsec < 0 || req->tv_nsec >= 1000000000L) {
		errno = EINVAL;
		return -1;
	}
	sleep_until(clock_monotonic_ns() + (uint64_t)req->tv_sec * 1000000000ull +
		    (uint64_t)req->tv_nsec);
	if (rem)
		rem->tv_sec = rem->tv_nsec = 0;
	return 0;
}

int usleep(useconds_t us)
{
	sleep_until(clock_monotonic_ns() + (uint64_t)us * 1000ull);
	return 0;
}

unsigned sleep(unsigned seconds)
{
	sleep_until(clock_monotonic_ns() + (uint64_t)seconds * 1000000000ull);
	return 0;
}

/* All time is the appliance's: user time is time since boot, in clock() ticks. */
clock_t times(struct tms *t)
{
	clock_t ticks = (clock_t)(clock_monotonic_ns() / (1000000000ull / CLOCKS_PER_SEC));

	t->tms_utime = ticks;
	t->tms_stime = 0;
	t->tms_cutime = 0;
	t->tms_cstime = 0;
	return ticks;
}

/* newlib's init and fini arrays call these; the image has no other constructors. */
void _init(void)
{
}

void _fini(void)
{
}
