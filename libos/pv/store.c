/* SPDX-License-Identifier: MIT */
/* The store, the guest side: HV_CALL_STORE for reading, writing and removing keys, and waiting. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kernel.h"
#include "libos.h"
#include "pv.h"
#include "store.h"

/* Named for the linker only: Xen's platform reaches it through a weak reference (pv.h). */
static void (*const client)(struct hv_store_op *op) __attribute__((used)) = xen_store_op;

/*
 * The key goes to hv from a copy of ours, checked for length here: a key
 * hv would refuse costs no exit, and hv never reads past the ABI's limit.
 */
static int store_op(enum hv_storeop cmd, uint32_t tx, const char *key, void *buf, size_t len,
		    size_t *out_len)
{
	_Alignas(8) char k[HV_STORE_KEY_MAX + 1];
	struct hv_store_op op = {.cmd = cmd, .key = (uintptr_t)k, .buf = (uintptr_t)buf, .tx = tx};
	size_t n = strnlen(key, sizeof(k));
	int rc;

	if (n > HV_STORE_KEY_MAX)
		return -ENAMETOOLONG;
	if ((cmd == HV_STORE_READ || cmd == HV_STORE_WATCH_NEXT) && len > HV_STORE_VALUE_MAX)
		len = HV_STORE_VALUE_MAX; /* no value is longer */
	memcpy(k, key, n + 1);
	op.len = (uint32_t)len;
	rc = pv_call(HV_CALL_STORE, &op);
	if (rc)
		return rc;
	if (op.ret)
		return op.ret;
	if (out_len)
		*out_len = cmd == HV_STORE_TX_START ? op.tx : op.len;
	return 0;
}

/* A READ or WATCH_NEXT into buf as a string. */
static int read_string(enum hv_storeop cmd, uint32_t tx, const char *key, char *buf, size_t size)
{
	size_t len = 0;
	int rc;

	if (size == 0)
		return -ERANGE;
	rc = store_op(cmd, tx, key, buf, size - 1, &len);
	/* A value longer than the buffer: hv may refuse it or say its whole length. */
	if (rc == -E2BIG || (rc == 0 && len > size - 1))
		return -ERANGE;
	if (rc)
		return rc;
	buf[len] = '\0';
	return (int)len;
}

int store_tx_read(uint32_t tx, const char *key, char *buf, size_t size)
{
	return read_string(HV_STORE_READ, tx, key, buf, size);
}

int store_read(const char *key, char *buf, size_t size)
{
	return store_tx_read(0, key, buf, size);
}

int store_tx_write(uint32_t tx, const char *key, const char *value)
{
	size_t len = strlen(value);

	if (len > HV_STORE_VALUE_MAX)
		return -E2BIG;
	return store_op(HV_STORE_WRITE, tx, key, (void *)value, len, NULL);
}

int store_write(const char *key, const char *value)
{
	return store_tx_write(0, key, value);
}

int store_tx_remove(uint32_t tx, const char *key)
{
	return store_op(HV_STORE_REMOVE, tx, key, NULL, 0, NULL);
}

int store_remove(const char *key)
{
	return store_tx_remove(0, key);
}

int store_watch(const char *key)
{
	return store_op(HV_STORE_WATCH, 0, key, NULL, 0, NULL);
}

int store_unwatch(const char *key)
{
	return store_op(HV_STORE_UNWATCH, 0, key, NULL, 0, NULL);
}

int store_watch_wait(char *buf, size_t size, uint64_t deadline_ns)
{
	for (;;) {
		int rc = read_string(HV_STORE_WATCH_NEXT, 0, "", buf, size);
		uint64_t now;

		if (rc != -EAGAIN)
			return rc;
		now = clock_monotonic_ns();
		if (now >= deadline_ns)
			return -ETIMEDOUT;
		sleep_until(deadline_ns - now > STORE_POLL_NS ? now + STORE_POLL_NS : deadline_ns);
	}
}

int store_transaction_start(uint32_t *tx)
{
	size_t id = 0;
	int rc = store_op(HV_STORE_TX_START, 0, "", NULL, 0, &id);

	if (rc == 0)
		*tx = (uint32_t)id;
	return rc;
}

int store_transaction_end(uint32_t tx, int commit)
{
	return store_op(HV_STORE_TX_END, tx, "", NULL, commit ? 1 : 0, NULL);
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
