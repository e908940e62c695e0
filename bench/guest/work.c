/* SPDX-License-Identifier: MIT */
/* The work kernels as a guest image: the same source as the native bench/work. */
#include "../work.c"
