#!/bin/sh
# mkcowfs and the cowfs inspector end to end: build a tree of awkward
# files (sparse ones, hard links), make two images with fixed time stamps (byte-identical), check
# one, read every file back and compare, damage a data block (check and cat
# must fail), refuse garbage and a tree that does not fit with one line.
# Usage: cowfs_tools.sh MKCOWFS COWFS WORKDIR
set -eu
MK=$1 CW=$2 W=$3
rm -rf "$W" && mkdir -p "$W/t/etc" "$W/t/deep/a/b/c/d/e/f" "$W/t/wide" "$W/t/empty"
cd "$W"
echo hello > t/etc/motd
: > t/zero
seq 1 300000 > t/numbers.txt
head -c 2000000 /dev/urandom > t/random.bin
printf 'x' | dd of=t/sparse bs=1 seek=5000000 2>/dev/null
# a large hole: skipped, not read, and not counted when sizing the image
printf 'tail' | dd of=t/holes bs=1 seek=300000000 2>/dev/null
truncate -s 400000000 t/holes
ln t/numbers.txt t/etc/numbers-again
echo deep > "t/deep/a/b/c/d/e/f/name with spaces and ümlaut"
ln -s etc/motd t/link
i=0; while [ $i -lt 2000 ]; do echo $i > t/wide/file-$i; i=$((i+1)); done
chmod 600 t/etc/motd
"$MK" -q -t 1700000000 -b 64K img1 t
"$MK" -q -t 1700000000 -b 64K img2 t
cmp img1 img2 || { echo "images differ"; exit 1; }
"$CW" check img1
[ "$(stat -c %s img1)" -le $((128 << 20)) ] || { echo "image sized by the holes"; exit 1; }
# hard links: one object, two names
obj1=$("$CW" stat img1 numbers.txt | sed -n 's/^object \([0-9]*\) file .* nlink \([0-9]*\) .*/\1 \2/p')
obj2=$("$CW" stat img1 etc/numbers-again | sed -n 's/^object \([0-9]*\) file .* nlink \([0-9]*\) .*/\1 \2/p')
[ -n "$obj1" ] && [ "$obj1" = "$obj2" ] && [ "${obj1#* }" = 2 ] || { echo "hard link not kept: '$obj1' '$obj2'"; exit 1; }
# every file reads back as it was (the wide directory: a sample)
(cd t && find . -type f ! -path './wide/*'; echo ./wide/file-0; echo ./wide/file-1999) | while read -r f; do
  "$CW" cat img1 "$f" | cmp - "t/$f" || { echo "content of $f differs"; exit 1; }
done
"$CW" ls img1 | grep -q -- '-> etc/motd' || { echo "symlink missing"; exit 1; }
"$CW" ls img1 etc | grep -q -- '-rw-------' || { echo "mode lost"; exit 1; }
[ "$("$CW" ls img1 wide | wc -l)" -eq 2000 ] || { echo "wide directory incomplete"; exit 1; }
"$CW" ls img1 wide | awk '{print $NF}' > listed
(cd t/wide && ls -A | LC_ALL=C sort) | cmp - listed || { echo "ls not sorted by name"; exit 1; }
# flip IMAGE OFFSET: invert one byte (damage that always changes it)
flip() {
  b=$(dd if="$1" bs=1 skip="$2" count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
  printf "\\$(printf %o $((255 - b)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
# damage the first data block of numbers.txt: check and scrub name the file
addr=$("$CW" stat img1 numbers.txt | sed -n 's/^block 0: addr \([0-9]*\)\/.*/\1/p')
[ -n "$addr" ] || { echo "no block address"; exit 1; }
cp img1 bad.img
flip bad.img $((addr + 64))
if "$CW" check bad.img >/dev/null; then echo "check missed the damage"; exit 1; fi
if "$CW" cat bad.img numbers.txt >/dev/null 2>&1; then echo "cat returned bad bytes"; exit 1; fi
"$CW" check bad.img | grep -q 'unrecoverable 1: /numbers.txt$' || { echo "check did not name the file"; exit 1; }
# scrub: copy 0 of the etc directory's bucket damaged too, rewritten from copy 1
daddr=$("$CW" stat img1 etc | sed -n 's/^block 0: addr \([0-9]*\)\/.*/\1/p')
flip bad.img $((daddr + 64))
if "$CW" scrub bad.img > out; then echo "scrub missed the damage"; exit 1; fi
grep -q 'errors 2, repaired 1, unrecoverable 1: /numbers.txt$' out || { cat out; echo "scrub: wrong result"; exit 1; }
"$CW" scrub bad.img | grep -q 'errors 1, repaired 0, unrecoverable 1' || { echo "scrub did not repair"; exit 1; }
# garbage and a too-small image: one line, status 1
head -c 8388608 /dev/zero > zero.img
if "$CW" ls zero.img 2>err; then echo "accepted an empty image"; exit 1; fi
[ "$(wc -l < err)" -eq 1 ] || { echo "more than one line for a bad image"; exit 1; }
if "$MK" -q -s 4M small.img t 2>err; then echo "overfull image accepted"; exit 1; fi
[ "$(wc -l < err)" -eq 1 ] && [ ! -e small.img ] || { echo "bad ENOSPC report"; exit 1; }
# not images: a directory, a character device (mkcowfs must not touch it)
if "$CW" ls t 2>err; then echo "accepted a directory as an image"; exit 1; fi
grep -q 'Is a directory' err && [ "$(wc -l < err)" -eq 1 ] || { cat err; echo "bad report for a directory"; exit 1; }
if "$MK" -q /dev/null t 2>err; then echo "mkcowfs wrote to /dev/null"; exit 1; fi
[ -c /dev/null ] && [ "$(wc -l < err)" -eq 1 ] || { echo "bad report for a device"; exit 1; }
echo "cowfs tools: ok"
