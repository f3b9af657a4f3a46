import Foundation
import GitHistory
import Testing

@Suite("Blob mode: unique blobs with first-seen provenance")
struct BlobScanTests {
    let fixtures: FixtureRepos

    init() throws { fixtures = try FixtureRepos.load() }

    @Test func deletedSecretIsReportedAtTheCommitThatAddedIt() throws {
        let (units, summary) = try scanBlobs(try fixtures.repository("deleted"))
        let hits = units.filter { $0.isBlob && $0.contains(fixtures["deleted.secret"]) }
        #expect(hits.count == 1)
        let hit = try #require(hits.first)
        #expect(hit.commit.id == fixtures.commit("deleted.commit"))
        #expect(hit.path == "config.py")
        #expect(hit.commit.authorName == "Fixture Author")
        #expect(hit.commit.authorEmail == "author@fixture.test")
        #expect(hit.commit.authorDate == "2026-09-21T14:15:20Z")
        #expect(hit.commit.message == "Add config\n")
        #expect(!hit.commit.isShallowBoundary)
        #expect(summary.commits == 3)
        #expect(summary.blobs == 2)
        #expect(summary.commitMessages == 3)
    }

    @Test func eachBlobIsDeliveredOnceWhateverTheWorkerCount() throws {
        for workers in [1, 3] {
            let (units, _) = try scanBlobs(try fixtures.repository("samemany"), .allRefs, BlobScanOptions(workers: workers))
            let ids = units.compactMap(\.blobID)
            #expect(Set(ids).count == ids.count)
            let hits = units.filter { $0.isBlob && $0.contains(fixtures["samemany.secret"]) }
            #expect(hits.count == 1)
            #expect(hits.first?.commit.id == fixtures.commit("samemany.commit"))
            #expect(hits.first?.path == "a/x.txt")
        }
    }

    @Test func allOccurrencesListEveryIntroducingCommitAndPath() throws {
        let (units, summary) = try scanBlobs(try fixtures.repository("samemany"), .allRefs,
                                             BlobScanOptions(recordAllOccurrences: true))
        let hit = try #require(units.first { $0.isBlob && $0.contains(fixtures["samemany.secret"]) })
        let blob = try #require(hit.blobID)
        let occurrences = summary.occurrences[blob] ?? []
        #expect(occurrences.map(\.path) == ["a/x.txt", "b/y.txt", "c/z.txt"])
        #expect(occurrences.map(\.commit.id) == [fixtures.commit("samemany.commit"), fixtures.commit("samemany.copyCommit"),
                                                  fixtures.commit("samemany.copyCommit2")])
        #expect(hit.commit.id == fixtures.commit("samemany.commit"))
    }

    @Test func occurrenceWalkComparesTreesInGitsOrder() throws {
        let (_, summary) = try scanBlobs(try fixtures.repository("treeorder"), .allRefs, BlobScanOptions(recordAllOccurrences: true))
        func introduced(by key: String) -> [String] {
            summary.occurrences.values.joined().filter { $0.commit.id == fixtures.commit(key) }.map(\.path.description).sorted()
        }
        #expect(introduced(by: "treeorder.init") == ["a-b", "a.b", "a/x", "a0", "f"])
        // Unchanged neighbours (a-b, a0) are not introduced again; the file that became a directory's content is.
        #expect(introduced(by: "treeorder.edit") == ["a.b", "a/x", "f/g"])
    }

    @Test(arguments: ["samemany", "treeorder", "merge", "renamed"])
    func occurrenceObserverSeesWhatTheRecordHolds(scenario: String) throws {
        let repository = try fixtures.repository(scenario)
        let (_, recorded) = try scanBlobs(repository, .allRefs, BlobScanOptions(recordAllOccurrences: true))
        let seen = Collector<(ObjectID, BlobOccurrence)>()
        let summary = try BlobScanner(repository: repository, onOccurrence: { seen.append(($0, $1)) }).run { _ in }
        var observed: [ObjectID: [BlobOccurrence]] = [:]
        for (id, occurrence) in seen.items { observed[id, default: []].append(occurrence) }
        #expect(observed == recorded.occurrences)
        #expect(!observed.isEmpty)
        // Observing does not keep them.
        #expect(summary.occurrences.isEmpty)
    }

    @Test func contentOfExcludedParentsIsReadAgainWhenSeedingIsOff() throws {
        let repository = try fixtures.repository("samemany")
        let selection = CommitSelection(range: "\(fixtures["samemany.copyCommit"])..HEAD")
        let secret = fixtures["samemany.secret"]
        let (seeded, _) = try scanBlobs(repository, selection, BlobScanOptions(recordAllOccurrences: true))
        #expect(!seeded.contains { $0.isBlob && $0.contains(secret) })
        var options = BlobScanOptions(recordAllOccurrences: true)
        options.seedsExcludedContent = false
        let (units, summary) = try scanBlobs(repository, selection, options)
        let hit = try #require(units.first { $0.isBlob && $0.contains(secret) })
        #expect(hit.path == "c/z.txt")
        #expect(hit.commit.id == fixtures.commit("samemany.copyCommit2"))
        #expect(summary.occurrences[try #require(hit.blobID)]?.map(\.path) == ["c/z.txt"])
    }

    @Test func renameDoesNotReattributeTheSecret() throws {
        let (units, _) = try scanBlobs(try fixtures.repository("renamed"))
        let hits = units.filter { $0.isBlob && $0.contains(fixtures["renamed.secret"]) }
        // The original blob at its first path, and the edited file (a new blob) where it was edited.
        #expect(hits.map(\.commit.id) == [fixtures.commit("renamed.commit"), fixtures.commit("renamed.editCommit")]
                || hits.map(\.commit.id) == [fixtures.commit("renamed.editCommit"), fixtures.commit("renamed.commit")])
        #expect(hits.first { $0.commit.id == fixtures.commit("renamed.commit") }?.path == "settings.py")
        #expect(hits.first { $0.commit.id == fixtures.commit("renamed.editCommit") }?.path == "conf/settings.py")
        #expect(!hits.contains { $0.commit.id == fixtures.commit("renamed.renameCommit") })
    }

    @Test func secretOnlyInAMergeResolutionIsAttributedToTheMerge() throws {
        let (units, _) = try scanBlobs(try fixtures.repository("merge"))
        let hits = units.filter { $0.isBlob && $0.contains(fixtures["merge.secret"]) }
        #expect(hits.count == 1)
        #expect(hits.first?.commit.id == fixtures.commit("merge.commit"))
        #expect(hits.first?.path == "shared.txt")
        // The feature branch's file belongs to the feature commit, not to the merge.
        let feature = units.first { $0.path == "feature.txt" }
        #expect(feature?.commit.id == fixtures.commit("merge.featureCommit"))
    }

    @Test func unmergedBranchIsScannedByDefaultButNotWhenOnlyMainIsSelected() throws {
        let repository = try fixtures.repository("unmerged")
        let (all, _) = try scanBlobs(repository)
        let hit = all.first { $0.isBlob && $0.contains(fixtures["unmerged.secret"]) }
        #expect(hit?.commit.id == fixtures.commit("unmerged.commit"))
        #expect(hit?.path == "wip.yaml")
        let (mainOnly, summary) = try scanBlobs(repository, .branches(["main"]))
        #expect(!mainOnly.contains { $0.contains(fixtures["unmerged.secret"]) })
        #expect(summary.commits == 1)
    }

    @Test func commitReachableOnlyFromATagIsScanned() throws {
        let (units, _) = try scanBlobs(try fixtures.repository("tagonly"))
        let hit = units.first { $0.isBlob && $0.contains(fixtures["tagonly.secret"]) }
        #expect(hit?.commit.id == fixtures.commit("tagonly.commit"))
        #expect(hit?.path == "release.env")
    }

    @Test func detachedHeadIsATip() throws {
        let repository = try fixtures.repository("detached")
        let (units, _) = try scanBlobs(repository)
        let hit = units.first { $0.isBlob && $0.contains(fixtures["detached.secret"]) }
        #expect(hit?.commit.id == fixtures.commit("detached.commit"))
        let (mainOnly, _) = try scanBlobs(repository, .branches(["main"]))
        #expect(!mainOnly.contains { $0.contains(fixtures["detached.secret"]) })
    }

    @Test func stashAndItsReflogAreTips() throws {
        let (units, _) = try scanBlobs(try fixtures.repository("stash"))
        let newest = units.first { $0.isBlob && $0.contains(fixtures["stash.newSecret"]) }
        let older = units.first { $0.isBlob && $0.contains(fixtures["stash.oldSecret"]) }
        #expect(newest?.commit.id == fixtures.commit("stash.newCommit"))
        #expect(older?.commit.id == fixtures.commit("stash.oldCommit"))
        #expect(older?.path == "work.txt")
    }

    @Test func commitMessagesAreUnitsOfTheirOwn() throws {
        let (units, _) = try scanBlobs(try fixtures.repository("message"))
        let hits = units.filter { $0.contains(fixtures["message.secret"]) }
        #expect(hits.count == 1)
        #expect(hits.first?.source == .commitMessage)
        #expect(hits.first?.path == HistoryUnit.commitMessagePath)
        #expect(hits.first?.commit.id == fixtures.commit("message.commit"))
        let (withoutMessages, _) = try scanBlobs(try fixtures.repository("message"), .allRefs,
                                                 BlobScanOptions(includeCommitMessages: false))
        #expect(!withoutMessages.contains { $0.source == .commitMessage })
    }

    @Test func binaryBlobsAreFlaggedAndOversizedBlobsSkippedAndCounted() throws {
        let repository = try fixtures.repository("binary")
        let (units, summary) = try scanBlobs(repository, .allRefs, BlobScanOptions(maxBlobSize: 1 << 20))
        let binary = units.first { $0.isBlob && $0.contains(fixtures["binary.secret"]) }
        #expect(binary?.isBinary == true)
        #expect(binary?.path == "image.bin")
        #expect(binary?.commit.id == fixtures.commit("binary.commit"))
        #expect(!units.contains { $0.contains(fixtures["binary.largeSecret"]) })
        #expect(summary.oversizedBlobs.count == 1)
        #expect(summary.oversizedBlobs.first?.path == "large.txt")
        #expect(summary.oversizedBlobs.first?.commit.id == fixtures.commit("binary.largeCommit"))
        #expect((summary.oversizedBlobs.first?.size ?? 0) > 2_000_000)
        #expect(summary.binaryBlobs == 1)

        let (unlimited, _) = try scanBlobs(repository)
        let large = unlimited.first { $0.isBlob && $0.contains(fixtures["binary.largeSecret"]) }
        #expect(large?.isBinary == false)
        #expect(large?.path == "large.txt")
    }

    @Test func crlfContentIsDeliveredByteForByte() throws {
        let (units, _) = try scanBlobs(try fixtures.repository("crlf"))
        let hit = try #require(units.first { $0.isBlob && $0.contains(fixtures["crlf.secret"]) })
        #expect(hit.bytes == Array("first\r\nkey = \(fixtures["crlf.secret"])\r\nlast\r\n".utf8))
    }

    @Test func lfsPointersAreFlaggedAndNonUTF8PathsKeepTheirBytes() throws {
        let (units, summary) = try scanBlobs(try fixtures.repository("lfs"))
        let pointer = units.first { $0.path == "model.bin" }
        #expect(pointer?.isLFSPointer == true)
        #expect(pointer?.commit.id == fixtures.commit("lfs.commit"))
        #expect(summary.lfsPointers == 1)
        let latin = try #require(units.first { $0.isBlob && $0.contains(fixtures["nonutf8.secret"]) })
        #expect(latin.path.bytes == [0x63, 0x61, 0x66, 0xE9, 0x2E, 0x74, 0x78, 0x74])
        #expect(!latin.path.isValidUTF8)
        #expect(latin.path.description == "caf\u{FFFD}.txt")
        #expect(latin.commit.id == fixtures.commit("nonutf8.commit"))
        #expect(latin.isLFSPointer == false)
    }

    @Test func shallowBoundaryIsMarkedInsteadOfCreditedAsTheAuthor() throws {
        let repository = try fixtures.repository("shallow")
        #expect(repository.isShallow)
        let (units, summary) = try scanBlobs(repository)
        let hit = try #require(units.first { $0.isBlob && $0.contains(fixtures["shallow.secret"]) })
        #expect(hit.commit.id == fixtures.commit("shallow.boundary"))
        #expect(hit.commit.isShallowBoundary)
        #expect(summary.shallowBoundaryCommits == [fixtures.commit("shallow.boundary")].compactMap { $0 })
        #expect(summary.commits == 2)
        let tip = units.first { $0.path == "f4.txt" }
        #expect(tip?.commit.id == fixtures.commit("shallow.head"))
        #expect(tip?.commit.isShallowBoundary == false)
    }

    @Test func submodulesAreSkippedUnlessRecursionIsAsked() throws {
        let repository = try fixtures.repository("submodule")
        let (units, summary) = try scanBlobs(repository)
        #expect(summary.submodulePaths == ["vendor/inner"])
        #expect(!units.contains { $0.contains(fixtures["submodule.secret"]) })
        let (recursed, recursedSummary) = try scanBlobs(repository, .allRefs, BlobScanOptions(recurseSubmodules: true))
        let hit = recursed.first { $0.isBlob && $0.contains(fixtures["submodule.secret"]) }
        #expect(hit?.path == "vendor/inner/inner.txt")
        #expect(hit?.commit.id == fixtures.commit("submodule.innerCommit"))
        #expect(recursedSummary.scannedSubmodules == ["vendor/inner"])
    }

    @Test func emptyRepositoryYieldsNothing() throws {
        let (units, summary) = try scanBlobs(try fixtures.repository("empty"))
        #expect(units.isEmpty)
        #expect(summary.commits == 0)
    }

    @Test func perWorkerConsumersAreMadeOncePerThread() throws {
        let made = Collector<Int>()
        let units = Collector<HistoryUnit>()
        let scanner = BlobScanner(repository: try fixtures.repository("samemany"), options: BlobScanOptions(workers: 3))
        let summary = try scanner.run(consumerPerWorker: {
            made.append(1)
            var seenHere = 0
            return { unit in
                seenHere += 1
                units.append(unit)
            }
        })
        #expect(made.items.count == 3)
        #expect(units.items.count == summary.blobs + summary.commitMessages)
        let diffMade = Collector<Int>()
        let diffs = Collector<DiffUnit>()
        _ = try DiffScanner(repository: try fixtures.repository("samemany"), source: .commits(.allRefs), workers: 2)
            .run(consumerPerWorker: {
                diffMade.append(1)
                return { diffs.append($0) }
            })
        #expect(diffMade.items.count == 2)
        #expect(diffs.items.map(\.path).sorted() == ["a/x.txt", "b/y.txt", "c/z.txt", "other.txt", "other.txt"])
    }

    @Test func consumerErrorStopsTheScanAndIsRethrown() throws {
        struct Stop: Error {}
        let scanner = BlobScanner(repository: try fixtures.repository("samemany"))
        #expect(throws: Stop.self) { _ = try scanner.run { _ in throw Stop() } }
    }

    @Test func missingBlobsAreSkippedAndListed() throws {
        let (units, summary) = try scanBlobs(try fixtures.repository("missingblob"))
        #expect(units.filter(\.isBlob).map(\.path) == ["kept.txt"])
        #expect(summary.missingBlobs.map(\.path) == ["gone.txt"])
        #expect(summary.missingBlobs.first?.commit.id == fixtures.commit("missingblob.commit"))
        let (_, limited) = try scanBlobs(try fixtures.repository("missingblob"), .allRefs, BlobScanOptions(maxBlobSize: 1_000))
        #expect(limited.missingBlobs.map(\.path) == ["gone.txt"])
    }

    @Test func corruptObjectFailsWithTheObjectNamed() throws {
        let scanner = BlobScanner(repository: try fixtures.repository("corruptobject"))
        let error = #expect(throws: GitHistoryError.self) { _ = try scanner.run { _ in } }
        #expect(error?.description.contains(fixtures["corruptobject.blob"]) == true)
    }
}
