#!/usr/bin/env python3
"""Open Sealed Secrets values with Python's `cryptography` (an implementation independent of sealant).

Usage: open_sealed.py KEY_PEM LABEL_HEX  < blobs (one base64 blob per line)
Prints one base64 plaintext per line; exits 1 on the first blob that does not open.
"""
import base64
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def open_blob(key, label, blob):
    if len(blob) < 2:
        raise ValueError("too short")
    rsa_len = int.from_bytes(blob[:2], "big")
    if len(blob) < 2 + rsa_len:
        raise ValueError("too short")
    session_key = key.decrypt(
        blob[2:2 + rsa_len],
        padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=label or None),
    )
    return AESGCM(session_key).decrypt(b"\x00" * 12, blob[2 + rsa_len:], None)


def main():
    with open(sys.argv[1], "rb") as handle:
        key = serialization.load_pem_private_key(handle.read(), password=None)
    label = bytes.fromhex(sys.argv[2])
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            plain = open_blob(key, label, base64.b64decode(line, validate=True))
        except Exception as error:  # noqa: BLE001 - report any failure as "does not open"
            print(f"does not open: {type(error).__name__}", file=sys.stderr)
            return 1
        print(base64.b64encode(plain).decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
