/* SPDX-License-Identifier: MIT */
/* lwIP's operating-system types on libos: semaphores, mutexes and mailboxes on wait queues. */
#ifndef LIBOS_LWIP_ARCH_SYS_ARCH_H
#define LIBOS_LWIP_ARCH_SYS_ARCH_H

#include <stdint.h>

#include "libos.h"

struct sys_sem {
	int valid;
	unsigned count;
	struct wait_queue wq;
};

struct sys_mutex {
	int valid;
	struct thread *owner;
	struct wait_queue wq;
};

struct sys_mbox {
	int valid;
	unsigned size, head, count;
	void **msgs;
	struct wait_queue not_empty, not_full;
};

/* lwIP names these types; the port must typedef them. */
typedef struct sys_sem sys_sem_t;
typedef struct sys_mutex sys_mutex_t;
typedef struct sys_mbox sys_mbox_t;
typedef struct thread *sys_thread_t;

/* Cooperative threads: nothing preempts, so protection is empty. */
typedef int sys_prot_t;

#endif /* LIBOS_LWIP_ARCH_SYS_ARCH_H */
