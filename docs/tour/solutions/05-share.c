/* SPDX-License-Identifier: MIT */
/*
 * The tour's exercise 5 (docs/tour/05-grants.md), as apps/share/share.c: two domains
 * share one page, in this order:
 *
 *   build/hv build/apps/share.img granter :: build/apps/share.img mapper
 *
 * The granter (domain 1) writes a greeting in a page of its own, grants the page to
 * domain 2 and publishes the ref in the store. The mapper maps the ref, prints the
 * greeting and writes a reply into the same page. The granter sees the reply appear in its
 * own memory and tries to take the page back while it is still mapped, which must fail
 * with -EBUSY; it says so in the page, the mapper unmaps, and the granter's next try
 * succeeds. Each prints SUCCESS and exits 0, or says what failed and exits 1.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gnttab.h"
#include "libos.h"
#include "store.h"

#define REF_KEY "data/share/ref"
#define WAIT_NS 5000000000ull
#define MS	1000000ull

/* The shared page: each side writes its own fields, then raises its flag (release). */
struct shared_page {
	char greeting[64];  /* the granter's */
	char reply[64];	    /* the mapper's */
	uint32_t replied;   /* the mapper's: reply is complete */
	uint32_t may_unmap; /* the granter's: its end of access was refused while mapped */
};

static union {
	struct shared_page s;
	char bytes[4096];
} page __attribute__((aligned(4096)));

static int fail(const char *what, int rc)
{
	printf("%s: %s (%d)\n", what, strerror(-rc), rc);
	return 1;
}

/* Sleep in 1 ms steps until *flag is set (acquire: what was written before it is seen). */
static int wait_flag(const uint32_t *flag, const char *what)
{
	uint64_t deadline = clock_monotonic_ns() + WAIT_NS;

	while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE)) {
		if (clock_monotonic_ns() > deadline)
			return fail(what, -ETIMEDOUT);
		sleep_until(clock_monotonic_ns() + MS);
	}
	return 0;
}

static int granter(void)
{
	struct shared_page *p = &page.s;
	uint64_t deadline = clock_monotonic_ns() + WAIT_NS;
	char key[HV_STORE_KEY_MAX + 1], ref_text[16];
	int ref, rc;

	strcpy(p->greeting, "hello from domain 1");
	ref = gnttab_grant_access(2, p, 0);
	if (ref < 0)
		return fail("granter: grant", ref);
	store_domain_path(key, sizeof(key), libos_domid(), REF_KEY);
	snprintf(ref_text, sizeof(ref_text), "%d", ref);
	rc = store_write(key, ref_text);
	if (rc)
		return fail("granter: store", rc);
	printf("granter: page 0x%llx granted to domain 2 as ref %d\n",
	       (unsigned long long)(uintptr_t)p, ref);
	if (wait_flag(&p->replied, "granter: no reply"))
		return 1;
	printf("granter: my own page now says \"%s\"\n", p->reply);
	/* hv pins the entry while it is mapped: the end of access must be refused. */
	rc = gnttab_end_access((grant_ref_t)ref);
	printf("granter: end of access while domain 2 maps the page: %d (%s)\n", rc,
	       rc ? strerror(-rc) : "ended");
	if (rc != -EBUSY)
		return fail("granter: end of access while mapped", rc);
	__atomic_store_n(&p->may_unmap, 1, __ATOMIC_RELEASE);
	while ((rc = gnttab_end_access((grant_ref_t)ref)) == -EBUSY) {
		if (clock_monotonic_ns() > deadline)
			return fail("granter: end of access", rc);
		sleep_until(clock_monotonic_ns() + MS);
	}
	if (rc)
		return fail("granter: end of access", rc);
	puts("granter: access ended once domain 2 unmapped");
	puts("SUCCESS");
	return 0;
}

static int mapper(void)
{
	char key[HV_STORE_KEY_MAX + 1], ref_text[16];
	struct shared_page *p;
	void *addr;
	int handle, rc;

	store_domain_path(key, sizeof(key), 1, REF_KEY);
	rc = store_wait(key, ref_text, sizeof(ref_text), clock_monotonic_ns() + WAIT_NS);
	if (rc < 0)
		return fail("mapper: no ref in the store", rc);
	handle = gnttab_map(1, (grant_ref_t)atoi(ref_text), 0, &addr);
	if (handle < 0)
		return fail("mapper: map", handle);
	p = addr;
	printf("mapper: ref %s of domain 1 is at 0x%llx here: \"%s\"\n", ref_text,
	       (unsigned long long)(uintptr_t)addr, p->greeting);
	strcpy(p->reply, "reply from domain 2");
	__atomic_store_n(&p->replied, 1, __ATOMIC_RELEASE);
	if (wait_flag(&p->may_unmap, "mapper: the granter never tried to end access"))
		return 1;
	rc = gnttab_unmap(handle);
	if (rc)
		return fail("mapper: unmap", rc);
	puts("SUCCESS");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "granter") == 0 && libos_domid() == 1)
		return granter();
	if (argc == 2 && strcmp(argv[1], "mapper") == 0 && libos_domid() == 2)
		return mapper();
	puts("usage: hv share.img granter :: share.img mapper (domain 1 grants, domain 2 maps)");
	return 2;
}
