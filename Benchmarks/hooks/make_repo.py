#!/usr/bin/env python3
"""Build a large, deterministic git repository for the pre-commit latency benchmark.

Usage: make_repo.py DEST [--files 60000] [--commits 3000] [--seed 1]

One `git fast-import` stream: the first commit adds FILES small source-like files spread over a
few hundred directories (three levels deep); each later commit edits, adds or deletes a handful of
files. Authors, dates and contents come from a seeded PRNG, so the same arguments give the same
commit ids. Then `git reset --hard` checks the tip out, so DEST has a full work tree and index
(the things a staged scan reads). No file contains anything that looks like a credential.
"""

import argparse
import os
import random
import subprocess
import sys

WORDS = ("alpha beta gamma delta epsilon zeta theta kappa lambda sigma omega config handler "
         "request response buffer parser render widget layout module service client server "
         "cache queue worker thread signal record stream packet vector matrix").split()
EXTS = (".py", ".go", ".js", ".ts", ".java", ".rb", ".c", ".h", ".md", ".yaml", ".json", ".txt")


def content(rng, path, version):
    """A few lines of code-looking text, about 200-900 bytes."""
    lines = [f"# {path} v{version}"]
    for i in range(rng.randint(6, 30)):
        a, b, c = rng.choice(WORDS), rng.choice(WORDS), rng.choice(WORDS)
        kind = rng.randint(0, 3)
        if kind == 0:
            lines.append(f"def {a}_{b}_{i}({c}):")
        elif kind == 1:
            lines.append(f"    {a} = {b}.{c}({rng.randint(0, 9999)})")
        elif kind == 2:
            lines.append(f"    return {a}_{c} + {rng.randint(0, 99)}")
        else:
            lines.append(f"// {a} {b} {c} {rng.randint(0, 9999)}")
    return ("\n".join(lines) + "\n").encode()


def path_for(index, rng_dirs):
    d1, d2, d3 = rng_dirs[index % len(rng_dirs)]
    return f"src/{d1}/{d2}/{d3}/file_{index:06d}{EXTS[index % len(EXTS)]}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dest")
    ap.add_argument("--files", type=int, default=60000)
    ap.add_argument("--commits", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    rng = random.Random(args.seed)
    os.makedirs(args.dest, exist_ok=True)
    env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", HOME=args.dest)  # no user config leaks in
    subprocess.run(["git", "init", "-q", "-b", "main", args.dest], check=True, env=env)
    dirs = [(f"pkg{a:02d}", f"mod{b:02d}", f"part{c}") for a in range(20) for b in range(15) for c in range(2)]

    proc = subprocess.Popen(["git", "-C", args.dest, "fast-import", "--quiet", "--done"],
                            stdin=subprocess.PIPE, env=env)
    out = proc.stdin
    live = {}          # path -> version
    next_index = 0
    when = 1_600_000_000
    people = [(f"Dev {n}", f"dev{n}@example.invalid") for n in range(12)]

    def emit(commit_no, changes, message):
        nonlocal when
        when += rng.randint(60, 7200)
        name, email = people[commit_no % len(people)]
        msg = message.encode()
        out.write(b"commit refs/heads/main\n")
        out.write(f"mark :{commit_no + 1}\n".encode())
        out.write(f"author {name} <{email}> {when} +0000\n".encode())
        out.write(f"committer {name} <{email}> {when} +0000\n".encode())
        out.write(f"data {len(msg)}\n".encode() + msg + b"\n")
        if commit_no > 0:
            out.write(f"from :{commit_no}\n".encode())
        for op, path, data in changes:
            if op == "D":
                out.write(f"D {path}\n".encode())
            else:
                out.write(f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n")

    first = []
    for _ in range(args.files):
        p = path_for(next_index, dirs)
        next_index += 1
        live[p] = 1
        first.append(("M", p, content(rng, p, 1)))
    emit(0, first, "Initial import")

    paths = list(live)
    for c in range(1, args.commits):
        changes = []
        for _ in range(rng.randint(1, 6)):
            roll = rng.random()
            if roll < 0.8 and paths:
                p = paths[rng.randrange(len(paths))]
                live[p] += 1
                changes.append(("M", p, content(rng, p, live[p])))
            elif roll < 0.93:
                p = path_for(next_index, dirs)
                next_index += 1
                live[p] = 1
                paths.append(p)
                changes.append(("M", p, content(rng, p, 1)))
            elif len(paths) > 1:
                p = paths.pop(rng.randrange(len(paths)))
                del live[p]
                changes.append(("D", p, None))
        emit(c, changes, f"Change {c}: {rng.choice(WORDS)} {rng.choice(WORDS)}")
    out.write(b"done\n")
    out.close()
    if proc.wait() != 0:
        sys.exit("git fast-import failed")
    subprocess.run(["git", "-C", args.dest, "reset", "-q", "--hard", "main"], check=True, env=env)
    subprocess.run(["git", "-C", args.dest, "gc", "-q", "--auto"], check=False, env=env)
    print(f"{args.dest}: {len(live)} files, {args.commits} commits", file=sys.stderr)


if __name__ == "__main__":
    main()
