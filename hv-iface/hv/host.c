/* SPDX-License-Identifier: MIT */
/*
 * The hv process: its domains, each on a vCPU thread of its own, the stop
 * signals, and the end of each domain. The main thread starts the vCPU
 * threads, then waits on two file descriptors: a signal fd for SIGINT,
 * SIGTERM and SIGHUP (blocked in every thread), and an eventfd each vCPU
 * thread writes as its domain ends. A stop signal kicks every vCPU: the
 * backend makes its guest stop running (KVM: immediate_exit; proc: a signal
 * to the child), the kick signal to its thread makes a KVM_RUN or wait
 * return EINTR, and its wake eventfd ends a block.
 */
#define _GNU_SOURCE /* sched_setaffinity, sched_getaffinity */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "backend.h"
#include "evtchn_ports.h"
#include "hv.h"
#include "sandbox.h"
#include "store.h"
#include "trace.h"

#define KICK_SIGNAL SIGUSR1

int hv_stop_signal;

/*
 * The kick signal's only work is to interrupt the thread's KVM_RUN, waitpid or ppoll
 * (no SA_RESTART); the stop signals never run it (they stay blocked).
 */
static void on_kick(int sig)
{
	(void)sig;
}

int host_init(struct hv_host *h)
{
	struct sigaction sa = { .sa_handler = on_kick };
	sigset_t stop;

	memset(h, 0, sizeof(*h));
	pthread_mutex_init(&h->lock, NULL);
	h->ended_fd = h->signal_fd = -1;
	h->evtchn = calloc(1, sizeof(*h->evtchn));
	h->store = malloc(sizeof(*h->store));
	if (h->store)
		store_init(h->store);
	if (!h->evtchn || !h->store) {
		fprintf(stderr, "hv: out of memory\n");
		return HV_EXIT_OSERR;
	}
	h->ended_fd = eventfd(0, EFD_CLOEXEC);
	/* Blocked before any thread exists: every thread inherits the mask. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	h->signal_fd = signalfd(-1, &stop, SFD_CLOEXEC);
	/*
	 * A handler, though they stay blocked: a shell starts a background job with
	 * SIGINT ignored, and an ignored signal never reaches the signal fd.
	 */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (h->ended_fd < 0 || h->signal_fd < 0 || sigaction(KICK_SIGNAL, &sa, NULL) < 0) {
		fprintf(stderr, "hv: setting up signals and eventfds: %s\n", strerror(errno));
		return HV_EXIT_OSERR;
	}
	return 0;
}

int host_add(struct hv_host *h, struct hv_vm *vm)
{
	if (h->nr_doms == HV_MAX_DOMAINS) {
		fprintf(stderr, "hv: too many domains: hv runs at most %d\n", HV_MAX_DOMAINS);
		return HV_EXIT_USAGE;
	}
	vm->host = h;
	vm->domid = (domid_t)++h->nr_doms;
	h->dom[vm->domid] = vm;
	return 0;
}

struct hv_vm *host_domain(struct hv_host *h, domid_t id)
{
	if (id < 1 || id > h->nr_doms || h->dom[id]->gone)
		return NULL;
	return h->dom[id];
}

void vm_kick(struct hv_vm *vm)
{
	uint64_t one = 1;

	if (vm->be)
		vm->be->kick(vm);
	if (vm->thread_running)
		pthread_kill(vm->thread, KICK_SIGNAL);
	(void)!write(vm->wake_fd, &one, sizeof(one));
}

/* The domain left the cross-domain tables: no new binds or maps, its own maps undone. */
static void domain_end(struct hv_vm *vm)
{
	pthread_mutex_lock(&vm->host->lock);
	vm->gone = true;
	pthread_mutex_unlock(&vm->host->lock);
	evtchn_domain_end(vm);
	gnttab_domain_end(vm);
}

/*
 * Two gates. The first: no guest starts before every thread's id is known,
 * so any may kick any. The second: each thread starts its guest (a proc
 * child is spawned then) and waits while the main thread enters the
 * sandbox (sandbox.c), which covers every thread at once; then guests run.
 */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_open = PTHREAD_COND_INITIALIZER;
static bool gate, confined, sandbox_failed;
static unsigned started;

static void cpus_to_set(const struct hv_cpus *cpus, cpu_set_t *set)
{
	CPU_ZERO(set);
	for (unsigned c = 0; c < HV_CPUS_MAX && c < CPU_SETSIZE; c++)
		if (cpus->bits[c / 64] >> (c % 64) & 1)
			CPU_SET(c, set);
}

int host_check_cpus(const struct hv_cpus *cpus, char *err, size_t len)
{
	cpu_set_t allowed;
	int first = -1, last = -1, n = 0;

	if (cpus->count == 0)
		return 0;
	if (sched_getaffinity(0, sizeof(allowed), &allowed)) {
		snprintf(err, len, "--cpus=%s: hv's own CPUs unknown: %s", cpus->arg, strerror(errno));
		return HV_EXIT_OSERR;
	}
	for (unsigned c = 0; c < HV_CPUS_MAX && c < CPU_SETSIZE; c++)
		if ((cpus->bits[c / 64] >> (c % 64) & 1) && !CPU_ISSET(c, &allowed)) {
			for (int k = 0; k < CPU_SETSIZE; k++)
				if (CPU_ISSET(k, &allowed)) {
					first = first < 0 ? k : first;
					last = k;
					n++;
				}
			snprintf(err, len, "--cpus=%s: hv may not run on CPU %u here (it may on %d CPUs, "
				 "%d to %d)", cpus->arg, c, n, first, last);
			return HV_EXIT_USAGE;
		}
	return 0;
}

/*
 * The vCPU thread keeps to the domain's --cpus before it makes anything:
 * the threads it starts (the devices', the send ring's) and, on proc, the
 * guest's process inherit its CPUs. Before the sandbox, which has no call
 * to change them.
 */
static void pin(struct hv_vm *vm)
{
	cpu_set_t set;

	if (vm->cpus.count == 0)
		return;
	cpus_to_set(&vm->cpus, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		vm_fail(vm, HV_EXIT_OSERR, "--cpus=%s: %s", vm->cpus.arg, strerror(errno));
}

static void *domain_thread(void *arg)
{
	struct hv_vm *vm = arg;
	uint64_t one = 1;

	pin(vm);
	pthread_mutex_lock(&gate_lock);
	while (!gate)
		pthread_cond_wait(&gate_open, &gate_lock);
	pthread_mutex_unlock(&gate_lock);
	vm_run_start(vm);
	pthread_mutex_lock(&gate_lock);
	started++;
	pthread_cond_broadcast(&gate_open);
	while (!confined)
		pthread_cond_wait(&gate_open, &gate_lock);
	pthread_mutex_unlock(&gate_lock);
	if (sandbox_failed && !vm_ended(vm))
		vm_fail(vm, HV_EXIT_OSERR, "not run: hv could not enter its sandbox");
	if (trace_on())
		trace_domain_start(vm);
	vm_run(vm);
	if (trace_on())
		trace_domain_end(vm);
	domain_end(vm);
	(void)!write(vm->host->ended_fd, &one, sizeof(one));
	return NULL;
}

/* A stop signal: every domain ends with 128 + it (the first signal; later ones change nothing). */
static void stop_all(struct hv_host *h)
{
	struct signalfd_siginfo si;

	if (read(h->signal_fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (__atomic_load_n(&hv_stop_signal, __ATOMIC_SEQ_CST))
		return;
	__atomic_store_n(&hv_stop_signal, (int)si.ssi_signo, __ATOMIC_SEQ_CST);
	for (unsigned id = 1; id <= h->nr_doms; id++)
		vm_kick(h->dom[id]);
}

void host_run(struct hv_host *h)
{
	unsigned ended = 0;

	for (unsigned id = 1; id <= h->nr_doms; id++) {
		struct hv_vm *vm = h->dom[id];
		int rc = pthread_create(&vm->thread, NULL, domain_thread, vm);

		if (rc) {
			vm_fail(vm, HV_EXIT_OSERR, "starting its vCPU thread: %s", strerror(rc));
			domain_end(vm);
			ended++;
			continue;
		}
		vm->thread_running = true;
	}
	pthread_mutex_lock(&gate_lock);
	gate = true;
	pthread_cond_broadcast(&gate_open);
	while (started < h->nr_doms - ended)
		pthread_cond_wait(&gate_open, &gate_lock);
	if (h->sandbox) {
		char err[256];

		if (sandbox_filter(h->sandbox, err, sizeof(err))) {
			fprintf(stderr, "hv: sandbox: %s (--no-sandbox runs without it)\n", err);
			sandbox_failed = true;
		}
	}
	confined = true;
	pthread_cond_broadcast(&gate_open);
	pthread_mutex_unlock(&gate_lock);

	while (ended < h->nr_doms) {
		struct pollfd pfd[2] = {
			{ .fd = h->signal_fd, .events = POLLIN },
			{ .fd = h->ended_fd, .events = POLLIN },
		};
		uint64_t n;

		if (poll(pfd, 2, -1) < 0)
			continue; /* EINTR: a kick signal sent to this process as a whole */
		if (pfd[0].revents & POLLIN)
			stop_all(h);
		if ((pfd[1].revents & POLLIN) && read(h->ended_fd, &n, sizeof(n)) == sizeof(n))
			ended += (unsigned)n;
	}
	for (unsigned id = 1; id <= h->nr_doms; id++)
		if (h->dom[id]->thread_running) {
			pthread_join(h->dom[id]->thread, NULL);
			h->dom[id]->thread_running = false;
		}
}

void host_destroy(struct hv_host *h)
{
	for (unsigned id = 1; id <= h->nr_doms; id++) {
		vm_destroy(h->dom[id]);
		free(h->dom[id]);
		h->dom[id] = NULL;
	}
	if (h->store)
		store_destroy(h->store);
	free(h->store);
	free(h->evtchn);
	if (h->ended_fd >= 0)
		close(h->ended_fd);
	if (h->signal_fd >= 0)
		close(h->signal_fd);
	pthread_mutex_destroy(&h->lock);
}
