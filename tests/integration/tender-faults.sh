#!/bin/bash
# Every crash mode of the crash guest and every hostile hypercall becomes
# exactly one fault event of the right kind with plausible registers, and
# the tender stops cleanly with its documented status.
source "$(dirname "$0")/lib.bash"

if ! have_kvm; then
	skip "tender faults" "/dev/kvm is missing or not accessible"
	exit 0
fi

CRASH=$G/crash.hvt
run() { "$TCTL" -T 5000 -- "$TENDER" --mem=32 "$@" >"$out" 2>&1; }
out=$TMP/out

# one_fault NAME: exactly one fault event
one_fault() {
	local n
	n=$(grep -c '^fault ' "$out")
	[ "$n" -eq 1 ] && pass "$1: exactly one fault event" || fail "$1: exactly one fault event" "$n"
}

# rip_in NAME FUNC
rip_in() {
	local rip
	rip=$(field "$out" fault rip)
	if in_func "$CRASH" "$2" "$rip"; then
		pass "$1: rip $rip inside $2"
	else
		fail "$1: rip inside $2" "rip=$rip, $2 at $(sym_range "$CRASH" "$2")"
	fi
}

run "$CRASH" pagefault 0x7f0001234
expect "page fault: vector 14, cr2 = touched address, status 80" "$out" \
	'^ready ' '^fault kind=exception vector=14 .* cr2=0x7f0001234 ' \
	'source=guest' '^exited .* status=80 reason=fault' '^tender-exit status=80 '
one_fault "page fault"
rip_in "page fault" crash_pagefault
rsp=$(field "$out" fault rsp)
(( rsp > 0x100000 && rsp <= 32 * 1024 * 1024 )) && pass "page fault: rsp $rsp inside guest memory" \
	|| fail "page fault: rsp plausible" "$rsp"
cs=$(field "$out" fault cs)
[ "$cs" = "0x8" ] && pass "page fault: cs is the kernel code selector" || fail "page fault: cs" "$cs"

run "$CRASH" pagefault 0x0
expect "null dereference: vector 14, cr2=0" "$out" '^fault kind=exception vector=14 .* cr2=0x0 '

run "$CRASH" divide
expect "divide error: vector 0" "$out" '^fault kind=exception vector=0 ' '^tender-exit status=80 '
one_fault "divide error"
rip_in "divide error" crash_divide

run "$CRASH" invalid-opcode
expect "invalid opcode: vector 6" "$out" '^fault kind=exception vector=6 ' '^tender-exit status=80 '
rip_in "invalid opcode" crash_invalid_opcode

run "$CRASH" abort "disk on fire"
expect "abort: kind abort, message on the console, status 255" "$out" \
	'^console ".*ABORT.*disk on fire' '^fault kind=abort ' \
	'^exited .* status=255 reason=guest' '^tender-exit status=255 '
one_fault "abort"

run "$CRASH" triple
expect "triple fault: kind triple-fault, status 80" "$out" \
	'^fault kind=triple-fault .*source=vcpu' '^tender-exit status=80 '
one_fault "triple fault"

run "$CRASH" exit 7
expect "exit 7: status 7, no fault" "$out" '^exited .* status=7 reason=guest' '^tender-exit status=7 '
reject "exit 7: no fault event" "$out" '^fault '

run "$CRASH" fault "invariant broken"
expect "hb_fault: kind abort with its message and the guest's registers" "$out" \
	'^fault kind=abort .*source=guest .*msg= "invariant broken"' '^tender-exit status=80 '

run "$CRASH" dump
expect "hb_dump: a dump event, then the guest goes on and exits 0" "$out" \
	'^fault kind=dump ' '^exited .* status=0 reason=guest'

run "$CRASH" stack-overflow
expect "stack overflow: a fault, not a hang" "$out" '^fault kind=(exception|triple-fault) ' '^tender-exit status=80 '

# Without a control channel: the fault is printed readably.
"$TENDER" --mem=32 "$CRASH" pagefault 0x7f0001234 >"$TMP/stdout" 2>"$TMP/stderr"; rc=$?
[ $rc -eq 80 ] && expect "page fault (no control fd): readable report, exit 80" "$TMP/stderr" \
	'fault: exception vector=14' 'cr2=0x00000007f0001234' 'r15=0x' \
	|| fail "page fault (no control fd): exit 80" "exit $rc"

# Same Solo5 convention as solo5-hvt: abort is 255.
"$TENDER" --mem=32 "$CRASH" abort boom >"$TMP/stdout" 2>"$TMP/stderr"; rc=$?
[ $rc -eq 255 ] && pass "abort (no control fd): exit 255" || fail "abort (no control fd): exit 255" "exit $rc"

# Hostile hypercalls: each stops the guest with a bad-hypercall fault.
for mode in badport badsize badaddr badlen badarg unknown; do
	run "$G/hostile.hvt" "$mode"
	expect "hostile $mode: bad-hypercall fault, status 80" "$out" \
		'^fault kind=bad-hypercall ' '^exited .* status=80 reason=fault' '^tender-exit status=80 '
done
run "$G/hostile.hvt" badhandle
reject "hostile badhandle: refused without killing the tender" "$out" '^tender-signal '
exit 0
