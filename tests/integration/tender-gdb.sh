#!/bin/bash
# The tender's gdb stub with a real gdb in batch mode: a live guest started
# with --gdb (breakpoints, continue, stepi, x, hbreak, kill), the socket's
# mode, TCP on 127.0.0.1 only, junk on the socket, and a faulted guest held
# frozen for gdb with its registers at the fault.
source "$(dirname "$0")/lib.bash"

if ! have_kvm; then
	skip "tender gdb" "/dev/kvm is missing or not accessible"
	exit 0
fi
if ! command -v gdb >/dev/null; then
	skip "tender gdb" "gdb is not installed"
	exit 0
fi

HELLO=$G/hello.hvt
CRASH=$G/crash.hvt

# wait_for CMD...: poll CMD until it succeeds, at most 10 s.
wait_for() {
	local i
	for ((i = 0; i < 1000; i++)); do
		"$@" && return 0
		sleep 0.01
	done
	return 1
}

# start_tender LOG ARGS...: the tender in the background; $tpid.
start_tender() {
	local log=$1
	shift
	"$TENDER" --mem=32 "$@" >"$log" 2>&1 &
	tpid=$!
}

# exited PID: the process has ended (reaped by wait).
gone() { ! kill -0 "$1" 2>/dev/null; }

# tender_status: wait for $tpid (at most 10 s) and print its exit status.
tender_status() {
	if ! wait_for gone "$tpid"; then
		kill -9 "$tpid" 2>/dev/null
		echo killed
		return
	fi
	wait "$tpid"
	echo $?
}

rungdb() {
	local img=$1 target=$2
	shift 2
	timeout 60 gdb -batch -nx -ex "set confirm off" -ex "target remote $target" "$@" "$img" 2>&1
}

# 1) live guest under --gdb
sock=$TMP/g.sock
start_tender "$TMP/live.log" --gdb=unix:"$sock" "$HELLO" 2 10
if ! wait_for test -S "$sock"; then
	fail "gdb live: socket appears" "$(cat "$TMP/live.log")"
else
	pass "gdb live: socket appears"
	mode=$(stat -c %a "$sock")
	[ "$mode" = 600 ] && pass "gdb: unix socket has mode 0600" || fail "gdb: unix socket mode 0600" "$mode"
	entry=$(readelf -h "$HELLO" | awk '/Entry point/ { print $4 }')
	rungdb "$HELLO" "$sock" -ex 'info registers rip' -ex 'break guest_main' -ex continue -ex bt \
		-ex 'p/x $pc' -ex stepi -ex 'p/x $pc' -ex 'x/4xb $pc' -ex 'hbreak hb_beat' -ex continue \
		-ex bt -ex 'info registers r8 r15' -ex kill >"$TMP/live.gdb"
	expect "gdb live: held at the entry point" "$TMP/live.gdb" "^rip +$entry "
	expect "gdb live: break guest_main, continue, bt names it" "$TMP/live.gdb" \
		'^Breakpoint 1, guest_main ' '^#0  guest_main '
	pcs=$(grep -E '^\$[0-9]+ = 0x' "$TMP/live.gdb" | awk '{ print $3 }' | tr '\n' ' ')
	read -r pc1 pc2 <<<"$pcs"
	[ -n "$pc2" ] && [ "$pc1" != "$pc2" ] && pass "gdb live: stepi moves rip ($pc1 -> $pc2)" \
		|| fail "gdb live: stepi moves rip" "$pcs"
	expect "gdb live: x/4xb \$pc reads guest memory" "$TMP/live.gdb" "^$pc2 <guest_main\\+[0-9]+>:(\s+0x[0-9a-f]{2}){4}"
	expect "gdb live: hbreak hb_beat, continue stops there with its caller" "$TMP/live.gdb" \
		'^Breakpoint 2, hb_beat ' '^#1  .* in guest_main '
	expect "gdb live: r8 and r15 readable" "$TMP/live.gdb" '^r8 +0x' '^r15 +0x'
	st=$(tender_status)
	[ "$st" = 81 ] && pass "gdb live: kill ends the tender (81)" || fail "gdb live: kill ends the tender" "status $st"
	[ ! -e "$sock" ] && pass "gdb live: socket removed at exit" || fail "gdb live: socket removed at exit" "still there"
fi

# 1b) the guest runs to its end under gdb: gdb sees it exit
start_tender "$TMP/end.log" --gdb=unix:"$sock" "$HELLO" 1 10
wait_for test -S "$sock"
rungdb "$HELLO" "$sock" -ex continue >"$TMP/end.gdb"
expect "gdb live: guest exit reported to gdb" "$TMP/end.gdb" 'exited normally'
st=$(tender_status)
[ "$st" = 0 ] && pass "gdb live: guest status kept (0)" || fail "gdb live: guest status kept" "status $st"

# 1c) Ctrl-C while the guest runs, over the raw protocol
start_tender "$TMP/intr.log" --gdb=unix:"$sock" "$HELLO" 0 10
wait_for test -S "$sock"
python3 - "$sock" >"$TMP/intr.out" 2>&1 <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(5)
def pkt(d):
    return b"$" + d + b"#%02x" % (sum(d) & 0xff)
def recv_packet():
    buf = b""
    while True:
        buf += s.recv(4096)
        i = buf.find(b"$")
        j = buf.find(b"#", i)
        if i >= 0 and j >= 0 and len(buf) >= j + 3:
            return buf[i + 1:j]
s.sendall(pkt(b"c"))
time.sleep(0.3)  # let the guest run a while
s.sendall(b"\x03")
print("stop", recv_packet().decode())
s.sendall(pkt(b"k"))
PY
expect "gdb live: Ctrl-C stops the running guest (T02)" "$TMP/intr.out" '^stop T02'
st=$(tender_status)
[ "$st" = 81 ] && pass "gdb live: k after Ctrl-C ends the tender" || fail "gdb live: k after Ctrl-C" "status $st"

# 3) TCP on 127.0.0.1 only
start_tender "$TMP/tcp.log" --gdb=tcp:127.0.0.1:0 "$HELLO" 2 10
if wait_for grep -q 'gdb: target remote 127.0.0.1:[0-9]' "$TMP/tcp.log"; then
	where=$(sed -n 's/.*gdb: target remote //p' "$TMP/tcp.log" | head -1)
	port=${where##*:}
	[ "$port" -gt 0 ] && pass "gdb tcp: port 0 picks a free port ($where)" || fail "gdb tcp: port" "$where"
	rungdb "$HELLO" "$where" -ex 'info registers rip' -ex kill >"$TMP/tcp.gdb"
	expect "gdb tcp: gdb connects over TCP" "$TMP/tcp.gdb" '^rip +0x'
else
	fail "gdb tcp: listening address printed" "$(cat "$TMP/tcp.log")"
fi
st=$(tender_status)
[ "$st" = 81 ] && pass "gdb tcp: kill ends the tender" || fail "gdb tcp: kill ends the tender" "status $st"
for bad in tcp:0.0.0.0:1234 tcp:192.168.1.1:1234 tcp:localhost:1 tcp:127.0.0.1:99999 udp:x unix:relative; do
	"$TENDER" --mem=32 --gdb="$bad" "$HELLO" >"$TMP/bad.log" 2>&1 </dev/null
	rc=$?
	if [ $rc -eq 64 ] && grep -q 'summoner-tender: --gdb: ' "$TMP/bad.log"; then
		pass "gdb: --gdb=$bad refused (64)"
	else
		fail "gdb: --gdb=$bad refused (64)" "exit $rc: $(head -3 "$TMP/bad.log")"
	fi
done
echo data >"$TMP/file"
"$TENDER" --mem=32 --gdb=unix:"$TMP/file" "$HELLO" >"$TMP/bad.log" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "not a socket" "$TMP/bad.log" && [ "$(cat "$TMP/file")" = data ] \
	&& pass "gdb: an existing file is not replaced" || fail "gdb: existing file refused" "exit $rc"

# 4) junk on the socket
start_tender "$TMP/junk.log" --gdb=unix:"$sock" "$HELLO" 2 10
wait_for test -S "$sock"
python3 - "$sock" >"$TMP/junk.out" 2>&1 <<'PY'
import os, socket, sys
def conn():
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.settimeout(2)
    return s
def pkt(d):
    return b"$" + d + b"#%02x" % (sum(d) & 0xff)
s = conn()
s.sendall(os.urandom(3000))                        # noise
s.sendall(b"$" + b"A" * 9000 + b"#00")             # oversized
s.sendall(b"$g#00")                                # bad checksum
for p in [b"m", b"mffffffffffffffff,10", b"m0,ffffffffffffffff", b"M0,4:zz",
          b"Mfffffffffffff000,1000:00", b"X10,4:ab", b"Z0,ffffffffffff,1",
          b"Z1,100000", b"Z2,100001,4", b"p999", b"Pz=1", b"G12", b"c12345zz",
          b"P10=" + b"0" * 200, b"qXfer:features:read:target.xml:0,fff", b"vCont?"]:
    s.sendall(pkt(p))
s.sendall(b"$m10000")                              # cut mid-packet
s.close()
s = conn()                                         # a new client is served
s.sendall(pkt(b"?"))
buf = b""
while b"#" not in buf[buf.find(b"$"):] or buf.find(b"$") < 0:
    buf += s.recv(100)
print("reply", buf.decode(errors="replace"))
s.sendall(pkt(b"k"))
PY
expect "gdb: junk, oversized and hostile packets do not hurt the tender" "$TMP/junk.out" '^reply .*\$T05'
st=$(tender_status)
[ "$st" = 81 ] && pass "gdb: the tender still obeys k after junk" || fail "gdb: k after junk" "status $st"

# 5) a faulted guest is held frozen for gdb (CLI mode)
mkdir -p "$TMP/faults"
start_tender "$TMP/crash.log" --gdb=unix:"$sock" --fault-dir="$TMP/faults" "$CRASH" pagefault
wait_for test -S "$sock"
rungdb "$CRASH" "$sock" -ex continue -ex detach >"$TMP/crash1.gdb"
expect "gdb fault: continue runs into the page fault (SIGSEGV)" "$TMP/crash1.gdb" 'SIGSEGV' 'crash_pagefault'
if gone "$tpid"; then
	fail "gdb fault: the VM stays frozen after detach" "tender exited: $(tail -3 "$TMP/crash.log")"
else
	pass "gdb fault: the VM stays frozen after detach"
	rungdb "$CRASH" "$sock" -ex bt -ex 'info registers r12 r13 r14 r15' -ex stepi -ex 'p/x $pc' \
		-ex 'x/2i $pc' -ex kill >"$TMP/crash2.gdb"
	expect "gdb fault: a second gdb gets bt from the faulting function and its caller" "$TMP/crash2.gdb" \
		'^#0  .*crash_pagefault ' '^#1  .* in guest_main '
	expect "gdb fault: r12-r15 hold what the guest loaded" "$TMP/crash2.gdb" \
		'^r12 +0x1212121212121212 ' '^r13 +0x1313131313131313 ' \
		'^r14 +0x1414141414141414 ' '^r15 +0x1515151515151515 '
	st=$(tender_status)
	[ "$st" = 80 ] && pass "gdb fault: kill ends the tender with the fault status (80)" \
		|| fail "gdb fault: kill ends the tender (80)" "status $st"
fi
