"""Host-side inputs and figures of tools/karst-compare's filesystem workloads.

  tree(dir)        a deterministic 100 MiB tree (20 directories of 100
                   files, 50 KiB on average; every third file random
                   bytes, the others text from a small vocabulary, so lz4
                   has something to do and something it cannot do)
  share(dir)       the virtio-fs share: f64m and f256m, random bytes
  host_mkfs(out)   seconds for mkcowfs (karst) and mkfs.ext4 -d (Linux) to
                   make a 256 MiB image of the tree, and the tree's lz4
                   ratio in cowfs (space used with -c off over -c lz4)

Each input is made once and kept (a stamp file records its recipe).
"""
import os
import random
import re
import shutil
import subprocess
import time

TREE_VERSION = "tree-v1"
WORDS = ("the of and to in is that for it as was with be by on not he this are or his from "
         "at which but have an they you were her she there been one all we their has would "
         "when if so no will can more other its into some could time these two may then do "
         "first any my now such like our over man me even most made after also did many "
         "before must through back years where much your way well down should because each "
         "just those people how too little state good very make world still own see men "
         "work long get here between both life being under never day same another know "
         "while last might us great old year off come since against go came right used take "
         "three").split()


def _stamped(path, recipe):
    return os.path.exists(os.path.join(path, ".stamp-" + recipe))


def _stamp(path, recipe):
    open(os.path.join(path, ".stamp-" + recipe), "w").close()


def tree(path):
    """Make (once) the 100 MiB tree; returns its path."""
    if _stamped(path, TREE_VERSION):
        return path
    shutil.rmtree(path, ignore_errors=True)
    rng = random.Random(12)
    text = " ".join(rng.choice(WORDS) for _ in range(200000)).encode()
    for d in range(20):
        sub = os.path.join(path, "d%02d" % d)
        os.makedirs(sub)
        for i in range(100):
            size = 1024 + ((d * 100 + i) * 7919) % 100000  # 1 KiB .. 99 KiB
            if i % 3 == 0:
                data = rng.randbytes(size)
            else:
                start = rng.randrange(len(text) - size)
                data = text[start:start + size]
            with open(os.path.join(sub, "f%03d" % i), "wb") as f:
                f.write(data)
    _stamp(path, TREE_VERSION)
    return path


def share(path, sizes):
    """Make (once) the virtio-fs share: f<N>m of N MiB random bytes each."""
    recipe = "share-" + "-".join(str(s) for s in sizes)
    if _stamped(path, recipe):
        return path
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    rng = random.Random(7)
    block = rng.randbytes(1 << 20)
    for mib in sizes:
        with open(os.path.join(path, "f%dm" % mib), "wb") as f:
            for i in range(mib):
                # Every MiB different, so nothing deduplicates or compresses.
                f.write(block[i % 4096:] + block[:i % 4096])
    _stamp(path, recipe)
    return path


def _timed(cmd):
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), (p.stderr or p.stdout).strip()[-300:]))
    return time.monotonic() - t0, p.stdout


def host_mkfs(out, top, mkcowfs):
    """{"karst": {figure: value}, "linux": {...}} for the mkfs workload."""
    src = tree(os.path.join(top, "build", "compare", "tree"))
    img = os.path.join(out, "mkfs.img")
    figs = {"karst": {}, "linux": {}}
    used = {}
    try:
        for comp in ("off", "lz4"):  # the timed one (cowfs's default, lz4) last
            if os.path.exists(img):
                os.remove(img)
            secs, text = _timed([mkcowfs, "-s", "256M", "-c", comp, img, src])
            m = re.search(r"([0-9.]+) MiB used", text)
            used[comp] = float(m.group(1)) if m else None
        figs["karst"]["host.mkfs_tree_s"] = secs
        if used["off"] and used["lz4"]:
            figs["karst"]["host.lz4_ratio"] = used["off"] / used["lz4"]
        os.remove(img)
        with open(img, "wb") as f:
            f.truncate(256 << 20)
        secs, _ = _timed(["mkfs.ext4", "-q", "-F", "-d", src, img])
        figs["linux"]["host.mkfs_tree_s"] = secs
    finally:
        if os.path.exists(img):
            os.remove(img)
    return figs
