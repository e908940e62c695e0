/* SPDX-License-Identifier: MIT */
/*
 * The shared-info page on QEMU: the platform owns it (hv and Xen provide
 * theirs) and its interrupt handlers raise event-channel ports in it, with
 * Xen's 2-level rules, so libos's event code is the same on every platform.
 * The page itself is in pvh_entry.S's NOLOAD area, not in .bss, so that
 * clearing .bss on hv does not touch a page hv never uses.
 */
#include <stdint.h>
#include <string.h>

#include "hv_abi.h"
#include "pvh.h"

void pvh_events_init(void)
{
	memset(&pvh_shared_info, 0, sizeof(pvh_shared_info));
}

/*
 * As Xen's evtchn_2l_set_pending: set the port's pending bit; if it was
 * clear and the port is not masked, set its selector bit and, if that was
 * clear, the upcall flag. block() sees the flag and returns.
 */
void pvh_event_raise(uint32_t port)
{
	struct hv_vcpu_info *v = &pvh_shared_info.vcpu_info[0];
	uint64_t bit = 1ull << (port % 64);
	unsigned word = port / 64;

	if (word >= HV_EVTCHN_WORDS)
		return;
	if (__atomic_fetch_or(&pvh_shared_info.evtchn_pending[word], bit, __ATOMIC_SEQ_CST) & bit)
		return;
	if (__atomic_load_n(&pvh_shared_info.evtchn_mask[word], __ATOMIC_SEQ_CST) & bit)
		return;
	if (__atomic_fetch_or(&v->evtchn_pending_sel, 1ull << word, __ATOMIC_SEQ_CST) &
	    (1ull << word))
		return;
	__atomic_store_n(&v->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST);
}
