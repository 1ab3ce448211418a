#!/usr/bin/env bash
# Runs the GridLedger test suite: unit tests and integration tests against real peers
# (a pymodbus server over TCP and over a socat pty pair, mbpoll reading our simulator).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build --build-tests
export GRIDLEDGER_BIN_DIR="$(swift build --show-bin-path)"
export GRIDLEDGER_PEER_PYTHON="$PWD/.venv-peers/bin/python"
swift test --skip-build "$@"
