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
if [ $# -gt 0 ]; then
  swift test "$@"
  exit
fi
# Two phases: the pure and unit tests in parallel, then the tests with real peers (brokers,
# pymodbus, socat, our executables). On two cores the CPU-bound unit tests (fuzzing, bit flips)
# would otherwise starve the peers' timeouts.
peers='IntegrationTests\.|MQTTTransportTests\.'
swift test --skip "$peers"
swift test --filter "$peers"
