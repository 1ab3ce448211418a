#!/usr/bin/env python3
"""Writes record-v1.json: GridLedger record format test vectors, produced from docs/FORMAT.md
alone (independent of the Swift implementation), with Python's `cryptography` (Ed25519) and
hashlib (SHA-256). Run: python3 make_vectors.py > record-v1.json
"""
import hashlib
import json
import struct

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

SEED = bytes(range(32))  # a fixed test key: 00 01 02 ... 1f
DOMAIN = b"GridLedger batch v1\x00"


def ident(text):
    raw = text.encode("ascii")
    assert 1 <= len(raw) <= 128
    return struct.pack(">B", len(raw)) + raw


def record(gateway, meter, sequence, capture, flags, profile, status, previous, values):
    out = struct.pack(">B", 1) + ident(gateway) + ident(meter)
    out += struct.pack(">Qq", sequence, capture) + struct.pack(">B", flags)
    out += ident(profile) + struct.pack(">B", status) + previous
    out += struct.pack(">B", len(values))
    for code, exponent, mantissa in sorted(values):
        out += struct.pack(">Hbq", code, exponent, mantissa)
    return out


def leaf(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n):
    k = 1
    while k << 1 < n:
        k <<= 1
    return k


def mth(leaves):
    if len(leaves) == 1:
        return leaves[0]
    k = split(len(leaves))
    return node(mth(leaves[:k]), mth(leaves[k:]))


def path(m, leaves):
    if len(leaves) <= 1:
        return []
    k = split(len(leaves))
    if m < k:
        return path(m, leaves[:k]) + [mth(leaves[k:])]
    return path(m - k, leaves[k:]) + [mth(leaves[:k])]


def main():
    key = Ed25519PrivateKey.from_private_bytes(SEED)
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    zero = bytes(32)
    gw = "gw-test-01"
    # Meter A: two chained records (import 12 345 678 Wh, power -2 000.5 W, 230.5 V, 50.00 Hz).
    a1 = record(gw, "gw-test-01:rs485:1:sn12345678", 1, 1763726400000, 1, "eastron-sdm630", 0, zero,
                [(1, 0, 12345678), (2, 0, 250000), (20, -1, -20005), (40, -1, 2305), (60, -2, 5000)])
    a2 = record(gw, "gw-test-01:rs485:1:sn12345678", 2, 1763726401000, 1, "eastron-sdm630", 1,
                hashlib.sha256(a1).digest(), [(1, 0, 12345679), (2, 0, 250000)])
    # Meter B: a failed poll (no values), clock not synchronised.
    b1 = record(gw, "gw-test-01:rs485:2", 1, 1763726400000, 0, "eastron-sdm120", 2, zero, [])
    records = [a1, a2, b1]
    leaves = [leaf(r) for r in records]
    root = mth(leaves)
    header = struct.pack(">B", 1) + ident(gw) + struct.pack(">QqI", 7, 1763726401500, len(records)) + root
    signature = key.sign(DOMAIN + header)
    envelopes = []
    for index, data in enumerate(records):
        p = path(index, leaves)
        env = struct.pack(">BH", 1, len(data)) + data + struct.pack(">H", len(header)) + header + signature
        env += struct.pack(">IB", index, len(p)) + b"".join(p)
        envelopes.append(env.hex())
    print(json.dumps({
        "description": "GridLedger record format v1 test vectors (docs/FORMAT.md), made by make_vectors.py",
        "privateKeySeed": SEED.hex(),
        "publicKey": public.hex(),
        "records": [{"bytes": r.hex(), "sha256": hashlib.sha256(r).hexdigest(), "leafHash": leaf(r).hex()} for r in records],
        "merkleRoot": root.hex(),
        "header": header.hex(),
        "signatureInput": (DOMAIN + header).hex(),
        "signature": signature.hex(),
        "envelopes": envelopes,
    }, indent=2))


if __name__ == "__main__":
    main()
