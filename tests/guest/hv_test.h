/* SPDX-License-Identifier: MIT */
/*
 * What guest tests that speak hv's ABI by hand share: the checks that end a test with
 * FAILURE and status 1, hv's boot info, a raw hypercall and the raw block call (so a test
 * sees exactly what hv answers, with no libos code in between).
 */
#ifndef TESTS_GUEST_HV_TEST_H
#define TESTS_GUEST_HV_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "hv_abi.h"

/* hv.h's HV_L_BOOT_INFO: where hv leaves the boot info, mapped read-only. */
#define HV_TEST_BOOT_INFO 0xfb000u

/* A failed check: say which and where, end the test with status 1. */
#define EXPECT(cond)                                                                       \
	do {                                                                               \
		if (!(cond)) {                                                             \
			printf("FAILURE: %s:%d: %s\n", __FILE__, __LINE__, #cond);         \
			exit(1);                                                           \
		}                                                                          \
	} while (0)

/* A check of a call's result, showing it. */
#define EXPECT_EQ(got, want)                                                               \
	do {                                                                               \
		long long g_ = (long long)(got), w_ = (long long)(want);                   \
		if (g_ != w_) {                                                            \
			printf("FAILURE: %s:%d: %s is %lld, expected %s (%lld)\n", __FILE__,  \
			       __LINE__, #got, g_, #want, w_);                             \
			exit(1);                                                           \
		}                                                                          \
	} while (0)

/* The boot info, its magic and version checked: a move of it is a clear failure. */
static inline const struct hv_boot_info *hv_test_boot_info(void)
{
	const struct hv_boot_info *bi = (const void *)(uintptr_t)HV_TEST_BOOT_INFO;

	if (bi->magic != HV_BOOT_MAGIC || bi->abi_version != HV_ABI_VERSION) {
		printf("FAILURE: no hv boot info at 0x%x\n", HV_TEST_BOOT_INFO);
		exit(1);
	}
	return bi;
}

static inline void hv_test_hypercall(enum hv_call call, void *arg)
{
	__asm__ volatile("outl %0, %w1"
			 :
			 : "a"((uint32_t)(uintptr_t)arg), "Nd"((uint16_t)HV_PORT(call))
			 : "memory");
}

/* Whether the event-channel port is pending in the shared-info page. */
static inline int port_pending(uint32_t port)
{
	const struct hv_shared_info *si =
		(const void *)(uintptr_t)hv_test_boot_info()->shared_info;

	return (__atomic_load_n(&si->evtchn_pending[port / 64], __ATOMIC_SEQ_CST) >> (port % 64)) &
	       1;
}

/* The block hypercall: HV_BLOCK_EVENT or HV_BLOCK_DEADLINE. */
static inline int64_t hv_test_block(uint64_t deadline_ns)
{
	static struct hv_block b;

	b.deadline_ns = deadline_ns;
	b.ret = -1;
	hv_test_hypercall(HV_CALL_BLOCK, &b);
	return b.ret;
}

#endif /* TESTS_GUEST_HV_TEST_H */
