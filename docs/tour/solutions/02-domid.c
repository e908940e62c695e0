/* SPDX-License-Identifier: MIT */
/*
 * Guest test (the tour's exercise 2, docs/tour/02-hypercall.md), as tests/guest/domid.c:
 * the domid hypercall that 02-domid.patch adds answers this domain's id, the one hv also
 * wrote in the boot info. The call is made by hand, as libos would make it.
 * expect-status: 0
 * expect-stdout: domid 1 (the boot info says 1)
 */
#include <stdio.h>

#include "hv_test.h"

int main(void)
{
	static struct hv_domid d; /* 8-byte aligned, as every argument block must be */
	uint32_t want = hv_test_boot_info()->domid;

	hv_test_hypercall(HV_CALL_DOMID, &d);
	printf("domid %llu (the boot info says %u)\n", (unsigned long long)d.domid, want);
	return d.domid == want ? 0 : 1;
}
