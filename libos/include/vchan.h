/* SPDX-License-Identifier: MIT */
/*
 * Shared-memory channels between two domains: a byte stream each way, in
 * the spirit of Xen's libxenvchan (written from scratch; not its wire
 * format). The server grants a control page and two rings to one client
 * domain, offers an event channel, and publishes both in the store under
 * /local/domain/<server>/data/vchan/<client>/<name>/; the client maps the
 * pages once and binds the port. Data then moves through the rings with
 * no exit; an event is sent only to a side that said it sleeps.
 *
 * A peer that breaks the rings (an index that cannot be) breaks the
 * channel: the calls return -EIO from then on, and the reason is printed
 * once. Threads that use one channel from several threads get bytes in
 * no defined interleaving; one reader and one writer is the usual use.
 *
 * Constructors return NULL with errno set; the rest 0 (or a count) or a
 * negative errno; -ENOSYS where the platform has no domains.
 */
#ifndef LIBOS_VCHAN_H
#define LIBOS_VCHAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hv_abi.h"

struct vchan;

/* Bytes per direction the server offers when asked for 0 (a tunable). */
#define VCHAN_DEFAULT_RING_BYTES (64u << 10)
/*
 * How long a reader (writer) watches an empty (full) ring before it sleeps
 * and asks for an event (a tunable): the peer, on another CPU, usually
 * moves sooner than an event could wake us.
 */
#define VCHAN_SPIN_NS 20000
/* How long vchan_close() on the server waits for the client to unmap its pages (a tunable). */
#define VCHAN_CLOSE_WAIT_NS 5000000000ull

/*
 * Offer channel name to domain client, with rings of ring_bytes each way
 * (a power of two from 4 KiB to 256 KiB; 0: the default). The name is of
 * the store's key characters, [A-Za-z0-9_.:@-]. Returns at once:
 * writes before the client connects wait in the ring. NULL and errno:
 * EINVAL (bad size or name), ENOMEM, ENOSPC (no grant refs or ports),
 * ENOSYS, or the store's error.
 */
struct vchan *vchan_server_init(domid_t client, const char *name, size_t ring_bytes);

/*
 * Connect to channel name that domain server offers us, waiting for it to
 * appear in the store until deadline_ns (monotonic; LIBOS_FOREVER). NULL
 * and errno: ETIMEDOUT, EPROTO (the store's values or the control page are
 * not a channel's; a message says which), the map's or bind's error.
 */
struct vchan *vchan_client_init(domid_t server, const char *name, uint64_t deadline_ns);

/*
 * Write all len bytes, sleeping while the ring is full. len, or -EPIPE
 * (the peer closed), -EIO (the channel is broken); bytes written before
 * either stay written.
 */
ssize_t vchan_write(struct vchan *v, const void *buf, size_t len);

/*
 * Read up to len bytes, sleeping until at least one is there. The count,
 * 0 at the end of the stream (the peer closed and everything it wrote has
 * been read), or -EIO.
 */
ssize_t vchan_read(struct vchan *v, void *buf, size_t len);

/* Without sleeping: bytes ready to read, bytes of room to write; or -EIO. */
int vchan_data_ready(struct vchan *v);
int vchan_buffer_space(struct vchan *v);

/*
 * Close our end and free v. The peer sees the end of the stream. The
 * client unmaps the pages; the server ends access to its grants, waiting
 * up to VCHAN_CLOSE_WAIT_NS while the client still has them mapped, and
 * then returns -EBUSY and never reuses the pages it could not take back.
 * 0 otherwise.
 */
int vchan_close(struct vchan *v);

/* What a channel did, for measurements: what notification suppression saved. */
struct vchan_stats {
	uint64_t bytes_written, bytes_read;
	uint64_t notifies; /* events sent: the peer had said it sleeps */
	uint64_t events;   /* events received */
	uint64_t sleeps;   /* times a reader or writer slept on the channel */
};
void vchan_get_stats(const struct vchan *v, struct vchan_stats *st);

#endif /* LIBOS_VCHAN_H */
