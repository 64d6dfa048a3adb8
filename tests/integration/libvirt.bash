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
#                 lv_start started (by pid); runs on exit
#
# Domains a test makes are transient and named $LV_PREFIX-something, so
# that cleanup finds them.  $LV_QDIR is a directory QEMU (which runs as
# libvirt-qemu, not root) can create sockets in.
#
# No systemd here: libvirtd -d and virtlogd -d daemonise themselves and
# write the pid files we name.  Nothing in /etc/libvirt is changed: the
# defaults work as root (see docs/libvirt.md).

LV_URI=qemu:///system
LV_PREFIX=smtest-$$
LV_DIR=$TMP/libvirt
LV_QDIR=$LV_DIR/q
LV_SKIP=
LV_LIBVIRTD_PID=
LV_VIRTLOGD_PID=
LV_READY_S=90 # a first start probes QEMU's capabilities: seconds

# LV_KEEP=1 keeps $TMP (logs, probe output) for a post-mortem.
trap 'lv_cleanup; [ -n "${LV_KEEP:-}" ] || rm -rf "$TMP"' EXIT

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

# lv_pidfile_wait FILE NAME: the pid in FILE once it names a live NAME
# process (5 s deadline).
lv_pidfile_wait() {
	local f=$1 name=$2 pid i
	for i in $(seq 100); do
		pid=$(cat "$f" 2>/dev/null)
		if [ -n "$pid" ] && [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = "$name" ]; then
			echo "$pid"
			return 0
		fi
		sleep 0.05
	done
	return 1
}

lv_start_libvirtd() {
	rm -f "$LV_DIR/libvirtd.pid"
	libvirtd -d -f "$LV_DIR/libvirtd.conf" -p "$LV_DIR/libvirtd.pid" ||
		return 1
	LV_LIBVIRTD_PID=$(lv_pidfile_wait "$LV_DIR/libvirtd.pid" libvirtd) ||
		return 1
	local deadline=$((SECONDS + LV_READY_S))
	while ! lv_answers; do
		kill -0 "$LV_LIBVIRTD_PID" 2>/dev/null || return 1
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.1
	done
}

lv_start() {
	if ! have_kvm; then
		LV_SKIP="no usable /dev/kvm"
		return 1
	fi
	local b
	for b in libvirtd virtlogd virsh qemu-system-x86_64; do
		if ! command -v "$b" >/dev/null; then
			LV_SKIP="$b is not installed (scripts/install-deps.sh)"
			return 1
		fi
	done
	mkdir -p "$LV_QDIR"
	# QEMU runs as libvirt-qemu: it must reach $LV_QDIR to bind sockets.
	chmod 711 "$TMP" "$LV_DIR"
	chmod 1777 "$LV_QDIR"
	cat >"$LV_DIR/libvirtd.conf" <<EOF
log_outputs="3:file:$LV_DIR/libvirtd.log"
EOF
	cat >"$LV_DIR/virtlogd.conf" <<EOF
log_outputs="3:file:$LV_DIR/virtlogd.log"
EOF
	if lv_answers; then
		return 0 # someone else's libvirtd: use it, never stop it
	fi
	if lv_running libvirtd; then
		LV_SKIP="a libvirtd runs but $LV_URI does not answer"
		return 1
	fi
	# QEMU's output goes through virtlogd (qemu.conf stdio_handler).
	if ! lv_running virtlogd; then
		virtlogd -d -f "$LV_DIR/virtlogd.conf" -p "$LV_DIR/virtlogd.pid" &&
			LV_VIRTLOGD_PID=$(lv_pidfile_wait "$LV_DIR/virtlogd.pid" virtlogd)
		if [ -z "$LV_VIRTLOGD_PID" ]; then
			LV_SKIP="cannot start virtlogd"
			return 1
		fi
	fi
	if ! lv_start_libvirtd; then
		LV_SKIP="libvirtd did not answer on $LV_URI within ${LV_READY_S}s"
		sed 's/^/    | /' "$LV_DIR/libvirtd.log" 2>/dev/null | tail -5
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
	lv_stop_pid "$LV_LIBVIRTD_PID" KILL
	LV_LIBVIRTD_PID=
	lv_start_libvirtd
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
	if [ -n "$LV_LIBVIRTD_PID" ]; then
		lv_stop_pid "$LV_LIBVIRTD_PID" TERM
		LV_LIBVIRTD_PID=
	fi
	if [ -n "$LV_VIRTLOGD_PID" ]; then
		lv_stop_pid "$LV_VIRTLOGD_PID" TERM
		LV_VIRTLOGD_PID=
	fi
}
