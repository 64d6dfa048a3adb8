#!/bin/sh
# Install the Debian packages summoner needs to build and test, and only
# the ones missing.  Idempotent; used by `make test`, `make run` and .ci/run.
# README.md says what each package is for.
set -eu

PACKAGES="
make gcc libc6-dev binutils libsystemd-dev systemd libelf-dev libxml2-dev
clang-format
libcmocka-dev
bison libldns-dev libevent-dev
ldnsutils knot-dnsutils
iproute2 iputils-ping
procps
nsd dnsperf
libsqlite3-dev sqlite3 libjson-c-dev
libmnl-dev
gdb netcat-openbsd
curl socat apache2-utils wrk python3
qemu-system-x86 libvirt-dev libvirt-daemon libvirt-daemon-driver-qemu libvirt-daemon-system libvirt-clients
man-db groff-base mandoc
"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing"
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
else
	SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
