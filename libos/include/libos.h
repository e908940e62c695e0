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

/* Exit status of an appliance that called panic(). */
#define LIBOS_PANIC_STATUS 255

/* Nanoseconds since boot, from the TSC: monotonic, no exit. */
uint64_t clock_monotonic_ns(void);

/* Nanoseconds since the Unix epoch. The first call asks the platform once. */
uint64_t clock_realtime_ns(void);

/* The TSC frequency the clock runs on, in Hz. */
uint64_t clock_tsc_hz(void);

/* Sleep until the monotonic clock reaches deadline_ns. */
void sleep_until(uint64_t deadline_ns);

/* Write len bytes to the console, unbuffered. */
void console_write(const char *buf, size_t len);

/*
 * Report a broken invariant with the values that broke it, print the
 * frame-pointer backtrace, and end the appliance with LIBOS_PANIC_STATUS.
 */
_Noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* LIBOS_H */
