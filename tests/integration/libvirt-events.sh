#!/bin/bash
# libvirt-events.sh: summoner/virt_event.c + virt_conn.c against a real
# libvirtd, through build/tests/virtprobe: lifecycle events of transient
# QEMU/KVM microvm domains (no kernel: the firmware idles), gdbserver and
# a memory-only core through libvirt, a guest panic (pvpanic), a libvirtd
# restart (when the test started libvirtd itself) and a SIGKILLed qemu.
# The probe's 10 ms libevent timer must never have stalled more than
# 200 ms while the domains started and stopped.  Figures are printed.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.bash
. tests/integration/libvirt.bash

T=libvirt-events
PROBE=$BUILD/tests/virtprobe
STALL_MAX_MS=200

if [ ! -x "$PROBE" ]; then
	skip "$T" "$PROBE is not built"
	exit 0
fi
if ! lv_start; then
	skip "$T" "$LV_SKIP"
	exit 0
fi

N=$LV_PREFIX
OUT=$TMP/probe.out
CORE=$LV_DIR/core.elf
args=(-s "$LV_QDIR" -c "$CORE" -g -p)
lv_owned && args+=(-r)
"$PROBE" "${args[@]}" "$N" >"$OUT" 2>&1 &
PPID_=$!

# The probe says when to restart libvirtd; then it waits to reconnect.
if lv_owned; then
	deadline=$((SECONDS + 60))
	while ! grep -q '^restart-now' "$OUT" && kill -0 $PPID_ 2>/dev/null &&
		[ $SECONDS -lt $deadline ]; do
		sleep 0.05
	done
	if grep -q '^restart-now' "$OUT"; then
		t0=$(date +%s%N)
		if lv_restart; then
			echo "  libvirtd restarted in $((($(date +%s%N) - t0) / 1000000)) ms"
		else
			fail "$T: restart" "libvirtd did not come back"
		fi
	fi
fi
deadline=$((SECONDS + 150))
while kill -0 $PPID_ 2>/dev/null && [ $SECONDS -lt $deadline ]; do
	sleep 0.05
done
if kill -0 $PPID_ 2>/dev/null; then
	kill -KILL $PPID_
	fail "$T" "virtprobe still running after 150 s"
fi
wait $PPID_
rc=$?

expect "$T: start" "$OUT" "^event name=$N-a event=started detail=booted"
expect "$T: suspend, resume" "$OUT" \
	"^event name=$N-a event=suspended detail=paused" \
	"^event name=$N-a event=resumed detail=unpaused"
expect "$T: destroy" "$OUT" "^event name=$N-a event=stopped detail=destroyed"
expect "$T: gdbserver through the monitor" "$OUT" '^gdbserver .*stop_reply="\$T'
expect "$T: memory-only core is an ELF core" "$OUT" "^core .* elf=1 class=2 type=4"
if [ -s "$CORE" ]; then
	gdb -batch -ex "core-file $CORE" -ex 'info registers' >"$TMP/gdb.out" 2>&1
	expect "$T: gdb loads the core" "$TMP/gdb.out" '^(eip|rip) +0x'
else
	fail "$T: gdb loads the core" "no core file"
fi
expect "$T: pvpanic" "$OUT" \
	"^event name=$N-p event=crashed detail=panicked guest_crash=1" \
	"^event name=$N-p event=stopped detail=crashed guest_crash=1"
if lv_owned; then
	expect "$T: libvirtd restart" "$OUT" '^closed uri=' '^reconnected uri=' \
		"^survived domain=$N-b active=1"
else
	skip "$T: libvirtd restart" "libvirtd was running before the test: not ours to restart"
fi
expect "$T: qemu killed" "$OUT" \
	"^event name=$N-b event=stopped detail=(failed|crashed)"
expect "$T: probe finished" "$OUT" '^ok$'
[ $rc -eq 0 ] || fail "$T" "virtprobe exited $rc"

stall=$(sed -n 's/^stall phase=domains max_ms=\([0-9.]*\).*/\1/p' "$OUT")
if [ -z "$stall" ]; then
	fail "$T: loop never stalled" "no stall figure"
elif awk -v s="$stall" -v m=$STALL_MAX_MS 'BEGIN { exit !(s < m) }'; then
	pass "$T: loop never stalled over ${STALL_MAX_MS} ms (worst ${stall} ms)"
else
	fail "$T: loop never stalled" "worst stall ${stall} ms"
	sed 's/^/    | /' "$OUT"
fi

echo "  figures:"
grep -E '^(figure|stall|core) ' "$OUT" | sed 's/^/    /'
# Nothing left behind.
left=$(virsh -q -c "$LV_URI" list --name 2>/dev/null | grep -c "^$LV_PREFIX")
[ "${left:-0}" -eq 0 ] || fail "$T: cleanup" "$left domains left"
exit 0
