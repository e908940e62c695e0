/* SPDX-License-Identifier: MIT */
/*
 * Unit test of hv's store: keys' syntax and sizes, who may write where, the
 * name hv writes, subtree removal, reading into a short buffer, the quota.
 */
#include <errno.h>

#include "check.h"
#include "hv.h"
#include "store.h"

static struct store s;

static void test_permissions(void)
{
	char buf[64];
	size_t len = 0;

	store_init(&s);
	CHECK_EQ(store_write(&s, STORE_HV, "/local/domain/1/name", "ping", 4), 0);
	CHECK_EQ(store_read(&s, "/local/domain/1/name", buf, sizeof(buf), &len), 0);
	CHECK_EQ(len, 4);
	CHECK(memcmp(buf, "ping", 4) == 0);
	/* Anyone reads; a domain writes only below its own path, and not its name. */
	CHECK_EQ(store_write(&s, 1, "/local/domain/1/name", "pong", 4), -EPERM);
	CHECK_EQ(store_remove(&s, 1, "/local/domain/1/name"), -EPERM);
	CHECK_EQ(store_write(&s, 1, "/local/domain/1/port", "5", 1), 0);
	CHECK_EQ(store_write(&s, 2, "/local/domain/1/port", "6", 1), -EPERM);
	CHECK_EQ(store_remove(&s, 2, "/local/domain/1/port"), -EPERM);
	CHECK_EQ(store_write(&s, 1, "/local/domain/1", "x", 1), -EPERM);
	CHECK_EQ(store_write(&s, 1, "/local/domain/12/x", "x", 1), -EPERM);
	CHECK_EQ(store_write(&s, 12, "/local/domain/1/x", "x", 1), -EPERM);
	CHECK_EQ(store_write(&s, 1, "/local/domain/10/x", "x", 1), -EPERM);
	CHECK_EQ(store_write(&s, 1, "/x", "x", 1), -EPERM);
	CHECK_EQ(store_read(&s, "/local/domain/1/port", buf, sizeof(buf), &len), 0);
	CHECK_EQ(buf[0], '5');
	CHECK_EQ(store_read(&s, "/local/domain/1/nothing", buf, sizeof(buf), &len), -ENOENT);
	store_destroy(&s);
}

static void test_keys(void)
{
	char key[HV_STORE_KEY_MAX + 2], value[HV_STORE_VALUE_MAX + 1] = { 0 }, buf[8];
	size_t len = 0;

	store_init(&s);
	CHECK_EQ(store_write(&s, 1, "relative", "x", 1), -EINVAL);
	CHECK_EQ(store_write(&s, 1, "/", "x", 1), -EINVAL);
	CHECK_EQ(store_write(&s, 1, "/local/domain/1/", "x", 1), -EINVAL);
	CHECK_EQ(store_write(&s, 1, "/local//domain/1/x", "x", 1), -EINVAL);
	CHECK_EQ(store_write(&s, 1, "/local/domain/1/a b", "x", 1), -EINVAL);
	CHECK_EQ(store_write(&s, 1, "/local/domain/1/\x7f", "x", 1), -EINVAL);
	CHECK_EQ(store_write(&s, 1, "/local/domain/1/ok-_.:@9", "x", 1), 0);
	memset(key, 'k', sizeof(key));
	memcpy(key, "/local/domain/1/", 16);
	key[HV_STORE_KEY_MAX] = '\0';
	CHECK_EQ(store_write(&s, 1, key, "x", 1), 0);
	key[HV_STORE_KEY_MAX] = 'k';
	key[HV_STORE_KEY_MAX + 1] = '\0';
	CHECK_EQ(store_write(&s, 1, key, "x", 1), -E2BIG);
	CHECK_EQ(store_write(&s, 1, "/local/domain/1/v", value, HV_STORE_VALUE_MAX), 0);
	CHECK_EQ(store_write(&s, 1, "/local/domain/1/v", value, HV_STORE_VALUE_MAX + 1), -E2BIG);
	CHECK_EQ(store_read(&s, "/local/domain/1/v", buf, sizeof(buf), &len), -E2BIG);
	CHECK_EQ(len, HV_STORE_VALUE_MAX);
	CHECK_EQ(store_write(&s, 1, "/local/domain/1/empty", "", 0), 0);
	CHECK_EQ(store_read(&s, "/local/domain/1/empty", buf, 0, &len), 0);
	CHECK_EQ(len, 0);
	store_destroy(&s);
}

static void test_remove_subtree(void)
{
	char buf[8];
	size_t len;

	store_init(&s);
	CHECK_EQ(store_write(&s, 2, "/local/domain/2/a", "1", 1), 0);
	CHECK_EQ(store_write(&s, 2, "/local/domain/2/a/b", "2", 1), 0);
	CHECK_EQ(store_write(&s, 2, "/local/domain/2/a/b/c", "3", 1), 0);
	CHECK_EQ(store_write(&s, 2, "/local/domain/2/ab", "4", 1), 0);
	CHECK_EQ(store_remove(&s, 2, "/local/domain/2/a"), 0);
	CHECK_EQ(store_read(&s, "/local/domain/2/a", buf, sizeof(buf), &len), -ENOENT);
	CHECK_EQ(store_read(&s, "/local/domain/2/a/b/c", buf, sizeof(buf), &len), -ENOENT);
	CHECK_EQ(store_read(&s, "/local/domain/2/ab", buf, sizeof(buf), &len), 0);
	CHECK_EQ(store_remove(&s, 2, "/local/domain/2/a"), -ENOENT);
	/* A subtree whose top was never written is removed too. */
	CHECK_EQ(store_write(&s, 2, "/local/domain/2/t/x", "1", 1), 0);
	CHECK_EQ(store_remove(&s, 2, "/local/domain/2/t"), 0);
	CHECK_EQ(s.keys[2], 1);
	store_destroy(&s);
}

static void test_quota(void)
{
	char key[64];
	int rc = 0, n = 0;

	store_init(&s);
	for (; rc == 0; n++) {
		snprintf(key, sizeof(key), "/local/domain/3/k%d", n);
		rc = store_write(&s, 3, key, "x", 1);
	}
	CHECK_EQ(rc, -ENOSPC);
	CHECK_EQ(n - 1, HV_STORE_KEYS_PER_DOMAIN);
	/* Rewriting a key it has costs nothing; another domain is not affected; hv never. */
	CHECK_EQ(store_write(&s, 3, "/local/domain/3/k0", "y", 1), 0);
	CHECK_EQ(store_write(&s, 4, "/local/domain/4/k", "y", 1), 0);
	CHECK_EQ(store_write(&s, STORE_HV, "/local/domain/3/name", "n", 1), 0);
	CHECK_EQ(store_remove(&s, 3, "/local/domain/3/k0"), 0);
	CHECK_EQ(store_write(&s, 3, "/local/domain/3/again", "x", 1), 0);
	store_destroy(&s);
}

int main(void)
{
	test_permissions();
	test_keys();
	test_remove_subtree();
	test_quota();
	return check_finish("test_store");
}
