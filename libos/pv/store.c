/* SPDX-License-Identifier: MIT */
/* The store, the guest side: HV_CALL_STORE for reading, writing and removing keys, and waiting. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kernel.h"
#include "libos.h"
#include "pv.h"
#include "store.h"

/*
 * The key goes to hv from a copy of ours, checked for length here: a key
 * hv would refuse costs no exit, and hv never reads past the ABI's limit.
 */
static int store_op(enum hv_storeop cmd, const char *key, void *buf, size_t len, size_t *out_len)
{
	_Alignas(8) char k[HV_STORE_KEY_MAX + 1];
	struct hv_store_op op = {.cmd = cmd, .key = (uintptr_t)k, .buf = (uintptr_t)buf};
	size_t n = strnlen(key, sizeof(k));
	int rc;

	if (n > HV_STORE_KEY_MAX)
		return -ENAMETOOLONG;
	if (cmd == HV_STORE_READ && len > HV_STORE_VALUE_MAX)
		len = HV_STORE_VALUE_MAX; /* no value is longer */
	memcpy(k, key, n + 1);
	op.len = (uint32_t)len;
	rc = pv_call(HV_CALL_STORE, &op);
	if (rc)
		return rc;
	if (op.ret)
		return op.ret;
	if (out_len)
		*out_len = op.len;
	return 0;
}

int store_read(const char *key, char *buf, size_t size)
{
	size_t len = 0;
	int rc;

	if (size == 0)
		return -ERANGE;
	rc = store_op(HV_STORE_READ, key, buf, size - 1, &len);
	/* A value longer than the buffer: hv may refuse it or say its whole length. */
	if (rc == -E2BIG || (rc == 0 && len > size - 1))
		return -ERANGE;
	if (rc)
		return rc;
	buf[len] = '\0';
	return (int)len;
}

int store_write(const char *key, const char *value)
{
	size_t len = strlen(value);

	if (len > HV_STORE_VALUE_MAX)
		return -E2BIG;
	return store_op(HV_STORE_WRITE, key, (void *)value, len, NULL);
}

int store_remove(const char *key)
{
	return store_op(HV_STORE_REMOVE, key, NULL, 0, NULL);
}

int store_wait(const char *key, char *buf, size_t size, uint64_t deadline_ns)
{
	for (;;) {
		int rc = store_read(key, buf, size);
		uint64_t now;

		if (rc != -ENOENT)
			return rc;
		now = clock_monotonic_ns();
		if (now >= deadline_ns)
			return -ETIMEDOUT;
		sleep_until(deadline_ns - now > STORE_POLL_NS ? now + STORE_POLL_NS : deadline_ns);
	}
}

int store_domain_path(char *buf, size_t size, domid_t dom, const char *rel)
{
	int n = snprintf(buf, size, "/local/domain/%u/%s", dom, rel);

	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return n;
}
