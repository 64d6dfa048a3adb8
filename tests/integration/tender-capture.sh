#!/bin/bash
# Fault capture: after a fault the tender writes DIR/core, DIR/report.json
# and DIR/console.txt, sends CAPTURED after FAULT, and (with a control
# channel) holds the frozen VM until STOP.  The core is checked with
# readelf and with real gdb: the backtrace names the faulting function and
# its caller, and r12..r15 hold what the crash guest put there.
source "$(dirname "$0")/lib.bash"

if ! have_kvm; then
	skip "tender capture" "/dev/kvm is missing or not accessible"
	exit 0
fi
for tool in gdb readelf jq; do
	if ! command -v $tool >/dev/null; then
		skip "tender capture" "$tool is not installed"
		exit 0
	fi
done

CRASH=$G/crash.hvt
out=$TMP/out

# jqf NAME FILE FILTER: pass when the jq filter is true for FILE.
jqf() {
	if jq -e "$3" "$2" >/dev/null 2>&1; then
		pass "$1"
	else
		fail "$1" "jq '$3' is not true for $2"
		sed 's/^/    | /' "$2" | head -80
	fi
}

# gdb_check NAME DIR FUNC: gdb on IMAGE + DIR/core shows FUNC, its caller
# guest_main, and the crash guest's marks in r12..r15.
gdb_check() {
	local g=$TMP/gdb.out
	gdb -batch -nx -ex 'bt' -ex 'info registers r12 r13 r14 r15 rip' \
		"$CRASH" "$2/core" >"$g" 2>&1
	expect "$1: gdb bt starts in $3, called by guest_main; r12..r15 hold the marks" "$g" \
		"^#0 .* in $3 " '^#1 .* in guest_main ' \
		'^r12 +0x1212121212121212 ' '^r13 +0x1313131313131313 ' \
		'^r14 +0x1414141414141414 ' '^r15 +0x1515151515151515 ' \
		"^rip +0x[0-9a-f]+ +0x[0-9a-f]+ <$3\+[0-9]+>" \
		'!not a core dump' '!Cannot access memory at address 0x[0-9a-f]+$'
}

# --- CLI mode: page fault ------------------------------------------------
d=$TMP/f1
"$TENDER" --mem=32 --fault-dir="$d" "$CRASH" pagefault >"$TMP/stdout" 2>"$TMP/stderr"
rc=$?
[ $rc -eq 80 ] && pass "cli page fault: exit 80" || fail "cli page fault: exit 80" "exit $rc"
expect "cli page fault: directory and backtrace on stderr" "$TMP/stderr" \
	"fault captured in $d \(core console.txt report.json\)" \
	'#0 +0x[0-9a-f]+ crash_pagefault\+0x[0-9a-f]+$' '#1 +0x[0-9a-f]+ guest_main\+0x'
mode=$(stat -c %a "$d" 2>/dev/null)
[ "$mode" = 700 ] && pass "cli page fault: fault directory has mode 0700" \
	|| fail "cli page fault: fault directory has mode 0700" "mode $mode"
for f in core report.json console.txt; do
	[ -s "$d/$f" ] && pass "cli page fault: $f written" || fail "cli page fault: $f written" "missing or empty"
done

r=$d/report.json
jqf "report: kind, message, vector, cr2" "$r" \
	'.version == 1 and .kind == "exception" and .vector == 14 and
	 .message == "page fault at 0xdead0000" and .cr2 == "0xdead0000"'
jqf "report: r12..r15 from the guest's trap frame" "$r" \
	'.registers.r12 == {"value": "0x1212121212121212", "from": "guest"} and
	 .registers.r13.value == "0x1313131313131313" and
	 .registers.r14.value == "0x1414141414141414" and
	 .registers.r15.value == "0x1515151515151515" and
	 .registers.rip.from == "guest" and .source == "guest"'
jqf "report: the vCPU's own registers are the trap handler's, not the fault's" "$r" \
	'.vcpu.rip != .registers.rip.value'
jqf "report: segments and control registers" "$r" \
	'.segments.cs.selector == "0x8" and .segments.ss.selector == "0x10" and
	 .segments.ds.from == "vcpu" and .segments.fs.base == "0x0" and
	 .control.cr3 == "0x2000" and (.control.cr0 | test("^0x8")) and
	 .control.efer == "0x500"'
jqf "report: guest frame" "$r" \
	'.guest_frame.complete == true and .guest_frame.vector == 14 and
	 .guest_frame.rip == .registers.rip.value'
jqf "report: backtrace crash_pagefault <- guest_main, pcs and offsets" "$r" \
	'.backtrace[0].function == "crash_pagefault" and
	 .backtrace[0].pc == .registers.rip.value and
	 .backtrace[1].function == "guest_main" and
	 (.backtrace[1].offset | test("^0x[0-9a-f]+$")) and
	 (.backtrace | length) <= 32'
jqf "report: image path" "$r" '.image | endswith("crash.hvt")'
jqf "report: paths and file list" "$r" \
	".dir == \"$d\" and .core == \"$d/core\" and
	 .files == [\"core\", \"console.txt\", \"report.json\"] and
	 .console == \"console.txt\" and .core_bytes > 0 and .core_truncated == false"
jqf "report: timestamps in order" "$r" \
	'.time.start_ns < .time.fault_ns and .time.fault_ns <= .time.captured_ns and
	 .time.capture_us >= 0 and (.time.wall | test("^20[0-9][0-9]-[01][0-9]-[0-3][0-9]T.*Z$"))'

expect "console.txt: the guest's last output" "$d/console.txt" \
	'^crash: pagefault$' '^trap: page fault at 0xdead0000 \(vector 14\)'

readelf -h "$d/core" >"$TMP/h" 2>&1
expect "core: ELF header" "$TMP/h" 'Type: +CORE \(Core file\)' \
	'Machine: +Advanced Micro Devices X86-64' 'Class: +ELF64'
readelf -n "$d/core" >"$TMP/n" 2>&1
expect "core: notes" "$TMP/n" 'CORE +0x00000150[[:space:]]+NT_PRSTATUS' 'CORE +0x00000088[[:space:]]+NT_PRPSINFO' \
	'!Warning'
readelf -lW "$d/core" >"$TMP/l" 2>&1
# The image's code segment, wherever the link put it.
text=$(readelf -lW "$CRASH" | awk '$1 == "LOAD" && / R E / { print $3; exit }')
expect "core: PT_LOAD segments at the guest's addresses (stack, image)" "$TMP/l" \
	'^ +NOTE ' "^ +LOAD +0x[0-9a-f]+ $text $text " '!Warning'
gdb_check "page fault" "$d" crash_pagefault

# --- control channel: FAULT, CAPTURED, then frozen until STOP -------------
d=$TMP/f2
"$TCTL" -T 5000 -H 300 -- "$TENDER" --mem=32 --fault-dir="$d" "$CRASH" pagefault >"$out" 2>&1
expect "control: FAULT, CAPTURED with the directory and backtrace" "$out" \
	'^fault kind=exception vector=14 ' '^captured t=[0-9]+ flags=0x7 frames=[0-9]+ ' \
	"^captured-dir \"$d\"" '^frame 0 "0x[0-9a-f]+ crash_pagefault\+0x[0-9a-f]+"' \
	'^frame 1 "0x[0-9a-f]+ guest_main\+0x'
expect "control: no event and no exit for 300 ms after CAPTURED, then STOP exits 80" "$out" \
	'^held ms=[0-9]+ events=0$' '^exited .* status=80 reason=fault' '^tender-exit status=80 '
order=$(grep -nE '^(fault|captured|held|exited) ' "$out" | cut -d: -f2 | cut -d' ' -f1 | tr '\n' ' ')
[ "$order" = "fault captured held exited " ] && pass "control: order FAULT, CAPTURED, (held), EXITED" \
	|| fail "control: order FAULT, CAPTURED, (held), EXITED" "$order"
us=$(field "$out" captured capture_us)
echo "    capture (FAULT to CAPTURED): $us us"

"$TCTL" -T 5000 -K -- "$TENDER" --mem=32 --fault-dir="$TMP/f3" "$CRASH" pagefault >"$out" 2>&1
expect "control: the parent going away ends a frozen tender" "$out" \
	'^captured ' '^tender-exit status=(80|81) ' '!^timeout'

"$TCTL" -T 5000 -- "$TENDER" --mem=32 "$CRASH" pagefault >"$out" 2>&1
expect "control, no --fault-dir: CAPTURED with an empty directory and the backtrace" "$out" \
	'^captured .*flags=0x0 ' '^captured-dir ""$' '^frame 0 "0x[0-9a-f]+ crash_pagefault\+'

"$TCTL" -T 5000 -- "$TENDER" --mem=32 --fault-dir="$TMP/missing/f" "$CRASH" pagefault >"$out" 2>&1
expect "control, unwritable --fault-dir: a LOG line, CAPTURED without files" "$out" \
	'^log "fault capture: mkdir .*missing/f' '^captured .*flags=0x0 ' '^exited .* status=80 reason=fault'

# --- other crash modes ----------------------------------------------------
check_mode() { # NAME FUNC KIND STATUS ARGS...
	local name=$1 func=$2 kind=$3 status=$4
	shift 4
	d=$TMP/m-$name
	"$TCTL" -T 5000 -- "$TENDER" --mem=32 --fault-dir="$d" "$CRASH" "$@" >"$out" 2>&1
	expect "$name: FAULT, CAPTURED, exit $status after STOP" "$out" "^fault kind=$kind " \
		"^frame 0 \"0x[0-9a-f]+ $func\+" "^tender-exit status=$status "
	jqf "$name: report kind $kind, backtrace $func <- guest_main" "$d/report.json" \
		".kind == \"$kind\" and .backtrace[0].function == \"$func\" and
		 .backtrace[1].function == \"guest_main\" and .registers.r12.value == \"0x1212121212121212\""
	gdb_check "$name" "$d" "$func"
}
check_mode divide crash_divide exception 80 divide
check_mode hb_fault crash_fault abort 80 fault "invariant broken"
check_mode abort crash_abort abort 255 abort "disk on fire"
jqf "abort: Solo5 cookie frame is partial: rip/rsp from the guest, rbp unwound, r12 from the vCPU" \
	"$TMP/m-abort/report.json" \
	'.guest_frame.complete == false and .registers.rip.from == "guest" and
	 .registers.rsp.from == "guest" and .registers.rbp.from == "unwound" and
	 .registers.r12.from == "vcpu" and .source == "guest+vcpu"'
check_mode invalid-opcode crash_invalid_opcode exception 80 invalid-opcode
check_mode triple crash_triple triple-fault 80 triple
jqf "triple: registers from the vCPU" "$TMP/m-triple/report.json" \
	'.source == "vcpu" and .registers.rip.from == "vcpu" and .guest_frame == null'

# A deep stack: the walk stops at 32 frames.
"$TENDER" --mem=32 --fault-dir="$TMP/so" "$CRASH" stack-overflow >/dev/null 2>&1
jqf "stack overflow: backtrace bounded at 32 frames" "$TMP/so/report.json" \
	'(.backtrace | length) == 32 and .backtrace[0].function == "crash_stack_overflow"'

# A dump is not a fault: nothing is captured, the guest goes on.
"$TCTL" -T 5000 -- "$TENDER" --mem=32 --fault-dir="$TMP/dump" "$CRASH" dump >"$out" 2>&1
expect "dump: no CAPTURED, no directory, exit 0" "$out" '^fault kind=dump ' '!^captured ' \
	'^tender-exit status=0 '
[ ! -e "$TMP/dump" ] && pass "dump: no fault directory" || fail "dump: no fault directory" "$TMP/dump exists"
exit 0
