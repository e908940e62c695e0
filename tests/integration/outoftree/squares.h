/* SPDX-License-Identifier: MIT */
/* The function squares.c defines, for sum_main.c. */
#ifndef SQUARES_H
#define SQUARES_H

/* 1 + 4 + ... + n * n. */
long sum_of_squares(int n);

#endif /* SQUARES_H */
