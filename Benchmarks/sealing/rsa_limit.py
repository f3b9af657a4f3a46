#!/usr/bin/env python3
"""The raw RSA-4096 OAEP-SHA256 private-key decryption rate of the system libcrypto (the one sealant links).

Usage: rsa_limit.py KEY_PEM SECONDS
Decrypts one RSA-OAEP block in a loop through ctypes (EVP_PKEY_decrypt, context reused, so only the
RSA operation is timed) and prints "<ops per wall second> <ops per CPU second>".
"""
import ctypes
import ctypes.util
import sys
import time

lib = ctypes.CDLL(ctypes.util.find_library("crypto") or "libcrypto.so.3")
vp, sz = ctypes.c_void_p, ctypes.c_size_t
for name, restype, argtypes in [
    ("BIO_new_mem_buf", vp, [ctypes.c_char_p, ctypes.c_int]),
    ("PEM_read_bio_PrivateKey", vp, [vp, vp, vp, vp]),
    ("EVP_PKEY_CTX_new", vp, [vp, vp]),
    ("EVP_PKEY_encrypt_init", ctypes.c_int, [vp]),
    ("EVP_PKEY_decrypt_init", ctypes.c_int, [vp]),
    ("EVP_PKEY_CTX_set_rsa_padding", ctypes.c_int, [vp, ctypes.c_int]),
    ("EVP_PKEY_CTX_set_rsa_oaep_md", ctypes.c_int, [vp, vp]),
    ("EVP_PKEY_CTX_set_rsa_mgf1_md", ctypes.c_int, [vp, vp]),
    ("EVP_sha256", vp, []),
    ("EVP_PKEY_encrypt", ctypes.c_int, [vp, ctypes.c_char_p, ctypes.POINTER(sz), ctypes.c_char_p, sz]),
    ("EVP_PKEY_decrypt", ctypes.c_int, [vp, ctypes.c_char_p, ctypes.POINTER(sz), ctypes.c_char_p, sz]),
]:
    getattr(lib, name).restype = restype
    getattr(lib, name).argtypes = argtypes


def context(key, encrypt):
    ctx = lib.EVP_PKEY_CTX_new(key, None)
    assert (lib.EVP_PKEY_encrypt_init if encrypt else lib.EVP_PKEY_decrypt_init)(ctx) == 1
    assert lib.EVP_PKEY_CTX_set_rsa_padding(ctx, 4) == 1  # RSA_PKCS1_OAEP_PADDING
    assert lib.EVP_PKEY_CTX_set_rsa_oaep_md(ctx, lib.EVP_sha256()) == 1
    assert lib.EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, lib.EVP_sha256()) == 1
    return ctx


def main():
    pem = open(sys.argv[1], "rb").read()
    key = lib.PEM_read_bio_PrivateKey(lib.BIO_new_mem_buf(pem, len(pem)), None, None, None)
    assert key, "cannot read the key"
    out, length = ctypes.create_string_buffer(1024), sz(1024)
    assert lib.EVP_PKEY_encrypt(context(key, True), out, ctypes.byref(length), b"k" * 32, 32) == 1
    block = out.raw[: length.value]
    ctx = context(key, False)
    seconds = float(sys.argv[2])
    count, wall, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - wall < seconds:
        plain, plain_length = ctypes.create_string_buffer(1024), sz(1024)
        assert lib.EVP_PKEY_decrypt(ctx, plain, ctypes.byref(plain_length), block, len(block)) == 1
        count += 1
    print(f"{count / (time.perf_counter() - wall):.2f} {count / (time.process_time() - cpu):.2f}")


if __name__ == "__main__":
    main()
