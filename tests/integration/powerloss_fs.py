#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A FUSE filesystem that loses power on request, for kvstore's power-loss tests.

Usage: powerloss_fs.py MOUNTPOINT   (as root; stays in the foreground until unmounted)

Files live in memory, each twice: what readers see now ("current"), and what
has reached stable storage ("durable"). A write changes only the current
bytes and is remembered, in order; fsync and fdatasync make the current bytes
durable, as a disk with a volatile write cache does on a FLUSH.

Writing anything to the control file MOUNTPOINT/.plug pulls the plug: every
file goes back to its durable bytes, so every write since its last sync is
lost, exactly what a power cut does to such a disk. The write returns once
that is done, so the test knows when the plug is out.

Writing "ANCHOR N MODE" to MOUNTPOINT/.cut arms a cut at a chosen operation
(a write or a sync of any file; the control files do not count):
  ANCHOR  ops: count from now; super: count from the first write at offset
          0 (a kvstore superblock), which is then operation 1
  N       operations carried out after the anchor; the next one finds the power
          gone (super 0: the write at offset 0 itself fails)
  MODE    which unsynced writes the cache got to the disk before it died: lose
          (none), newest (the last one only), random:SEED (each with
          probability 1/2, chosen by SEED), all (every one: a crash of the
          host process, not of the disk)
When the power goes, each file becomes its durable bytes with the surviving
writes applied in their order, and every later write and sync fails with EIO
until "off" is written to .cut (the power is back; that also disarms).

Reading MOUNTPOINT/.stats tells how many syncs there were, how many written
bytes the last plug or cut threw away, and for the armed cut: the operations
since arming, which of them was the first write at offset 0 if it was carried
out (0: none was), and whether the power is out.

Creating, truncating and removing files is durable at once (a journaled
file system's metadata): the test makes its disk file before it starts.
Files are opened with direct_io, so the kernel's page cache never serves
bytes the plug has taken back.
"""
import errno
import random
import stat
import sys
import time

try:
    import fusepy as fuse  # Debian's python3-fusepy names the module so
except ImportError:
    import fuse

CONTROL_PLUG = "/.plug"
CONTROL_CUT = "/.cut"
CONTROL_STATS = "/.stats"
CONTROLS = (CONTROL_PLUG, CONTROL_CUT, CONTROL_STATS)


class File:
    def __init__(self):
        self.current = bytearray()
        self.durable = bytearray()
        self.pending = []  # (offset, bytes) of each write since the last sync, in order
        self.mtime = time.time()

    def sync(self):
        if len(self.durable) < len(self.current):
            self.durable.extend(bytes(len(self.current) - len(self.durable)))
        for offset, data in self.pending:
            self.durable[offset:offset + len(data)] = data
        del self.durable[len(self.current):]
        self.pending.clear()

    def power_cut(self, keep):
        """Back to the durable bytes plus the pending writes keep(i, count) chooses;
        returns how many written bytes were lost."""
        base = bytearray(self.durable)
        lost = 0
        for i, (offset, data) in enumerate(self.pending):
            if not keep(i, len(self.pending)):
                lost += len(data)
                continue
            end = offset + len(data)
            if end > len(base):
                base.extend(bytes(end - len(base)))
            base[offset:end] = data
        self.current = base
        self.durable = bytearray(base)
        self.pending.clear()
        return lost

    def resize(self, length):
        for data in (self.current, self.durable):
            if len(data) > length:
                del data[length:]
            else:
                data.extend(bytes(length - len(data)))
        # What a pending write put past the new end is gone with it.
        self.pending = [(o, d[:max(0, length - o)]) for o, d in self.pending if o < length]


def survivors(mode):
    """keep(i, count) for a cut's MODE, or None if MODE is not one."""
    if mode == "lose":
        return lambda i, n: False
    if mode == "all":
        return lambda i, n: True
    if mode == "newest":
        return lambda i, n: i == n - 1
    if mode.startswith("random:") and mode[7:].isdigit():
        rng = random.Random(int(mode[7:]))
        return lambda i, n: rng.random() < 0.5
    return None


class PowerLossFS(fuse.Operations):
    def __init__(self):
        self.files = {}
        self.syncs = 0
        self.plugs = 0
        self.lost = 0
        self.start = time.time()
        self._disarm()

    def _disarm(self):
        self.armed = None  # (anchor, n, keep) while a cut is armed
        self.ops = 0       # operations since arming
        self.super_seen = False
        self.super_at = 0  # which of them was the first write at offset 0, if carried out
        self.counted = 0   # operations since the anchor
        self.out = False   # the power is gone

    def _file(self, path):
        f = self.files.get(path)
        if f is None:
            raise fuse.FuseOSError(errno.ENOENT)
        return f

    def _stats(self):
        return ("syncs %d plugs %d lost_bytes %d ops %d super_at %d power_out %d\n" % (
            self.syncs, self.plugs, self.lost, self.ops, self.super_at, self.out)).encode()

    def _arm(self, text):
        words = text.split()
        if words == ["off"]:
            self._disarm()
            return
        if len(words) != 3 or words[0] not in ("ops", "super") or not words[1].isdigit():
            raise fuse.FuseOSError(errno.EINVAL)
        keep = survivors(words[2])
        if keep is None:
            raise fuse.FuseOSError(errno.EINVAL)
        self._disarm()
        self.armed = (words[0], int(words[1]), keep)

    def _operation(self, is_super_write):
        """Count a write or sync; fail it if the power is gone, or goes now."""
        if self.out:
            raise fuse.FuseOSError(errno.EIO)
        if self.armed is None:
            return
        anchor, n, keep = self.armed
        self.ops += 1
        first_super = is_super_write and not self.super_seen
        self.super_seen = self.super_seen or first_super
        if anchor == "ops" or self.super_seen:
            self.counted += 1
            if self.counted > n:
                self.out = True
                self.lost = sum(f.power_cut(keep) for f in self.files.values())
                raise fuse.FuseOSError(errno.EIO)
        if first_super:
            self.super_at = self.ops

    def getattr(self, path, fh=None):
        now = self.start
        if path == "/":
            return dict(st_mode=stat.S_IFDIR | 0o755, st_nlink=2, st_atime=now, st_mtime=now,
                        st_ctime=now)
        if path in CONTROLS:
            size = len(self._stats()) if path == CONTROL_STATS else 0
            return dict(st_mode=stat.S_IFREG | 0o644, st_nlink=1, st_size=size, st_atime=now,
                        st_mtime=now, st_ctime=now)
        f = self._file(path)
        return dict(st_mode=stat.S_IFREG | 0o644, st_nlink=1, st_size=len(f.current),
                    st_atime=f.mtime, st_mtime=f.mtime, st_ctime=f.mtime)

    def readdir(self, path, fh):
        return [".", ".."] + [p[1:] for p in self.files]

    def create(self, path, mode, fi=None):
        if path in CONTROLS:
            raise fuse.FuseOSError(errno.EEXIST)
        self.files.setdefault(path, File())
        return 0

    def open(self, path, flags):
        if path not in CONTROLS:
            self._file(path)
        return 0

    def truncate(self, path, length, fh=None):
        if path in CONTROLS:
            return 0
        if self.out:
            raise fuse.FuseOSError(errno.EIO)
        self._file(path).resize(length)
        return 0

    def unlink(self, path):
        self._file(path)
        del self.files[path]

    def read(self, path, size, offset, fh):
        if path == CONTROL_STATS:
            return self._stats()[offset:offset + size]
        if path in CONTROLS:
            return b""
        return bytes(self._file(path).current[offset:offset + size])

    def write(self, path, data, offset, fh):
        if path == CONTROL_PLUG:
            self.plugs += 1
            self.lost = sum(f.power_cut(lambda i, n: False) for f in self.files.values())
            return len(data)
        if path == CONTROL_CUT:
            self._arm(bytes(data).decode("ascii", "replace"))
            return len(data)
        if path == CONTROL_STATS:
            raise fuse.FuseOSError(errno.EACCES)
        f = self._file(path)
        self._operation(offset == 0)
        end = offset + len(data)
        if end > len(f.current):
            f.current.extend(bytes(end - len(f.current)))
        f.current[offset:end] = data
        f.pending.append((offset, bytes(data)))
        f.mtime = time.time()
        return len(data)

    def fsync(self, path, datasync, fh):
        if path in self.files:
            self._operation(False)
            self.files[path].sync()
            self.syncs += 1
        return 0

    def flush(self, path, fh):
        return 0  # close() is not a sync

    def release(self, path, fh):
        return 0

    def utimens(self, path, times=None):
        return 0

    def chmod(self, path, mode):
        return 0

    def chown(self, path, uid, gid):
        return 0

    def statfs(self, path):
        return dict(f_bsize=4096, f_frsize=4096, f_blocks=1 << 20, f_bfree=1 << 19,
                    f_bavail=1 << 19, f_files=1024, f_ffree=1000, f_namemax=255)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: powerloss_fs.py MOUNTPOINT")
    # One thread: the operations need no locks, and the plug is one atomic step.
    fuse.FUSE(PowerLossFS(), sys.argv[1], foreground=True, nothreads=True, direct_io=True)


if __name__ == "__main__":
    main()
