#!/usr/bin/env python3
"""Seal values the Sealed Secrets way with Python's `cryptography` (independent of sealant).

Usage: seal_python.py CERT_PEM LABEL_HEX  < plaintexts (one base64 plaintext per line)
Prints one base64 blob per line: u16 BE len(R) || R (RSA-OAEP-SHA256 of a fresh AES-256 key under
the label) || AES-256-GCM(zero nonce) ciphertext || tag.
"""
import base64
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def seal(public_key, label, plain):
    session_key = os.urandom(32)
    wrapped = public_key.encrypt(
        session_key,
        padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=label or None),
    )
    sealed = AESGCM(session_key).encrypt(b"\x00" * 12, plain, None)
    return len(wrapped).to_bytes(2, "big") + wrapped + sealed


def main():
    with open(sys.argv[1], "rb") as handle:
        public_key = x509.load_pem_x509_certificate(handle.read()).public_key()
    label = bytes.fromhex(sys.argv[2])
    for line in sys.stdin:
        line = line.rstrip("\n")
        plain = base64.b64decode(line) if line else b""
        print(base64.b64encode(seal(public_key, label, plain)).decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
