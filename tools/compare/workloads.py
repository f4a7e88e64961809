"""The workloads tools/karst-compare runs in both guests, and their figures.

A workload is a shell command for each guest (karst's shell, the Linux
guest's busybox sh with guest-bench on its PATH) that prints
`name: value unit` figure lines, the disks it needs, and the Linux modules
it needs. A guest without the feature has None and a reason: its figures
print as `-`. Disks are attached in workload order, raw image files made
fresh for every boot with the same size and cache mode for both guests
(formatted per guest when the workload says so: cowfs for karst, ext4 for
Linux); "{disk}" in a command is the workload's disk as that guest names
it (vtbd0..., /dev/vda...), "{dev}" its device path (/dev/vtbd0...,
/dev/vda...). karst's `bench blk_raw` always measures vtbd0, so blk_raw
stays the first workload with a disk. A workload with share=True gets the
virtio-fs share (tag "compare", build/compare/share: a 64 MiB and a 256 MiB
file) served by one virtiofsd per boot; a workload with a host function
is run on the host, once per run, without booting anything.

Adding a workload: append a Workload below with its figures; nothing else
in the harness changes.
"""
import os
import subprocess

import hostwork


TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FS_DISK_MIB = 256
FS_FILE_MIB = 64
SHARE_FILES_MIB = (64, 256)
SHARE_MIB_READ = 2 * sum(SHARE_FILES_MIB)  # every file read cold and warm
EMPTY_DIR = os.path.join(TOP, "build", "compare", "empty")


def host_tool(name):
    """A host-built karst tool (make compare builds it into build/host)."""
    return os.path.join(TOP, "build", "host", "tools", "cowfs-tools", name)


class Figure:
    """linux_missing: why Linux has no such figure (printed as -)."""

    def __init__(self, name, unit, higher_is_better, what, linux_missing=None):
        self.name, self.unit, self.higher, self.what = name, unit, higher_is_better, what
        self.linux_missing = linux_missing


class Disk:
    """A scratch disk made fresh for every boot: size in MiB, and optional
    host commands that format it, per guest ({"karst": [...], "linux":
    [...]}); "{img}" in a command is the image path, "{mib}" its size."""

    def __init__(self, mib, mkfs=None):
        self.mib, self.mkfs = mib, mkfs or {}

    def make(self, path, guest):
        if os.path.exists(path):
            os.remove(path)
        with open(path, "wb") as f:
            f.truncate(self.mib << 20)
        cmd = self.mkfs.get(guest)
        if cmd:
            cmd = [c.replace("{img}", path).replace("{mib}", str(self.mib)) for c in cmd]
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode != 0:
                raise RuntimeError("%s: %s" % (" ".join(cmd), (p.stderr or p.stdout).strip()))


class Workload:
    def __init__(self, name, figures, karst, linux, disk=None, modules=(), karst_missing=None,
                 linux_missing=None, host_measured=False, share=False, host=None):
        self.name, self.figures = name, figures
        self.share, self.host = share, host
        self.karst, self.linux = karst, linux
        self.karst_missing, self.linux_missing = karst_missing, linux_missing
        self.disk, self.modules = disk, list(modules)
        self.host_measured = host_measured


BLK_FIGURES = []
for _qd in (1, 32):
    BLK_FIGURES += [
        Figure("blk.seq_write_qd%d" % _qd, "MB/s", True,
               "virtio-blk raw: 64 KiB sequential writes, %d in flight" % _qd),
        Figure("blk.seq_read_qd%d" % _qd, "MB/s", True,
               "virtio-blk raw: 64 KiB sequential reads, %d in flight" % _qd),
        Figure("blk.rand_read_qd%d" % _qd, "IOPS", True,
               "virtio-blk raw: 4 KiB random reads, %d in flight" % _qd),
    ]

WORKLOADS = [
    # Measured by the host in every boot: from starting QEMU to the
    # guest's ready line (karst: "karst: ready", printed when its inits,
    # virtio-blk included, are done; Linux: init's "compare: ready", once
    # the virtio modules are loaded and the disks are there).
    Workload("boot", [Figure("boot.ms", "ms", False,
                             "QEMU start to the guest's ready line (disks probed)")],
             karst="", linux="", host_measured=True),
    Workload("idle", [Figure("idle.free_kib", "KiB", True, "free memory right after boot"),
                      Figure("idle.threads", "", False,
                             "threads right after boot (kernel threads included)")],
             karst="bench idle", linux="guest-bench idle"),
    Workload("blk_raw", BLK_FIGURES, karst="bench blk_raw", linux="guest-bench blk_raw {disk}",
             disk=Disk(64)),
    # The same steps in both: karst's `fsbench all` (fs/vfs/vfs_bench_cmds.c),
    # guest-bench fs. Cold: karst remounts (its caches are per mount);
    # Linux remounts and drops its caches (drop_caches).
    Workload("fs", [Figure("fs.seq_write_fsync", "MB/s", True,
                           "64 MiB in 1 MiB writes + fsync"),
                    Figure("fs.seq_read_cold", "MB/s", True,
                           "sequential read after a remount / drop_caches"),
                    Figure("fs.seq_read_warm", "MB/s", True, "the same read again"),
                    Figure("fs.rand_read_4k", "IOPS", True,
                           "2000 4 KiB random reads of the file, cold"),
                    Figure("fs.create_stat_unlink", "ops/s", True,
                           "1000 files created, stat'ed, unlinked"),
                    Figure("fs.mount_ms", "ms", False, "mount after the write (unmounted)")],
             karst="mkdir /fsb; mount -t cowfs {dev} /fsb; fsbench all /fsb %d" % FS_FILE_MIB,
             linux="mkdir -p /fsb; mount -t ext4 {dev} /fsb && guest-bench fs /fsb %d"
             % FS_FILE_MIB, modules=["ext4"],
             disk=Disk(FS_DISK_MIB, {"karst": [host_tool("mkcowfs"), "-q", "-s", "{mib}M",
                                               "{img}", EMPTY_DIR],
                                     "linux": ["mkfs.ext4", "-q", "-F", "{img}"]})),
    Workload("virtiofs", [Figure("virtiofs.seq_read_cold_64m", "MB/s", True,
                                 "64 MiB file, first read after mount / drop_caches"),
                          Figure("virtiofs.seq_read_warm_64m", "MB/s", True,
                                 "64 MiB file, read again"),
                          Figure("virtiofs.seq_read_cold_256m", "MB/s", True,
                                 "256 MiB file, after remount / drop_caches"),
                          Figure("virtiofs.seq_read_warm_256m", "MB/s", True,
                                 "256 MiB file, read again"),
                          Figure("virtiofs.fuse_req_per_mib", "req/MiB", False,
                                 "FUSE requests in virtiofsd's -d log per MiB read (whole boot)")],
             karst="mkdir /vfs; mount -t virtiofs compare /vfs; " + "; ".join(
                 ("fsbench remount /vfs; " if size == 256 else "") +
                 "fsbench read /vfs/f%dm virtiofs.seq_read_cold_%dm; "
                 "fsbench read /vfs/f%dm virtiofs.seq_read_warm_%dm" % (size, size, size, size)
                 for size in SHARE_FILES_MIB),
             linux="mkdir -p /vfs; mount -t virtiofs compare /vfs && " + " && ".join(
                 "guest-bench drop && guest-bench read /vfs/f%dm virtiofs.seq_read_cold_%dm && "
                 "guest-bench read /vfs/f%dm virtiofs.seq_read_warm_%dm" % (size, size, size, size)
                 for size in SHARE_FILES_MIB),
             modules=["virtiofs"], share=True),
    # On the host: making a filesystem image from a 100 MiB tree.
    Workload("mkfs", [Figure("host.mkfs_tree_s", "s", False,
                             "mkcowfs vs mkfs.ext4 -d: 100 MiB generated tree, 256 MiB image"),
                      Figure("host.lz4_ratio", "x", True,
                             "the tree's cowfs space without / with lz4",
                             linux_missing="ext4 does not compress")],
             karst="", linux="",
             host=lambda out: hostwork.host_mkfs(out, TOP, host_tool("mkcowfs"))),
]


def by_name(names):
    known = {w.name: w for w in WORKLOADS}
    out = []
    for n in names:
        if n not in known:
            raise KeyError("no workload '%s' (known: %s)" % (n, ", ".join(known)))
        out.append(known[n])
    return out
