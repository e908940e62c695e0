/* SPDX-License-Identifier: MIT */
/*
 * The append-only log on a block device: replay at boot, then one writer
 * thread that group-commits the records write commands append, and rewrites
 * that compact it (aof_rewrite.c). The format is in aof_record.h.
 */
#ifndef KVSTORE_AOF_H
#define KVSTORE_AOF_H

#include <stdint.h>

#include "blkdev.h"
#include "command.h"

/* appendfsync, as Redis has it. */
enum aof_fsync {
	AOF_FSYNC_ALWAYS,   /* a write's reply waits until its record is flushed */
	AOF_FSYNC_EVERYSEC, /* replies wait until the record is written; a flush every second */
	AOF_FSYNC_NO,       /* replies wait until the record is written; flushing is the host's */
};

const char *aof_fsync_name(enum aof_fsync policy);

/*
 * Find dev's log (formatting a new disk, counting this boot in its
 * superblock), replay it into srv's keyspace, then start the writer and set
 * srv->log; automatic rewrites follow srv->rewrite_percentage and
 * rewrite_min_bytes. One log per appliance. 0, or -errno after a console
 * line that says why (a read-only disk, a sector size other than 512, a
 * disk too small or with a damaged superblock, a read error, a record that
 * checks but does not run, memory).
 */
int aof_start(struct kv_server *srv, struct blkdev *dev, enum aof_fsync policy);

/*
 * Block until the committed log holds the record of ticket (what the log's
 * append returned) and every one before it as the policy promises (flushed
 * for always, written otherwise). A device error ends the appliance
 * instead, as Redis does: nothing acknowledged may be lost.
 */
void aof_wait(uint64_t ticket);

#endif /* KVSTORE_AOF_H */
