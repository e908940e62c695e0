/* SPDX-License-Identifier: MIT */
/*
 * Guest test: the guest's wall clock agrees with the host's (passed as argv[1]) and moves forward.
 * It may be 2 s behind and 2 s ahead, or argv[2] s ahead (the host's time was taken before a
 * slow boot: tests/integration/xen.sh then checks the other end itself).
 * args: @HOST_TIME@
 * expect-status: 0
 * expect-stdout: SUCCESS
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

int main(int argc, char **argv)
{
	struct timeval a, b;
	struct timespec m;
	long host = argc > 1 ? atol(argv[1]) : 0, ahead = argc > 2 ? atol(argv[2]) : 2;

	gettimeofday(&a, NULL);
	clock_gettime(CLOCK_REALTIME, &m);
	gettimeofday(&b, NULL);
	long diff = (long)a.tv_sec - host;
	int ok = diff >= -2 && diff <= ahead &&
		 (b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_usec >= a.tv_usec)) &&
		 m.tv_sec >= a.tv_sec && m.tv_sec <= b.tv_sec;
	printf("host %ld, guest %ld.%06ld (diff %ld s)\n", host, (long)a.tv_sec, (long)a.tv_usec, diff);
	puts(ok ? "SUCCESS" : "FAILURE");
	return !ok;
}
