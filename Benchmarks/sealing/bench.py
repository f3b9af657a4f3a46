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
import resource
import subprocess
import sys
import time


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(cmd, **kwargs):
    """Wall-clock and CPU seconds (user + system) of a child process."""
    cpu, start = children_cpu(), time.perf_counter()
    subprocess.run(cmd, check=True, **kwargs)
    return time.perf_counter() - start, children_cpu() - cpu


def openssl_rsa4096(cores):
    """RSA-4096 private-key operations per second: per core (CPU time, as `openssl speed` counts) and
    on all cores at once (`-multi`)."""
    def parse(text):
        rates = re.findall(r"^rsa\s+4096 bits\s+\S+s\s+\S+s\s+([\d.]+)\s+([\d.]+)", text, re.M)
        if not rates:
            sys.exit("could not parse `openssl speed` output:\n" + text)
        return float(rates[-1][0])
    single = parse(subprocess.run(["openssl", "speed", "-seconds", "5", "rsa4096"], capture_output=True, text=True, check=True).stdout)
    multi = parse(subprocess.run(["openssl", "speed", "-seconds", "5", "-multi", str(cores), "rsa4096"],
                                 capture_output=True, text=True, check=True).stdout)
    return single, multi


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
    load_before = os.getloadavg()[0]
    ours_seal, ours_seal_cpu = run([args.sealant, "seal", "--cert", cert, "-f", secret_path, "-w", sealed_path])
    ours_unseal, ours_unseal_cpu = run([args.sealant, "unseal", "--key", key, "-f", sealed_path, "-w", unsealed_path])
    unsealed = KSecret.from_yaml(open(unsealed_path).read().removeprefix("---\n"))
    assert unsealed.get_data_decoded() == values, "sealant unseal did not give back the input"

    # kubesealpy: in-process (interpreter start-up not counted), same YAML in and out.
    sealer = Sealer.from_certificate_file(cert)
    start, cpu = time.perf_counter(), time.process_time()
    k_sealed = sealer.seal_secret(KSecret.from_yaml(secret_text))
    k_sealed_yaml = k_sealed.to_yaml()
    k_seal, k_seal_cpu = time.perf_counter() - start, time.process_time() - cpu
    unsealer = Unsealer.from_private_key_file(key)
    start, cpu = time.perf_counter(), time.process_time()
    k_unsealed = unsealer.unseal(KSealedSecret.from_yaml(k_sealed_yaml))
    k_unsealed.to_yaml()
    k_unseal, k_unseal_cpu = time.perf_counter() - start, time.process_time() - cpu
    assert k_unsealed.get_data_decoded() == values

    # Cross-check: kubesealpy opens what sealant sealed.
    ours_sealed = KSealedSecret.from_yaml(open(sealed_path).read().removeprefix("---\n"))
    some = dict(list(ours_sealed.spec.encrypted_data.items())[:50])
    ours_sealed.spec.encrypted_data = some
    cross = unsealer.unseal(ours_sealed).get_data_decoded()
    assert all(cross[k] == values[k] for k in some), "kubesealpy could not open sealant's output"

    # The machine's RSA-4096 private-key limit (OAEP decryption is one such operation per value):
    # `openssl speed` (signing) for reference, and an OAEP decryption loop on the same libcrypto,
    # one process per core at once.
    rsa_single, rsa_multi = openssl_rsa4096(cores)
    loop = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rsa_limit.py")
    workers = [subprocess.Popen([sys.executable, loop, key, "10"], stdout=subprocess.PIPE, text=True) for _ in range(cores)]
    rates = [tuple(map(float, worker.communicate()[0].split())) for worker in workers]
    decrypt_wall = sum(rate[0] for rate in rates)
    decrypt_cpu = sum(rate[1] for rate in rates) / len(rates)
    load_after = os.getloadavg()[0]

    n = args.values
    rows = [
        ("sealant seal", ours_seal, ours_seal_cpu),
        ("kubesealpy seal", k_seal, k_seal_cpu),
        ("sealant unseal", ours_unseal, ours_unseal_cpu),
        ("kubesealpy unseal", k_unseal, k_unseal_cpu),
    ]
    print(f"\n{n} values x {args.size} bytes, one Secret; {cores} cores; load average {load_before:.1f} -> {load_after:.1f}")
    print(f"{'':34} {'values/s':>10} {'wall s':>8} {'CPU s':>8} {'values/CPU-s':>13} {'cores used':>11}")
    for label, wall, cpu in rows:
        print(f"{label:34} {n / wall:10.0f} {wall:8.2f} {cpu:8.2f} {n / cpu:13.0f} {cpu / wall:11.2f}")
    print(f"{'RSA-4096 OAEP decrypt loop':34} {decrypt_wall:10.0f} {'':8} {'':8} {decrypt_cpu:13.0f} {float(cores):11.2f}")
    print(f"{'openssl speed rsa4096 sign, 1 core':34} {rsa_single:10.0f} {'':8} {'':8} {rsa_single:13.0f}")
    print(f"{'openssl speed rsa4096 sign, -multi':34} {rsa_multi:10.0f}")
    print()
    print(f"sealing   sealant / kubesealpy: {k_seal / ours_seal:5.1f}x wall, {k_seal_cpu / ours_seal_cpu:5.1f}x per CPU-second (target >= 5x)")
    print(f"unsealing sealant / kubesealpy: {k_unseal / ours_unseal:5.1f}x wall, {k_unseal_cpu / ours_unseal_cpu:5.1f}x per CPU-second")
    print(f"unsealing vs the RSA-4096 OAEP decrypt limit: {100 * (n / ours_unseal) / decrypt_wall:5.1f}% wall ({cores} cores), "
          f"{100 * (n / ours_unseal_cpu) / decrypt_cpu:5.1f}% per CPU-second (target >= 90%)")
    print(f"unsealing vs openssl speed (sign): {100 * (n / ours_unseal) / rsa_multi:5.1f}% of -multi {cores} (wall), "
          f"{100 * (n / ours_unseal_cpu) / rsa_single:5.1f}% per CPU-second")
    if load_before > cores or load_after > cores:
        print(f"note: the machine was busy (load average above {cores}); wall-clock figures are pessimistic, CPU-second figures less so")


if __name__ == "__main__":
    main()
