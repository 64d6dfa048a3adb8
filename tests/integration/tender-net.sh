#!/bin/bash
# Ethernet frames cross a real tap device inside a network namespace this
# test creates: the ping guest's gratuitous ARP reaches the host, and the
# host pings the guest (ARP + ICMP both ways).
source "$(dirname "$0")/lib.bash"

if ! have_kvm; then
	skip "tender net" "/dev/kvm is missing or not accessible"
	exit 0
fi
if ! ip netns add "summoner-t$$" 2>"$TMP/err"; then
	skip "tender net" "cannot create a network namespace: $(cat "$TMP/err")"
	exit 0
fi
ns=summoner-t$$
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
nsx() { ip netns exec "$ns" "$@"; }

nsx ip link set lo up
nsx ip tuntap add dev tap0 mode tap
nsx sysctl -qw net.ipv4.conf.all.arp_accept=1 net.ipv4.conf.default.arp_accept=1
nsx ip addr add 10.77.0.1/24 dev tap0
nsx ip link set tap0 up
nsx sysctl -qw net.ipv4.conf.tap0.arp_accept=1

out=$TMP/out
nsx "$TCTL" -T 30000 -- "$TENDER" --mem=32 --net:service=tap0 "$G/ping.hvt" 10.77.0.2 >"$out" 2>&1 &
pid=$!
for _ in $(seq 200); do grep -q '^ready ' "$out" && break; sleep 0.02; done
expect "net: ping guest ready on tap0" "$out" '^ready '

mac=
for _ in $(seq 50); do
	mac=$(nsx ip neigh show 10.77.0.2 dev tap0 | grep -o 'lladdr [0-9a-f:]*' | cut -d' ' -f2)
	[ -n "$mac" ] && break
	sleep 0.02
done
if [ -n "$mac" ]; then
	pass "net: gratuitous ARP from the guest reached the host ($mac)"
else
	fail "net: gratuitous ARP from the guest reached the host" "no neighbour entry"
fi
case "$mac" in
[0-9a-f][26ae]:*) pass "net: guest MAC $mac is locally administered" ;;
*) fail "net: guest MAC is locally administered" "${mac:-none}" ;;
esac

if nsx ping -c 3 -i 0.2 -W 2 10.77.0.2 >"$TMP/ping" 2>&1; then
	pass "net: host pings the guest through the tap ($(grep -o '[0-9]* received' "$TMP/ping"))"
else
	fail "net: host pings the guest through the tap" "$(tail -2 "$TMP/ping" | tr '\n' ' ')"
fi

# Attaching the same tap twice is refused cleanly (it is in use).
nsx "$TENDER" --mem=32 --net:service=tap0 "$G/ping.hvt" 10.77.0.3 >"$TMP/o2" 2>&1; rc=$?
[ $rc -eq 66 ] && expect "net: tap in use -> 66" "$TMP/o2" 'tap0' || fail "net: tap in use -> 66" "exit $rc"

kill -TERM "$pid"; wait "$pid"; pid=

# --net-mac sets the guest's MAC (the guest prints the one it was given);
# a multicast MAC, a malformed one or one for no --net device is refused.
# (tap1: tap0's last tender may still be on its way out)
nsx ip tuntap add dev tap1 mode tap
nsx "$TCTL" -T 30000 -- "$TENDER" --mem=32 --net:service=tap1 \
	--net-mac:service=02:11:22:33:44:5A "$G/ping.hvt" 10.77.0.2 >"$out" 2>&1 &
pid=$!
for _ in $(seq 200); do grep -q 'ping: ready' "$out" && break; sleep 0.02; done
expect "net: --net-mac gives the guest its MAC" "$out" 'ping: ready ip 10.77.0.2 mac 02:11:22:33:44:5a'
kill -TERM "$pid"; wait "$pid"; pid=
for bad in "service=03:11:22:33:44:55" "service=02:11:22:33:44" "service=02-11-22-33-44-55" "other=02:11:22:33:44:55"; do
	nsx "$TENDER" --mem=32 --net:service=tap1 "--net-mac:$bad" "$G/ping.hvt" >"$TMP/o3" 2>&1; rc=$?
	[ $rc -eq 64 ] && expect "net: --net-mac:$bad refused (64)" "$TMP/o3" '--net-mac' ||
		fail "net: --net-mac:$bad refused" "exit $rc"
done
exit 0
