#!/bin/bash
# The tender boots hello, reports events, obeys stop/pause/resume, refuses
# bad command lines with its documented exit codes.
source "$(dirname "$0")/lib.bash"

# Command-line handling needs no KVM.
out=$TMP/help
"$TENDER" --help >"$out" 2>&1; rc=$?
[ $rc -eq 0 ] && expect "tender: --help exits 0 and documents exit codes" "$out" \
	'^usage: summoner-tender' 'Exit status' '^  81 ' || fail "tender: --help" "exit $rc"

"$TENDER" --bogus x >"$out" 2>&1; rc=$?
[ $rc -eq 64 ] && expect "tender: unknown option -> 64" "$out" "unknown option '--bogus'" \
	|| fail "tender: unknown option -> 64" "exit $rc"
"$TENDER" >"$out" 2>&1; rc=$?
[ $rc -eq 64 ] && pass "tender: no image -> 64" || fail "tender: no image -> 64" "exit $rc"
"$TENDER" --mem=abc "$G/hello.hvt" >"$out" 2>&1; rc=$?
[ $rc -eq 64 ] && pass "tender: bad --mem -> 64" || fail "tender: bad --mem -> 64" "exit $rc"
"$TENDER" "$TMP/nonexistent.hvt" >"$out" 2>&1; rc=$?
[ $rc -eq 66 ] && pass "tender: missing image -> 66" || fail "tender: missing image -> 66" "exit $rc"
head -c 4096 /dev/urandom >"$TMP/junk.hvt"
if have_kvm; then
	"$TENDER" "$TMP/junk.hvt" >"$out" 2>&1; rc=$?
	[ $rc -eq 65 ] && expect "tender: junk image -> 65" "$out" 'junk.hvt: ' \
		|| fail "tender: junk image -> 65" "exit $rc"
	"$TENDER" --mem=32 "$BUILD/summoner-tender" >"$out" 2>&1; rc=$?
	[ $rc -eq 65 ] && pass "tender: host ELF (dynamic, PIE) refused -> 65" \
		|| fail "tender: host ELF refused -> 65" "exit $rc"
	"$TENDER" --mem=32 --block:storage=/etc/hostname "$G/hello.hvt" >"$out" 2>&1; rc=$?
	[ $rc -eq 65 ] && expect "tender: device not in manifest -> 65" "$out" "not in the image's manifest" \
		|| fail "tender: device not in manifest -> 65" "exit $rc"
	"$TENDER" --mem=32 "$G/blk.hvt" >"$out" 2>&1; rc=$?
	[ $rc -eq 65 ] && expect "tender: manifest device not attached -> 65" "$out" "--block:storage=" \
		|| fail "tender: manifest device not attached -> 65" "exit $rc"
fi

if ! have_kvm; then
	skip "tender: KVM boots" "/dev/kvm is missing or not accessible"
	exit 0
fi

# The issue's own example: three heartbeats, exit 0, readable output.
"$TENDER" --mem=32 "$G/hello.hvt" 3 >"$TMP/stdout" 2>"$TMP/stderr"; rc=$?
[ $rc -eq 0 ] && pass "hello 3: exit status 0" || fail "hello 3: exit status 0" "exit $rc"
expect "hello 3: greeting on stdout" "$TMP/stdout" '[Hh]ello'
expect "hello 3: ready and three heartbeats on stderr" "$TMP/stderr" \
	'ready after [0-9.]+ ms' 'heartbeat seq=1 ' 'heartbeat seq=3 ' 'guest exited, exit status 0'
reject "hello 3: no fourth heartbeat" "$TMP/stderr" 'heartbeat seq=4 '

# The same over the control channel.
"$TCTL" -- "$TENDER" --mem=32 "$G/hello.hvt" 3 >"$out" 2>&1
expect "hello 3 (control): booted, ready, beats, exited" "$out" \
	'^booted t=[0-9]+ entry=0x[0-9a-f]+ mem=33554432 ' '^ready t=' \
	'^heartbeat .* seq=1 ' '^heartbeat .* seq=3 ' \
	'^exited .* status=0 reason=guest' '^tender-exit status=0 '
[ "$(grep -c '^heartbeat ' "$out")" -eq 3 ] && pass "hello 3 (control): exactly 3 heartbeats" \
	|| fail "hello 3 (control): exactly 3 heartbeats" "$(grep -c '^heartbeat ' "$out")"
order=$(grep -Eo '^(booted|ready|heartbeat|exited)' "$out" | uniq | tr '\n' ' ')
[ "$order" = "booted ready heartbeat exited " ] && pass "hello 3 (control): events in order" \
	|| fail "hello 3 (control): events in order" "$order"

# STOP while the guest sleeps in POLL.
"$TCTL" -r -- "$TENDER" --mem=32 "$G/hello.hvt" >"$out" 2>&1
expect "stop at ready: exited reason=stopped, status 81" "$out" \
	'^exited .* status=81 reason=stopped' '^stop latency_us=' '^tender-exit status=81 '
echo "    $(grep '^stop latency' "$out")"

# STOP while the guest computes without any hypercall.
"$TCTL" -S 50 -- "$TENDER" --mem=32 "$G/hang.hvt" >"$out" 2>&1
expect "stop a busy-looping guest" "$out" '^ready ' '^exited .* reason=stopped' '^tender-exit status=81 '
echo "    $(grep '^stop latency' "$out")"

# PAUSE: no event for 200 ms, RESUME: heartbeats again.
"$TCTL" -P -- "$TENDER" --mem=32 "$G/hello.hvt" >"$out" 2>&1
expect "pause/resume: acknowledged, silent while paused, beats after" "$out" \
	'^paused latency_us=' '^resumed latency_us=[0-9.]+ events_while_paused=0$' \
	'^exited .* reason=stopped'
n_after=$(sed -n '/^resumed/,$p' "$out" | grep -c '^heartbeat ')
[ "$n_after" -ge 1 ] && pass "pause/resume: heartbeats resume" || fail "pause/resume: heartbeats resume" "none"
echo "    $(grep -E '^(paused|resumed)' "$out" | tr '\n' ' ')"

# PAUSE of a busy guest (interrupts KVM_RUN).
"$TCTL" -P -T 3000 -- "$TENDER" --mem=32 "$G/hang.hvt" >"$out" 2>&1
expect "pause a busy-looping guest" "$out" '^paused latency_us=' '^resumed '

# The parent goes away: the tender must not outlive it.
"$TCTL" -x -- "$TENDER" --mem=32 "$G/hello.hvt" >"$out" 2>&1
expect "control channel closed: tender exits" "$out" '^ready ' '^tender-exit status=81 '

# SIGTERM without a control channel.
"$TENDER" --mem=32 "$G/hello.hvt" >"$TMP/stdout" 2>"$TMP/stderr" &
pid=$!
for _ in $(seq 100); do grep -q ready "$TMP/stderr" && break; sleep 0.02; done
kill -TERM $pid; wait $pid; rc=$?
[ $rc -eq 81 ] && expect "SIGTERM: clean stop, exit 81" "$TMP/stderr" 'stopped, exit status 81' \
	|| fail "SIGTERM: clean stop, exit 81" "exit $rc"

# Lazily backed memory: a 4 GB guest costs what it touches, so its peak RSS
# is within a few page tables of a 32 MB guest's (compared, not absolute,
# so that the sanitizer build's larger baseline does not matter).
peak_rss() {
	"$TCTL" -r -- "$TENDER" --mem="$1" "$G/hello.hvt" | sed -n 's/^tender-exit .*peak_rss_kb=\([0-9]*\)/\1/p'
}
small=$(peak_rss 32)
big=$(peak_rss 4096)
if [ -n "$small" ] && [ -n "$big" ] && [ $((big - small)) -lt 1024 ]; then
	pass "lazy guest memory: peak RSS ${big} KB for 4 GB vs ${small} KB for 32 MB"
else
	fail "lazy guest memory" "peak RSS ${big:-?} KB for 4 GB vs ${small:-?} KB for 32 MB"
fi
exit 0
