#!/usr/bin/env bash
# Install posboxless on Ubuntu, Debian or Raspberry Pi OS and start it as a system service.
#
#   sudo ./install.sh [options of 'posboxless install', e.g. --allowed-origin https://shop.example.com]
#
# Puts the package in its own virtual environment (/opt/posboxless, or $PREFIX), then runs
# 'posboxless install': system user, hardened systemd unit, udev rules, configuration file.
# Without devices configured the service runs simulated devices, so the status page at
# http://localhost:8069/ shows a working proxy at once. Safe to run again (upgrades in place).
set -euo pipefail

PREFIX=${PREFIX:-/opt/posboxless}
here=$(cd "$(dirname "$0")" && pwd)

if [ "$(id -u)" -ne 0 ]; then
    exec sudo PREFIX="$PREFIX" "$0" "$@"
fi

if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
    echo "posboxless needs Python 3.10 or newer (Ubuntu 22.04+, Debian 12+, Raspberry Pi OS 12+)." >&2
    exit 1
fi
if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
fi

python3 -m venv "$PREFIX"
"$PREFIX/bin/pip" install --quiet --upgrade pip
"$PREFIX/bin/pip" install --quiet --upgrade "$here"
ln -sf "$PREFIX/bin/posboxless" /usr/local/bin/posboxless

if [ -d /run/systemd/system ]; then
    "$PREFIX/bin/posboxless" install "$@"
    echo
    echo "posboxless is running: open http://localhost:8069/ on this computer."
    echo "Check the machine with: posboxless doctor"
else
    echo "systemd is not running here: starting posboxless in the foreground (Ctrl-C stops it)."
    exec "$PREFIX/bin/posboxless" serve
fi
