#!/usr/bin/env bash
# Smoke test for modbus_peer.py against foreign Modbus clients (mbpoll / libmodbus) over
# Modbus TCP on 127.0.0.1 and Modbus RTU over a socat pty pair under /tmp; Modbus RTU over TCP
# against a raw Python socket client (mbpoll cannot speak it).
#
#   Tests/Peers/smoke-test.sh            (needs: socat, mbpoll, the venv .venv-peers)
#   PEER_PYTHON=/path/to/python Tests/Peers/smoke-test.sh
#
# Every process it starts is stopped on exit (also on Ctrl-C); every wait is bounded.
# Exit status 0 = all checks passed.
set -u

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PEER="$HERE/modbus_peer.py"
PY="${PEER_PYTHON:-$HERE/../../.venv-peers/bin/python}"

for tool in socat mbpoll timeout; do
    command -v "$tool" >/dev/null || { echo "smoke-test: '$tool' not found (apt-get install -y socat mbpoll)" >&2; exit 1; }
done
[ -x "$PY" ] || { echo "smoke-test: no python at $PY (python3 -m venv .venv-peers && .venv-peers/bin/pip install -r Tests/Peers/requirements.txt)" >&2; exit 1; }

TMPD="$(mktemp -d /tmp/gridledger-peer-smoke.XXXXXX)"
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "${PIDS[@]}"; do
        # bounded wait: up to 2 s, then SIGKILL
        for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    rm -rf "$TMPD"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget_pid() {  # a reaped pid must not be signalled again by cleanup
    local keep=() p
    for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    PIDS=("${keep[@]}")
}

PASS=0
FAIL=0
ok()   { PASS=$((PASS + 1)); echo "PASS  $*"; }
bad()  { FAIL=$((FAIL + 1)); echo "FAIL  $*"; }

# start_peer NAME SPEC [extra args...] -> sets PEER_PID, PEER_READY
start_peer() {
    local name="$1" spec="$2"; shift 2
    "$PY" "$PEER" --spec "$spec" "$@" >"$TMPD/$name.out" 2>"$TMPD/$name.err" </dev/null &
    PEER_PID=$!
    PIDS+=("$PEER_PID")
    if ! timeout 10 bash -c 'until grep -q "^READY " "$1"; do kill -0 "$2" 2>/dev/null || exit 1; sleep 0.05; done' _ "$TMPD/$name.out" "$PEER_PID"; then
        echo "peer $name did not become ready; stderr:" >&2
        cat "$TMPD/$name.err" >&2
        return 1
    fi
    PEER_READY="$(head -n1 "$TMPD/$name.out")"
    echo "      $name: $PEER_READY"
}

# stop_peer PID SIGNAL -> checks exit 0 within 1 s
stop_peer() {
    local pid="$1" sig="$2" t0 t1 rc
    t0=$(date +%s%N)
    kill -s "$sig" "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.01; done
    t1=$(date +%s%N)
    if kill -0 "$pid" 2>/dev/null; then
        bad "peer $pid still running 1 s after SIG$sig"
        return
    fi
    wait "$pid"; rc=$?
    forget_pid "$pid"
    local ms=$(( (t1 - t0) / 1000000 ))
    if [ "$rc" -eq 0 ]; then ok "SIG$sig -> exit 0 after ${ms} ms"; else bad "SIG$sig -> exit $rc"; fi
}

# expect_value DESCRIPTION REGEX mbpoll-args... : mbpoll must succeed and print a line matching REGEX
expect_value() {
    local what="$1" re="$2"; shift 2
    local out rc
    out="$(timeout 15 mbpoll -1 "$@" 2>&1)"; rc=$?
    if [ "$rc" -eq 0 ] && grep -Eq "$re" <<<"$out"; then
        ok "$what: $(grep -E "$re" <<<"$out" | tr -s '\t ' ' ' | head -n1)"
    else
        bad "$what (rc=$rc, expected /$re/):"; sed 's/^/        /' <<<"$out" | tail -n 4
    fi
}

# expect_error DESCRIPTION REGEX mbpoll-args... : mbpoll must fail with a message matching REGEX
expect_error() {
    local what="$1" re="$2"; shift 2
    local out rc
    out="$(timeout 15 mbpoll -1 "$@" 2>&1)"; rc=$?
    if [ "$rc" -ne 0 ] && grep -Eq "$re" <<<"$out"; then
        ok "$what: $(grep -E "$re" <<<"$out" | head -n1)"
    else
        bad "$what (rc=$rc, expected failure /$re/):"; sed 's/^/        /' <<<"$out" | tail -n 4
    fi
}

echo "== pymodbus: $("$PY" -c 'import pymodbus; print(pymodbus.__version__)')"

# ------------------------------------------------------------------------------ spec errors
echo '{"transport":"tcp","units":{"1":{"maxRegisterPerRead":3}}}' >"$TMPD/bad.json"
timeout 10 "$PY" "$PEER" --spec "$TMPD/bad.json" >"$TMPD/bad.out" 2>"$TMPD/bad.err" </dev/null; rc=$?
if [ "$rc" -eq 2 ] && [ ! -s "$TMPD/bad.out" ] && grep -q maxRegisterPerRead "$TMPD/bad.err"; then
    ok "bad spec -> exit 2: $(cat "$TMPD/bad.err")"
else
    bad "bad spec -> exit $rc: $(cat "$TMPD/bad.err" "$TMPD/bad.out")"
fi

# ------------------------------------------------------------------------------ TCP
echo "== Modbus TCP"
cat >"$TMPD/tcp.json" <<'EOF'
{
  "transport": "tcp", "host": "127.0.0.1", "port": 0, "maxSeconds": 120,
  "units": {
    "1": {
      "registers": {"input": [{"address": 0, "words": [16998, 32768]}]},
      "values": [
        {"function": "input", "address": 2, "type": "float32", "wordOrder": "high-first", "value": 230.5},
        {"function": "input", "address": 6, "type": "float32", "value": -1.5},
        {"function": "input", "address": 72, "type": "int32", "wordOrder": "low-first", "value": -123456},
        {"function": "input", "address": 80, "type": "uint32", "wordOrder": "high-first", "value": 70000},
        {"function": "holding", "address": 100, "type": "float32", "value": 50.0}
      ]
    },
    "2": {
      "registers": {"input": [{"address": 0, "words": [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20]},
                              {"address": 295, "words": [0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]}]},
      "maxRegistersPerRead": 10,
      "rejectRanges": [{"function": "input", "from": 300, "to": 310}]
    }
  },
  "silentUnits": [3]
}
EOF
start_peer tcp "$TMPD/tcp.json" --log-requests "$TMPD/tcp-requests.log" || exit 1
PORT="${PEER_READY#READY port=}"
TCP_PID=$PEER_PID
T=(-m tcp -p "$PORT" -o 0.5)
N=0  # Modbus requests sent (each mbpoll -1 sends exactly one)

expect_value "float32 raw words [16998,32768] @0" '^\[1\]:[[:space:]]+57\.625$' "${T[@]}" -a 1 -r 1 -c 2 -t 3:float -B 127.0.0.1; N=$((N+1))
expect_value "float32 high-first @2 (same read)"  '^\[3\]:[[:space:]]+230\.5$'  "${T[@]}" -a 1 -r 1 -c 2 -t 3:float -B 127.0.0.1; N=$((N+1))
expect_value "int32 low-first @72"               '^\[73\]:[[:space:]]+-123456$' "${T[@]}" -a 1 -r 73 -c 1 -t 3:int 127.0.0.1; N=$((N+1))
expect_value "uint32 high-first @80"             '^\[81\]:[[:space:]]+70000$'   "${T[@]}" -a 1 -r 81 -c 1 -t 3:int -B 127.0.0.1; N=$((N+1))
expect_value "holding (FC3) float32 @100"        '^\[101\]:[[:space:]]+50$'     "${T[@]}" -a 1 -r 101 -c 1 -t 4:float -B 127.0.0.1; N=$((N+1))
expect_value "float32 @6 after a gap"            '^\[7\]:[[:space:]]+-1\.5$'    "${T[@]}" -a 1 -r 7 -c 1 -t 3:float -B 127.0.0.1; N=$((N+1))
expect_error "block read 0..7 across undefined 4..5" 'Illegal data address' "${T[@]}" -a 1 -r 1 -c 4 -t 3:float -B 127.0.0.1; N=$((N+1))
expect_error "holding read of undefined @0"          'Illegal data address' "${T[@]}" -a 1 -r 1 -c 1 -t 4 127.0.0.1; N=$((N+1))
expect_value "maxRegistersPerRead=10: read of 10"    '^\[10\]:[[:space:]]+10$' "${T[@]}" -a 2 -r 1 -c 10 -t 3 127.0.0.1; N=$((N+1))
expect_error "maxRegistersPerRead=10: read of 11"    'Illegal data value'   "${T[@]}" -a 2 -r 1 -c 11 -t 3 127.0.0.1; N=$((N+1))
expect_value "rejectRanges: 295..299 readable"       '^\[300\]:[[:space:]]+0$' "${T[@]}" -a 2 -r 296 -c 5 -t 3 127.0.0.1; N=$((N+1))
expect_error "rejectRanges: 298..301 rejected"       'Illegal data address' "${T[@]}" -a 2 -r 299 -c 4 -t 3 127.0.0.1; N=$((N+1))
expect_error "silent unit 3 -> timeout"              'timed out'            "${T[@]}" -a 3 -r 1 -c 1 -t 3 127.0.0.1; N=$((N+1))
expect_error "unknown unit 9 -> exception 11"        'Target device failed to respond' "${T[@]}" -a 9 -r 1 -c 1 -t 3 127.0.0.1; N=$((N+1))

LINES=$(wc -l <"$TMPD/tcp-requests.log")
if [ "$LINES" -eq "$N" ]; then
    ok "--log-requests: $LINES lines for $N requests, e.g. '$(sed -n 3p "$TMPD/tcp-requests.log")'"
else
    bad "--log-requests: $LINES lines for $N requests"; cat "$TMPD/tcp-requests.log"
fi
stop_peer "$TCP_PID" TERM

# --exit-on-stdin-eof: stdin is a pipe whose writer ends after 1 s
echo '{"transport":"tcp","port":0}' >"$TMPD/eof.json"
t0=$(date +%s%N)
(sleep 1) | timeout 10 "$PY" "$PEER" --spec "$TMPD/eof.json" --exit-on-stdin-eof >"$TMPD/eof.out" 2>"$TMPD/eof.err"; rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
if [ "$rc" -eq 0 ] && grep -q '^READY port=' "$TMPD/eof.out"; then ok "--exit-on-stdin-eof -> exit 0 after ${ms} ms (1000 ms of stdin)"; else bad "--exit-on-stdin-eof -> rc=$rc"; fi

# ------------------------------------------------------------------------------ RTU
echo "== Modbus RTU over socat pty pair"
timeout 300 socat -d -d "pty,raw,echo=0,link=$TMPD/ptyA" "pty,raw,echo=0,link=$TMPD/ptyB" 2>"$TMPD/socat.log" &
PIDS+=($!)
if ! timeout 10 bash -c 'until [ -e "$1" ] && [ -e "$2" ]; do sleep 0.05; done' _ "$TMPD/ptyA" "$TMPD/ptyB"; then
    bad "socat pty pair did not appear"; cat "$TMPD/socat.log"; exit 1
fi
cat >"$TMPD/rtu.json" <<EOF
{
  "transport": "rtu", "device": "$TMPD/ptyB", "baudrate": 9600, "maxSeconds": 120,
  "units": {
    "1": {"values": [{"function": "input", "address": 0, "type": "float32", "value": 230.5},
                     {"function": "input", "address": 2, "type": "float32", "value": 49.98}]},
    "2": {"values": [{"function": "holding", "address": 40, "type": "int32", "wordOrder": "low-first", "value": -42}]}
  },
  "silentUnits": [3]
}
EOF
start_peer rtu "$TMPD/rtu.json" --log-requests "$TMPD/rtu-requests.log" || exit 1
RTU_PID=$PEER_PID
R=(-m rtu -b 9600 -P none -o 0.5)
expect_value "unit 1 float32 @0"           '^\[1\]:[[:space:]]+230\.5$'  "${R[@]}" -a 1 -r 1 -c 2 -t 3:float -B "$TMPD/ptyA"
expect_value "unit 1 float32 @2"           '^\[3\]:[[:space:]]+49\.98$'  "${R[@]}" -a 1 -r 1 -c 2 -t 3:float -B "$TMPD/ptyA"
expect_value "unit 2 holding int32 low-first @40" '^\[41\]:[[:space:]]+-42$' "${R[@]}" -a 2 -r 41 -c 1 -t 4:int "$TMPD/ptyA"
expect_error "unit 1 undefined address"    'Illegal data address'        "${R[@]}" -a 1 -r 5 -c 1 -t 3 "$TMPD/ptyA"
expect_error "silent unit 3 -> timeout"    'timed out'                   "${R[@]}" -a 3 -r 1 -c 1 -t 3 "$TMPD/ptyA"
expect_error "absent unit 4 -> timeout"    'timed out'                   "${R[@]}" -a 4 -r 1 -c 1 -t 3 "$TMPD/ptyA"
expect_value "unit 1 still fine after timeouts" '^\[1\]:[[:space:]]+230\.5$' "${R[@]}" -a 1 -r 1 -c 1 -t 3:float -B "$TMPD/ptyA"
stop_peer "$RTU_PID" INT

# ------------------------------------------------------------------------------ RTU over TCP
# mbpoll has no RTU-over-TCP mode: a tiny Python client sends raw RTU frames (CRC computed here,
# independently of the peer) over one TCP connection and prints one line per request: the answer
# in hex without its CRC, "timeout" (nothing within 0.5 s) or "bad-crc HEX". A request given as
# "split:HEX" is written in two pieces 50 ms apart, as a slow gateway may forward it.
echo "== Modbus RTU over TCP"
cat >"$TMPD/rtu_tcp_client.py" <<'PYEOF'
import socket, sys, time
def crc16(data):
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc
sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
for arg in sys.argv[2:]:
    split = arg.startswith("split:")
    body = bytes.fromhex(arg.removeprefix("split:"))
    frame = body + crc16(body).to_bytes(2, "little")
    if split:
        sock.sendall(frame[:3]); time.sleep(0.05); sock.sendall(frame[3:])
    else:
        sock.sendall(frame)
    answer = b""
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        # An exception answer is 5 bytes; a register answer is 5 + its byte count.
        need = 5 if len(answer) < 3 or answer[1] & 0x80 else 5 + answer[2]
        if len(answer) >= need:
            break
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(256)
        except socket.timeout:
            break
        if not chunk:
            break
        answer += chunk
    if not answer:
        print("timeout")
    elif len(answer) < 5 or crc16(answer[:-2]) != int.from_bytes(answer[-2:], "little"):
        print("bad-crc " + answer.hex(" "))
    else:
        print(answer[:-2].hex(" "))
sock.close()
PYEOF
cat >"$TMPD/rot.json" <<'EOF'
{
  "transport": "rtu-over-tcp", "host": "127.0.0.1", "port": 0, "maxSeconds": 120,
  "units": {
    "1": {"values": [{"function": "input", "address": 0, "type": "float32", "value": 230.5},
                     {"function": "holding", "address": 40, "type": "int32", "wordOrder": "low-first", "value": -42}]}
  },
  "silentUnits": [3]
}
EOF
start_peer rot "$TMPD/rot.json" --log-requests "$TMPD/rot-requests.log" || exit 1
ROT_PID=$PEER_PID
ROT_PORT="${PEER_READY#READY port=}"
# "description|expected answer" per request, in the order the client sends them below.
ROT_EXPECTED=(
    "unit 1 float32 230.5 @0|01 04 04 43 66 80 00"
    "request split over two TCP writes|01 04 04 43 66 80 00"
    "unit 1 holding int32 low-first -42 @40|01 03 04 ff d6 ff ff"
    "unit 1 undefined address -> exception 2|01 84 02"
    "silent unit 3 -> no answer|timeout"
    "absent unit 4 -> no answer (a bus behind a gateway)|timeout"
    "unit 1 still fine on the same connection|01 04 04 43 66 80 00"
)
ROT_OUT="$(timeout 15 "$PY" "$TMPD/rtu_tcp_client.py" "$ROT_PORT" \
    010400000002 split:010400000002 010300280002 010400050001 030400000001 040400000001 010400000002 2>&1)"
mapfile -t ROT_LINES <<<"$ROT_OUT"
for i in "${!ROT_EXPECTED[@]}"; do
    what="${ROT_EXPECTED[$i]%%|*}"; want="${ROT_EXPECTED[$i]#*|}"
    if [ "${ROT_LINES[$i]:-}" = "$want" ]; then ok "$what: $want"; else bad "$what: got '${ROT_LINES[$i]:-}', expected '$want'"; fi
done
[ "${#ROT_LINES[@]}" -eq "${#ROT_EXPECTED[@]}" ] || { bad "RTU-over-TCP client printed:"; sed 's/^/        /' <<<"$ROT_OUT"; }
LINES=$(wc -l <"$TMPD/rot-requests.log")
if [ "$LINES" -eq "${#ROT_EXPECTED[@]}" ]; then
    ok "--log-requests (rtu-over-tcp): $LINES lines, e.g. '$(sed -n 5p "$TMPD/rot-requests.log")'"
else
    bad "--log-requests (rtu-over-tcp): $LINES lines for ${#ROT_EXPECTED[@]} requests"; cat "$TMPD/rot-requests.log"
fi
stop_peer "$ROT_PID" TERM

echo "== $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
