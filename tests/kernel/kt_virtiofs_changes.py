#!/usr/bin/env python3
"""Change files on the host under a running karst (kt_virtiofs.c's
virtiofs_host_changes).

  tests/kernel/kt_virtiofs_changes.py DIR prepare   make DIR/changes/
  tests/kernel/kt_virtiofs_changes.py DIR change    change them, then DONE

prepare: grow (3 MiB + 5), shrink (5 MiB), replace (2 MiB + 100), gone.
change: append 1 MiB + 3 to grow, truncate shrink to 100000, rewrite
replace with other bytes of the same size, remove gone, create new
(70000), then write DONE ("XXH64HEX SIZE NAME" per file, as Debian's
xxhsum -H1 hashes it) last, by a rename so it appears whole.
Contents are pseudo-random from fixed seeds.
"""
import os
import random
import subprocess
import sys


def put(path, data, mode="wb"):
    with open(path, mode) as f:
        f.write(data)


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in ("prepare", "change"):
        sys.exit(__doc__)
    d = os.path.join(sys.argv[1], "changes")
    if sys.argv[2] == "prepare":
        rnd = random.Random(141)
        os.makedirs(d, exist_ok=True)
        put(os.path.join(d, "grow"), rnd.randbytes(3 * (1 << 20) + 5))
        put(os.path.join(d, "shrink"), rnd.randbytes(5 << 20))
        put(os.path.join(d, "replace"), rnd.randbytes(2 * (1 << 20) + 100))
        put(os.path.join(d, "gone"), b"going\n")
        return
    rnd = random.Random(142)
    put(os.path.join(d, "grow"), rnd.randbytes((1 << 20) + 3), "ab")
    os.truncate(os.path.join(d, "shrink"), 100000)
    put(os.path.join(d, "replace"), rnd.randbytes(2 * (1 << 20) + 100))
    os.unlink(os.path.join(d, "gone"))
    put(os.path.join(d, "new"), rnd.randbytes(70000))
    lines = []
    for name in ("grow", "shrink", "replace", "new"):
        p = os.path.join(d, name)
        h = subprocess.run(["xxhsum", "-H1", p], check=True, capture_output=True, text=True)
        lines.append("%s %d %s\n" % (h.stdout.split()[0], os.path.getsize(p), name))
    put(os.path.join(d, "DONE.tmp"), "".join(lines).encode())
    os.rename(os.path.join(d, "DONE.tmp"), os.path.join(d, "DONE"))


if __name__ == "__main__":
    main()
