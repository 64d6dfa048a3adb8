#!/bin/bash
# The example guests behave as documented: hang stops beating, stall beats
# without progress, chatty floods, blk round-trips through a real file.
source "$(dirname "$0")/lib.bash"

if ! have_kvm; then
	skip "example guests" "/dev/kvm is missing or not accessible"
	exit 0
fi
out=$TMP/out

"$TCTL" -S 1000 -- "$TENDER" --mem=32 "$G/hang.hvt" >"$out" 2>&1
expect "hang: ready, then stopped while looping" "$out" '^ready ' '^exited .* reason=stopped'
last_beat=$(grep '^heartbeat ' "$out" | tail -1 | sed 's/.* t=\([0-9]*\) .*/\1/')
ready_t=$(field "$out" ready t)
exited_t=$(field "$out" exited t)
if [ -n "$exited_t" ] && [ $((exited_t - ${last_beat:-$ready_t})) -ge 700000 ]; then
	pass "hang: no heartbeat in the last 700 ms"
else
	fail "hang: no heartbeat in the last 700 ms" "last beat t=$last_beat, exited t=$exited_t"
fi

"$TCTL" -b 5 -- "$TENDER" --mem=32 "$G/stall.hvt" >"$out" 2>&1
progress=$(grep '^heartbeat ' "$out" | sed 's/.* progress=\([0-9]*\) .*/\1/' | sort -u | wc -l)
beats=$(grep -c '^heartbeat ' "$out")
[ "$beats" -ge 5 ] && [ "$progress" -eq 1 ] && pass "stall: $beats heartbeats, progress never moves" \
	|| fail "stall: heartbeats without progress" "$beats beats, $progress distinct progress values"
seqs=$(grep '^heartbeat ' "$out" | sed 's/.* seq=\([0-9]*\) .*/\1/' | sort -un | wc -l)
[ "$seqs" -eq "$beats" ] && pass "stall: sequence numbers advance" || fail "stall: sequence numbers advance" "$seqs/$beats"

"$TCTL" -T 20000 -- "$TENDER" --mem=32 "$G/chatty.hvt" 2000 >"$out" 2>&1
c=$(grep -c '^console ' "$out"); l=$(grep -c '^log ' "$out")
[ "$c" -ge 2000 ] && [ "$l" -ge 2000 ] && pass "chatty 2000: $c console lines, $l log lines, all delivered" \
	|| fail "chatty 2000: all lines delivered" "$c console, $l log"
expect "chatty 2000: exits 0" "$out" '^exited .* status=0 reason=guest'

# blk: a real file, pre-written block, round trip, the file changed on disk.
img=$TMP/disk.img
head -c $((64 * 512)) /dev/zero >"$img"
printf 'summoner-block-test' | dd of="$img" bs=512 seek=7 conv=notrunc status=none
"$TCTL" -- "$TENDER" --mem=32 --block:storage="$img" "$G/blk.hvt" >"$out" 2>&1
expect "blk: round trip OK, exit 0" "$out" '^console "blk: OK' '^exited .* status=0 reason=guest'
if cmp -s <(head -c $((64 * 512)) /dev/zero) "$img"; then
	fail "blk: guest writes reached the file" "file unchanged"
else
	pass "blk: guest writes reached the file"
fi
exit 0
