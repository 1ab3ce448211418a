#!/usr/bin/env bash
# Installs what GridLedger needs on a Debian 12 machine (run as root): system libraries, the
# brokers and tools the tests talk to, and a Python venv with the pymodbus test peer.
# Idempotent: installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libmodbus-dev libmosquitto-dev libsqlite3-dev zlib1g-dev mosquitto mosquitto-clients socat mbpoll python3-venv pkg-config openssl tzdata)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null; then
  echo "setup: the Swift 6 toolchain is not on PATH (https://www.swift.org/install/linux/)" >&2
  exit 1
fi

venv=.venv-peers
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import pymodbus, serial' 2>/dev/null; then
  echo "setup: creating $venv with the pymodbus test peer"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q -r Tests/Peers/requirements.txt
fi
