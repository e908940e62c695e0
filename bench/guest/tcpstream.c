/* SPDX-License-Identifier: MIT */
/* The TCP stream sink as a guest image: the same source as the native bench/tcpstream. */
#include "../tcpstream.c"
