#!/usr/bin/env python3
"""Writes ledger_vectors.json: GridLedger ledger format v1 test vectors (blocks, events, chain
export, inclusion proof), produced from the text of docs/FORMAT.md alone, independent of the Swift
implementation in Sources/LedgerCore.

Standard library only: SHA-256/SHA-512 from hashlib, and Ed25519 (RFC 8032, pure Ed25519)
implemented below, so the project's venv (.venv-peers, which has neither `cryptography` nor
`nacl`) can run it. Ed25519 signatures are deterministic and every input is fixed, so the output
is reproducible byte for byte.

Run: python3 make_ledger_vectors.py [output directory]   (default: this script's directory)
"""
import hashlib
import json
import os
import struct
import sys

# ---------------------------------------------------------------------------------------------
# Ed25519, RFC 8032 section 5.1 (after the reference code of section 6), signing only.

_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _inv(x):
    return pow(x, _P - 2, _P)


def _recover_x(y, sign):
    x2 = (y * y - 1) * _inv(_D * y * y + 1)
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P != 0:
        x = x * _SQRT_M1 % _P
    assert (x * x - x2) % _P == 0
    if x & 1 != sign:
        x = _P - x
    return x


_GY = 4 * _inv(5) % _P
_GX = _recover_x(_GY, 0)
_G = (_GX, _GY, 1, _GX * _GY % _P)  # extended homogeneous coordinates (X, Y, Z, T)


def _add(a, b):
    A = (a[1] - a[0]) * (b[1] - b[0]) % _P
    B = (a[1] + a[0]) * (b[1] + b[0]) % _P
    C = 2 * a[3] * b[3] * _D % _P
    D = 2 * a[2] * b[2] % _P
    E, F, G, H = B - A, D - C, D + C, B + A
    return (E * F % _P, G * H % _P, F * G % _P, E * H % _P)


def _mul(s, point):
    q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            q = _add(q, point)
        point = _add(point, point)
        s >>= 1
    return q


def _compress(point):
    zinv = _inv(point[2])
    x = point[0] * zinv % _P
    y = point[1] * zinv % _P
    return int.to_bytes(y | ((x & 1) << 255), 32, "little")


def _sha512_int(data):
    return int.from_bytes(hashlib.sha512(data).digest(), "little")


def _expand(seed):
    assert len(seed) == 32
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    return a, h[32:]


def ed25519_public(seed):
    a, _ = _expand(seed)
    return _compress(_mul(a, _G))


def ed25519_sign(seed, message):
    a, prefix = _expand(seed)
    public = _compress(_mul(a, _G))
    r = _sha512_int(prefix + message) % _L
    R = _compress(_mul(r, _G))
    k = _sha512_int(R + public + message) % _L
    s = (r + k * a) % _L
    return R + int.to_bytes(s, 32, "little")


def _self_test():
    # RFC 8032 section 7.1, TEST 1 and TEST 2.
    seed = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    assert ed25519_public(seed).hex() == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    assert ed25519_sign(seed, b"").hex() == (
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
        "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
    seed = bytes.fromhex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")
    assert ed25519_sign(seed, bytes([0x72])).hex() == (
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
        "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00")


# ---------------------------------------------------------------------------------------------
# Encoding helpers (FORMAT.md conventions: big-endian; `id` = u8 length + 1...n bytes of
# [A-Za-z0-9._:-]).

_ID_CHARS = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-")


def ident(text, maximum):
    raw = text.encode("ascii")
    assert 1 <= len(raw) <= maximum and all(c in _ID_CHARS for c in raw), text
    return struct.pack(">B", len(raw)) + raw


def sha256(data):
    return hashlib.sha256(data).digest()


# RFC 6962 Merkle tree (FORMAT.md "Merkle tree").

def leaf_hash(data):
    return sha256(b"\x00" + data)


def node_hash(left, right):
    return sha256(b"\x01" + left + right)


def _split(n):
    k = 1
    while k << 1 < n:
        k <<= 1
    return k


def mth(items):
    """MTH(D[n]) over raw leaf data; the empty list's root is SHA-256 of nothing."""
    if len(items) == 0:
        return sha256(b"")
    if len(items) == 1:
        return leaf_hash(items[0])
    k = _split(len(items))
    return node_hash(mth(items[:k]), mth(items[k:]))


def audit_path(m, items):
    """PATH(m, D[n]), from the leaf upwards."""
    if len(items) <= 1:
        return []
    k = _split(len(items))
    if m < k:
        return audit_path(m, items[:k]) + [mth(items[k:])]
    return audit_path(m - k, items[k:]) + [mth(items[:k])]


def verify_path(index, size, leaf, path, root):
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


# ---------------------------------------------------------------------------------------------
# Record format (FORMAT.md "Reading record", "Batch header", "Envelope").

BATCH_DOMAIN = b"GridLedger batch v1\x00"


def record(gateway, meter, sequence, capture, flags, profile, status, previous, values):
    assert len(previous) == 32
    out = struct.pack(">B", 1) + ident(gateway, 64) + ident(meter, 128)
    out += struct.pack(">QqB", sequence, capture, flags)
    out += ident(profile, 64) + struct.pack(">B", status) + previous
    values = sorted(values)
    assert len(values) <= 64 and len({v[0] for v in values}) == len(values)
    out += struct.pack(">B", len(values))
    for code, exponent, mantissa in values:
        out += struct.pack(">Hbq", code, exponent, mantissa)
    assert len(out) <= 1024
    return out


def sign_batch(seed, gateway, batch_sequence, created, records):
    """Returns (header, signature, envelopes) for one gateway batch."""
    assert 1 <= len(records) <= 4096
    header = struct.pack(">B", 1) + ident(gateway, 64)
    header += struct.pack(">QqI", batch_sequence, created, len(records)) + mth(records)
    signature = ed25519_sign(seed, BATCH_DOMAIN + header)
    envelopes = []
    for index, data in enumerate(records):
        path = audit_path(index, records)
        env = struct.pack(">BH", 1, len(data)) + data + struct.pack(">H", len(header)) + header + signature
        env += struct.pack(">IB", index, len(path)) + b"".join(path)
        envelopes.append(env)
    return header, signature, envelopes


# ---------------------------------------------------------------------------------------------
# Ledger format v1 (FORMAT.md "Ledger format, version 1").

BLOCK_DOMAIN = b"GridLedger block v1\x00"

ROLE_PROSUMER, ROLE_CONSUMER, ROLE_OPERATOR, ROLE_AUDITOR = 1, 2, 3, 4
METER_GRID, METER_PV, METER_BATTERY, METER_LOAD = 1, 2, 3, 4
REASON_NEVER_ARRIVED, REASON_REFUSED = 1, 2


def registry_event(time, author, change):
    return struct.pack(">Bq", 1, time) + ident(author, 64) + change


def add_member(member, role, name):
    raw = name.encode("utf-8")
    assert len(raw) <= 128 and all(ord(c) >= 0x20 and ord(c) != 0x7F for c in name)
    return struct.pack(">B", 1) + ident(member, 64) + struct.pack(">BB", role, len(raw)) + raw


def add_gateway_key(gateway, public, valid_from):
    assert len(public) == 32
    return struct.pack(">B", 2) + ident(gateway, 64) + public + struct.pack(">q", valid_from)


def revoke_gateway_key(gateway, public, effective_from):
    assert len(public) == 32
    return struct.pack(">B", 3) + ident(gateway, 64) + public + struct.pack(">q", effective_from)


def add_meter(meter, gateway, member, role, tariff_group):
    return (struct.pack(">B", 4) + ident(meter, 128) + ident(gateway, 64) + ident(member, 64)
            + struct.pack(">B", role) + ident(tariff_group, 64))


def missing_data_event(meter, first, last, reason):
    assert first <= last
    return struct.pack(">B", 2) + ident(meter, 128) + struct.pack(">QQB", first, last, reason)


def equivocation_event(meter, sequence, accepted_hash, refused_envelope):
    assert len(accepted_hash) == 32
    return (struct.pack(">B", 3) + ident(meter, 128) + struct.pack(">Q", sequence) + accepted_hash
            + struct.pack(">H", len(refused_envelope)) + refused_envelope)


def block_header(height, previous, time, envelopes, events, key_id):
    header = struct.pack(">BQ", 1, height) + previous + struct.pack(">q", time)
    header += mth(envelopes) + mth(events) + struct.pack(">II", len(envelopes), len(events)) + key_id
    assert len(header) == 153
    return header


def block_body(envelopes, events):
    out = struct.pack(">I", len(envelopes))
    for env in envelopes:
        assert len(env) <= 2240
        out += struct.pack(">H", len(env)) + env
    out += struct.pack(">I", len(events))
    for event in events:
        assert len(event) <= 4096
        out += struct.pack(">H", len(event)) + event
    return out


# ---------------------------------------------------------------------------------------------

AGGREGATOR_SEED = bytes(range(0x01, 0x21))  # 01 02 ... 20
GATEWAY_SEED = bytes(range(0x21, 0x41))  # 21 22 ... 40
DUMMY_GATEWAY_SEED = bytes(range(0x41, 0x61))  # 41 42 ... 60 (registered, then revoked)

AUTHOR = "operator-admin"
MEMBER = "member-0001"
GATEWAY = "gw-north-01"
DUMMY_GATEWAY = "gw-dummy-02"
METER = "gw-north-01:rs485:1:sn00012345"
PROFILE = "eastron-sdm630"
TARIFF = "tariff-standard"
ZERO = bytes(32)

T_KEYS = 1763722800000  # 2025-11-21T11:00:00Z: keys valid from
T_REVOKE = 1763724600000  # 11:30: the dummy key revoked from
T_BLOCK0 = 1763726000000  # 11:53:20: block 0 minted
T_CAPTURE = 1763726400000  # 12:00:00: first record captured
T_BLOCK1 = T_CAPTURE + 3000
T_BLOCK2 = T_CAPTURE + 6000


def build():
    _self_test()
    aggregator_public = ed25519_public(AGGREGATOR_SEED)
    gateway_public = ed25519_public(GATEWAY_SEED)
    dummy_public = ed25519_public(DUMMY_GATEWAY_SEED)
    key_id = sha256(aggregator_public)

    # Block 0: the registry. Member first, keys next (the dummy gateway's key registered, then
    # revoked), the meter last, so every change refers only to what is already there.
    events0 = [
        registry_event(T_BLOCK0 - 5000, AUTHOR, add_member(MEMBER, ROLE_PROSUMER, "Müller Solar eG")),
        registry_event(T_BLOCK0 - 4000, AUTHOR, add_gateway_key(DUMMY_GATEWAY, dummy_public, T_KEYS)),
        registry_event(T_BLOCK0 - 3000, AUTHOR, add_gateway_key(GATEWAY, gateway_public, T_KEYS)),
        registry_event(T_BLOCK0 - 2000, AUTHOR, add_meter(METER, GATEWAY, MEMBER, METER_PV, TARIFF)),
        registry_event(T_BLOCK0 - 1000, AUTHOR, revoke_gateway_key(DUMMY_GATEWAY, dummy_public, T_REVOKE)),
    ]

    # Block 1: three chained records of one meter, one gateway batch.
    r1 = record(GATEWAY, METER, 1, T_CAPTURE, 1, PROFILE, 0, ZERO,
                [(1, 0, 1000000), (2, 0, 52000), (20, -1, -15005), (40, -1, 2304), (60, -2, 5001)])
    r2 = record(GATEWAY, METER, 2, T_CAPTURE + 1000, 1, PROFILE, 0, sha256(r1),
                [(1, 0, 1000000), (2, 0, 52001), (20, -1, -15010), (40, -1, 2305), (60, -2, 5000)])
    r3 = record(GATEWAY, METER, 3, T_CAPTURE + 2000, 1, PROFILE, 1, sha256(r2),
                [(1, 0, 1000001), (2, 0, 52001)])
    _, _, envelopes1 = sign_batch(GATEWAY_SEED, GATEWAY, 1, T_CAPTURE + 2500, [r1, r2, r3])

    # Block 2: a second, different record with sequence 2 (refused: equivocation), record 4
    # never arrived (missing data), record 5 arrives and skips exactly that range.
    r2_conflict = record(GATEWAY, METER, 2, T_CAPTURE + 1000, 1, PROFILE, 0, sha256(r1),
                         [(1, 0, 1000000), (2, 0, 52002)])
    _, _, (refused,) = sign_batch(GATEWAY_SEED, GATEWAY, 2, T_CAPTURE + 3500, [r2_conflict])
    r5 = record(GATEWAY, METER, 5, T_CAPTURE + 4000, 0, PROFILE, 0, sha256(b"record 4, never received"),
                [(1, 0, 1000003), (2, 0, 52003), (20, 0, -1500)])
    _, _, envelopes2 = sign_batch(GATEWAY_SEED, GATEWAY, 3, T_CAPTURE + 4500, [r5])
    events2 = [
        missing_data_event(METER, 4, 4, REASON_NEVER_ARRIVED),
        equivocation_event(METER, 2, sha256(r2), refused),
    ]

    plan = [(T_BLOCK0, [], events0), (T_BLOCK1, envelopes1, []), (T_BLOCK2, envelopes2, events2)]
    blocks = []
    previous = ZERO
    export = b"GLCHAIN1" + aggregator_public
    for height, (time, envelopes, events) in enumerate(plan):
        header = block_header(height, previous, time, envelopes, events, key_id)
        signature = ed25519_sign(AGGREGATOR_SEED, BLOCK_DOMAIN + header)
        body = block_body(envelopes, events)
        block_hash = sha256(header)
        blocks.append({
            "height": height,
            "previousHash": previous.hex(),
            "time": time,
            "header": header.hex(),
            "signatureInput": (BLOCK_DOMAIN + header).hex(),
            "signature": signature.hex(),
            "body": body.hex(),
            "hash": block_hash.hex(),
            "recordsRoot": mth(envelopes).hex(),
            "eventsRoot": mth(events).hex(),
            "envelopes": [e.hex() for e in envelopes],
            "events": [e.hex() for e in events],
        })
        export += header + signature + struct.pack(">I", len(body)) + body
        previous = block_hash

    # Inclusion proof for record index 1 of block 1.
    leaf_index = 1
    path = audit_path(leaf_index, envelopes1)
    header1 = bytes.fromhex(blocks[1]["header"])
    assert verify_path(leaf_index, len(envelopes1), leaf_hash(envelopes1[leaf_index]), path, header1[49:81])
    proof = {
        "format": "gridledger-inclusion-proof-v1",
        "blockHeader": blocks[1]["header"],
        "blockSignature": blocks[1]["signature"],
        "leafIndex": leaf_index,
        "path": [p.hex() for p in path],
        "envelope": envelopes1[leaf_index].hex(),
    }

    return {
        "description": "GridLedger ledger format v1 test vectors (docs/FORMAT.md), made by make_ledger_vectors.py",
        "aggregatorSeed": AGGREGATOR_SEED.hex(),
        "aggregatorPublicKey": aggregator_public.hex(),
        "aggregatorKeyID": key_id.hex(),
        "gatewaySeed": GATEWAY_SEED.hex(),
        "gatewayPublicKey": gateway_public.hex(),
        "dummyGatewayPublicKey": dummy_public.hex(),
        "gatewayID": GATEWAY,
        "meterID": METER,
        "records": [r.hex() for r in (r1, r2, r3, r5)],
        "refusedRecord": r2_conflict.hex(),
        "blocks": blocks,
        "chainExport": export.hex(),
        "inclusionProof": proof,
    }


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    text = json.dumps(build(), indent=2, ensure_ascii=True) + "\n"
    with open(os.path.join(directory, "ledger_vectors.json"), "w", encoding="ascii", newline="\n") as f:
        f.write(text)


if __name__ == "__main__":
    main()
