#!/bin/busybox sh
# /init of the Linux guest of tools/karst-compare (see linux_guest.py).
# Mounts /proc, /sys and /dev, loads the virtio modules listed in
# /etc/modules (dependencies first), waits for the disks the kernel command
# line's compare_disks= counts, prints "compare: ready" (the end of the
# boot figure, as karst's "karst: ready" line is), runs the commands of
# compare_run= (the kernel hands unknown name=value words to init as
# environment variables), and powers off.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r m; do
	insmod "/lib/modules/$m" || echo "compare: insmod $m failed"
done </etc/modules
n=0
for letter in a b c d e f g h; do
	[ "$n" -ge "${compare_disks:-0}" ] && break
	tries=0
	while [ ! -b "/dev/vd$letter" ] && [ "$tries" -lt 500 ]; do
		usleep 10000
		tries=$((tries + 1))
	done
	[ -b "/dev/vd$letter" ] || echo "compare: no /dev/vd$letter"
	n=$((n + 1))
done
echo "compare: ready"
eval "${compare_run:-}"
echo "compare: done $?"
poweroff -f
