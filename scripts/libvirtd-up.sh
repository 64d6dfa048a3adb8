#!/bin/bash
# libvirtd-up.sh: a libvirtd for `make run` and the tests, started only
# when none answers, and stopped only by whoever started it.
#
#   libvirtd-up.sh up DIR        make qemu:///system answer: use the
#                                libvirtd that answers, else start virtlogd
#                                (unless one runs) and libvirtd, daemonised,
#                                with config, log and pid files in DIR, and
#                                wait until it answers.  What was started is
#                                recorded in DIR/libvirtd.ours and
#                                DIR/virtlogd.ours (one pid each).
#   libvirtd-up.sh down DIR      stop exactly what DIR records, by pid
#   libvirtd-up.sh restart DIR   SIGKILL the libvirtd DIR records (its
#                                domains keep running) and start it again;
#                                fails when DIR records none
#   libvirtd-up.sh run DIR [--for WHAT] -- COMMAND [ARG...]
#                                up, COMMAND until it exits (Ctrl-C, SIGTERM
#                                and SIGHUP reach it), down; exits with
#                                COMMAND's status.  When up fails, says so
#                                ("WHAT cannot be summoned") and runs
#                                COMMAND anyway.
#
# Exit status: 0 done, 1 qemu:///system cannot be made to answer (the
# reason on stderr, as every message, prefixed "libvirtd-up: "), 2 usage.
# LIBVIRTD_UP_WAIT: seconds to wait for a libvirtd to answer (90; its very
# first start on a machine probes QEMU's capabilities, about 8 s here).
#
# There is no systemd on the development machine: libvirtd -d and
# virtlogd -d daemonise themselves (a session of their own, so a Ctrl-C in
# the terminal does not reach them) and write the pid files named here.
# Where systemd (or anything else) runs libvirtd, qemu:///system answers
# and `up` starts nothing.  Nothing under /etc/libvirt is changed: Debian's
# defaults work as root (docs/libvirt.md).

set -u

URI=qemu:///system
WAIT_S=${LIBVIRTD_UP_WAIT:-90}
ME=libvirtd-up

say() { echo "$ME: $*" >&2; }

usage() {
	echo "usage: $0 up|down|restart DIR" >&2
	echo "       $0 run DIR [--for WHAT] -- COMMAND [ARG...]" >&2
	exit 2
}

answers() {
	virsh -q -c "$URI" uri >/dev/null 2>&1
}

have_kvm() {
	[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]
}

# running NAME: the pids of live (not zombie) NAME processes.
running() {
	local pid
	for pid in $(pgrep -x "$1"); do
		[ "$(awk '{ print $3 }' /proc/"$pid"/stat 2>/dev/null)" != Z ] &&
			echo "$pid"
	done
}

# ours NAME: the pid DIR/NAME.ours records, when it is still a NAME
# process started with our pid file (a recycled pid is not ours).
ours() {
	local pid
	pid=$(cat "$DIR/$1.ours" 2>/dev/null) || return 1
	[ -n "$pid" ] && [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = "$1" ] &&
		tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$DIR/$1.pid" &&
		echo "$pid"
}

# pidfile_wait NAME: the pid in DIR/NAME.pid once it names a live NAME
# process (5 s deadline).
pidfile_wait() {
	local pid
	for _ in $(seq 100); do
		pid=$(cat "$DIR/$1.pid" 2>/dev/null)
		if [ -n "$pid" ] && [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = "$1" ]; then
			echo "$pid"
			return 0
		fi
		sleep 0.05
	done
	return 1
}

# stop_pid PID SIGNAL: signal PID and wait (10 s) until it is gone, then
# SIGKILL it.
stop_pid() {
	local pid=$1
	kill -"$2" "$pid" 2>/dev/null || return 0
	for _ in $(seq 200); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.05
	done
	say "pid $pid ignored SIG$2 for 10 s: SIGKILL"
	kill -KILL "$pid" 2>/dev/null
}

log_tail() {
	[ -s "$DIR/$1.log" ] || return 0
	say "last lines of $DIR/$1.log:"
	tail -5 "$DIR/$1.log" | sed 's/^/    | /' >&2
}

# wait_answer PID: until qemu:///system answers, while PID (when given)
# lives, within the deadline.
wait_answer() {
	local deadline=$((SECONDS + WAIT_S))
	until answers; do
		if [ -n "$1" ] && ! kill -0 "$1" 2>/dev/null; then
			return 1
		fi
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.1
	done
}

# daemon NAME: start NAME -d with our config and pid file; record and
# print its pid.  The lock's descriptor is not passed on.
daemon() {
	local pid
	rm -f "$DIR/$1.pid"
	"$1" -d -f "$DIR/$1.conf" -p "$DIR/$1.pid" 9>&- || return 1
	pid=$(pidfile_wait "$1") || return 1
	echo "$pid" >"$DIR/$1.ours"
	echo "$pid"
}

start_libvirtd() {
	local pid
	if ! pid=$(daemon libvirtd); then
		say "cannot start libvirtd"
		log_tail libvirtd
		return 1
	fi
	if ! wait_answer "$pid"; then
		if kill -0 "$pid" 2>/dev/null; then
			say "libvirtd (pid $pid) did not answer on $URI within ${WAIT_S} s"
		else
			say "libvirtd (pid $pid) exited before answering on $URI"
		fi
		log_tail libvirtd
		return 1
	fi
	say "libvirtd started (pid $pid), answering on $URI; log $DIR/libvirtd.log"
}

# Serialise ups and downs: two callers at once would both find no
# libvirtd and both start one.
lock() {
	local d=/run/lock
	[ -d "$d" ] && [ -w "$d" ] || d=${TMPDIR:-/tmp}
	exec 9>"$d/summoner-libvirtd-up.lock" || return 1
	flock -w $((WAIT_S + 30)) 9 || {
		say "another libvirtd-up holds $d/summoner-libvirtd-up.lock"
		return 1
	}
}

write_confs() {
	mkdir -p "$DIR" || return 1
	local n
	for n in libvirtd virtlogd; do
		echo "log_outputs=\"3:file:$DIR/$n.log\"" >"$DIR/$n.conf" || return 1
	done
}

cmd_up() {
	local b pids
	if ! have_kvm; then
		say "no usable /dev/kvm: libvirt cannot run KVM domains on this machine"
		return 1
	fi
	if ! command -v virsh >/dev/null; then
		say "virsh is not installed (package libvirt-clients; scripts/install-deps.sh)"
		return 1
	fi
	write_confs || return 1
	lock || return 1
	# Records of daemons that are gone (a previous run's) are dropped.
	for b in libvirtd virtlogd; do
		ours "$b" >/dev/null || rm -f "$DIR/$b.ours"
	done
	if answers; then
		if pids=$(ours libvirtd); then
			say "$URI answers: our libvirtd (pid $pids) runs already"
		else
			say "$URI answers: using the running libvirtd, which stays running"
		fi
		return 0
	fi
	pids=$(running libvirtd | tr '\n' ' ')
	pids=${pids% }
	if [ -n "$pids" ]; then
		# Someone else's, still starting perhaps: give it the deadline.
		say "a libvirtd runs (pid $pids) but $URI does not answer yet: waiting up to ${WAIT_S} s"
		wait_answer "" && return 0
		say "libvirtd (pid $pids) does not answer on $URI; not ours to restart"
		return 1
	fi
	for b in libvirtd virtlogd qemu-system-x86_64; do
		if ! command -v "$b" >/dev/null; then
			say "$b is not installed (scripts/install-deps.sh installs it)"
			return 1
		fi
	done
	# QEMU's output goes through virtlogd (qemu.conf stdio_handler).
	if [ -z "$(running virtlogd)" ]; then
		if ! pids=$(daemon virtlogd); then
			say "cannot start virtlogd"
			log_tail virtlogd
			return 1
		fi
		say "virtlogd started (pid $pids)"
	fi
	say "starting libvirtd (a first start probes QEMU: seconds)"
	if ! start_libvirtd; then
		down_locked
		return 1
	fi
}

# down_locked: stop what DIR records, libvirtd first (it talks to
# virtlogd), each by pid.
down_locked() {
	local pid left
	if pid=$(ours libvirtd) && answers; then
		left=$(virsh -q -c "$URI" list --name 2>/dev/null | grep . | tr '\n' ' ')
		[ -z "$left" ] ||
			say "domains still running: $left(their QEMUs outlive libvirtd; a new one reattaches them)"
	fi
	if pid=$(ours libvirtd); then
		stop_pid "$pid" TERM
		say "libvirtd (pid $pid) stopped"
	fi
	rm -f "$DIR/libvirtd.ours"
	if pid=$(ours virtlogd); then
		# A libvirtd started since by someone else may be using it.
		left=$(running libvirtd | tr '\n' ' ')
		if [ -n "$left" ]; then
			say "virtlogd (pid $pid) left running: libvirtd ${left}(not ours) may use it"
		else
			stop_pid "$pid" TERM
			say "virtlogd (pid $pid) stopped"
		fi
	fi
	rm -f "$DIR/virtlogd.ours"
}

cmd_down() {
	[ -d "$DIR" ] || return 0
	lock || return 1
	down_locked
}

cmd_restart() {
	local pid
	lock || return 1
	if ! pid=$(ours libvirtd); then
		say "$DIR records no libvirtd of ours: nothing to restart"
		return 1
	fi
	stop_pid "$pid" KILL
	rm -f "$DIR/libvirtd.ours"
	start_libvirtd
}

# run: up, COMMAND, down.  COMMAND runs in the background so that this
# shell can forward signals, with SIGINT back to its default: a
# non-interactive shell's background commands would otherwise ignore it.
# A Ctrl-C in the terminal reaches COMMAND twice (from the terminal and
# forwarded); the summoner acts on the first.
cmd_run() {
	local what="libvirt services" child='' rc
	if [ "${1:-}" = --for ]; then
		[ $# -ge 2 ] || usage
		what=$2
		shift 2
	fi
	[ "${1:-}" = -- ] || usage
	shift
	[ $# -ge 1 ] || usage
	if ! (cmd_up); then
		say "$what cannot be summoned; the rest runs"
	fi
	trap 'kill -INT "$child" 2>/dev/null' INT
	trap 'kill -TERM "$child" 2>/dev/null' TERM
	trap 'kill -HUP "$child" 2>/dev/null' HUP
	(
		trap - INT TERM HUP
		exec "$@"
	) &
	child=$!
	# wait returns early (above 128) when a trapped signal arrives.
	while :; do
		wait "$child"
		rc=$?
		[ $rc -gt 128 ] && kill -0 "$child" 2>/dev/null && continue
		break
	done
	trap '' INT TERM HUP # the clean-up below runs to its end
	(cmd_down)
	return "$rc"
}

[ $# -ge 2 ] || usage
MODE=$1
DIR=$2
shift 2
# Absolute, so that our pid file is recognisable in a daemon's cmdline.
case $DIR in
/*) ;;
*) DIR=$PWD/$DIR ;;
esac
DIR=${DIR%/}

case $MODE in
up) [ $# -eq 0 ] || usage; cmd_up ;;
down) [ $# -eq 0 ] || usage; cmd_down ;;
restart) [ $# -eq 0 ] || usage; cmd_restart ;;
run) cmd_run "$@" ;;
*) usage ;;
esac
