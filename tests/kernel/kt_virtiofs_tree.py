#!/usr/bin/env python3
"""Generate the tree the virtio-fs in-kernel tests (kt_virtiofs.c) read.

  tests/kernel/kt_virtiofs_tree.py DIR [WIDE]

DIR (created, must not exist) gets: nested directories 12 deep; a directory
`wide` of WIDE (default 10000) files; empty, small, boundary-sized (around
4 KiB pages and the 1 MiB FUSE read size) and large files; awkward names
(spaces, ';', UTF-8, a leading dash, a 255-byte name); symlinks to a file, to
a directory and to nowhere; dev/ and proc/ so it can be a root. Then:
  CHECK.xxh     lines for `xxhsum -c` in every style, one bad line, a
                missing file and a wrong checksum (run-ktests' xxhsum-check)
  MANIFEST.xxh  the host's `xxhsum -H1` of every regular file ("./path")
  FILES         the number of regular files in the tree, MANIFEST excluded
  STATFS        "bsize blocks" of the host filesystem holding DIR
Contents are pseudo-random from a fixed seed: the same every run.
"""
import os
import random
import subprocess
import sys


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    top = sys.argv[1]
    wide = int(sys.argv[2]) if len(sys.argv) == 3 else 10000
    os.makedirs(top)
    rnd = random.Random(14)

    def blob(n):
        return rnd.randbytes(n)

    write(os.path.join(top, "hello"), b"hello from the host\n")
    write(os.path.join(top, "empty"), b"")
    for n in (1, 4095, 4096, 4097, 65536, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 3 * (1 << 20) + 5):
        write(os.path.join(top, "sizes", "s%d" % n), blob(n))
    write(os.path.join(top, "large.bin"), blob(24 << 20))
    deep = os.path.join(top, *("d%d" % i for i in range(12)))
    write(os.path.join(deep, "deep.txt"), b"at the bottom\n")
    write(os.path.join(top, "d0", "d1", "mid"), blob(5000))
    for name in ("with space", "semi;colon", "ütf-8 ñame ☃", "-dash", ".hidden", "x" * 255):
        write(os.path.join(top, "names", name), name.encode() + b"\n")
    os.makedirs(os.path.join(top, "names", "empty dir"))
    wdir = os.path.join(top, "wide")
    os.makedirs(wdir)
    for i in range(wide):
        with open(os.path.join(wdir, "f%05d" % i), "wb") as f:
            f.write(b"%d\n" % i if i % 10 else b"")
    os.symlink("large.bin", os.path.join(top, "link-to-large"))
    os.symlink("d0/d1", os.path.join(top, "link-to-dir"))
    os.symlink("nowhere/at/all", os.path.join(top, "dangling"))
    for d in ("dev", "proc"):
        os.makedirs(os.path.join(top, d))

    # CHECK.xxh: lines for `xxhsum -c` in every style (-H0, -H2, the BSD
    # style of -H3 and --tag), one that is not a checksum line, a missing
    # file and a wrong checksum; run-ktests compares the guest's report
    # with the host's xxhsum -c of the same file.
    check = b""
    for opts, names in ((["-H0"], ["hello", "names/with space"]),
                        (["-H2"], ["sizes/s4097", "names/semi;colon"]),
                        (["-H3"], ["names/ütf-8 ñame ☃"]), (["--tag"], ["empty"])):
        check += subprocess.run(["xxhsum"] + opts + ["--"] + names, cwd=top, check=True,
                                capture_output=True).stdout
    check += b"not a checksum line\n0123456789abcdef  no/such/file\n"
    check += b"0000000000000000  d0/d1/mid\n"
    write(os.path.join(top, "CHECK.xxh"), check)

    files = []
    for root, dirs, names in os.walk(top):
        dirs.sort()
        for n in sorted(names):
            p = os.path.join(root, n)
            if os.path.isfile(p) and not os.path.islink(p):
                files.append("./" + os.path.relpath(p, top))
    files.sort()
    with open(os.path.join(top, "MANIFEST.xxh"), "wb") as out:
        for i in range(0, len(files), 500):
            out.write(subprocess.run(["xxhsum", "-H1", "--"] + files[i:i + 500], cwd=top,
                                     check=True, capture_output=True).stdout)
    write(os.path.join(top, "FILES"), b"%d\n" % len(files))
    st = os.statvfs(top)
    write(os.path.join(top, "STATFS"), b"%d %d\n" % (st.f_frsize, st.f_blocks))


if __name__ == "__main__":
    main()
