/* SPDX-License-Identifier: MIT */
/*
 * Wall-clock time from the CMOS real-time clock (MC146818, ports 0x70/0x71).
 * The RTC counts whole seconds, so the time returned is the middle of the
 * current second: within half a second of the host's clock (QEMU starts
 * the RTC from it, -rtc base=utc by default).
 */
#include <stdint.h>

#include "pvh.h"
#include "pvh_cpu_x86_64.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
/* Registers (MC146818A datasheet, "Address Map"; the century byte is where QEMU keeps it). */
#define RTC_SECONDS 0x00
#define RTC_MINUTES 0x02
#define RTC_HOURS 0x04
#define RTC_DAY 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_STATUS_A 0x0a
#define RTC_STATUS_B 0x0b
#define RTC_CENTURY 0x32
#define STATUS_A_UIP 0x80    /* an update is in progress: the time registers are changing */
#define STATUS_B_24H 0x02
#define STATUS_B_BINARY 0x04 /* otherwise BCD */
#define HOURS_PM 0x80        /* in 12-hour mode */

struct rtc_time {
	unsigned sec, min, hour, day, month, year, century;
};

static unsigned cmos_read(uint8_t reg)
{
	outb(CMOS_INDEX, reg);
	return inb(CMOS_DATA);
}

static void read_once(struct rtc_time *t)
{
	/* An update takes under 2 ms; bound the wait anyway (the RTC may be absent). */
	for (int i = 0; i < 100000 && (cmos_read(RTC_STATUS_A) & STATUS_A_UIP); i++)
		;
	t->sec = cmos_read(RTC_SECONDS);
	t->min = cmos_read(RTC_MINUTES);
	t->hour = cmos_read(RTC_HOURS);
	t->day = cmos_read(RTC_DAY);
	t->month = cmos_read(RTC_MONTH);
	t->year = cmos_read(RTC_YEAR);
	t->century = cmos_read(RTC_CENTURY);
}

static unsigned from_bcd(unsigned v)
{
	return (v >> 4) * 10 + (v & 0x0f);
}

/* Days from 1970-01-01 to the given proleptic Gregorian date (March-based years). */
static int64_t days_since_epoch(int64_t year, unsigned month, unsigned day)
{
	int64_t y = month <= 2 ? year - 1 : year;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t year_of_era = y - era * 400;
	unsigned m = month > 2 ? month - 3 : month + 9; /* March = 0 */
	int64_t day_of_year = (153 * m + 2) / 5 + day - 1;
	int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;

	return era * 146097 + day_of_era - 719468;
}

uint64_t pvh_rtc_read_ns(void)
{
	struct rtc_time a, b;
	unsigned status_b = cmos_read(RTC_STATUS_B);
	int pm;

	/* Two equal reads in a row: no update ran in between. */
	read_once(&b);
	do {
		a = b;
		read_once(&b);
	} while (a.sec != b.sec || a.min != b.min || a.hour != b.hour || a.day != b.day ||
		 a.month != b.month || a.year != b.year || a.century != b.century);

	pm = !(status_b & STATUS_B_24H) && (a.hour & HOURS_PM);
	a.hour &= ~HOURS_PM;
	if (!(status_b & STATUS_B_BINARY)) {
		a.sec = from_bcd(a.sec);
		a.min = from_bcd(a.min);
		a.hour = from_bcd(a.hour);
		a.day = from_bcd(a.day);
		a.month = from_bcd(a.month);
		a.year = from_bcd(a.year);
		a.century = from_bcd(a.century);
	}
	if (!(status_b & STATUS_B_24H))
		a.hour = a.hour % 12 + (pm ? 12 : 0); /* 12 AM is 0, 12 PM is 12 */
	if (a.century < 19 || a.century > 99)
		a.century = 20; /* no century byte: assume this one */

	int64_t days = days_since_epoch(a.century * 100 + a.year, a.month, a.day);
	int64_t secs = ((days * 24 + a.hour) * 60 + a.min) * 60 + a.sec;

	return (uint64_t)secs * 1000000000ull + 500000000ull;
}
