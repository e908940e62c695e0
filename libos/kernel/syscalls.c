/* SPDX-License-Identifier: MIT */
/*
 * The system calls newlib expects of its OS, for a single-purpose
 * appliance: a console on descriptors 0-2, no files yet, one process.
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

#include "kernel.h"
#include "libos.h"

#define APPLIANCE_PID 1

static int is_console(int fd)
{
	return fd >= 0 && fd <= 2;
}

_READ_WRITE_RETURN_TYPE write(int fd, const void *buf, size_t len)
{
	if (!is_console(fd) || fd == 0) {
		errno = EBADF;
		return -1;
	}
	console_write(buf, len);
	return (_READ_WRITE_RETURN_TYPE)len;
}

/* The console has no input: stdin is at its end. */
_READ_WRITE_RETURN_TYPE read(int fd, void *buf, size_t len)
{
	(void)buf;
	(void)len;
	if (fd != 0) {
		errno = EBADF;
		return -1;
	}
	return 0;
}

int open(const char *path, int flags, ...)
{
	(void)path;
	(void)flags;
	errno = ENOENT;
	return -1;
}

int close(int fd)
{
	if (!is_console(fd)) {
		errno = EBADF;
		return -1;
	}
	return 0;
}

off_t lseek(int fd, off_t off, int whence)
{
	(void)off;
	(void)whence;
	errno = is_console(fd) ? ESPIPE : EBADF;
	return -1;
}

int fstat(int fd, struct stat *st)
{
	if (!is_console(fd)) {
		errno = EBADF;
		return -1;
	}
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFCHR | 0620;
	return 0;
}

int isatty(int fd)
{
	if (!is_console(fd)) {
		errno = EBADF;
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
