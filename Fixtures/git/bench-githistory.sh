#!/usr/bin/env bash
# Times GitHistory (release build) on a repository against `git cat-file --batch-all-objects --batch`.
# Builds a throw-away package in $BENCH_DIR from a copy of Sources/GitHistory and Sources/CGit2 in
# this checkout, so the benchmark needs no product in Package.swift.
#
# usage: bench-githistory.sh REPO [WORKERS]
# The built binary also checks a synthetic repository's planted secrets:
#   $BENCH_DIR/.build/release/ghbench REPO 0 verify
set -euo pipefail
REPO=$(cd "${1:?usage: bench-githistory.sh REPO [WORKERS]}" && pwd)
WORKERS=${2:-0}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BENCH_DIR=${BENCH_DIR:-${TMPDIR:-/tmp}/sealant-githistory-bench}

mkdir -p "$BENCH_DIR/Sources/ghbench"
rm -rf "$BENCH_DIR/Sources/GitHistory" "$BENCH_DIR/Sources/CGit2"
cp -R "$ROOT/Sources/GitHistory" "$ROOT/Sources/CGit2" "$BENCH_DIR/Sources/"
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
case "range":
    // ghbench REPO WORKERS range A..B  |  ghbench REPO WORKERS range ^REF (all refs not reachable from REF)
    let spec = arguments[4]
    let selection = spec.hasPrefix("^") ? CommitSelection.notReachable(from: String(spec.dropFirst())) : .range(spec)
    let summary = try BlobScanner(repository: repository, selection: selection, options: BlobScanOptions(workers: workers))
        .run { checksum.add($0.bytes) }
    print(String(format: "%@: %d commits, %d blobs in %.3f s", spec, summary.commits, summary.blobs, Date().timeIntervalSince(start)))
case "verify":
    // Every secret planted by make-synthetic-history.sh must be reported at its planting commit and path:
    // blob mode among the blobs holding it (later edits of the file hold it too), diff mode exactly once.
    final class Hits: @unchecked Sendable {
        let lock = NSLock()
        var rows: [(secret: String, commit: String, path: String)] = []
        func add(_ row: (String, String, String)) { lock.lock(); rows.append(row); lock.unlock() }
    }
    let planted = try String(contentsOfFile: repository.gitDirectory + "planted-secrets.tsv", encoding: .utf8)
        .split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
    let secrets = Set(planted.map { $0[0] })
    @Sendable func plantedSecrets(in bytes: [UInt8]) -> [String] {
        let data = Data(bytes)
        var found: [String] = []
        for (prefix, length) in [("AKIA", 20), ("ghp_", 40)] {
            var from = data.startIndex
            while let range = data.range(of: Data(prefix.utf8), in: from..<data.endIndex) {
                let token = String(decoding: data[range.lowerBound..<min(range.lowerBound + length, data.endIndex)], as: UTF8.self)
                if secrets.contains(token) { found.append(token) }
                from = range.upperBound
            }
        }
        return found
    }
    for scan in ["blob", "diff"] {
        let hits = Hits()
        if scan == "blob" {
            _ = try BlobScanner(repository: repository, options: BlobScanOptions(workers: workers)).run { unit in
                for secret in plantedSecrets(in: unit.bytes) { hits.add((secret, unit.commit.id.description, unit.path.description)) }
            }
        } else {
            _ = try DiffScanner(repository: repository, source: .commits(.allRefs), workers: workers, includeCommitMessages: true).run { unit in
                for secret in plantedSecrets(in: unit.bytes) { hits.add((secret, unit.commit?.id.description ?? "", unit.path.description)) }
            }
        }
        var exact = 0
        for row in planted {
            let path = row[3] == "commit-message" ? HistoryUnit.commitMessagePath.description : row[2]
            let found = hits.rows.filter { $0.secret == row[0] }
            if found.contains(where: { $0.commit == row[1] && $0.path == path }) && (scan == "blob" || found.count == 1) {
                exact += 1
            } else {
                print("\(scan) mode misattributes \(row): \(found.prefix(3))")
            }
        }
        print("\(scan) mode: \(exact) of \(planted.count) planted secrets reported at their planting commit and path")
    }
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
[ "${BUILD_ONLY:-0}" = 1 ] && exit 0
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
