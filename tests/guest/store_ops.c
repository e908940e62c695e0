/* SPDX-License-Identifier: MIT */
/*
 * libos's store calls in one domain: a value written under the domain's own
 * path reads back, a missing key is -ENOENT, a removed key is gone. With the
 * argument "xen" (a domU of Xen, tests/xen-domu.sh) watches and
 * transactions must work: a watch fires once when set and again for a write
 * below it; a committed transaction's writes appear together, an aborted
 * one's never; a transaction that lost a race ends with -EAGAIN. Without it
 * (hv, whose store has neither) each of those calls must be -EINVAL.
 * Each check prints "ok - ..." or "FAIL - ..."; SUCCESS and 0 when all pass.
 * expect-status: 0
 * expect-stdout: ok - watches are refused: -EINVAL
 * expect-stdout: SUCCESS
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "libos.h"
#include "store.h"

#define WAIT_NS (5ull * 1000000000)

static int failures;
static char base[128];

static void check(int ok, const char *what, long got)
{
	if (ok)
		printf("ok - %s\n", what);
	else {
		printf("FAIL - %s (got %ld)\n", what, got);
		failures++;
	}
}

/* base/rel into a static buffer. */
static const char *key(const char *rel)
{
	static char k[2][192];
	static int i;

	i ^= 1;
	snprintf(k[i], sizeof(k[i]), "%s/%s", base, rel);
	return k[i];
}

static void basic_checks(void)
{
	char v[64];
	int rc;

	rc = store_write(key("a"), "one");
	check(rc == 0, "a write under our own path", rc);
	rc = store_read(key("a"), v, sizeof(v));
	check(rc == 3 && strcmp(v, "one") == 0, "it reads back", rc);
	rc = store_read(key("missing"), v, sizeof(v));
	check(rc == -ENOENT, "a missing key is -ENOENT", rc);
	rc = store_read(key("a"), v, 2);
	check(rc == -ERANGE, "a value longer than the buffer is -ERANGE", rc);
	rc = store_remove(key("a"));
	check(rc == 0 && store_read(key("a"), v, sizeof(v)) == -ENOENT, "a removed key is gone", rc);
}

static void watch_checks(void)
{
	char path[192];
	int rc;

	store_write(key("w"), "");
	rc = store_watch(key("w"));
	check(rc == 0, "a watch is set", rc);
	rc = store_watch_wait(path, sizeof(path), clock_monotonic_ns() + WAIT_NS);
	check(rc > 0 && strcmp(path, key("w")) == 0, "it fires once when set", rc);
	store_write(key("w/x"), "1");
	rc = store_watch_wait(path, sizeof(path), clock_monotonic_ns() + WAIT_NS);
	check(rc > 0 && strcmp(path, key("w/x")) == 0, "and again for a write below it", rc);
	rc = store_unwatch(key("w"));
	check(rc == 0, "the watch is removed", rc);
	store_write(key("w/y"), "2");
	rc = store_watch_wait(path, sizeof(path), clock_monotonic_ns() + 200000000ull);
	check(rc == -ETIMEDOUT, "no event after it is removed", rc);
}

static void transaction_checks(void)
{
	uint32_t tx;
	char v[64];
	int rc;

	rc = store_transaction_start(&tx);
	check(rc == 0 && tx != 0, "a transaction starts", rc);
	store_tx_write(tx, key("t1"), "a");
	store_tx_write(tx, key("t2"), "b");
	check(store_read(key("t1"), v, sizeof(v)) == -ENOENT, "its writes are unseen before the end",
	      0);
	rc = store_transaction_end(tx, 1);
	check(rc == 0 && store_read(key("t1"), v, sizeof(v)) == 1 &&
		      store_read(key("t2"), v, sizeof(v)) == 1,
	      "committed: both writes appear", rc);

	store_transaction_start(&tx);
	store_tx_write(tx, key("t3"), "c");
	rc = store_transaction_end(tx, 0);
	check(rc == 0 && store_read(key("t3"), v, sizeof(v)) == -ENOENT,
	      "aborted: its write never appears", rc);

	store_transaction_start(&tx);
	store_tx_read(tx, key("t1"), v, sizeof(v));
	store_write(key("t1"), "changed outside");
	store_tx_write(tx, key("t1"), "inside");
	rc = store_transaction_end(tx, 1);
	check(rc == -EAGAIN, "a transaction that lost a race ends with -EAGAIN", rc);
}

static void refused_checks(void)
{
	char path[64];
	uint32_t tx;
	int rc;

	rc = store_watch(key("w"));
	check(rc == -EINVAL, "watches are refused: -EINVAL", rc);
	rc = store_watch_wait(path, sizeof(path), clock_monotonic_ns() + WAIT_NS);
	check(rc == -EINVAL, "waiting for a watch event is refused: -EINVAL", rc);
	rc = store_transaction_start(&tx);
	check(rc == -EINVAL, "transactions are refused: -EINVAL", rc);
	rc = store_tx_write(1, key("t"), "x");
	check(rc == -EINVAL, "a write within a transaction is refused: -EINVAL", rc);
}

int main(int argc, char **argv)
{
	int xen = argc > 1 && strcmp(argv[1], "xen") == 0;

	store_domain_path(base, sizeof(base), libos_domid(), "data/store_ops");
	printf("store_ops: domain %u, keys under %s\n", libos_domid(), base);
	basic_checks();
	if (xen) {
		watch_checks();
		transaction_checks();
	} else {
		refused_checks();
	}
	if (failures) {
		printf("FAILURE: %d checks failed\n", failures);
		return 1;
	}
	printf("SUCCESS\n");
	return 0;
}
