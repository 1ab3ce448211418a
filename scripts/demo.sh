#!/usr/bin/env bash
# The GridLedger demo: a simulated Eastron SDM630 on loopback, read by the edge agent, then the
# agent as a service: readings signed, stored in the outbox and published to a local mosquitto.
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
work=$(mktemp -d)
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}" ${sim:-}; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$out" "$work"
}
trap cleanup EXIT
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

echo
echo "demo: the agent as a service — signing every reading and publishing it over MQTT"
mport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$mport" >"$work/mosquitto.conf"
chmod 644 "$work/mosquitto.conf"
mosquitto -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 & pids+=($!)
cat >"$work/agent.yaml" <<YAML
gateway: gw-demo
stateDirectory: $work/state
profiles: $PWD/firmware-profiles
broker:
  host: 127.0.0.1
  port: $mport
metrics:
  logIntervalSeconds: 0
buses:
  - name: rs485
    endpoint: tcp://127.0.0.1:$port
    meters:
      - name: house
        unit: 1
        profile: eastron-sdm630
        role: grid
        intervalSeconds: 1
YAML
"$bin/gridledger-agent" keygen --config "$work/agent.yaml"
for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$mport") 2>/dev/null && break; sleep 0.1; done
mosquitto_sub -p "$mport" -t 'gridledger/v1/#' -v -C 5 -W 20 -F '%t  (%l bytes)' >"$work/sub.log" 2>&1 & subscriber=$!
sleep 0.3
"$bin/gridledger-agent" run --config "$work/agent.yaml" --log-level warning & agent=$!; pids+=($agent)
wait $subscriber || true
kill -TERM $agent; wait $agent || true
echo "messages on the broker (the status is retained; each reading is a signed envelope, docs/FORMAT.md):"
cat "$work/sub.log"
echo "after SIGTERM: status $(mosquitto_sub -p "$mport" -t gridledger/v1/gw-demo/status -C 1 -W 5)"
kill -TERM $sim; wait $sim || true
echo "demo: done"
