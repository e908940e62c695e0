/* SPDX-License-Identifier: MIT */
/*
 * The store (HV_CALL_STORE): a small key-value tree that hv keeps for all its
 * domains, where they find each other's ports and grant refs. A flat list
 * of full paths is enough at this size (a quota of keys per domain); a
 * subtree is every key that starts with its path and a '/'.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv.h"
#include "store.h"

struct store_entry {
	char key[HV_STORE_KEY_MAX + 1];
	domid_t owner; /* who wrote it (STORE_HV: hv), charged against its quota */
	uint32_t len;
	uint8_t *value;
};

void store_init(struct store *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
}

void store_destroy(struct store *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->e[i].value);
	free(s->e);
	pthread_mutex_destroy(&s->lock);
}

static int key_check(const char *key)
{
	size_t len = strnlen(key, HV_STORE_KEY_MAX + 1);

	if (len > HV_STORE_KEY_MAX)
		return -E2BIG;
	if (key[0] != '/' || len < 2 || key[len - 1] == '/')
		return -EINVAL;
	for (size_t i = 1; i < len; i++) {
		char c = key[i];

		if (c == '/' && key[i - 1] == '/')
			return -EINVAL;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("/_.:@-", c)))
			return -EINVAL;
	}
	return 0;
}

/* Whether dom may write key: below its own "/local/domain/<dom>/", and not hv's "name". */
static int may_write(domid_t dom, const char *key)
{
	char own[40];
	int n;

	if (dom == STORE_HV)
		return 0;
	n = snprintf(own, sizeof(own), "/local/domain/%u/", dom);
	if (strncmp(key, own, (size_t)n) != 0 || key[n] == '\0')
		return -EPERM;
	if (strcmp(key + n, "name") == 0)
		return -EPERM;
	return 0;
}

static struct store_entry *find(struct store *s, const char *key)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->e[i].key, key) == 0)
			return &s->e[i];
	return NULL;
}

int store_write(struct store *s, domid_t dom, const char *key, const void *value, size_t len)
{
	struct store_entry *e;
	uint8_t *copy;
	int rc = key_check(key);

	if (rc)
		return rc;
	if (len > HV_STORE_VALUE_MAX)
		return -E2BIG;
	rc = may_write(dom, key);
	if (rc)
		return rc;
	copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, value, len);
	pthread_mutex_lock(&s->lock);
	e = find(s, key);
	if (!e) {
		if (dom != STORE_HV && s->keys[dom] >= HV_STORE_KEYS_PER_DOMAIN) {
			rc = -ENOSPC;
			goto out;
		}
		if (s->n == s->cap) {
			size_t cap = s->cap ? 2 * s->cap : 64;
			struct store_entry *grown = realloc(s->e, cap * sizeof(*grown));

			if (!grown) {
				rc = -ENOMEM;
				goto out;
			}
			s->e = grown;
			s->cap = cap;
		}
		e = &s->e[s->n++];
		memset(e, 0, sizeof(*e));
		strcpy(e->key, key);
		e->owner = dom;
		s->keys[dom]++;
	}
	free(e->value);
	e->value = copy;
	e->len = (uint32_t)len;
	copy = NULL;
out:
	pthread_mutex_unlock(&s->lock);
	free(copy);
	return rc;
}

int store_remove(struct store *s, domid_t dom, const char *key)
{
	size_t len = strlen(key), kept = 0;
	int rc = key_check(key);

	if (rc)
		return rc;
	rc = may_write(dom, key);
	if (rc)
		return rc;
	pthread_mutex_lock(&s->lock);
	rc = -ENOENT;
	for (size_t i = 0; i < s->n; i++) {
		struct store_entry *e = &s->e[i];

		if (strncmp(e->key, key, len) == 0 && (e->key[len] == '\0' || e->key[len] == '/')) {
			s->keys[e->owner]--;
			free(e->value);
			rc = 0;
			continue;
		}
		s->e[kept++] = *e;
	}
	s->n = kept;
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int store_read(struct store *s, const char *key, void *buf, size_t size, size_t *len)
{
	const struct store_entry *e;
	int rc = key_check(key);

	if (rc)
		return rc;
	pthread_mutex_lock(&s->lock);
	e = find(s, key);
	if (!e) {
		rc = -ENOENT;
	} else {
		*len = e->len;
		if (e->len > size)
			rc = -E2BIG;
		else
			memcpy(buf, e->value, e->len);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/*
 * The key from guest memory: up to HV_STORE_KEY_MAX characters and their
 * NUL, copied out once. -E2BIG when no NUL comes in time, -EINVAL when the
 * key leaves guest memory.
 */
static int guest_key(struct hv_vm *vm, uint64_t gpa, char *key)
{
	const char *p = vm_guest_read(vm, gpa, 1);
	uint64_t room;

	if (!p)
		return -EINVAL;
	room = vm->mem_size - gpa;
	if (room > HV_STORE_KEY_MAX + 1)
		room = HV_STORE_KEY_MAX + 1;
	memcpy(key, p, room);
	if (!memchr(key, '\0', room))
		return room == HV_STORE_KEY_MAX + 1 ? -E2BIG : -EINVAL;
	return 0;
}

void store_op(struct hv_vm *vm, void *arg)
{
	struct hv_store_op *op = arg;
	char key[HV_STORE_KEY_MAX + 1];
	size_t len = 0;
	void *buf;

	op->ret = op->tx ? -EINVAL : guest_key(vm, op->key, key); /* no transactions here */
	if (op->ret)
		return;
	switch (op->cmd) {
	case HV_STORE_READ: {
		uint8_t value[HV_STORE_VALUE_MAX];
		size_t size = op->len < HV_STORE_VALUE_MAX ? op->len : HV_STORE_VALUE_MAX;

		op->ret = store_read(vm->host->store, key, value, size, &len);
		if (op->ret && op->ret != -E2BIG)
			break;
		op->len = (uint32_t)len;
		if (op->ret || len == 0)
			break;
		buf = vm_guest_write(vm, op->buf, len);
		if (buf)
			memcpy(buf, value, len);
		else
			op->ret = -EINVAL;
		break;
	}
	case HV_STORE_WRITE:
		if (op->len > HV_STORE_VALUE_MAX) {
			op->ret = -E2BIG;
			break;
		}
		buf = op->len ? vm_guest_read(vm, op->buf, op->len) : key;
		op->ret = buf ? store_write(vm->host->store, vm->domid, key, buf, op->len) : -EINVAL;
		break;
	case HV_STORE_REMOVE:
		op->ret = store_remove(vm->host->store, vm->domid, key);
		break;
	default:
		op->ret = -EINVAL;
		break;
	}
}
