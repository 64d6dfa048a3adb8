#!/bin/bash
# The virt platform: every example guest built as <name>.virt boots on
# QEMU's microvm machine with KVM (PVH entry), prints on COM1, sends framed
# heartbeats and fault reports on COM2 (docs/heartbeat-protocol.md, "UART"),
# exits through isa-debug-exit and panics through pvpanic.
source "$(dirname "$0")/lib.bash"

QEMU=${QEMU:-qemu-system-x86_64}
if ! have_kvm; then
	skip "virt guests" "/dev/kvm is missing or not accessible"
	exit 0
fi
if ! command -v "$QEMU" >/dev/null 2>&1; then
	skip "virt guests" "$QEMU is not installed"
	exit 0
fi
if ! command -v python3 >/dev/null 2>&1; then
	skip "virt guests" "python3 is not installed"
	exit 0
fi

# vm.py: runs one guest the way a libvirt backend would (paused at start,
# QMP for events, COM2 on a unix socket), reads COM2 as a host must: frame
# by frame, resynchronising after garbage.  Writes to OUT/:
#   console      COM1
#   frames       "<ms> <tag> <n> <line>" per KEY=VALUE line (N, F, D) or
#                log line (L); ms since qemu started, n counts frames
#   result       ready_ms=, cont_ms= (when the paused VM was resumed),
#                panicked=<action>, qemu_rc=, status=, timeout=
cat >"$TMP/vm.py" <<'EOF'
import json, os, select, socket, subprocess, sys, time

def unescape(p):
    out, i = bytearray(), 0
    while i < len(p):
        c = p[i]
        if c != 0x5c:
            out.append(c); i += 1; continue
        if p[i+1:i+2] == b'\\': out.append(0x5c); i += 2
        elif p[i+1:i+2] == b'n': out.append(0x0a); i += 2
        elif p[i+1:i+2] == b'x' and len(p) >= i + 4:
            out.append(int(p[i+2:i+4], 16)); i += 4
        else: raise ValueError('bad escape')
    return bytes(out)

class Reader:
    """COM2: 0x1e TAG ' ' ESCAPED '\\n'; anything else is skipped."""
    def __init__(self): self.buf, self.inframe, self.frames, self.bad = b'', False, [], 0
    def feed(self, data):
        for b in data:
            if b == 0x1e:
                if self.inframe and self.buf: self.bad += 1
                self.inframe, self.buf = True, b''
            elif not self.inframe:
                continue
            elif b == 0x0a:
                self.inframe = False
                f = self.buf
                if len(f) >= 2 and f[0:1] in b'NLFD' and f[1:2] == b' ':
                    try: self.frames.append((f[0:1].decode(), unescape(f[2:])))
                    except ValueError: self.bad += 1
                else: self.bad += 1
            elif b < 0x20 or len(self.buf) > 20000:
                self.inframe, self.bad = False, self.bad + 1
            else:
                self.buf += bytes([b])

if sys.argv[1] == 'selftest':
    good = b'\x1eN READY=1\\n\n\x1eL a\\\\b\\x07c\n'
    # noise, a frame cut short by the next start, a bad tag, a bad
    # escape, a raw control byte: all skipped, the good frames survive
    r = Reader(); r.feed(b'noise\n\x00\xff' + good[:6] + b'\x1eX junk\n\x1eN a\\q\n'
                         b'\x1eL c\x01d\n' + good)
    ok = r.frames == [('N', b'READY=1\n'), ('L', b'a\\b\x07c')] and r.bad == 4
    print('selftest', 'ok' if ok else 'FAILED %r' % r.frames)
    sys.exit(0 if ok else 1)

qemu, image, out, limit = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
args = ' '.join(sys.argv[5:])
qmp_path, hb_path = out + '/qmp.sock', out + '/hb.sock'
cmd = [qemu, '-M', 'microvm', '-enable-kvm', '-m', '64', '-nodefaults',
       '-no-user-config', '-display', 'none', '-no-reboot', '-S',
       '-kernel', image, '-append', args,
       '-qmp', 'unix:%s,server=on,wait=off' % qmp_path,
       '-chardev', 'file,id=con,path=%s/console' % out, '-serial', 'chardev:con',
       '-chardev', 'socket,id=hb,path=%s,server=on,wait=off' % hb_path,
       '-device', 'isa-serial,chardev=hb,iobase=0x2f8,irq=3',
       '-device', 'isa-debug-exit,iobase=0xf4,iosize=4',
       '-device', 'pvpanic', '-action', 'panic=pause']
t0 = time.monotonic()
ms = lambda: int((time.monotonic() - t0) * 1000)
p = subprocess.Popen(cmd, stderr=open(out + '/stderr', 'w'))
res = {}
# whatever goes wrong below, qemu (paused or not) must not outlive us
import atexit
atexit.register(lambda: p.poll() is None and p.kill())
def connect(path):
    while time.monotonic() - t0 < 10:
        try:
            s = socket.socket(socket.AF_UNIX); s.connect(path); return s
        except OSError: time.sleep(0.002)
    raise SystemExit('cannot connect to ' + path)
qmp = connect(qmp_path); qf = qmp.makefile('rwb')
def cmdq(c):
    try: qf.write(json.dumps({'execute': c}).encode() + b'\n'); qf.flush()
    except OSError: pass  # qemu already gone
qf.readline(); cmdq('qmp_capabilities')
while b'return' not in qf.readline(): pass
hb = connect(hb_path)
cmdq('cont')
res['cont_ms'] = ms()
rd, frames_out, quitting = Reader(), open(out + '/frames', 'w'), False
nframes, ready, socks = 0, None, [qmp, hb]
deadline = t0 + limit
while p.poll() is None and socks:
    if time.monotonic() >= deadline and not quitting:
        res['timeout'] = 1; cmdq('quit'); quitting = True
    r, _, _ = select.select(socks, [], [], 0.05)
    if hb in r:
        try: data = hb.recv(65536)
        except OSError: data = b''
        if not data: socks.remove(hb)
        rd.feed(data)
        for tag, payload in rd.frames:
            nframes += 1
            lines = payload.split(b'\n') if tag != 'L' else [payload]
            for l in lines:
                if l == b'' and tag != 'L': continue
                frames_out.write('%d %s %d %s\n' % (ms(), tag, nframes, l.decode('latin-1')))
                if tag == 'N' and l == b'READY=1' and ready is None:
                    ready = ms(); res['ready_ms'] = ready
        frames_out.flush(); rd.frames = []
    if qmp in r:
        try: line = qf.readline()
        except OSError: line = b''
        if not line:
            socks.remove(qmp); continue
        ev = json.loads(line)
        if ev.get('event') == 'GUEST_PANICKED':
            res['panicked'] = ev['data'].get('action', '?')
            if not quitting: cmdq('quit'); quitting = True
try: p.wait(timeout=10)
except subprocess.TimeoutExpired: p.kill(); p.wait(); res['killed'] = 1
res['qemu_rc'] = p.returncode
# isa-debug-exit: QEMU exits with (status << 1) | 1
if p.returncode % 2 == 1: res['status'] = p.returncode >> 1
res['bad_frames'] = rd.bad
with open(out + '/result', 'w') as f:
    for k, v in res.items(): f.write('%s=%s\n' % (k, v))
EOF

# run NAME TIMEOUT_S ARGS...: boots $G/NAME.virt; results in $TMP/NAME.x/
# (the directory is $R afterwards).
n=0
run() {
	local img=$1 limit=$2
	shift 2
	n=$((n + 1))
	R=$TMP/$img.$n
	mkdir -p "$R"
	: >"$R/frames"
	: >"$R/result"
	python3 "$TMP/vm.py" "$QEMU" "$G/$img.virt" "$R" "$limit" "$@" ||
		echo "harness_failed=1" >>"$R/result"
	touch "$R/console"
	cat "$R/console" "$R/frames" "$R/result" >"$R/all"
}

res() { sed -n "s/^$2=//p" "$1/result"; }

python3 "$TMP/vm.py" selftest >/dev/null && pass "COM2 reader resynchronises after garbage" ||
	fail "COM2 reader resynchronises after garbage" "selftest failed"

# hello: console lines, READY then 3 beats on COM2, exit 0 -> QEMU 1.
readys=()
for i in 1 2 3; do
	run hello 10 3 50
	readys+=("$(res "$R" ready_ms) (resumed at $(res "$R" cont_ms))")
done
expect "hello.virt: console greeting and goodbye" "$R/all" \
	'^Hello, world: summoner guest up$' '^hello: 3 heartbeats, bye$'
expect "hello.virt: READY, then beats 1..3 framed on COM2" "$R/all" \
	'^[0-9]+ N 1 READY=1$' '^[0-9]+ N 2 WATCHDOG=1$' '^[0-9]+ N 2 X_SEQ=1$' \
	'^[0-9]+ N 4 X_SEQ=3$' '^[0-9]+ N 4 X_PROGRESS=3$' '^[0-9]+ N 5 X_EXIT=0$' \
	'^bad_frames=0$' '!^timeout='
expect "hello.virt: exit 0 through isa-debug-exit (QEMU status 1)" "$R/result" \
	'^qemu_rc=1$' '^status=0$' '!^panicked='
echo "    qemu start to READY on COM2, ms: ${readys[*]}"
if [[ ${readys[0]} =~ ^[0-9]+\  ]]; then
	pass "hello.virt: READY measured (${readys[*]} ms)"
else
	fail "hello.virt: READY measured" "no READY"
fi

# the command line reaches argv, wall clock works (crash exit CODE)
run crash 10 exit 42
expect "crash.virt exit 42: QEMU status 85, X_EXIT=42" "$R/all" \
	'^crash: exit$' '^qemu_rc=85$' '^status=42$' 'N [0-9]+ X_EXIT=42$'

# faults: a register frame on COM2, then pvpanic (QMP GUEST_PANICKED; the
# guest stops there under panic=pause, so it never reaches isa-debug-exit).
check_fault() { # name vector-or-kind regex...
	local name=$1
	shift
	expect "$name" "$R/all" '^panicked=pause$' '!^status=' \
		'F [0-9]+ R12=0x1212121212121212$' 'F [0-9]+ R15=0x1515151515151515$' \
		'F [0-9]+ RIP=0x[0-9a-f]+$' 'F [0-9]+ RSP=0x[0-9a-f]+$' "$@"
}
rip_in() { # name func
	local rip
	rip=$(sed -n 's/^[0-9]* F [0-9]* RIP=//p' "$R/frames" | head -1)
	if [ -n "$rip" ] && in_func "$G/crash.virt" "$1" "$((rip))"; then
		pass "crash.virt: reported rip $rip lies in $1"
	else
		fail "crash.virt: reported rip lies in $1" "rip=$rip"
	fi
}

run crash 10 pagefault
check_fault "crash.virt pagefault: vector 14, cr2 on COM2, pvpanic" \
	'^trap: page fault at 0xdead0000 \(vector 14\)' 'F [0-9]+ KIND=exception$' \
	'F [0-9]+ VECTOR=14$' 'F [0-9]+ CR2=0xdead0000$' 'F [0-9]+ MSG=page fault at 0xdead0000$'
rip_in crash_pagefault
run crash 10 divide
check_fault "crash.virt divide: vector 0, pvpanic" 'F [0-9]+ VECTOR=0$' 'F [0-9]+ MSG=divide error$'
rip_in crash_divide
run crash 10 invalid-opcode
check_fault "crash.virt invalid-opcode: vector 6, pvpanic" 'F [0-9]+ VECTOR=6$'
run crash 10 stack-overflow
check_fault "crash.virt stack-overflow: double fault on IST, pvpanic" \
	'F [0-9]+ VECTOR=8$' 'F [0-9]+ MSG=double fault \(stack overflow\)$'
run crash 10 fault queue is broken
check_fault "crash.virt fault: hb_fault() frame kind abort, pvpanic" \
	'F [0-9]+ KIND=abort$' 'F [0-9]+ MSG=queue is broken$'
rip_in crash_fault
run crash 10 abort gave up
expect "crash.virt abort: ABORT on console, abort frame, pvpanic" "$R/all" \
	'^ABORT: gave up$' 'F [0-9]+ KIND=abort$' '^panicked=pause$'
run crash 10 dump
expect "crash.virt dump: D frame with registers, guest goes on, exit 0" "$R/all" \
	'D [0-9]+ KIND=dump$' 'D [0-9]+ R12=0x1212121212121212$' \
	'D [0-9]+ MSG=crash: dump requested$' '^crash: dump returned$' '^status=0$' '!^panicked='
run crash 10 triple
expect "crash.virt triple: QEMU resets, -no-reboot ends it (status 0)" "$R/all" \
	'^qemu_rc=0$' '!^status=' '!^panicked='

# hang: 2 beats then spins: no beat in the last 700 ms of a 1.5 s run.
run hang 1.5
last=$(grep ' N [0-9]* WATCHDOG=1$' "$R/frames" | tail -1 | cut -d' ' -f1)
end=$(wc -l <"$R/frames")
beats=$(grep -c ' WATCHDOG=1$' "$R/frames")
if grep -q '^timeout=1$' "$R/result" && [ "$beats" -eq 2 ] && [ -n "$last" ] && [ "$last" -lt 800 ]; then
	pass "hang.virt: 2 beats, then none until stopped at 1.5 s"
else
	fail "hang.virt: beats stop" "beats=$beats last=${last}ms lines=$end $(tr '\n' ' ' <"$R/result")"
fi

# stall: beats whose progress never moves, sequence advancing.
run stall 10 5
beats=$(grep -c ' WATCHDOG=1$' "$R/frames")
prog=$(sed -n 's/.* X_PROGRESS=//p' "$R/frames" | sort -u | wc -l)
seqs=$(sed -n 's/.* X_SEQ=//p' "$R/frames" | sort -un | wc -l)
if [ "$beats" -eq 5 ] && [ "$prog" -eq 1 ] && [ "$seqs" -eq 5 ]; then
	pass "stall.virt: 5 beats, progress never moves, seq 1..5"
else
	fail "stall.virt: beats without progress" "beats=$beats progress values=$prog seqs=$seqs"
fi

# chatty: console lines and log frames all delivered.
run chatty 20 500
c=$(grep -c '^chatty: console line' "$R/console")
l=$(grep -c ' L [0-9]* chatty: log line' "$R/frames")
if [ "$c" -eq 500 ] && [ "$l" -eq 500 ] && grep -q '^status=0$' "$R/result"; then
	pass "chatty.virt 500: 500 console lines, 500 log frames, exit 0"
else
	fail "chatty.virt 500: all delivered" "console=$c log=$l $(tr '\n' ' ' <"$R/result")"
fi

# guests that need a device fail at once, saying why.
for g in "ping" "www --ipv4=10.0.0.2/24" "echo --ipv4=10.0.0.2/24"; do
	set -- $g
	run "$1" 10 "${@:2}"
	expect "$1.virt: no network device, clear message, exit 1" "$R/all" \
		'^virt: no network device "service": devices are not supported' \
		'^status=1$' '!^timeout=' '!^panicked='
done
run blk 10
expect "blk.virt: no block device, clear message, exit 1" "$R/all" \
	'^virt: no block device "storage"' '^blk: FAIL no block device' '^status=1$'
exit 0
