#!/bin/bash
# summoner-tap.sh: host network plumbing for summoned guests, inside a
# network namespace this test creates: the configured bridge is created
# (then reused), each instance gets a tap on it with its deterministic MAC,
# the neighbour entry is there before the DNS answer goes out so that one
# ping right after the answer is answered, and taps and neighbour entries
# go when an instance ends: stopped, its tender killed, or the summoner
# killed and restarted.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/daemon.bash"

netns_or_skip "summoner tap" || exit 0

CTL=$ROOT/$BUILD/summonerctl
BR=smbr0
IP=10.78.0.2

# The MAC netdev_mac() derives: 02, FNV-1a (32 bits) of the service's
# absolute name in the next three bytes, the instance id in the last two.
mac_of() {
	local s=$1 id=$2 h=2166136261 i c
	for ((i = 0; i < ${#s}; i++)); do
		printf -v c '%d' "'${s:i:1}"
		h=$(((h ^ c) * 16777619 & 0xffffffff))
	done
	printf '02:%02x:%02x:%02x:%02x:%02x\n' $((h >> 16 & 255)) \
		$((h >> 8 & 255)) $((h & 255)) $((id >> 8 & 255)) $((id & 255))
}
# gone WHAT: wait up to 5 s for no tap and no neighbour entry for $IP.
gone() {
	for _ in $(seq 100); do
		[ -z "$(taps)" ] && [ -z "$(neigh "$IP")" ] && return 0
		sleep 0.05
	done
	fail "$1" "left: taps '$(taps | tr '\n' ' ')', neighbour '$(neigh "$IP")'"
	return 1
}
show() { "$CTL" -s "$STATE/control.sock" -j show "$1" 2>/dev/null; }
jfield() { grep -o "\"$1\": *\"[^\"]*\"" | head -1 | sed 's/.*: *"//; s/"$//'; }

# Policy halt: a killed tender is not restarted (that would bring the
# tap back while the test looks for it gone).
BODY="bridge $BR address 10.78.0.1 prefix 24
$(printf "policy halt {\n\tdefault stop\n}\n")
$(svc ping "image \"$ROOT/$G/ping.hvt\"" "net service" "address $IP prefix 24" "policy halt")"

if inns ip link show "$BR" >/dev/null 2>&1; then
	fail "bridge created" "$BR exists before the daemon started"
fi
start tap "$BODY" || exit 0
if inns ip -d link show "$BR" | grep -q 'bridge forward_delay' &&
	inns ip -4 addr show dev "$BR" | grep -q 'inet 10.78.0.1/24'; then
	pass "the daemon creates the bridge with its address"
else
	fail "bridge created" "$(inns ip -d addr show "$BR" 2>&1 | head -5)"
fi

# ---- summon, neighbour entry first, one ping ----
r=$(q ping.t.test)
n1=$(neigh "$IP")
if inns ping -c1 -W1 "$IP" >"$TMP/ping" 2>&1; then ok=1; else ok=0; fi
want=$(mac_of ping.t.test. 1)
[ "$r" = "NOERROR $IP" ] && pass "summon: ping.t.test answers $IP" ||
	fail "summon" "answer '$r'"
[ "$n1" = "$want" ] && pass "the neighbour entry points at the guest before the first ping ($n1)" ||
	fail "neighbour entry before the first ping" "'$n1', want $want"
[ $ok = 1 ] && pass "one ping right after the DNS answer is answered" ||
	fail "ping after the answer" "$(tail -2 "$TMP/ping" | tr '\n' ' ')"
t=$(taps)
[ "$t" = "sm-ping-1" ] && inns ip -d link show sm-ping-1 | grep -q 'tun type tap' &&
	pass "tap sm-ping-1 is attached to $BR" || fail "tap on the bridge" "taps '$t'"
inns ip -6 addr show dev sm-ping-1 | grep -q inet6 &&
	fail "no IPv6 address on the tap" "$(inns ip -6 addr show dev sm-ping-1)" ||
	pass "the tap has no IPv6 address (no DAD or RS into the guest)"
j=$(show ping)
gmac=$(grep -o 'ping: ready ip [0-9.]* mac [0-9a-f:]*' "$LOG" | head -1 | awk '{print $6}')
if [ "$(echo "$j" | jfield tap)" = sm-ping-1 ] && [ "$(echo "$j" | jfield mac)" = "$want" ] &&
	[ "$gmac" = "$want" ]; then
	pass "show -j and the guest agree on the deterministic MAC $want"
else
	fail "deterministic MAC" "show: $(echo "$j" | jfield mac), guest: $gmac, want $want"
fi
"$CTL" -s "$STATE/control.sock" show ping >"$TMP/show" 2>&1
expect "summonerctl show names the tap and MAC" "$TMP/show" "network: +tap sm-ping-1, mac $want"
expect "the boot log line names the tap and its set-up time" "$LOG" \
	"ping#1: booting \(pid [0-9]+, tap sm-ping-1, mac $want, tap created in [0-9]+ us, attached in [0-9]+ us\)" \
	"ping#1 console: ping: echo reply to 10.78.0.1"
grep -o 'tap created in [0-9]* us, attached in [0-9]* us' "$LOG" | head -1 | sed 's/^/    | /'

# ---- stop: tap and entry go ----
"$CTL" -s "$STATE/control.sock" stop ping >/dev/null 2>&1
gone "stop removes the tap and the neighbour entry" &&
	pass "stop removes the tap and the neighbour entry"

# ---- the tender killed ----
r=$(q ping.t.test)
want=$(mac_of ping.t.test. 2)
pid=$(show ping | grep -o '"pid": *[0-9]*' | grep -o '[0-9]*$')
if [ "$r" = "NOERROR $IP" ] && [ "$(neigh "$IP")" = "$want" ] && [ -n "$pid" ] && [ "$pid" != 0 ]; then
	kill -KILL "$pid"
	gone "SIGKILL of the tender" && pass "SIGKILL of the tender: tap and neighbour entry gone"
else
	fail "second summon" "answer '$r', neighbour '$(neigh "$IP")', pid '$pid'"
fi

# ---- the summoner killed and restarted ----
# A port that keeps the bridge's carrier up once the tap is gone: else the
# kernel flushes the bridge's neighbour entries by itself, and there would
# be nothing left for the restart to sweep.
inns ip link add smveth0 type veth peer name smveth1
inns ip link set smveth1 up
inns ip link set smveth0 master "$BR" up
r=$(q ping.t.test)
old=$(neigh "$IP")
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null
# Its tender ends with its control channel (taking the tap along); the
# neighbour entry stays for the restart to sweep.
if [ "$r" = "NOERROR $IP" ] && [ "$old" = "$(mac_of ping.t.test. 3)" ] &&
	[ "$(neigh "$IP")" = "$old" ]; then
	pass "after SIGKILL of the summoner the neighbour entry is left behind"
else
	fail "third summon" "answer '$r', neighbour '$old' then '$(neigh "$IP")'"
fi
start tap "$BODY" || exit 0
gone "restart sweeps what the killed summoner left" &&
	pass "restart: the old tap and neighbour entry are gone"
expect "restart: the bridge is reused; the sweep removed the entry" "$LOG" \
	"summoner started" "removed [0-9]+ leftover taps? and 1 neighbour entry" "!bridge .*cannot"
r=$(q ping.t.test)
n=$(neigh "$IP")
if [ "$r" = "NOERROR $IP" ] && [ -n "$n" ] && [ "$n" != "$old" ] &&
	inns ping -c1 -W1 "$IP" >/dev/null 2>&1; then
	pass "after the restart a new summon answers and pings ($n)"
else
	fail "summon after restart" "answer '$r', neighbour '$n' (old $old)"
fi
stop_daemon tap
gone "SIGTERM removes the taps and neighbour entries" &&
	pass "SIGTERM removes the taps and neighbour entries"
exit 0
