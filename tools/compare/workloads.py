"""The workloads tools/karst-compare runs in both guests, and their figures.

A workload is a shell command for each guest (karst's shell, the Linux
guest's busybox sh with guest-bench on its PATH) that prints
`name: value unit` figure lines, the disks it needs, and the Linux modules
it needs. A guest without the feature has None and a reason: its figures
print as `-` (karst's cowfs and virtio-fs are still being built). Disks are
attached in workload order, the same raw image files with the same cache
mode for both guests; "{disk}" in a command is the workload's disk as that
guest names it (vtbd0..., /dev/vda...). karst's `bench blk_raw` always
measures vtbd0, so blk_raw stays the first workload with a disk.

Adding a workload: append a Workload below with its figures; nothing else
in the harness changes.
"""
import os
import subprocess


class Figure:
    def __init__(self, name, unit, higher_is_better, what):
        self.name, self.unit, self.higher, self.what = name, unit, higher_is_better, what


class Disk:
    """A scratch disk made fresh for every boot: size in MiB, and an
    optional host command that formats it (run with the image path)."""

    def __init__(self, mib, mkfs=None):
        self.mib, self.mkfs = mib, mkfs

    def make(self, path):
        if os.path.exists(path):
            os.remove(path)
        with open(path, "wb") as f:
            f.truncate(self.mib << 20)
        if self.mkfs:
            subprocess.run(self.mkfs + [path], check=True, capture_output=True)


class Workload:
    def __init__(self, name, figures, karst, linux, disk=None, modules=(), karst_missing=None,
                 linux_missing=None, host_measured=False):
        self.name, self.figures = name, figures
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
    # Hook points for the workloads still to come. They are listed, not
    # run, until a side exists: fill in the commands (and the disk's mkfs)
    # and they join the table.
    Workload("fs", [Figure("fs.seq_write_fsync", "MB/s", True, "sequential write + fsync"),
                    Figure("fs.seq_read_cold", "MB/s", True, "sequential read, cold cache"),
                    Figure("fs.seq_read_warm", "MB/s", True, "sequential read, warm cache"),
                    Figure("fs.rand_read_4k", "IOPS", True, "4 KiB random reads"),
                    Figure("fs.create_stat_unlink", "ops/s", True, "create, stat, unlink")],
             karst=None, linux=None, karst_missing="cowfs not in karst yet",
             linux_missing="ext4 side not written yet (mkfs.ext4 on the host)"),
    Workload("virtiofs", [Figure("virtiofs.seq_read_cold", "MB/s", True, "virtio-fs read, cold"),
                          Figure("virtiofs.seq_read_warm", "MB/s", True, "virtio-fs read, warm"),
                          Figure("virtiofs.fuse_req_per_mib", "req/MiB", False,
                                 "FUSE requests per MiB read")],
             karst=None, linux=None, karst_missing="virtio-fs not in karst yet",
             linux_missing="virtiofsd side not written yet"),
]


def by_name(names):
    known = {w.name: w for w in WORKLOADS}
    out = []
    for n in names:
        if n not in known:
            raise KeyError("no workload '%s' (known: %s)" % (n, ", ".join(known)))
        out.append(known[n])
    return out
