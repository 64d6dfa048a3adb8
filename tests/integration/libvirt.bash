# libvirt.bash: a libvirtd for the tests (sourced after lib.bash).
#
#   lv_start      use the running libvirtd, or start virtlogd and libvirtd
#                 (daemonised, our own config and pid files under $LV_DIR)
#                 and wait until qemu:///system answers.  Returns 1 with
#                 the reason in $LV_SKIP when the test must skip.
#   lv_owned      true when lv_start started libvirtd (only then may a
#                 test restart it)
#   lv_restart    SIGKILL our libvirtd (its domains keep running) and
#                 start it again; waits until it answers
#   lv_cleanup    destroy every domain named $LV_PREFIX*, stop what
#                 lv_start started (libvirtd-up.sh down: by pid); runs on
#                 exit
# $LV_DIR/up.log has the script's messages.
#
# Domains a test makes are transient and named $LV_PREFIX-something, so
# that cleanup finds them.  $LV_QDIR is a directory QEMU (which runs as
# libvirt-qemu, not root) can create sockets in.
#
# The daemons are started and stopped by scripts/libvirtd-up.sh, the one
# `make run` uses too (no systemd here; see that script): it records what
# it started in $LV_DIR and stops exactly that.  Nothing in /etc/libvirt
# is changed: the defaults work as root (see docs/libvirt.md).

LV_URI=qemu:///system
LV_PREFIX=smtest-$$
LV_DIR=$TMP/libvirt
LV_QDIR=$LV_DIR/q
LV_SKIP=
LV_LIBVIRTD_PID= # what lv_start started (empty: nothing, or not libvirtd)
LV_VIRTLOGD_PID=
LV_READY_S=90 # a first start probes QEMU's capabilities: seconds
LV_UP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/libvirtd-up.sh

# LV_KEEP=1 keeps $TMP (logs, probe output) for a post-mortem.  At exit
# the daemons go first (daemon.bash, when sourced: a SIGTERM lets each
# destroy its domains), then the libvirtd we started.
lv_exit() {
	if declare -F stop_daemons >/dev/null; then
		stop_daemons
	fi
	lv_cleanup
	[ -n "${LV_KEEP:-}" ] || rm -rf "$TMP"
}
trap 'lv_exit' EXIT

# lv_running NAME: true when a live (not zombie) NAME process exists.
lv_running() {
	local pid
	for pid in $(pgrep -x "$1"); do
		[ "$(awk '{ print $3 }' /proc/"$pid"/stat 2>/dev/null)" != Z ] &&
			return 0
	done
	return 1
}

lv_answers() {
	virsh -q -c "$LV_URI" uri >/dev/null 2>&1
}

# lv_up MODE: run the script on $LV_DIR, its messages in $LV_DIR/up.log;
# then read back what it started.
lv_up() {
	local rc
	LIBVIRTD_UP_WAIT=$LV_READY_S "$LV_UP" "$1" "$LV_DIR" 2>>"$LV_DIR/up.log"
	rc=$?
	LV_LIBVIRTD_PID=$(cat "$LV_DIR/libvirtd.ours" 2>/dev/null)
	LV_VIRTLOGD_PID=$(cat "$LV_DIR/virtlogd.ours" 2>/dev/null)
	return $rc
}

lv_start() {
	if ! have_kvm; then
		LV_SKIP="no usable /dev/kvm"
		return 1
	fi
	local b
	for b in virsh qemu-system-x86_64; do
		if ! command -v "$b" >/dev/null; then
			LV_SKIP="$b is not installed (scripts/install-deps.sh)"
			return 1
		fi
	done
	mkdir -p "$LV_QDIR"
	# QEMU runs as libvirt-qemu: it must reach $LV_QDIR to bind sockets.
	chmod 711 "$TMP" "$LV_DIR"
	chmod 1777 "$LV_QDIR"
	if ! lv_up up; then
		# The reason: the last message that is not progress or clean-up.
		LV_SKIP=$(grep '^libvirtd-up: ' "$LV_DIR/up.log" |
			grep -Ev ': (last lines|.*(started|starting|stopped|left running))' |
			tail -1 | sed 's/^libvirtd-up: //')
		LV_SKIP=${LV_SKIP:-"$LV_UP up failed"}
		sed 's/^/    | /' "$LV_DIR/up.log" | tail -8
		return 1
	fi
}

lv_owned() {
	[ -n "$LV_LIBVIRTD_PID" ]
}

# lv_stop_pid PID SIGNAL: signal PID and wait (10 s) until it is gone.
lv_stop_pid() {
	local pid=$1
	kill -"$2" "$pid" 2>/dev/null || return 0
	for _ in $(seq 200); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null
}

lv_restart() {
	lv_owned || return 1
	lv_up restart
}

lv_cleanup() {
	local d f pid
	if lv_answers; then
		for d in $(virsh -q -c "$LV_URI" list --name 2>/dev/null); do
			[[ $d == "$LV_PREFIX"* ]] &&
				virsh -q -c "$LV_URI" destroy "$d" >/dev/null 2>&1
		done
	fi
	# A QEMU libvirtd did not get to (it was down): its pid file remains.
	for f in /run/libvirt/qemu/"$LV_PREFIX"*.pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		[ "$(cat /proc/"$pid"/comm 2>/dev/null)" = qemu-system-x86 ] &&
			lv_stop_pid "$pid" KILL
	done
	[ ! -d "$LV_DIR" ] || lv_up down
}
