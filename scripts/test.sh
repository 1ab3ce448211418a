#!/usr/bin/env bash
# Runs the GridLedger test suite: unit tests and integration tests against real peers
# (a pymodbus server over TCP and over a socat pty pair, mbpoll reading our simulator).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# The executables first: integration tests run them as a user would.
swift build
export GRIDLEDGER_BIN_DIR="$(swift build --show-bin-path)"
export GRIDLEDGER_PEER_PYTHON="$PWD/.venv-peers/bin/python"
swift test "$@"
