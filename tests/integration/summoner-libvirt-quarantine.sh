#!/bin/bash
# summoner-libvirt-quarantine.sh: a faulted libvirt instance is as
# debuggable as an hvt one, with a real libvirtd, QEMU, kdig and gdb.
# crash.virt's page fault under a quarantine policy: the domain stays,
# frozen; summonerctl inspect names the gdb stub, the core and the fault
# directory; gdb on the live stub and on the core shows crash_pagefault;
# report.json and console.txt are there; the journal has the fault's
# signature and backtrace; release destroys the domain.  Under a restart
# policy the frozen domain is destroyed and a new one answers; a ttl
# expiry ends a quarantine.  Prints fault -> CAPTURED, core and gdbserver
# times from the daemon's log.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/daemon.bash"
. "$(dirname "$0")/libvirt.bash"

C=$ROOT/$G/crash.virt
domains() { virsh -q -c "$LV_URI" list --all --name 2>/dev/null | grep -E "^summoner-$1" || true; }
# wait_domains PREFIX N [TENTHS]: until exactly N summoner-PREFIX* domains.
wait_domains() {
	for _ in $(seq "${3:-100}"); do
		[ "$(domains "$1" | grep -c .)" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
# js KEY: KEY of the JSON object on stdin ("" when absent or null).
js() { python3 -c 'import json,sys; v=json.load(sys.stdin).get(sys.argv[1]); print("" if v is None else v)' "$1"; }

if [ ! -f "$C" ]; then
	skip "libvirt quarantine" "$C is not built"
	exit 0
fi
if ! command -v gdb >/dev/null; then
	skip "libvirt quarantine" "no gdb"
	exit 0
fi
if ! lv_start; then
	skip "libvirt quarantine" "$LV_SKIP"
	exit 0
fi
# Other tests may run summoner-* domains meanwhile: only ours are looked at.
if [ -n "$(domains 'q[art]-')" ]; then
	skip "libvirt quarantine" "summoner-q[art]-* domains exist already (another daemon?)"
	exit 0
fi

start lvq "policy q {
	on any-fault quarantine ttl 1h then stop
	default stop
}
policy brief {
	on any-fault quarantine ttl 3s then stop
	default stop
}
policy again {
	on any-fault restart backoff fixed initial 1s
	default stop
}
$(svc qa 'backend libvirt' "image \"$C\"" 'args "pagefault" "0x7f0001234"' \
	'memory 32M' 'address 10.0.0.2' 'ready-deadline 20s' 'policy q')
$(svc qr 'backend libvirt' "image \"$C\"" 'args "pagefault" "0x7f0001234"' \
	'memory 32M' 'address 10.0.0.3' 'ready-deadline 20s' 'policy again')
$(svc qt 'backend libvirt' "image \"$C\"" 'args "pagefault" "0x7f0001234"' \
	'memory 32M' 'address 10.0.0.4' 'ready-deadline 20s' 'policy brief')" || exit 1

# ---- quarantine ----
q qa.t.test A +timeout=25 >/dev/null
if wait_log "qa#1: faulted -> quarantined" 300 && wait_log "qa#1: quarantined, gdb stub at" 100; then
	pass "quarantine: the page fault quarantines qa#1 and a gdb stub opens"
else
	fail "quarantine" "not quarantined with a stub"
	sed 's/^/    | /' "$LOG" | tail -30
	exit 1
fi
dom=$(domains qa-)
st=$(virsh -c "$LV_URI" domstate --reason "$dom" 2>/dev/null | head -1)
expect_text "quarantine: the domain stays, frozen ($dom: $st)" "$st" '^(paused|crashed)'
J=$(ctl -j inspect qa#1)
sock=$(echo "$J" | js gdb)
core=$(echo "$J" | js core)
dir=$(echo "$J" | js fault_dir)
[ -n "$sock" ] && [ -n "$core" ] && [ -n "$dir" ] &&
	pass "inspect: gdb $sock, core $core, fault dir $dir" ||
	fail "inspect" "gdb '$sock' core '$core' dir '$dir'"
expect_text "inspect: the backtrace starts in crash_pagefault" \
	"$(echo "$J" | python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin).get("backtrace") or []))')" \
	"^crash_pagefault"
case $sock in
/*) perm=$(stat -c '%a' "$sock" 2>/dev/null)
	expect_text "gdb: the unix socket is reachable by root only (mode $perm)" "$perm" '^600$' ;;
*) skip "gdb: socket mode" "the stub listens on $sock" ;;
esac

out=$(timeout 60 gdb -batch -nx -ex "target remote $sock" -ex bt \
	-ex 'info registers rip r12 r15' -ex detach "$C" 2>&1)
expect_text "gdb on the live stub: bt names crash_pagefault" "$out" "crash_pagefault"
expect_text "gdb on the live stub: rip in crash_pagefault" "$out" '^rip +0x[0-9a-f]+ +0x[0-9a-f]+ <crash_pagefault'
expect_text "gdb on the live stub: r12 as the guest set it" "$out" "r12 +0x1212121212121212"
out=$(timeout 60 gdb -batch -nx -ex bt -ex 'info registers' "$C" "$core" 2>&1)
expect_text "gdb on the core: bt names crash_pagefault" "$out" "crash_pagefault"
expect_text "gdb on the core: the caller is in the backtrace too" "$out" "guest_main"
expect_text "gdb on the core: r13 as the guest set it" "$out" "r13 +0x1313131313131313"
echo "    core: $(stat -c %s "$core") bytes"

if python3 -m json.tool "$dir/report.json" >"$TMP/report" 2>&1; then
	pass "report.json parses"
	expect "report.json: kind, backend, domain, core, frames" "$TMP/report" \
		'"kind": "exception"' '"backend": "libvirt"' "\"domain\": \"$dom\"" \
		'"core": "/' '"function": "crash_pagefault"' '"vector": 14'
else
	fail "report.json" "$(head -3 "$TMP/report")"
fi
expect "console.txt holds the guest's console lines" "$dir/console.txt" 'crash'

sig=$(sqlite3 "$STATE/journal.db" "select signature from faults where service='qa'" 2>/dev/null)
bt=$(sqlite3 "$STATE/journal.db" "select backtrace from faults where service='qa'" 2>/dev/null)
[ -n "$sig" ] && pass "journal: the fault row has a signature ($sig)" ||
	fail "journal: signature" "none"
expect_text "journal: the fault row has the backtrace" "$bt" '^0x[0-9a-f]+ crash_pagefault\+0x'
row=$(sqlite3 -separator '|' "$STATE/journal.db" "select gdb, core, dir from instances where service='qa'" 2>/dev/null)
expect_text "journal: the quarantine row has gdb, core and dir" "$row" "^$sock\|$core\|$dir$"

ctl release qa#1 >/dev/null 2>&1
if wait_domains qa- 0 200; then
	pass "release: the domain is destroyed"
else
	fail "release" "$(domains qa- | tr '\n' ' ')"
fi
[ -z "$sock" ] || [ "${sock#/}" = "$sock" ] || { [ ! -e "$sock" ] &&
	pass "release: the gdb socket is removed" || fail "release: socket" "$sock left"; }

# ---- restart: the frozen domain goes, a new one answers ----
q qr.t.test A +timeout=25 >/dev/null
if wait_log "qr#1: exception -> restart" 300 &&
	for _ in $(seq 200); do [ "$(count 'domain summoner-qr-1-[0-9]+-[0-9a-f]+ created')" -ge 2 ] && break; sleep 0.1; done &&
	[ "$(count 'domain summoner-qr-1-[0-9]+-[0-9a-f]+ created')" -ge 2 ]; then
	pass "restart: the crash is restarted in a new domain"
else
	fail "restart" "$(count 'domain summoner-qr') domains created"
fi
first=$(grep -Eo 'domain summoner-qr-1-[0-9]+-[0-9a-f]+ created' "$LOG" | head -1 | cut -d' ' -f2)
for _ in $(seq 100); do
	virsh -c "$LV_URI" domstate "$first" >/dev/null 2>&1 || break
	sleep 0.1
done
virsh -c "$LV_URI" domstate "$first" >/dev/null 2>&1 &&
	fail "restart: the frozen domain" "$first still exists" ||
	pass "restart: the frozen domain $first is destroyed"
ctl stop qr >/dev/null 2>&1
wait_domains qr- 0 300

# ---- ttl expiry ----
q qt.t.test A +timeout=25 >/dev/null
if wait_log "qt#1: faulted -> quarantined" 300 &&
	wait_log "qt#1: quarantined -> stopped.*quarantine expired" 100 && wait_domains qt- 0 200; then
	pass "expiry: the quarantine ends after its ttl and the domain is destroyed"
else
	fail "expiry" "$(grep 'qt#1' "$LOG" | tail -3 | tr '\n' ' ')"
fi

echo "    fault -> captured: $(grep -Eo 'fault captured in .* in [0-9]+ ms \(core: [0-9]+ ms, [0-9]+ KB\)' "$LOG" | sed -E 's/.* in ([0-9]+ ms) \(core: ([0-9]+ ms), ([0-9]+ KB)\)/\1 (core \2, \3)/' | tr '\n' ';')"
echo "    gdbserver open: $(grep -Eo 'gdbserver at .* in [0-9]+ ms' "$LOG" | grep -Eo '[0-9]+ ms$' | tr '\n' ';')"
# ---- the summoner exits with an instance quarantined, then starts again ----
q qa.t.test A +timeout=25 >/dev/null
wait_log "qa#2: quarantined, gdb stub at" 300 ||
	fail "exit: a second quarantine" "qa#2 not quarantined"
stop_daemon lvq
wait_domains 'q[art]-' 0 100 && pass "exit: the quarantined domain is destroyed, no summoner-q[art]-* domain left" ||
	fail "exit: domains" "$(domains 'q[art]-' | tr '\n' ' ')"
row=$(sqlite3 "$STATE/journal.db" "select state from instances where service='qa' and id=2" 2>/dev/null)
expect_text "exit: the journal has qa#2 stopped (the quarantine ended with the summoner)" "$row" '^stopped$'
launch lvq2 start_conf || exit 1
st=$(ctl -j show qa 2>/dev/null | jfind quarantined)
expect_text "restart: nothing is quarantined after the restart" "$st" '^0$'
stop_daemon lvq2
