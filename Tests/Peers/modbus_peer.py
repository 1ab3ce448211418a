#!/usr/bin/env python3
"""Modbus TCP / RTU / RTU-over-TCP test peer for GridLedger integration tests (a server we did
not write).

Usage:  python modbus_peer.py --spec SPEC.json [--log-requests FILE] [--exit-on-stdin-eof]

Findings and design (checked against pymodbus 3.16.1 + pyserial 3.5, Python 3.11, Debian 12):

* Server classes: pymodbus ``ModbusTcpServer`` / ``ModbusSerialServer`` (RTU framer) are used
  as-is. Transport ``"rtu-over-tcp"`` is ``ModbusTcpServer`` with ``framer=FramerType.RTU``:
  RTU frames (unit id, PDU, CRC, no MBAP header) over a TCP connection, as serial-to-Ethernet
  gateways in "transparent" mode (USR-TCP232, Elfin EW11) send them. It takes ``host``/``port``
  like ``"tcp"`` and treats unit ids like ``"rtu"`` (1..247, absent units silent), because such
  a gateway forwards every frame to an RS-485 bus. The data model is NOT pymodbus's simulator (SimDevice/SimData): its order of checks is
  wrong for us (undefined address -> exception 2 is decided before any hook can answer
  exception 3 for a too-large read), and for a unit without coils it still has to define coils.
  Instead ``PeerContext`` subclasses ``ModbusServerContext`` and sets ``old_simulator = True``;
  ``ModbusBaseServer`` then uses it directly and calls its ``async_getValues/async_setValues``.
  (That class is marked deprecated for pymodbus v4: keep requirements.txt pinned.)
* Check order for reads (FC3 holding, FC4 input), like the Modbus spec's state diagram:
  count outside 1..125 or above ``maxRegistersPerRead`` -> exception 3; any address in a
  ``rejectRanges`` range -> exception 2; any address not defined by ``registers``/``values``
  -> exception 2. Coils/discrete inputs (FC1/2/5/15) -> exception 1. Writes (FC6/16/22/23)
  to defined holding registers are accepted and stored (not needed by the tests so far).
* pymodbus quirk: a read with count > 125 fails to decode and pymodbus answers exception 1
  with function code 0x80. ``ReadHolding``/``ReadInput`` request classes are therefore
  re-registered (``custom_pdu=``) with a decode that keeps any count, so the datastore
  answers exception 3 as a real device does.
* pymodbus quirk: an unknown unit id gets exception 4 from the simulator (SimCore KeyError),
  and a few function codes (FC8 diagnostics, FC43 device id, ...) never reach the datastore,
  so pymodbus would answer them for any unit. Silence is therefore enforced in three layers:
  (1) the received PDU of a silent unit is dropped in ``trace_pdu`` (returning None: the
  request handler only acts ``if self.last_pdu``), (2) the datastore raises
  ``NoSuchIdException`` and the server runs with ``ignore_missing_devices=True`` (no answer),
  (3) ``trace_packet`` drops any outgoing frame addressed to such a unit.
* Which units stay silent: every id in ``silentUnits``; on RTU and RTU-over-TCP additionally
  every id not in ``units`` (a real bus does not answer for absent slaves; this includes
  broadcast id 0).
  On TCP an id that is in neither ``units`` nor ``silentUnits`` gets exception 11 (0x0B,
  gateway target device failed to respond) for register functions, like a TCP gateway.
* Socat pty pair: pymodbus opens the pty with pyserial; baud rate and parity are ignored on a
  pty. socat keeps the pair alive while clients open and close ptyA. If socat dies, pymodbus
  retries opening the device every second (no busy loop); the peer keeps running until it is
  signalled or maxSeconds elapses.
* mbpoll note for test authors: ``-c`` counts values, not registers (``-c 2 -t 3:float`` reads
  4 registers) and ``-r`` is 1-based; mbpoll's default 32-bit word order is low word first,
  ``-B`` means high word first.
* ``--log-requests FILE``: one line per received request PDU, written and flushed at once:
  ``unit=1 function=4 address=72 count=2`` (also for silent units; single-register writes log
  count=1). Frames that fail CRC or decoding are not logged.
* stdout carries exactly one line, ``READY port=<port>`` (tcp, rtu-over-tcp) or
  ``READY device=<path>`` (rtu);
  everything else goes to stderr. Exit codes: 0 after SIGTERM/SIGINT, stdin EOF (with
  ``--exit-on-stdin-eof``) or ``maxSeconds``; 2 for a bad spec or command line (message names
  the problem); 1 when the server cannot start (port in use, device cannot be opened).
* SIGTERM/SIGINT are unblocked at startup: a child inherits its parent's signal mask, and
  Foundation's ``Process`` (swift-corelibs-foundation, used by GridLedgerTestSupport) starts
  children with both blocked, so a stop used to wait for SIGKILL.
* Spec keys starting with "_" are ignored (use them as comments); any other unknown key is an
  error, so typos such as "maxRegisterPerRead" are caught.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import signal
import struct
import sys
import threading

MAX_READ = 125  # Modbus limit for FC3/FC4

TYPES = {  # spec type -> (struct code, integral?)
    "float32": ("f", False),
    "float64": ("d", False),
    "int16": ("h", True),
    "uint16": ("H", True),
    "int32": ("i", True),
    "uint32": ("I", True),
    "int64": ("q", True),
    "uint64": ("Q", True),
}
TABLES = ("input", "holding")


class SpecError(Exception):
    """A problem in the spec; the message names it."""


# --------------------------------------------------------------------------- spec parsing
def _keys(obj: dict, where: str, allowed: set[str], required: set[str] = frozenset()) -> None:
    for key in obj:
        if key not in allowed and not key.startswith("_"):
            raise SpecError(f"{where}: unknown key {key!r} (allowed: {', '.join(sorted(allowed))})")
    for key in required:
        if key not in obj:
            raise SpecError(f"{where}: missing required key {key!r}")


def _int(value, where: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(f"{where}: expected an integer, got {value!r}")
    if not lo <= value <= hi:
        raise SpecError(f"{where}: {value} is outside {lo}..{hi}")
    return value


def _obj(value, where: str) -> dict:
    if not isinstance(value, dict):
        raise SpecError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def _list(value, where: str) -> list:
    if not isinstance(value, list):
        raise SpecError(f"{where}: expected an array, got {type(value).__name__}")
    return value


def encode_value(type_name: str, word_order: str, value, where: str) -> list[int]:
    """Encode one value into 16-bit words (big-endian bytes in each word)."""
    if type_name not in TYPES:
        raise SpecError(f"{where}.type: unknown type {type_name!r} (allowed: {', '.join(TYPES)})")
    if word_order not in ("high-first", "low-first"):
        raise SpecError(f"{where}.wordOrder: {word_order!r} is not 'high-first' or 'low-first'")
    code, integral = TYPES[type_name]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SpecError(f"{where}.value: expected a number, got {value!r}")
    if integral:
        if isinstance(value, float):
            if not (math.isfinite(value) and value.is_integer()):
                raise SpecError(f"{where}.value: {value!r} is not an integer ({type_name})")
            value = int(value)
    else:
        value = float(value)
    try:
        raw = struct.pack(">" + code, value)
    except (struct.error, OverflowError) as exc:
        raise SpecError(f"{where}.value: {value!r} does not fit {type_name} ({exc})") from None
    words = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
    if word_order == "low-first":
        words.reverse()
    return words


class Unit:
    """One live unit: sparse register tables plus read limits."""

    def __init__(self, unit_id: int, spec: dict, where: str):
        self.unit_id = unit_id
        self.words: dict[str, dict[int, int]] = {t: {} for t in TABLES}
        origin: dict[str, dict[int, str]] = {t: {} for t in TABLES}
        _keys(spec, where, {"registers", "values", "maxRegistersPerRead", "rejectRanges"})

        def put(table: str, address: int, words: list[int], what: str) -> None:
            if address + len(words) > 65536:
                raise SpecError(f"{what}: registers {address}..{address + len(words) - 1} exceed 65535")
            for i, word in enumerate(words):
                addr = address + i
                if addr in origin[table]:
                    raise SpecError(
                        f"{what}: {table} register {addr} is already defined by {origin[table][addr]}"
                    )
                origin[table][addr] = what
                self.words[table][addr] = word

        regs = _obj(spec.get("registers", {}), f"{where}.registers")
        _keys(regs, f"{where}.registers", set(TABLES))
        for table in TABLES:
            for i, block in enumerate(_list(regs.get(table, []), f"{where}.registers.{table}")):
                w = f"{where}.registers.{table}[{i}]"
                block = _obj(block, w)
                _keys(block, w, {"address", "words"}, {"address", "words"})
                address = _int(block["address"], f"{w}.address", 0, 65535)
                words = _list(block["words"], f"{w}.words")
                if not words:
                    raise SpecError(f"{w}.words: empty")
                words = [_int(x, f"{w}.words[{j}]", 0, 65535) for j, x in enumerate(words)]
                put(table, address, words, w)

        for i, val in enumerate(_list(spec.get("values", []), f"{where}.values")):
            w = f"{where}.values[{i}]"
            val = _obj(val, w)
            _keys(val, w, {"function", "address", "type", "wordOrder", "value"},
                  {"function", "address", "type", "value"})
            table = val["function"]
            if table not in TABLES:
                raise SpecError(f"{w}.function: {table!r} is not 'input' or 'holding'")
            address = _int(val["address"], f"{w}.address", 0, 65535)
            words = encode_value(val["type"], val.get("wordOrder", "high-first"), val["value"], w)
            put(table, address, words, w)

        self.max_read = MAX_READ
        if "maxRegistersPerRead" in spec:
            self.max_read = _int(spec["maxRegistersPerRead"], f"{where}.maxRegistersPerRead", 1, MAX_READ)

        self.reject: dict[str, list[tuple[int, int]]] = {t: [] for t in TABLES}
        for i, rng in enumerate(_list(spec.get("rejectRanges", []), f"{where}.rejectRanges")):
            w = f"{where}.rejectRanges[{i}]"
            rng = _obj(rng, w)
            _keys(rng, w, {"function", "from", "to"}, {"function", "from", "to"})
            table = rng["function"]
            if table not in TABLES:
                raise SpecError(f"{w}.function: {table!r} is not 'input' or 'holding'")
            lo = _int(rng["from"], f"{w}.from", 0, 65535)
            hi = _int(rng["to"], f"{w}.to", 0, 65535)
            if hi < lo:
                raise SpecError(f"{w}: 'to' ({hi}) is below 'from' ({lo})")
            self.reject[table].append((lo, hi))


class Spec:
    def __init__(self, raw: dict):
        raw = _obj(raw, "spec")
        _keys(raw, "spec", {"transport", "host", "port", "device", "baudrate", "parity",
                            "stopbits", "bytesize", "maxSeconds", "units", "silentUnits"},
              {"transport"})
        self.transport = raw["transport"]
        if self.transport not in ("tcp", "rtu", "rtu-over-tcp"):
            raise SpecError(f"spec.transport: {self.transport!r} is not 'tcp', 'rtu' or 'rtu-over-tcp'")
        if self.transport in ("tcp", "rtu-over-tcp"):
            for key in ("device", "baudrate", "parity", "stopbits", "bytesize"):
                if key in raw:
                    raise SpecError(f"spec.{key}: only valid with transport 'rtu'")
            self.host = raw.get("host", "127.0.0.1")
            if not isinstance(self.host, str) or not self.host:
                raise SpecError(f"spec.host: expected a non-empty string, got {self.host!r}")
            self.port = _int(raw.get("port", 0), "spec.port", 0, 65535)
            # Behind an RTU-over-TCP gateway is a serial bus: RTU unit ids (0 is broadcast).
            max_unit = 255 if self.transport == "tcp" else 247
        else:
            for key in ("host", "port"):
                if key in raw:
                    raise SpecError(f"spec.{key}: only valid with transport 'tcp' or 'rtu-over-tcp'")
            if "device" not in raw:
                raise SpecError("spec: missing required key 'device' (transport 'rtu')")
            self.device = raw["device"]
            if not isinstance(self.device, str) or not self.device:
                raise SpecError(f"spec.device: expected a non-empty string, got {self.device!r}")
            if not os.path.exists(self.device):
                raise SpecError(f"spec.device: {self.device} does not exist")
            self.baudrate = _int(raw.get("baudrate", 9600), "spec.baudrate", 1, 10_000_000)
            self.parity = raw.get("parity", "N")
            if self.parity not in ("N", "E", "O"):
                raise SpecError(f"spec.parity: {self.parity!r} is not 'N', 'E' or 'O'")
            self.stopbits = _int(raw.get("stopbits", 1), "spec.stopbits", 1, 2)
            self.bytesize = _int(raw.get("bytesize", 8), "spec.bytesize", 7, 8)
            max_unit = 247
        ms = raw.get("maxSeconds", 300)
        if isinstance(ms, bool) or not isinstance(ms, (int, float)) or not (0 < ms < 1e7):
            raise SpecError(f"spec.maxSeconds: expected a positive number, got {ms!r}")
        self.max_seconds = float(ms)

        self.units: dict[int, Unit] = {}
        for key, uspec in _obj(raw.get("units", {}), "spec.units").items():
            where = f"spec.units[{key!r}]"
            try:
                uid = int(key, 10)
            except ValueError:
                raise SpecError(f"{where}: unit id must be a decimal integer string") from None
            _int(uid, where, 0 if self.transport == "tcp" else 1, max_unit)
            if uid in self.units:
                raise SpecError(f"{where}: unit {uid} defined twice")
            self.units[uid] = Unit(uid, _obj(uspec, where), where)
        self.silent: set[int] = set()
        for i, uid in enumerate(_list(raw.get("silentUnits", []), "spec.silentUnits")):
            uid = _int(uid, f"spec.silentUnits[{i}]", 0, 255)
            if uid in self.units:
                raise SpecError(f"spec.silentUnits[{i}]: unit {uid} is also defined in 'units'")
            self.silent.add(uid)

    def is_silent(self, unit_id: int) -> bool:
        if unit_id in self.silent:
            return True
        return self.transport != "tcp" and unit_id not in self.units


# --------------------------------------------------------------------------- pymodbus glue
def build_server_parts(spec: Spec):
    from pymodbus.constants import ExcCodes
    from pymodbus.datastore import ModbusServerContext
    from pymodbus.exceptions import NoSuchIdException
    from pymodbus.pdu.register_message import (
        ReadHoldingRegistersRequest,
        ReadInputRegistersRequest,
    )

    class PeerContext(ModbusServerContext):
        """Datastore used directly by ModbusBaseServer (old_simulator path)."""

        def __init__(self):  # pylint: disable=super-init-not-called
            # Deliberately not calling super().__init__ (it only logs a deprecation warning
            # and wraps device contexts we do not use).
            self.old_simulator = True
            self.simdevices = []
            self._devices = {}

        def device_ids(self):
            return list(spec.units)

        def _unit(self, device_id: int):
            if spec.is_silent(device_id):
                raise NoSuchIdException(f"unit {device_id} is silent")
            return spec.units.get(device_id)

        @staticmethod
        def _table(func_code: int) -> str | None:
            if func_code == 4:
                return "input"
            if func_code in (3, 6, 16, 22, 23):
                return "holding"
            return None

        def _check(self, unit: Unit, table: str, address: int, count: int) -> ExcCodes | None:
            end = address + count - 1
            for lo, hi in unit.reject[table]:
                if address <= hi and end >= lo:
                    return ExcCodes.ILLEGAL_ADDRESS
            words = unit.words[table]
            for addr in range(address, address + count):
                if addr not in words:
                    return ExcCodes.ILLEGAL_ADDRESS
            return None

        async def async_getValues(self, device_id, func_code, address, count=1):
            unit = self._unit(device_id)
            if unit is None:
                return ExcCodes.GATEWAY_NO_RESPONSE
            table = self._table(func_code)
            if table is None:
                return ExcCodes.ILLEGAL_FUNCTION
            if func_code in (3, 4, 23) and not 1 <= count <= unit.max_read:
                return ExcCodes.ILLEGAL_VALUE
            if exc := self._check(unit, table, address, count):
                return exc
            words = unit.words[table]
            return [words[a] for a in range(address, address + count)]

        async def async_setValues(self, device_id, func_code, address, values):
            unit = self._unit(device_id)
            if unit is None:
                return ExcCodes.GATEWAY_NO_RESPONSE
            table = self._table(func_code)
            if table != "holding":
                return ExcCodes.ILLEGAL_FUNCTION
            if exc := self._check(unit, table, address, len(values)):
                return exc
            for i, value in enumerate(values):
                unit.words[table][address + i] = int(value) & 0xFFFF
            return None

    def _decode_any_count(self, data: bytes) -> None:
        # pymodbus raises on count outside 1..125 while decoding, which yields a malformed
        # exception response (function 0x80, code 1). Keep the count; the datastore answers 3.
        self.address, self.count = struct.unpack(">HH", data[:4])

    class ReadHolding(ReadHoldingRegistersRequest):
        decode = _decode_any_count

    class ReadInput(ReadInputRegistersRequest):
        decode = _decode_any_count

    return PeerContext(), [ReadHolding, ReadInput]


class RequestLog:
    def __init__(self, path: str | None):
        self.fh = open(path, "a", encoding="utf-8", buffering=1) if path else None  # noqa: SIM115
        self.lock = threading.Lock()

    def write(self, pdu) -> None:
        if not self.fh:
            return
        count = getattr(pdu, "count", 0) or 0
        if not count:
            count = len(getattr(pdu, "registers", []) or []) or len(getattr(pdu, "bits", []) or [])
        line = (f"unit={pdu.dev_id} function={pdu.function_code} "
                f"address={getattr(pdu, 'address', 0)} count={count}\n")
        with self.lock:
            self.fh.write(line)
            self.fh.flush()


async def serve(spec: Spec, args) -> int:
    from pymodbus.framer import FramerType
    from pymodbus.server import ModbusSerialServer, ModbusTcpServer

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    reason = {"why": None}

    def request_stop(why: str) -> None:
        if reason["why"] is None:
            reason["why"] = why
            # Hard bound: whatever happens during shutdown, be gone within ~1 s.
            t = threading.Timer(0.8, lambda: os._exit(0))
            t.daemon = True
            t.start()
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, request_stop, signal.Signals(sig).name)
    loop.call_later(spec.max_seconds, request_stop, "maxSeconds elapsed")

    if args.exit_on_stdin_eof:
        def watch_stdin() -> None:
            try:
                while os.read(0, 4096):
                    pass
            except OSError:
                pass
            loop.call_soon_threadsafe(request_stop, "stdin EOF")

        threading.Thread(target=watch_stdin, name="stdin-eof", daemon=True).start()

    log = RequestLog(args.log_requests)
    context, custom_pdus = build_server_parts(spec)
    rtu = spec.transport == "rtu"
    rtu_framing = spec.transport != "tcp"  # the unit id is the first byte of every frame

    def trace_pdu(sending: bool, pdu):
        if sending:
            return pdu
        log.write(pdu)
        if spec.is_silent(pdu.dev_id):
            return None  # dropped: the request handler only acts on a non-empty last_pdu
        return pdu

    def trace_packet(sending: bool, data: bytes) -> bytes:
        if sending and data:
            unit = data[0] if rtu_framing else (data[6] if len(data) > 6 else None)
            if unit is not None and spec.is_silent(unit):
                return b""
        return data

    common = dict(
        ignore_missing_devices=True,
        trace_pdu=trace_pdu,
        trace_packet=trace_packet,
        custom_pdu=custom_pdus,
    )
    if rtu:
        server = ModbusSerialServer(
            context, framer=FramerType.RTU, port=spec.device, baudrate=spec.baudrate,
            parity=spec.parity, stopbits=spec.stopbits, bytesize=spec.bytesize, **common,
        )
    else:
        framer = FramerType.RTU if rtu_framing else FramerType.SOCKET
        server = ModbusTcpServer(context, framer=framer, address=(spec.host, spec.port), **common)

    try:
        await server.serve_forever(background=True)
    except (RuntimeError, OSError) as exc:
        where = spec.device if rtu else f"{spec.host}:{spec.port}"
        print(f"modbus_peer: cannot start {spec.transport} server on {where}: {exc}",
              file=sys.stderr, flush=True)
        return 1

    if rtu:
        ready = f"READY device={spec.device}"
    else:
        sockets = getattr(server.transport, "sockets", None) or []
        if not sockets:
            print("modbus_peer: TCP server has no listening socket", file=sys.stderr, flush=True)
            return 1
        ready = f"READY port={sockets[0].getsockname()[1]}"
    if reason["why"] is None:
        sys.stdout.write(ready + "\n")
        sys.stdout.flush()

    await stop.wait()
    print(f"modbus_peer: stopping ({reason['why']})", file=sys.stderr, flush=True)
    try:
        await asyncio.wait_for(server.shutdown(), 0.5)
    except Exception:  # noqa: BLE001 - shutting down anyway
        pass
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Modbus TCP/RTU/RTU-over-TCP test peer (pymodbus)")
    parser.add_argument("--spec", required=True, help="path to the JSON spec")
    parser.add_argument("--log-requests", metavar="FILE",
                        help="append one line per received request to FILE")
    parser.add_argument("--exit-on-stdin-eof", action="store_true",
                        help="exit when stdin reaches EOF (parent went away)")
    args = parser.parse_args(argv)  # exits 2 on usage errors

    try:
        with open(args.spec, encoding="utf-8") as fh:
            raw = json.load(fh)
    except OSError as exc:
        print(f"modbus_peer: spec {args.spec}: cannot read: {exc.strerror}", file=sys.stderr)
        return 2
    except json.JSONDecodeError as exc:
        print(f"modbus_peer: spec {args.spec}: invalid JSON: {exc}", file=sys.stderr)
        return 2
    try:
        spec = Spec(raw)
    except SpecError as exc:
        print(f"modbus_peer: spec {args.spec}: {exc}", file=sys.stderr)
        return 2
    if args.log_requests:
        try:
            open(args.log_requests, "a", encoding="utf-8").close()
        except OSError as exc:
            print(f"modbus_peer: --log-requests {args.log_requests}: {exc.strerror}", file=sys.stderr)
            return 2

    # A parent may start us with SIGTERM/SIGINT blocked (the Swift test runner's Foundation
    # Process does: the mask is inherited), which made every stop wait for the SIGKILL grace.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING,
                        format="modbus_peer[pymodbus] %(levelname)s %(message)s")
    # pymodbus logs every garbled frame at WARNING; keep stderr readable.
    logging.getLogger("pymodbus").setLevel(logging.ERROR)
    try:
        return asyncio.run(serve(spec, args))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
