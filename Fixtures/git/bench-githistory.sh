#!/usr/bin/env bash
# Times GitHistory (release build) on a repository against `git cat-file --batch-all-objects --batch`.
# Builds a throw-away package in $BENCH_DIR that links Sources/GitHistory and Sources/CGit2 from this
# checkout, so the benchmark needs no product in Package.swift.
#
# usage: bench-githistory.sh REPO [WORKERS]
set -euo pipefail
REPO=$(cd "${1:?usage: bench-githistory.sh REPO [WORKERS]}" && pwd)
WORKERS=${2:-0}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BENCH_DIR=${BENCH_DIR:-${TMPDIR:-/tmp}/sealant-githistory-bench}

mkdir -p "$BENCH_DIR/Sources/ghbench"
ln -sfn "$ROOT/Sources/GitHistory" "$BENCH_DIR/Sources/GitHistory"
ln -sfn "$ROOT/Sources/CGit2" "$BENCH_DIR/Sources/CGit2"
cat > "$BENCH_DIR/Package.swift" <<'SWIFT'
// swift-tools-version:6.0
import PackageDescription
let package = Package(
    name: "ghbench",
    targets: [
        .systemLibrary(name: "CGit2", pkgConfig: "libgit2"),
        .target(name: "GitHistory", dependencies: ["CGit2"]),
        .executableTarget(name: "ghbench", dependencies: ["GitHistory"]),
    ],
    swiftLanguageModes: [.v6]
)
SWIFT
cat > "$BENCH_DIR/Sources/ghbench/main.swift" <<'SWIFT'
import Foundation
import GitHistory

let arguments = CommandLine.arguments
let repository = try GitRepository(discoveringFrom: arguments[1])
let workers = Int(arguments[2]) ?? 0
let mode = arguments[3]
let start = Date()
// A consumer that touches every byte, as a scanner would: sum them per thread-safe counter.
final class Checksum: @unchecked Sendable {
    private let lock = NSLock()
    private var total: UInt64 = 0
    func add(_ bytes: [UInt8]) {
        var sum: UInt64 = 0
        for byte in bytes { sum &+= UInt64(byte) }
        lock.lock(); total &+= sum; lock.unlock()
    }
}
let checksum = Checksum()
switch mode {
case "limited":
    let summary = try BlobScanner(repository: repository, options: BlobScanOptions(workers: workers, maxBlobSize: 100_000_000))
        .run { checksum.add($0.bytes) }
    let seconds = Date().timeIntervalSince(start)
    print(String(format: "blob mode, 100 MB limit: %d unique blobs, %d over the limit in %.2f s (%d workers)",
                 summary.blobs, summary.oversizedBlobs.count, seconds, workers))
case "blobs":
    let summary = try BlobScanner(repository: repository, options: BlobScanOptions(workers: workers)).run { checksum.add($0.bytes) }
    let seconds = Date().timeIntervalSince(start)
    print(String(format: "blob mode: %d commits, %d unique blobs, %.1f MB, %d messages in %.2f s (%d workers)",
                 summary.commits, summary.blobs, Double(summary.bytes) / 1e6, summary.commitMessages, seconds, workers))
case "walk":
    let summary = try BlobScanner(repository: repository, options: BlobScanOptions(workers: workers, maxBlobSize: -1,
                                                                                   includeCommitMessages: false)).run { _ in }
    let seconds = Date().timeIntervalSince(start)
    print(String(format: "walk only (headers, no reads): %d commits, %d blobs in %.2f s", summary.commits, summary.oversizedBlobs.count, seconds))
default:
    let summary = try DiffScanner(repository: repository, source: .commits(.allRefs), workers: workers).run { checksum.add($0.bytes) }
    let seconds = Date().timeIntervalSince(start)
    print(String(format: "diff mode: %d commits, %d files, %d added lines in %.2f s (%d workers)",
                 summary.commits, summary.files, summary.addedLines, seconds, workers))
}
SWIFT
(cd "$BENCH_DIR" && swift build -c release -q)
BIN="$BENCH_DIR/.build/release/ghbench"
echo "repository: $REPO ($(git -C "$REPO" count-objects -vH | awk '/size-pack/ {print $2 $3}') packed)"
echo "git cat-file --batch-all-objects --batch:"
TIME="/usr/bin/time -f %e_s_wall_%U_s_user_%S_s_sys_%M_KB"
$TIME git -C "$REPO" cat-file --batch-all-objects --batch > /dev/null
$TIME "$BIN" "$REPO" "$WORKERS" walk
$TIME "$BIN" "$REPO" "$WORKERS" blobs
$TIME "$BIN" "$REPO" 1 blobs
$TIME "$BIN" "$REPO" "$WORKERS" limited
[ "${SKIP_DIFF:-0}" = 1 ] || $TIME "$BIN" "$REPO" "$WORKERS" diff
