/* SPDX-License-Identifier: MIT */
/* hv's own confinement once its guests are set up (sandbox.c). */
#ifndef HV_SANDBOX_H
#define HV_SANDBOX_H

#include <stddef.h>

struct hv_backend;

#define HV_SANDBOX_UID 65534 /* nobody: the user hv becomes when started as root */

/* As root, become HV_SANDBOX_UID; else nothing. 0, or -1 with the reason in err. */
int sandbox_drop_root(char *err, size_t len);

/*
 * Install the filter for backend be on every thread of hv. 0, or -1 with
 * the reason in err: then hv must not run its guests.
 */
int sandbox_filter(const struct hv_backend *be, char *err, size_t len);

/* The filter's length in BPF instructions. */
unsigned sandbox_filter_size(const struct hv_backend *be);

#endif /* HV_SANDBOX_H */
