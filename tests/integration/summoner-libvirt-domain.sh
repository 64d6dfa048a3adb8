#!/bin/bash
# summoner-libvirt-domain.sh: `domain NAME`, a service that is a domain
# libvirt already defines (virsh define), with a real libvirtd and QEMU:
# the summons starts it (answered once READY arrives on the COM2 socket
# its own XML names), its console is captured, the idle stop shuts it off
# and leaves it defined, the next summons starts it again; a second
# service on the same domain is refused while it runs, as is a domain
# someone else started; bad configurations are refused at load.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/daemon.bash"
. "$(dirname "$0")/libvirt.bash"
trap 'cleanup_all' EXIT
DOM=sm-dom-$$
cleanup_all() {
	virsh -q -c "$LV_URI" destroy "$DOM" >/dev/null 2>&1
	virsh -q -c "$LV_URI" undefine "$DOM" >/dev/null 2>&1
	lv_exit
}
state() { virsh -q -c "$LV_URI" domstate "$DOM" 2>&1 | head -1; }
wait_state() {
	for _ in $(seq "${2:-100}"); do
		[ "$(state)" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# Refused at load, no libvirtd needed.
bad() {
	printf 'listen on 127.0.0.1 port 1\nzone t.test. {\n ns ns1\n}\nservice x {\n zone t.test.\n%s\n}\n' \
		"$2" >"$TMP/bad.conf"
	out=$("$SUMMONER" -n -f "$TMP/bad.conf" 2>&1)
	expect_text "config: $1" "$out" "$3"
}
bad "domain and image exclude each other" \
	" backend libvirt
 domain \"d\"
 image \"$G/hello.virt\"" 'service x.t.test.: domain and image exclude each other'
bad "domain takes no args" " backend libvirt
 domain \"d\"
 args \"0\"" 'domain and args exclude each other'
bad "domain has no warm pool" " backend libvirt
 domain \"d\"
 warm 1" 'has no warm pool'
bad "domain is for backend libvirt" " image \"$G/hello.hvt\"
 domain \"d\"" 'domain is for backend libvirt only'
out=$(printf 'listen on 127.0.0.1 port 1\nzone t.test. {\n ns ns1\n}\nservice x {\n zone t.test.\n backend libvirt\n domain "d"\n}\n' >"$TMP/ok.conf"; "$SUMMONER" -n -f "$TMP/ok.conf" 2>&1)
expect_text "config: domain alone needs no image; -n prints it" "$out" '^	domain "d"$'

if [ ! -f "$G/hello.virt" ]; then
	skip "libvirt domain" "$G/hello.virt is not built"
	exit 0
fi
if ! lv_start; then
	skip "libvirt domain" "$LV_SKIP"
	exit 0
fi

# The operator's own domain: microvm, hello.virt, COM1 and COM2 on unix
# sockets of the operator's choosing.
SOCK=$TMP/sock
mkdir -p "$SOCK"
cat >"$TMP/dom.xml" <<XML
<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>$DOM</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='microvm'>hvm</type>
    <kernel>$ROOT/$G/hello.virt</kernel>
    <cmdline>0 200</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_crash>preserve</on_crash>
  <devices>
    <serial type='unix'><source mode='bind' path='$SOCK/com1'/><target port='0'/></serial>
    <serial type='unix'><source mode='bind' path='$SOCK/com2'/><target port='1'/></serial>
    <panic model='isa'/>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
  <qemu:commandline>
    <qemu:arg value='-device'/>
    <qemu:arg value='isa-debug-exit,iobase=0xf4,iosize=4'/>
  </qemu:commandline>
</domain>
XML
if ! virsh -q -c "$LV_URI" define "$TMP/dom.xml" >"$TMP/define.log" 2>&1; then
	fail "virsh define" "$(cat "$TMP/define.log")"
	exit 0
fi

start dom "$(svc dom 'backend libvirt' "domain \"$DOM\"" 'memory 32M' \
	'address 10.0.0.2' 'idle-timeout 2s' 'ready-deadline 20s')
$(svc dom2 'backend libvirt' "domain \"$DOM\"" 'address 10.0.0.3' \
	'ready-deadline 5s')" || exit 0

r=$(q dom.t.test A +timeout=25)
expect_text "the summons starts the defined domain and is answered after READY" \
	"$r" '^NOERROR 10\.0\.0\.2$'
[ "$(state)" = running ] && pass "the domain runs ($DOM)" ||
	fail "domain state" "$(state)"
wait_log "dom#1 console: Hello, world" 30 &&
	pass "its console (the COM1 socket its XML names) is captured" ||
	fail "console" "no Hello line"
expect "no summoner-* domain was made for it" "$LOG" "dom#1: domain $DOM" \
	'!domain summoner-dom'
r=$(q dom2.t.test A +timeout=8)
expect_text "a second service on the running domain is refused" "$r" '^SERVFAIL'
expect "  ... saying the domain is in use" "$LOG" \
	"domain $DOM is in use by dom#1"

if wait_state "shut off" 150; then
	pass "the idle stop shuts the domain off"
else
	fail "idle stop" "state $(state)"
fi
virsh -q -c "$LV_URI" dominfo "$DOM" | grep -Eq '^Persistent: +yes' &&
	pass "  ... and it stays defined" || fail "defined after stop" "gone"
r=$(q dom.t.test A +timeout=25)
expect_text "the next summons starts it again" "$r" '^NOERROR 10\.0\.0\.2$'
wait_state "shut off" 150
virsh -q -c "$LV_URI" start "$DOM" >/dev/null 2>&1
r=$(q dom.t.test A +timeout=8)
expect_text "a domain someone else started is not taken" "$r" '^SERVFAIL'
expect "  ... saying it runs already" "$LOG" "domain $DOM runs already"
[ "$(state)" = running ] && pass "  ... and it is left running" ||
	fail "foreign domain" "state $(state)"
virsh -q -c "$LV_URI" destroy "$DOM" >/dev/null 2>&1
stop_daemon dom
virsh -q -c "$LV_URI" dominfo "$DOM" >/dev/null 2>&1 &&
	pass "the summoner's exit leaves the domain defined" ||
	fail "defined after exit" "gone"
