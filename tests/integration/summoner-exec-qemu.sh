#!/bin/bash
# summoner-exec-qemu.sh: the exec backend driving a real VMM, QEMU's
# microvm, on hello.virt, with real DNS queries (kdig), inside a network
# namespace this test creates (the service's tap needs the bridge):
#
#   command "qemu-system-x86_64 -M microvm ... -kernel {image} -append {args}
#            -serial stdio ... -netdev tap,ifname={tap},script=no,..."
#
# COM1 goes to QEMU's stdout, so the guest's console is the instance's
# console; COM2 (where hello.virt sends its READY and heartbeat frames)
# goes nowhere, since an exec command has only its output and UDP to speak
# through: readiness comes from ready-after.  `{args}` must be a word of
# its own and becomes one word per arg, so the guest's whole command line
# is one arg ("0 200"), which QEMU's -append takes as it is.
#
# Checks: the summon is answered; QEMU's command line is the template
# expanded; the console line arrived; the tap the summoner made exists,
# is on the bridge, and QEMU holds it open (a /proc/PID/fdinfo entry with
# iff: TAP); the idle stop ends QEMU and the tap goes.  The virt platform
# has no network driver yet, so nothing crosses the tap: this only shows
# that the plumbing reaches the VMM.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/daemon.bash"

QEMU=${QEMU:-qemu-system-x86_64}
BR=smxq0
IP=10.76.0.2

if ! command -v "$QEMU" >/dev/null 2>&1; then
	skip "exec qemu" "$QEMU is not installed"
	exit 0
fi
if [ ! -f "$G/hello.virt" ]; then
	skip "exec qemu" "$G/hello.virt is not built"
	exit 0
fi
netns_or_skip "exec qemu" || exit 0

# holds_tap PID TAP: PID has a descriptor open on TAP (tun's fdinfo line).
holds_tap() {
	local f
	for f in /proc/"$1"/fdinfo/*; do
		grep -qx "iff:[[:space:]]*$2" "$f" 2>/dev/null && return 0
	done
	return 1
}

# -no-reboot: a guest that resets ends QEMU rather than looping.  QEMU
# stops on SIGTERM, which is the exec backend's stop.
CMD="$QEMU -M microvm -enable-kvm -m {memory} -nodefaults -no-user-config"
CMD="$CMD -display none -no-reboot -kernel {image} -append {args}"
CMD="$CMD -serial stdio -chardev null,id=hb"
CMD="$CMD -device isa-serial,chardev=hb,iobase=0x2f8,irq=3"
CMD="$CMD -device isa-debug-exit,iobase=0xf4,iosize=4 -device pvpanic"
CMD="$CMD -netdev tap,id=n0,ifname={tap},script=no,downscript=no"
CMD="$CMD -device virtio-net-device,netdev=n0"

start xq "bridge $BR address 10.76.0.1 prefix 24
$(svc hello 'backend exec' "command \"$CMD\"" "image \"$ROOT/$G/hello.virt\"" \
	'args "0 200"' 'memory 32M' 'net service' "address $IP prefix 24" \
	'ready-after 300ms' 'ready-deadline 5s' 'idle-timeout 2s')" || exit 1

expect_text "qemu: the summon is answered once ready-after has passed" \
	"$(q hello.t.test A +timeout=10)" "^NOERROR ${IP//./\\.}\$"
J=$(ctl -j show hello)
pid=$(echo "$J" | jfind pid)
tap=$(inns ip -o link show master "$BR" 2>/dev/null | awk -F': ' '{print $2}' |
	sed 's/@.*//' | grep '^sm-' | head -1)
cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)
expect_text "qemu: {memory} {image} {args} {tap} expand into QEMU's command line" \
	"$cmdline" "^$QEMU -M microvm .* -m 32 .* -kernel $ROOT/$G/hello\\.virt -append 0 200 " \
	"ifname=$tap,script=no"
if [ -n "$tap" ] && holds_tap "$pid" "$tap"; then
	pass "qemu: QEMU holds the tap $tap the summoner made on $BR (fdinfo iff)"
else
	fail "qemu: tap" "tap '$tap' on $BR; pid $pid fdinfo: $(grep -h iff /proc/"$pid"/fdinfo/* 2>/dev/null | tr '\n' ' ')"
fi
wait_log "hello#1 console: Hello, world" 30 &&
	pass "qemu: the guest's COM1 console is captured from QEMU's stdout" ||
	fail "qemu: console" "no 'Hello, world' console line"
if wait_log "hello#1: ready -> stopping .*idle" 60 && gone "$pid" 50 &&
	wait_log "hello#1: stopping -> stopped" 30; then
	pass "qemu: the idle stop ends QEMU (SIGTERM to its group)"
else
	fail "qemu: idle stop" "pid $pid, $(grep 'hello#1: ' "$LOG" | tail -3 | tr '\n' ' ')"
fi
left=""
for _ in $(seq 50); do
	left=$(inns ip link show "$tap" 2>/dev/null)
	[ -z "$left" ] && break
	sleep 0.1
done
[ -z "$left" ] && pass "qemu: the tap is deleted once QEMU is reaped" ||
	fail "qemu: tap left" "$left"
stop_daemon xq
