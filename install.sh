#!/usr/bin/env bash
# Install posboxless on Ubuntu, Debian or Raspberry Pi OS and start it as a system service.
#
#   sudo ./install.sh [options of 'posboxless install', e.g. --allowed-origin https://shop.example.com]
#
# What it writes (and nothing else):
#   $PREFIX              the virtual environment holding posboxless (default /opt/posboxless)
#   $BINDIR/posboxless   a link to $PREFIX/bin/posboxless (default /usr/local/bin; BINDIR= for none).
#                        A posboxless already there that is not this link is replaced only after
#                        you say yes (or with ASSUME_YES=1); otherwise it is kept.
#   then 'posboxless install' below $ROOT (default /): the system user 'posboxless', the systemd
#   unit, the udev rules, /etc/posboxless/config.toml (only when there is none yet) and the data
#   directory /var/lib/posboxless, owned by that user.
#
# With systemd the service is (re)started. Without systemd (a container, a chroot) or with
# ROOT other than /, nothing is started: the proxy never runs as root, and the script prints the
# command that starts it as the 'posboxless' user. Running it again upgrades in place.
#
# Variables: PREFIX, BINDIR, ROOT, ASSUME_YES=1, PYTHON (the python3 that builds the environment).
set -euo pipefail

PREFIX=${PREFIX:-/opt/posboxless}
ROOT=${ROOT:-/}
ROOT=${ROOT%/}
BINDIR=${BINDIR-$ROOT/usr/local/bin}
PYTHON=${PYTHON:-python3}
ASSUME_YES=${ASSUME_YES:-}
SERVICE_USER=posboxless
here=$(cd "$(dirname "$0")" && pwd)

if [ "$(id -u)" -ne 0 ] && [ -z "$ROOT" ]; then
    exec sudo PREFIX="$PREFIX" BINDIR="$BINDIR" ROOT=/ PYTHON="$PYTHON" ASSUME_YES="$ASSUME_YES" \
        "$0" "$@"
fi

echo "posboxless will be installed in $PREFIX."
echo "Outside it, this writes: ${BINDIR:+$BINDIR/posboxless (a link), }the '$SERVICE_USER' user and,"
echo "below ${ROOT:-/}: /etc/posboxless/config.toml (if absent), /etc/systemd/system/posboxless.service,"
echo "/etc/udev/rules.d/70-posboxless.rules and /var/lib/posboxless."

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
    echo "posboxless needs Python 3.10 or newer (Ubuntu 22.04+, Debian 12+, Raspberry Pi OS 12+)." >&2
    exit 1
fi
if ! "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
fi

"$PYTHON" -m venv "$PREFIX"
"$PREFIX/bin/pip" install --quiet --upgrade pip
"$PREFIX/bin/pip" install --quiet --upgrade "$here"
command="$PREFIX/bin/posboxless"

# The command on the PATH: never silently replace a posboxless that is not ours.
if [ -n "$BINDIR" ]; then
    link="$BINDIR/posboxless"
    if [ -e "$link" ] || [ -L "$link" ]; then
        current=$(readlink "$link" || true)
        if [ "$current" != "$command" ]; then
            answer=n
            if [ "$ASSUME_YES" = 1 ]; then
                answer=y
            elif [ -t 0 ]; then
                read -r -p "$link exists (${current:-a file}). Replace it by a link to $command? [y/N] " answer
            fi
            case "$answer" in
                y | Y | yes) ln -sfn "$command" "$link" && echo "Replaced $link." ;;
                *) echo "Kept $link: run $command (or set BINDIR, or ASSUME_YES=1)." ;;
            esac
        fi
    else
        mkdir -p "$BINDIR"
        ln -s "$command" "$link"
    fi
fi

systemd=no
if [ -z "$ROOT" ] && [ -d /run/systemd/system ]; then
    systemd=yes
fi

if [ "$systemd" = yes ]; then
    "$command" install "$@"
    # An upgrade replaced the code under a running service: run the new one.
    systemctl restart posboxless.service
else
    # Same user, unit, rules and configuration file, so that moving to systemd later is one
    # 'systemctl enable --now posboxless'; nothing is started here.
    "$command" install --root "${ROOT:-/}" --no-start "$@"
fi

# The data directory (systemd creates it as StateDirectory; without systemd nobody else does).
uid=$(awk -F: -v u="$SERVICE_USER" '$1 == u { print $3 }' "${ROOT}/etc/passwd")
gid=$(awk -F: -v u="$SERVICE_USER" '$1 == u { print $4 }' "${ROOT}/etc/passwd")
data_dir="${ROOT}/var/lib/posboxless"
mkdir -p "$data_dir"
chmod 0750 "$data_dir"
if [ -n "$uid" ] && [ "$(id -u)" -eq 0 ]; then
    chown "$uid:$gid" "$data_dir"
fi

echo
if [ "$systemd" = yes ]; then
    echo "posboxless is running: open http://localhost:8069/ on this computer."
    echo "Check the machine with: sudo posboxless doctor"
else
    echo "Installed; nothing was started (no systemd here${ROOT:+, or an alternate root})."
    echo "Start the proxy as the '$SERVICE_USER' user, never as root:"
    echo "  sudo -u $SERVICE_USER $command serve --config /etc/posboxless/config.toml --data-dir /var/lib/posboxless"
    echo "Then open http://localhost:8069/ on this computer."
fi
