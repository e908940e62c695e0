#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A FUSE filesystem that loses power on request, for kvstore's power-loss test.

Usage: powerloss_fs.py MOUNTPOINT   (as root; stays in the foreground until unmounted)

Files live in memory, each twice: what readers see now ("current"), and what
has reached stable storage ("durable"). A write changes only the current
bytes and remembers the range; fsync and fdatasync copy those ranges to the
durable bytes, as a disk with a volatile write cache does on a FLUSH.

Writing anything to the control file MOUNTPOINT/.plug pulls the plug: every
file goes back to its durable bytes, so every write since its last sync is
lost, exactly what a power cut does to such a disk. The write returns once
that is done, so the test knows when the plug is out. Reading
MOUNTPOINT/.stats tells how many syncs there were and how many written
bytes the last plug threw away.

Creating, truncating and removing files is durable at once (a journaled
file system's metadata): the test makes its disk file before it starts.
Files are opened with direct_io, so the kernel's page cache never serves
bytes the plug has taken back.
"""
import errno
import stat
import sys
import time

try:
    import fusepy as fuse  # Debian's python3-fusepy names the module so
except ImportError:
    import fuse

CONTROL_PLUG = "/.plug"
CONTROL_STATS = "/.stats"


class File:
    def __init__(self):
        self.current = bytearray()
        self.durable = bytearray()
        self.dirty = []  # [start, end) ranges written since the last sync
        self.mtime = time.time()

    def sync(self):
        size = len(self.current)
        if len(self.durable) < size:
            self.durable.extend(bytes(size - len(self.durable)))
        for start, end in self.dirty:
            end = min(end, size)
            if start < end:
                self.durable[start:end] = self.current[start:end]
        del self.durable[size:]
        self.dirty.clear()

    def pull_plug(self):
        """Back to the durable bytes; returns how many written bytes were lost."""
        lost = sum(end - start for start, end in self.dirty)
        size = len(self.durable)
        for start, end in self.dirty:
            end = min(end, size, len(self.current))
            if start < end:
                self.current[start:end] = self.durable[start:end]
        del self.current[size:]
        if len(self.current) < size:
            self.current.extend(self.durable[len(self.current):])
        self.dirty.clear()
        return lost

    def resize(self, length):
        for data in (self.current, self.durable):
            if len(data) > length:
                del data[length:]
            else:
                data.extend(bytes(length - len(data)))


class PowerLossFS(fuse.Operations):
    def __init__(self):
        self.files = {}
        self.syncs = 0
        self.plugs = 0
        self.lost = 0
        self.start = time.time()

    def _file(self, path):
        f = self.files.get(path)
        if f is None:
            raise fuse.FuseOSError(errno.ENOENT)
        return f

    def _stats(self):
        return ("syncs %d plugs %d lost_bytes %d\n" % (self.syncs, self.plugs, self.lost)).encode()

    def getattr(self, path, fh=None):
        now = self.start
        if path == "/":
            return dict(st_mode=stat.S_IFDIR | 0o755, st_nlink=2, st_atime=now, st_mtime=now,
                        st_ctime=now)
        if path in (CONTROL_PLUG, CONTROL_STATS):
            size = len(self._stats()) if path == CONTROL_STATS else 0
            return dict(st_mode=stat.S_IFREG | 0o644, st_nlink=1, st_size=size, st_atime=now,
                        st_mtime=now, st_ctime=now)
        f = self._file(path)
        return dict(st_mode=stat.S_IFREG | 0o644, st_nlink=1, st_size=len(f.current),
                    st_atime=f.mtime, st_mtime=f.mtime, st_ctime=f.mtime)

    def readdir(self, path, fh):
        return [".", ".."] + [p[1:] for p in self.files]

    def create(self, path, mode, fi=None):
        if path in (CONTROL_PLUG, CONTROL_STATS):
            raise fuse.FuseOSError(errno.EEXIST)
        self.files.setdefault(path, File())
        return 0

    def open(self, path, flags):
        if path not in (CONTROL_PLUG, CONTROL_STATS):
            self._file(path)
        return 0

    def truncate(self, path, length, fh=None):
        if path in (CONTROL_PLUG, CONTROL_STATS):
            return 0
        self._file(path).resize(length)
        return 0

    def unlink(self, path):
        self._file(path)
        del self.files[path]

    def read(self, path, size, offset, fh):
        if path == CONTROL_STATS:
            return self._stats()[offset:offset + size]
        if path == CONTROL_PLUG:
            return b""
        return bytes(self._file(path).current[offset:offset + size])

    def write(self, path, data, offset, fh):
        if path == CONTROL_PLUG:
            self.plugs += 1
            self.lost = sum(f.pull_plug() for f in self.files.values())
            return len(data)
        if path == CONTROL_STATS:
            raise fuse.FuseOSError(errno.EACCES)
        f = self._file(path)
        end = offset + len(data)
        if end > len(f.current):
            f.current.extend(bytes(end - len(f.current)))
        f.current[offset:end] = data
        f.dirty.append((offset, end))
        f.mtime = time.time()
        return len(data)

    def fsync(self, path, datasync, fh):
        if path in self.files:
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
