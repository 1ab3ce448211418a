#!/usr/bin/env bash
# The GridLedger demo: a simulated Eastron SDM630 on loopback, read by the edge agent.
# Installs what is missing, builds, runs, and stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "demo: building (the first build takes a few minutes)"
swift build -c release --product gridledger-agent >/dev/null
swift build -c release --product gridledger >/dev/null
bin=$(swift build -c release --show-bin-path)

out=$(mktemp)
"$bin/gridledger" simulate-meter --profile eastron-sdm630 --tcp 127.0.0.1:0 --duration 120 >"$out" 2>&1 &
sim=$!
trap 'kill $sim 2>/dev/null || true; wait $sim 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 1 100); do grep -q '^serving' "$out" && break; sleep 0.1; done
grep -q '^serving' "$out" || { echo "demo: the simulator did not start:"; cat "$out"; exit 1; }
cat "$out"
port=$(sed -n 's/^serving .* on tcp:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$out")

echo
echo "demo: scanning 127.0.0.1:$port for known devices"
"$bin/gridledger-agent" scan --tcp "127.0.0.1:$port" --units 1 --timeout 500
echo
echo "demo: three polls of the SDM630 (energy in Wh, power in W; negative power = export)"
"$bin/gridledger-agent" read --profile eastron-sdm630 --tcp "127.0.0.1:$port" --unit 1 --count 3 --interval 1 --show-requests
kill -TERM $sim; wait $sim || true
echo "demo: done"
