/* SPDX-License-Identifier: MIT */
/*
 * hcall: the costs of the guest's two ways to reach hv, timed from inside the guest.
 *   a hypercall round trip: HV_CALL_WALLCLOCK, the cheapest call (an exit to hv's user space)
 *   a doorbell: a write to a virtio QueueNotify register that hv registered as an ioeventfd
 *               (needs a --disk; the queue has nothing new, so the device only wakes and looks)
 * Prints hcall_ns= and doorbell_ns= (per operation, the mean over N). Usage: hcall.img [N]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "hv_abi.h"
#include "libos.h"
#include "virtio.h"

int main(int argc, char **argv)
{
	const struct hv_boot_info *bi = (const void *)0xfb000; /* hv's boot-info address */
	long n = argc > 1 ? atol(argv[1]) : 10000;
	struct hv_wallclock w __attribute__((aligned(8)));
	uint64_t t0, t1;

	if (bi->magic != HV_BOOT_MAGIC) {
		puts("hcall: not on hv");
		return 1;
	}
	t0 = clock_monotonic_ns();
	for (long i = 0; i < n; i++)
		__asm__ volatile("outl %0, %w1"
				 :
				 : "a"((uint32_t)(uintptr_t)&w), "Nd"((uint16_t)HV_PORT(HV_CALL_WALLCLOCK))
				 : "memory");
	t1 = clock_monotonic_ns();
	printf("hcall_ns=%.1f calls=%ld\n", (double)(t1 - t0) / (double)n, n);
	if (bi->nr_devices == 0)
		return 0;
	volatile uint32_t *notify =
		(volatile uint32_t *)(uintptr_t)(bi->devices[0].gpa + VIRTIO_MMIO_QUEUE_NOTIFY);
	t0 = clock_monotonic_ns();
	for (long i = 0; i < n; i++)
		*notify = 0;
	t1 = clock_monotonic_ns();
	printf("doorbell_ns=%.1f doorbells=%ld\n", (double)(t1 - t0) / (double)n, n);
	return 0;
}
