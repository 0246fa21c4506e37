#!/usr/bin/env python3
"""Print the age identity that decrypts Lethe's access packages.

Lethe encrypts each access package as an age file (https://age-encryption.org)
for an X25519 identity derived from LETHE_EXPORT_KEY; this prints that
identity as an age key file, with nothing but Python's standard library:

    LETHE_EXPORT_KEY=... python3 age-identity.py > lethe-export.agekey
    age -d -i lethe-export.agekey -o package.zip REQUEST_ID.zip.lethe

The derivation: the 32 bytes of LETHE_EXPORT_KEY (64 hex digits or base64)
go through HKDF-SHA256 with an empty salt and the info
"lethe export age identity v1" to 32 bytes, the X25519 secret key, written
in Bech32 with the prefix AGE-SECRET-KEY- and in upper case.
"""
import base64
import binascii
import hashlib
import hmac
import os
import sys

INFO = b"lethe export age identity v1"
CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def parse_key(text):
    text = text.strip()
    try:
        key = bytes.fromhex(text)
        if len(key) == 32:
            return key
    except ValueError:
        pass
    for alphabet in (None, b"-_"):
        try:
            key = base64.b64decode(text + "=" * (-len(text) % 4), altchars=alphabet, validate=True)
            if len(key) == 32:
                return key
        except (binascii.Error, ValueError):
            pass
    sys.exit("LETHE_EXPORT_KEY must be 32 bytes written as 64 hex digits or in base64")


def hkdf_sha256(key, info, length=32):
    prk = hmac.new(b"\x00" * 32, key, hashlib.sha256).digest()  # empty salt
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()[:length]


def bech32(hrp, data):
    values, acc, bits = [], 0, 0
    for byte in data:
        acc, bits = (acc << 8) | byte, bits + 8
        while bits >= 5:
            bits -= 5
            values.append((acc >> bits) & 31)
    if bits:
        values.append((acc << (5 - bits)) & 31)
    check = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp] + values + [0] * 6
    chk = 1
    for v in check:
        top, chk = chk >> 25, ((chk & 0x1FFFFFF) << 5) ^ v
        for i, g in enumerate((0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)):
            if (top >> i) & 1:
                chk ^= g
    chk ^= 1
    return hrp + "1" + "".join(CHARSET[v] for v in values + [(chk >> (5 * (5 - i))) & 31 for i in range(6)])


def main():
    key = os.environ.get("LETHE_EXPORT_KEY")
    if not key:
        sys.exit("set LETHE_EXPORT_KEY to the key Lethe encrypts packages with")
    print(bech32("age-secret-key-", hkdf_sha256(parse_key(key), INFO)).upper())


if __name__ == "__main__":
    main()
