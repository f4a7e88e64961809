"""The Linux guest of tools/karst-compare: Debian's cloud kernel, busybox
and guest-bench in an initramfs, built on the host without root.

How it works: the kernel package is the one Debian's linux-image-cloud-ARCH
metapackage depends on (resolved with apt-cache); it and busybox-static are
fetched with `apt-get download` into build/compare/debs once and unpacked
into build/compare/<debian-arch>/. guest-bench.c is compiled statically
for the guest: the host's gcc for amd64 on an x86_64 host, clang for arm64
against Debian's arm64 cross libc (libc6-dev-arm64-cross and friends, also
downloaded, never installed: no root, no second gcc). The initramfs
(cpio newc, Debian's cpio) holds busybox, guest-bench, the virtio modules
the workloads need with their dependencies (read from each module's
depends= tag), and /init from init.sh. It is rebuilt when any of its
inputs changes. Anything missing raises GuestUnavailable with the reason.
"""
import glob
import hashlib
import os
import platform
import re
import shutil
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
DEBARCH = {"x86_64": "amd64", "aarch64": "arm64"}
CONSOLE = {"x86_64": "ttyS0", "aarch64": "ttyAMA0"}
# What every boot needs: the virtio PCI transport and virtio-blk (the
# disks are attached to both guests at every boot).
BASE_MODULES = ["virtio_pci", "virtio_blk"]
ARM64_CROSS = ["libc6-dev-arm64-cross", "libc6-arm64-cross", "linux-libc-dev-arm64-cross"]


class GuestUnavailable(Exception):
    """The Linux guest cannot be built here; str() says why and what to do."""


def _run(cmd, cwd=None):
    try:
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    except OSError as e:
        raise GuestUnavailable("%s: %s" % (cmd[0], e))
    return p


def _apt_depends(pkg, prefix):
    """The first dependency of pkg whose name starts with prefix."""
    p = _run(["apt-cache", "depends", pkg])
    for line in p.stdout.splitlines():
        m = re.match(r"\s*Depends:\s*(\S+)", line)
        if m and m.group(1).startswith(prefix):
            return m.group(1).split(":")[0]
    return None


def _download(debs, pkgs, log):
    """apt-get download pkgs (name or name:arch) into debs unless present."""
    os.makedirs(debs, exist_ok=True)
    want = []
    for p in pkgs:
        name, _, arch = p.partition(":")
        if not glob.glob(os.path.join(debs, "%s_*_%s.deb" % (name, arch or "*"))):
            want.append(p)
    if not want:
        return
    log("compare: fetching %s with apt-get download" % " ".join(want))
    p = _run(["apt-get", "download"] + want, cwd=debs)
    if p.returncode != 0:
        err = p.stderr.strip().splitlines()
        raise GuestUnavailable("apt-get download %s failed (%s); as root: apt-get update"
                               % (" ".join(want), err[-1] if err else "no message"))


def _unpack(deb_glob, dest):
    debs = sorted(glob.glob(deb_glob))
    if not debs:
        raise GuestUnavailable("no package matching %s" % deb_glob)
    stamp = os.path.join(dest, ".unpacked-" + os.path.basename(debs[-1]))
    if os.path.exists(stamp):
        return
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    p = _run(["dpkg-deb", "-x", debs[-1], dest])
    if p.returncode != 0:
        raise GuestUnavailable("dpkg-deb -x %s: %s" % (debs[-1], p.stderr.strip()))
    open(stamp, "w").close()


def _module_closure(moddir, names):
    """Paths of the modules named and of what they depend on, dependencies first."""
    index = {}
    for path in glob.glob(os.path.join(moddir, "kernel", "**", "*.ko"), recursive=True):
        index[os.path.basename(path)[:-3].replace("-", "_")] = path
    builtin = set()
    bfile = os.path.join(moddir, "modules.builtin")
    if os.path.exists(bfile):
        builtin = {os.path.basename(l.strip())[:-3].replace("-", "_") for l in open(bfile)}
    order, seen = [], set()

    def visit(name):
        name = name.replace("-", "_")
        if name in seen or name in builtin:
            return
        seen.add(name)
        if name not in index:
            raise GuestUnavailable("kernel module %s not in %s" % (name, moddir))
        data = open(index[name], "rb").read()
        m = re.search(rb"(?:^|\0)depends=([^\0]*)", data)
        for dep in (m.group(1).decode().split(",") if m and m.group(1) else []):
            visit(dep)
        order.append(index[name])

    for n in names:
        visit(n)
    return order


def _compiler(top, arch, debs, log):
    """The command that compiles a static guest program for arch."""
    if arch == "x86_64":
        if platform.machine() != "x86_64":
            raise GuestUnavailable("the amd64 guest program is built with the host's gcc "
                                   "on an x86_64 host only")
        return ["gcc", "-static"]
    libgcc = None
    p = _run(["apt-cache", "search", "--names-only", r"^libgcc-[0-9]+-dev-arm64-cross$"])
    versions = sorted((int(re.search(r"\d+", l.split()[0]).group()), l.split()[0])
                      for l in p.stdout.splitlines() if l.strip())
    if versions:
        libgcc = versions[-1][1]
    if not libgcc:
        raise GuestUnavailable("apt-cache knows no libgcc-N-dev-arm64-cross package")
    sysroot = os.path.join(top, "build", "compare", "arm64-sysroot")
    _download(debs, ARM64_CROSS + [libgcc], log)
    stamp = os.path.join(sysroot, ".complete-" + libgcc)
    if not os.path.exists(stamp):
        shutil.rmtree(sysroot, ignore_errors=True)
        os.makedirs(sysroot)
        for name in ARM64_CROSS + [libgcc]:
            deb = sorted(glob.glob(os.path.join(debs, name + "_*_all.deb")))[-1]
            if _run(["dpkg-deb", "-x", deb, sysroot]).returncode != 0:
                raise GuestUnavailable("cannot unpack " + deb)
        open(stamp, "w").close()
    if not shutil.which("clang"):
        raise GuestUnavailable("clang not found: run tools/setup-deps")
    return ["clang", "--target=aarch64-linux-gnu", "--sysroot=" + sysroot, "-fuse-ld=lld",
            "-static"]


def prepare(top, arch, modules=(), log=print):
    """Build (or reuse) the Linux guest for arch; returns a dict with the
    kernel and initrd paths, the console, and the kernel's name."""
    debarch = DEBARCH[arch]
    qual = "" if (arch == "x86_64" and platform.machine() == "x86_64") else ":" + debarch
    base = os.path.join(top, "build", "compare")
    debs = os.path.join(base, "debs")
    gdir = os.path.join(base, debarch)
    for tool in ("apt-get", "apt-cache", "dpkg-deb"):
        if not shutil.which(tool):
            raise GuestUnavailable("%s not found (the Linux guest comes from Debian packages)"
                                   % tool)
    if not shutil.which("cpio"):
        raise GuestUnavailable("cpio not installed: run tools/setup-deps")

    meta = "linux-image-cloud-" + debarch
    kpkg = _apt_depends(meta + qual, "linux-image-")
    if not kpkg:
        cached = sorted(glob.glob(os.path.join(debs, "linux-image-*-cloud-%s_*.deb" % debarch)))
        if not cached:
            raise GuestUnavailable("apt-cache does not know %s%s (as root: dpkg "
                                   "--add-architecture arm64; apt-get update)" % (meta, qual))
        kpkg = os.path.basename(cached[-1]).split("_")[0]
    _download(debs, ["%s:%s" % (kpkg, debarch), "busybox-static:" + debarch], log)
    _unpack(os.path.join(debs, "%s_*_%s.deb" % (kpkg, debarch)), os.path.join(gdir, "kernel"))
    _unpack(os.path.join(debs, "busybox-static_*_%s.deb" % debarch),
            os.path.join(gdir, "busybox"))
    kver = kpkg[len("linux-image-"):]
    kernel = os.path.join(gdir, "kernel", "boot", "vmlinuz-" + kver)
    moddir = os.path.join(gdir, "kernel", "lib", "modules", kver)
    if not os.path.exists(kernel):
        raise GuestUnavailable("no %s in %s" % (os.path.basename(kernel), kpkg))
    mods = _module_closure(moddir, list(BASE_MODULES) + [m for m in modules
                                                         if m not in BASE_MODULES])

    # guest-bench, rebuilt when its source changes.
    src = os.path.join(HERE, "guest-bench.c")
    binary = os.path.join(gdir, "guest-bench")
    if not os.path.exists(binary) or os.path.getmtime(binary) < os.path.getmtime(src):
        cc = _compiler(top, arch, debs, log)
        p = _run(cc + ["-O2", "-Wall", "-o", binary, src])
        if p.returncode != 0:
            raise GuestUnavailable("cannot compile guest-bench: %s" % p.stderr.strip()[-400:])

    # The initramfs, rebuilt when an input changes.
    busybox = os.path.join(gdir, "busybox", "bin", "busybox")
    init = os.path.join(HERE, "init.sh")
    inputs = [busybox, binary, init] + mods
    h = hashlib.sha256()
    for path in inputs:
        h.update(path.encode())
        h.update(str(os.path.getmtime(path)).encode())
    initrd = os.path.join(gdir, "initramfs.cpio")
    stamp = initrd + "." + h.hexdigest()[:16]
    if not (os.path.exists(initrd) and os.path.exists(stamp)):
        for old in glob.glob(initrd + ".*"):
            os.remove(old)
        root = os.path.join(gdir, "initramfs")
        shutil.rmtree(root, ignore_errors=True)
        for d in ("bin", "dev", "proc", "sys", "mnt", "lib/modules", "etc"):
            os.makedirs(os.path.join(root, d))
        shutil.copy2(busybox, os.path.join(root, "bin", "busybox"))
        shutil.copy2(binary, os.path.join(root, "bin", "guest-bench"))
        shutil.copy2(init, os.path.join(root, "init"))
        os.chmod(os.path.join(root, "init"), 0o755)
        with open(os.path.join(root, "etc", "modules"), "w") as f:
            for m in mods:
                shutil.copy2(m, os.path.join(root, "lib", "modules"))
                f.write(os.path.basename(m) + "\n")
        files = subprocess.run(["find", "."], cwd=root, capture_output=True,
                               text=True).stdout
        with open(initrd, "wb") as out:
            p = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet", "-R", "0:0"], cwd=root,
                               input=files.encode(), stdout=out, stderr=subprocess.PIPE)
        if p.returncode != 0:
            raise GuestUnavailable("cpio: %s" % p.stderr.decode().strip())
        open(stamp, "w").close()
    return {"kernel": kernel, "initrd": initrd, "console": CONSOLE[arch], "name": kver}
