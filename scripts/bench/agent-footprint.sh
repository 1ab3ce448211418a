#!/usr/bin/env bash
# Measures the release agent's resident memory and CPU share with N simulated SDM630 meters
# polled at 1 Hz, publishing to a local mosquitto, for DURATION seconds.
# Usage: [AGENT_BIN=path] scripts/bench/agent-footprint.sh [METERS=4] [DURATION=300]
# (AGENT_BIN: measure another build of the agent, e.g. one linked with --static-swift-stdlib)
# Prints RSS (max and last, from /proc/PID/status) and CPU share of one core
# ((utime+stime) / elapsed, from /proc/PID/stat), sampled every 5 s.
set -euo pipefail
cd "$(dirname "$0")/../.."
meters=${1:-4}
duration=${2:-300}
swift build -c release --product gridledger-agent >/dev/null
swift build -c release --product gridledger >/dev/null
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d)
chmod 755 "$work"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
keep_logs() { cp "$work"/agent.log /tmp/footprint-agent.log 2>/dev/null || true; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$port" >"$work/mosquitto.conf"
chmod 644 "$work/mosquitto.conf"
mosquitto -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 & pids+=($!)

buses=""
for i in $(seq 1 "$meters"); do
  "$bin/gridledger" simulate-meter --profile eastron-sdm630 --tcp 127.0.0.1:0 --serial $((1000 + i)) >"$work/sim$i.log" 2>&1 & pids+=($!)
  for _ in $(seq 1 100); do grep -q '^serving' "$work/sim$i.log" && break; sleep 0.1; done
  p=$(sed -n 's/^serving .* on tcp:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/sim$i.log")
  buses+="  - name: bus$i
    endpoint: tcp://127.0.0.1:$p
    meters:
      - unit: 1
        profile: eastron-sdm630
        role: load
        intervalSeconds: 1
"
done
cat >"$work/agent.yaml" <<YAML
gateway: gw-bench
stateDirectory: $work/state
profiles: $PWD/firmware-profiles
broker:
  host: 127.0.0.1
  port: $port
metrics:
  logIntervalSeconds: 0
buses:
$buses
YAML
"$bin/gridledger-agent" keygen --config "$work/agent.yaml" >/dev/null
# A subscriber counting arrivals. Nothing confirms, so the outbox grows by one record per meter
# and second: the worst case of an aggregator outage, included in the measurement.
mosquitto_sub -p "$port" -t 'gridledger/v1/gw-bench/+/reading' -F '%t' >"$work/topics.log" 2>/dev/null & pids+=($!)
"${AGENT_BIN:-$bin/gridledger-agent}" run --config "$work/agent.yaml" --log-level warning 2>"$work/agent.log" & agent=$!; pids+=($agent)
ticks=$(getconf CLK_TCK)
sleep 5
keep_logs
read -r u0 s0 < <(awk '{print $14, $15}' /proc/$agent/stat)
t0=$(date +%s.%N)
max_rss=0
end=$((SECONDS + duration))
while [ $SECONDS -lt $end ]; do
  sleep 5
  rss=$(awk '/VmRSS/ {print $2}' /proc/$agent/status)
  [ "$rss" -gt "$max_rss" ] && max_rss=$rss
done
read -r u1 s1 < <(awk '{print $14, $15}' /proc/$agent/stat)
# Private pages (USS) and proportional share (PSS): RSS also counts the shared Swift and
# Foundation libraries' file pages, which the kernel maps around every executed page.
uss=$(awk '/^Private_(Clean|Dirty)/ {s += $2} END {print s}' /proc/$agent/smaps_rollup)
pss=$(awk '/^Pss:/ {print $2}' /proc/$agent/smaps_rollup)
t1=$(date +%s.%N)
received=$(wc -l <"$work/topics.log")
python3 - "$u0" "$s0" "$u1" "$s1" "$t0" "$t1" "$ticks" "$max_rss" "$rss" "$meters" "$duration" "$received" "$uss" "$pss" <<'PY'
import sys
u0, s0, u1, s1 = map(int, sys.argv[1:5]); t0, t1 = float(sys.argv[5]), float(sys.argv[6]); ticks = int(sys.argv[7])
max_rss, last_rss, meters, duration, received, uss, pss = map(int, sys.argv[8:15])
cpu = ((u1 + s1) - (u0 + s0)) / ticks / (t1 - t0) * 100
print(f"meters={meters} duration={duration}s records_received={received}")
print(f"rss_max={max_rss/1024:.1f}MiB rss_last={last_rss/1024:.1f}MiB uss={uss/1024:.1f}MiB pss={pss/1024:.1f}MiB cpu_share={cpu:.2f}% of one core")
PY
