#!/bin/bash
# summoner-summon.sh: the daemon summoning real KVM guests for real DNS
# clients (kdig): a cold summon, 50 queries joining one boot, the ready
# deadline, other names answering during a boot, NODATA without a boot,
# the warm pool, faults and exits ending instances, idle stop, every
# limit, reload (good and bad), and SIGTERM leaving nothing behind.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/daemon.bash"


if ! have_kvm; then
	skip summon "/dev/kvm is not usable on this host"
	exit 0
fi

H=$ROOT/$G/hello.hvt

# ---- summoning ----
start summon "$(
	svc hello "image \"$H\"" "address 10.0.0.2" "idle-timeout 1s"
	svc slow "image \"$H\"" 'args "0" "100" "1500"' "address 10.0.0.3" \
		"ready-deadline 300ms"
	svc co "image \"$H\"" 'args "0" "100" "300"' "address 10.0.0.4" \
		"ready-deadline 5s"
	svc aonly "image \"$H\"" "address 10.0.0.5" "address fd00::5" \
		"boot-on { A }"
	svc pool "image \"$H\"" "address 10.0.0.6" "warm 1"
	printf "policy halt {\n\tdefault stop\n}\n"
	svc crash "image \"$ROOT/$G/crash.hvt\"" 'args "pagefault"' \
		"address 10.0.0.7" "policy halt"
	svc bye "image \"$H\"" 'args "1" "10"' "address 10.0.0.8"
	svc nope "image \"$TMP/missing.hvt\"" "address 10.0.0.9"
)" || exit 0

r=$(q hello.t.test)
if [ "$r" = "NOERROR 10.0.0.2" ] && [ "$(count 'hello#1: booting -> ready')" = 1 ]; then
	pass "cold summon: the first query boots hello and gets its address"
else
	fail "cold summon" "answer '$r'"
	sed 's/^/    | /' "$LOG" | tail -20
fi
r=$(q hello.t.test)
[ "$r" = "NOERROR 10.0.0.2" ] && [ "$(count 'hello#[0-9]+: booting \(pid')" = 1 ] &&
	pass "a ready instance answers without another boot" ||
	fail "ready answer" "'$r', $(count 'hello#[0-9]+: booting \(pid') boots"
r=$(q HeLLo.T.TeSt)
[ "$r" = "NOERROR 10.0.0.2" ] && pass "names match case-insensitively" ||
	fail "case" "'$r'"

# 50 concurrent queries for a name whose boot takes 300 ms: one boot.
cos=()
for i in $(seq 50); do
	q co.t.test >"$TMP/co.$i" &
	cos+=($!)
done
wait "${cos[@]}"
ok=$(cat "$TMP"/co.* | grep -c '^NOERROR 10.0.0.4$')
boots=$(count 'instance co#[0-9]+: booting \(pid')
if [ "$ok" = 50 ] && [ "$boots" = 1 ] && [ "$(count 'co#2')" = 0 ]; then
	pass "coalescing: 50 concurrent queries join one boot, all answered"
else
	fail "coalescing" "$ok of 50 answered, $boots boots"
fi

# The ready deadline: SERVFAIL at 300 ms, the boot goes on.
q slow.t.test >"$TMP/slow1" &
SLOWQ=$!
sleep 0.1
r2=$(q hello.t.test)
ready_before=$(count 'slow#1: booting -> ready')
wait $SLOWQ
r=$(cat "$TMP/slow1")
if [ "$r" = "SERVFAIL" ] && grep -q "ready deadline of 300 ms passed" "$LOG"; then
	pass "ready deadline passed: SERVFAIL"
else
	fail "ready deadline" "answer '$r'"
fi
if [ "$r2" = "NOERROR 10.0.0.2" ] && [ "$ready_before" = 0 ]; then
	pass "other names answer while a boot is under way"
else
	fail "no blocking" "'$r2', slow ready already: $ready_before"
fi
if wait_log 'slow#1: booting -> ready' 40 && [ "$(q slow.t.test)" = "NOERROR 10.0.0.3" ] &&
	[ "$(count 'slow#2')" = 0 ]; then
	pass "after the deadline the instance goes on booting and then answers"
else
	fail "boot after deadline" "slow never became ready"
fi

# Query types that do not trigger a boot: NODATA, no boot.
r=$(q aonly.t.test AAAA)
if [ "$r" = "NOERROR" ] && [ "$(count 'aonly#')" = 0 ]; then
	pass "a qtype not in boot-on gets NODATA without a boot"
else
	fail "boot-on" "'$r', $(count 'aonly#') aonly lines"
fi
r=$(q aonly.t.test A)
r6=$(q aonly.t.test AAAA)
[ "$r" = "NOERROR 10.0.0.5" ] && [ "$r6" = "NOERROR fd00::5" ] &&
	pass "once ready, every address type is answered" ||
	fail "aonly after boot" "A '$r', AAAA '$r6'"

# The warm pool: started at once, paused; a summon resumes it.
if wait_log 'pool#1: warm, paused at its entry' 50; then
	pass "warm pool: a tender is started and paused at its entry"
else
	fail "warm pool" "no paused tender"
fi
r=$(q pool.t.test)
if [ "$r" = "NOERROR 10.0.0.6" ] &&
	grep -q 'pool#1: booting -> ready.*summoned from the warm pool' "$LOG" &&
	wait_log 'pool#2: warm, paused at its entry' 50; then
	pass "warm pool: a summon resumes the paused tender and the pool refills"
else
	fail "warm summon" "'$r'"
	grep pool "$LOG" | sed 's/^/    | /'
fi

# A fault or an exit ends the instance, logged with its kind.
r=$(q crash.t.test)
if wait_log 'crash#1: .*-> faulted.*fault: exception vector 14' 30 &&
	wait_log 'crash#1: faulted -> stopped' 30; then
	pass "a guest fault ends the instance, logged with the fault kind ($r)"
else
	fail "fault" "no faulted line"
	grep crash "$LOG" | sed 's/^/    | /'
fi
r=$(q bye.t.test)
if [ "$r" = "NOERROR 10.0.0.8" ] &&
	wait_log 'bye#1: ready -> stopping.*exited with status 0' 30 &&
	wait_log 'bye#1: stopping -> stopped' 30; then
	pass "a guest exit ends the instance"
else
	fail "exit" "'$r'"
fi
r=$(q bye.t.test)
[ "$r" = "NOERROR 10.0.0.8" ] && wait_log 'bye#2: booting -> ready' 30 &&
	pass "the next query summons a new instance" || fail "re-summon" "'$r'"

# A boot that cannot start: SERVFAIL, the daemon goes on.
r=$(q nope.t.test)
if [ "$r" = "SERVFAIL" ] && [ "$(q hello.t.test)" = "NOERROR 10.0.0.2" ]; then
	pass "an image that cannot be booted gets SERVFAIL, the rest goes on"
else
	fail "bad image" "'$r'"
fi

# Idle stop: hello has idle-timeout 1s.
if wait_log 'hello#1: ready -> stopping .*idle for' 40 &&
	wait_log 'hello#1: stopping -> stopped' 20; then
	pass "an idle instance is stopped after its idle-timeout"
else
	fail "idle stop" "hello#1 still running"
fi
reject "an instance with queries is not idle-stopped" "$LOG" 'co#1: ready -> stopping'
stop_daemon summon

# ---- limits ----
svcs=$(for i in 1 2 3; do svc s$i "image \"$H\"" "address 10.0.1.$i"; done)
start max-instances "max-instances 2
$svcs" || exit 0
a=$(q s1.t.test)
b=$(q s2.t.test)
c=$(q s3.t.test)
if [ "$a $b" = "NOERROR 10.0.1.1 NOERROR 10.0.1.2" ] && [ "$c" = SERVFAIL ] &&
	grep -q 'service s3: boot refused (max-instances reached)' "$LOG"; then
	pass "max-instances refuses a boot with SERVFAIL, logged"
else
	fail "max-instances" "'$a' '$b' '$c'"
fi
stop_daemon max-instances

start memory-budget "memory-budget 80M
$svcs" || exit 0
a=$(q s1.t.test)
b=$(q s2.t.test)
c=$(q s3.t.test)
if [ "$a $b" = "NOERROR 10.0.1.1 NOERROR 10.0.1.2" ] && [ "$c" = SERVFAIL ] &&
	grep -q 'boot refused (memory-budget reached)' "$LOG"; then
	pass "memory-budget refuses a boot with SERVFAIL, logged"
else
	fail "memory-budget" "'$a' '$b' '$c'"
fi
stop_daemon memory-budget

start boot-rate "boot-rate 1 per-client
$svcs" || exit 0
a=$(q s1.t.test)
b=$(q s2.t.test)
if [ "$a" = "NOERROR 10.0.1.1" ] && [ "$b" = SERVFAIL ] &&
	grep -q 'boot refused (boot-rate per client reached)' "$LOG"; then
	pass "boot-rate per client refuses a second boot within the second"
else
	fail "boot-rate" "'$a' '$b'"
fi
sleep 1.1
b=$(q s2.t.test)
[ "$b" = "NOERROR 10.0.1.2" ] && pass "boot-rate: allowed again a second later" ||
	fail "boot-rate refill" "'$b'"
stop_daemon boot-rate

start concurrent "max-concurrent-boots 1
$(svc s1 "image \"$H\"" 'args "0" "100" "500"' "address 10.0.1.1")
$(svc s2 "image \"$H\"" "address 10.0.1.2")" || exit 0
q s1.t.test >"$TMP/c1" &
c1=$!
sleep 0.1
b=$(q s2.t.test)
wait $c1
a=$(cat "$TMP/c1")
if [ "$a" = "NOERROR 10.0.1.1" ] && [ "$b" = SERVFAIL ] &&
	grep -q 'boot refused (max-concurrent-boots reached)' "$LOG"; then
	pass "max-concurrent-boots refuses a second concurrent boot"
else
	fail "max-concurrent-boots" "'$a' '$b'"
fi
stop_daemon concurrent

# ---- reload ----
start reload "$(
	svc keep "image \"$H\"" "address 10.0.2.1" "idle-timeout 1h"
	svc gone "image \"$H\"" "address 10.0.2.2" "idle-timeout 1h"
	svc change "image \"$H\"" "address 10.0.2.3" "idle-timeout 1h"
)" || exit 0
q keep.t.test >/dev/null
q gone.t.test >/dev/null
q change.t.test >/dev/null
sed -i -e '/service gone/,/^}/d' -e 's/10.0.2.3$/10.0.2.33/' "$CONF"
svc added "image \"$H\"" "address 10.0.2.4" >>"$CONF"
kill -HUP "$DPID"
if wait_log "reloaded $CONF" 30; then
	pass "SIGHUP reloads the configuration"
else
	fail "reload" "no 'reloaded' line"
fi
g=$(q gone.t.test)
c=$(q change.t.test)
n=$(q added.t.test)
k=$(q keep.t.test)
[ "$g" = NXDOMAIN ] && wait_log 'gone#1: ready -> stopping.*service removed' 20 &&
	pass "reload: a removed service stops and its name is gone" ||
	fail "reload removed" "'$g'"
[ "$c" = "NOERROR 10.0.2.33" ] && wait_log 'change#1: ready -> stopping.*service changed' 20 &&
	[ "$(count 'change#2: booting -> ready')" = 1 ] &&
	pass "reload: a changed service answers as configured now" ||
	fail "reload changed" "'$c'"
[ "$n" = "NOERROR 10.0.2.4" ] && pass "reload: an added service is summoned" ||
	fail "reload added" "'$n'"
if [ "$k" = "NOERROR 10.0.2.1" ] && [ "$(count 'keep#2|keep#1: ready ->')" = 0 ]; then
	pass "reload: the instance of an unchanged service is untouched"
else
	fail "reload unchanged" "'$k', $(count 'keep#2|keep#1: ready ->') changes"
fi
svc broken "memory lots" >>"$CONF"
kill -HUP "$DPID"
if wait_log 'reload refused' 30 && grep -Eq "$CONF:[0-9]+: " "$LOG" &&
	[ "$(q keep.t.test)" = "NOERROR 10.0.2.1" ] &&
	[ "$(q added.t.test)" = "NOERROR 10.0.2.4" ]; then
	pass "reload: a bad config is refused with file:line and the old one stays"
else
	fail "bad reload" "see log"
	tail -5 "$LOG" | sed 's/^/    | /'
fi
stop_daemon reload
