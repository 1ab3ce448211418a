#!/usr/bin/env bash
# Adds one gateway to a mosquitto password file with a fresh random password (docs/BROKER.md).
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: add-gateway.sh PASSWORD_FILE GATEWAY_ID

Adds the MQTT user GATEWAY_ID to the mosquitto password file PASSWORD_FILE with a new random
password (24 bytes from /dev/urandom, base64), and prints that password once on standard output.
The broker ACL (deploy/mosquitto/acl) lets this user publish only under gridledger/v1/GATEWAY_ID/
and read only gridledger/v1/GATEWAY_ID/confirm.

GATEWAY_ID: 1-64 of [A-Za-z0-9._-] (never `/`, `+`, `#`, nor `:`, which mosquitto's password
file cannot hold); `aggregator` is reserved.
PASSWORD_FILE is created (mode 0600, owned by the user `mosquitto` when run as root, so the
broker can read it after dropping root) if it does not exist. An existing user is not changed:
remove it first with `mosquitto_passwd -D PASSWORD_FILE GATEWAY_ID` to issue a new password.

Reload the broker afterwards (systemctl reload mosquitto) so it reads the new entry.
USAGE
}

if [[ $# -eq 1 && ( $1 == --help || $1 == -h ) ]]; then
    usage
    exit 0
fi
if [[ $# -ne 2 ]]; then
    usage >&2
    exit 2
fi
password_file=$1
gateway=$2

die() {
    echo "add-gateway.sh: $*" >&2
    exit 1
}

# The id becomes the MQTT user name and, through the ACL's %u, a topic level: `/`, `+` or `#`
# in it would reach other gateways' topics.
[[ $gateway =~ ^[A-Za-z0-9._:-]{1,64}$ ]] || die "invalid gateway id '$gateway': 1-64 of [A-Za-z0-9._:-]"
# `:` separates user and hash in the password file; mosquitto_passwd refuses it.
[[ $gateway != *:* ]] || die "invalid gateway id '$gateway': a mosquitto user name cannot contain ':'"
# The ACL gives the user `aggregator` every gateway's readings and their confirm topics.
[[ $gateway != aggregator ]] || die "'aggregator' is reserved for the aggregator (see docs/BROKER.md)"
if [[ ${#gateway} -gt 32 ]]; then
    echo "add-gateway.sh: warning: the agent's configuration accepts gateway ids of at most 32 characters (docs/AGENT.md)" >&2
fi

command -v mosquitto_passwd >/dev/null || die "mosquitto_passwd not found (Debian: apt-get install mosquitto)"

if [[ -e $password_file ]]; then
    [[ -f $password_file ]] || die "$password_file is not a regular file"
    if awk -F: -v user="$gateway" '$1 == user { found = 1 } END { exit !found }' "$password_file"; then
        die "$gateway is already in $password_file (mosquitto_passwd -D to remove it first)"
    fi
else
    # Created private before anything is written to it (`mosquitto_passwd -c` would make it
    # world-readable under the usual umask); mosquitto_passwd keeps mode and owner when it adds.
    (umask 077 && : >"$password_file")
    if [[ $(id -u) -eq 0 ]] && id mosquitto >/dev/null 2>&1; then
        chown mosquitto: "$password_file"
    fi
fi

password=$(head -c 24 /dev/urandom | base64)
mosquitto_passwd -b "$password_file" "$gateway" "$password" >&2 \
    || die "mosquitto_passwd failed for $gateway in $password_file"

echo "$password"
cat >&2 <<HINT
add-gateway.sh: added $gateway to $password_file. The password above is shown only this once:
  put it, as the only line, into the file named by the agent's broker.passwordFile
  (mode 0600, e.g. /etc/gridledger/mqtt-password), set broker.username: $gateway,
  and reload the broker (systemctl reload mosquitto).
HINT
