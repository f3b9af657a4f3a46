#!/usr/bin/env python3
"""Sealing benchmark: sealant vs kubesealpy, and the machine's RSA-4096 private-key limit.

Seals and unseals N values of SIZE bytes (default 10,000 x 1 KB, one Secret) with the `sealant`
binary (whole process: YAML in, YAML out) and with kubesealpy (in-process: YAML parse, seal or
unseal, YAML dump), checks every result, then measures `openssl speed rsa4096` on all cores and
prints a table. Not run by CI.

Usage: bench.py SEALANT_BINARY WORK_DIR [--values N] [--size BYTES]
"""
import argparse
import base64
import os
import re
import subprocess
import sys
import time


def run(cmd, **kwargs):
    start = time.perf_counter()
    subprocess.run(cmd, check=True, **kwargs)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("sealant")
    parser.add_argument("work")
    parser.add_argument("--values", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=1024)
    args = parser.parse_args()

    try:
        import kubesealpy
        from kubesealpy import Sealer, Unsealer, Secret as KSecret, SealedSecret as KSealedSecret
    except ImportError:
        sys.exit("kubesealpy is missing: pip install kubesealpy")

    os.makedirs(args.work, exist_ok=True)
    keys = os.path.join(args.work, "keys")
    if not os.path.exists(os.path.join(keys, "tls.key")):
        subprocess.run([args.sealant, "keygen", "--out", keys], check=True)
    cert, key = os.path.join(keys, "tls.crt"), os.path.join(keys, "tls.key")
    cores = os.cpu_count() or 1

    # One Secret with N random values.
    values = {f"item-{i:05d}": os.urandom(args.size) for i in range(args.values)}
    secret_path = os.path.join(args.work, "secret.yaml")
    with open(secret_path, "w") as out:
        out.write("apiVersion: v1\nkind: Secret\nmetadata:\n  name: bench\n  namespace: bench\ntype: Opaque\ndata:\n")
        for name, value in values.items():
            out.write(f"  {name}: {base64.b64encode(value).decode()}\n")
    secret_text = open(secret_path).read()

    # sealant: whole process, file in -> file out.
    sealed_path = os.path.join(args.work, "sealed.yaml")
    unsealed_path = os.path.join(args.work, "unsealed.yaml")
    ours_seal = run([args.sealant, "seal", "--cert", cert, "-f", secret_path, "-w", sealed_path])
    ours_unseal = run([args.sealant, "unseal", "--key", key, "-f", sealed_path, "-w", unsealed_path])
    unsealed = KSecret.from_yaml(open(unsealed_path).read().removeprefix("---\n"))
    assert unsealed.get_data_decoded() == values, "sealant unseal did not give back the input"

    # kubesealpy: in-process (interpreter start-up not counted), same YAML in and out.
    sealer = Sealer.from_certificate_file(cert)
    start = time.perf_counter()
    k_sealed = sealer.seal_secret(KSecret.from_yaml(secret_text))
    k_sealed_yaml = k_sealed.to_yaml()
    k_seal = time.perf_counter() - start
    unsealer = Unsealer.from_private_key_file(key)
    start = time.perf_counter()
    k_unsealed = unsealer.unseal(KSealedSecret.from_yaml(k_sealed_yaml))
    k_unsealed.to_yaml()
    k_unseal = time.perf_counter() - start
    assert k_unsealed.get_data_decoded() == values

    # Cross-check: kubesealpy opens what sealant sealed.
    ours_sealed = KSealedSecret.from_yaml(open(sealed_path).read().removeprefix("---\n"))
    some = dict(list(ours_sealed.spec.encrypted_data.items())[:50])
    ours_sealed.spec.encrypted_data = some
    cross = unsealer.unseal(ours_sealed).get_data_decoded()
    assert all(cross[k] == values[k] for k in some), "kubesealpy could not open sealant's output"

    # The machine's RSA-4096 private-key limit on all cores (OAEP decryption is one such operation).
    speed = subprocess.run(["openssl", "speed", "-seconds", "5", "-multi", str(cores), "rsa4096"],
                           capture_output=True, text=True, check=True).stdout
    match = re.search(r"^rsa\s+4096 bits\s+\S+s\s+\S+s\s+([\d.]+)\s+([\d.]+)", speed, re.M)
    if not match:
        sys.exit("could not parse `openssl speed` output:\n" + speed)
    rsa_private = float(match.group(1))

    n = args.values
    rows = [
        ("sealant seal", n / ours_seal, ours_seal),
        ("kubesealpy seal", n / k_seal, k_seal),
        ("sealant unseal", n / ours_unseal, ours_unseal),
        ("kubesealpy unseal", n / k_unseal, k_unseal),
        (f"RSA-4096 private ops ({cores} cores, openssl speed)", rsa_private, None),
    ]
    print(f"\n{n} values x {args.size} bytes, {cores} cores, kubesealpy {getattr(kubesealpy, '__version__', '?')}")
    print(f"{'':48} {'values/s':>10} {'seconds':>9}")
    for label, rate, seconds in rows:
        print(f"{label:48} {rate:10.0f} {seconds if seconds is not None else float('nan'):9.2f}")
    print()
    print(f"sealing:   sealant / kubesealpy = {k_seal / ours_seal:5.1f}x   (target >= 5x)")
    print(f"unsealing: sealant / kubesealpy = {k_unseal / ours_unseal:5.1f}x")
    print(f"unsealing: sealant reaches {100 * (n / ours_unseal) / rsa_private:5.1f}% of the RSA-4096 private-key limit (target >= 90%)")


if __name__ == "__main__":
    main()
