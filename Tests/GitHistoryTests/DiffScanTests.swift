import Foundation
import GitHistory
import Testing

@Suite("Diff mode: added lines per commit, staged and unstaged")
struct DiffScanTests {
    let fixtures: FixtureRepos

    init() throws { fixtures = try FixtureRepos.load() }

    @Test func addedLineIsReportedWithItsNumberAndCommit() throws {
        let (units, summary) = try scanDiffs(try fixtures.repository("deleted"), .commits(.allRefs))
        let hits = units.filter { !$0.lines(containing: fixtures["deleted.secret"]).isEmpty }
        #expect(hits.count == 1)
        let hit = try #require(hits.first)
        #expect(hit.commit?.id == fixtures.commit("deleted.commit"))
        #expect(hit.path == "config.py")
        #expect(hit.change == .added)
        #expect(hit.lines(containing: fixtures["deleted.secret"]).map(\.number) == [3])
        #expect(hit.lines(containing: fixtures["deleted.secret"]).first?.text == "AWS_ACCESS_KEY_ID = \"\(fixtures["deleted.secret"])\"")
        // The deletion commit adds nothing.
        #expect(!units.contains { $0.commit?.id == fixtures.commit("deleted.head") })
        #expect(summary.commits == 3)
        // The joined bytes map back to file line numbers.
        #expect(hit.fileLineNumber(forUnitLine: 3) == 3)
        #expect(hit.bytes == Array("import os\n\nAWS_ACCESS_KEY_ID = \"\(fixtures["deleted.secret"])\"".utf8))
    }

    @Test func onlyTheGivenCommitsAreDiffed() throws {
        let repository = try fixtures.repository("samemany")
        let only = try #require(fixtures.commit("samemany.copyCommit2"))
        let collector = Collector<DiffUnit>()
        let summary = try DiffScanner(repository: repository, source: .commits(.allRefs), onlyCommits: [only]).run { collector.append($0) }
        #expect(Set(collector.items.compactMap { $0.commit?.id }) == [only])
        #expect(collector.items.map(\.path).sorted() == ["c/z.txt", "other.txt"])
        #expect(summary.commits == 1)
    }

    @Test func contentMissingFromTheObjectDatabaseIsCountedNotFatal() throws {
        let (units, summary) = try scanDiffs(try fixtures.repository("missingblob"), .commits(.allRefs))
        #expect(units.first { $0.path == "kept.txt" }?.addedLines.map(\.text) == ["kept"])
        let gone = try #require(units.first { $0.path == "gone.txt" })
        #expect(gone.change == .missingContent)
        #expect(gone.addedLines.isEmpty)
        #expect(summary.missingContent == 1)
    }

    @Test func pureRenameAddsNoLinesAndLaterEditsAddOnlyTheirOwn() throws {
        let (units, _) = try scanDiffs(try fixtures.repository("renamed"), .commits(.allRefs), workers: 1)
        #expect(!units.contains { $0.commit?.id == fixtures.commit("renamed.renameCommit") })
        let edit = try #require(units.first { $0.commit?.id == fixtures.commit("renamed.editCommit") })
        #expect(edit.path == "conf/settings.py")
        #expect(edit.addedLines == [AddedLine(number: 4, bytes: Array("TIMEOUT = 30".utf8))])
        let hits = units.filter { !$0.lines(containing: fixtures["renamed.secret"]).isEmpty }
        #expect(hits.map(\.commit?.id) == [fixtures.commit("renamed.commit")])
    }

    @Test func mergeReportsOnlyItsOwnResolution() throws {
        let (units, _) = try scanDiffs(try fixtures.repository("merge"), .commits(.allRefs))
        let mergeUnits = units.filter { $0.commit?.id == fixtures.commit("merge.commit") }
        #expect(mergeUnits.count == 1)
        let resolution = try #require(mergeUnits.first)
        #expect(resolution.path == "shared.txt")
        #expect(resolution.addedLines == [AddedLine(number: 2, bytes: Array("resolved two \(fixtures["merge.secret"])".utf8))])
        let feature = units.first { $0.path == "feature.txt" }
        #expect(feature?.commit?.id == fixtures.commit("merge.featureCommit"))
    }

    @Test func mergesAcrossARenameAddOnlyTheirResolution() throws {
        let (units, _) = try scanDiffs(try fixtures.repository("mergerename"), .commits(.allRefs))
        // Rename on one side, edit on the other, merged cleanly: nothing is new to both parents.
        #expect(!units.contains { $0.commit?.id == fixtures.commit("mergerename.cleanMerge") })
        // The main edit is reported once, by its own commit, not again by the merges that carry it.
        let edits = units.filter { !$0.lines(containing: "zeta main").isEmpty }
        #expect(edits.map(\.commit?.id) == [fixtures.commit("mergerename.mainEdit")])
        // The second merge renames relative to one parent and edits relative to the other; its resolution
        // adds one line, and only that line is new to both.
        let merge = units.filter { $0.commit?.id == fixtures.commit("mergerename.evilMerge") }
        #expect(merge.count == 1)
        let resolution = try #require(merge.first)
        #expect(resolution.path == "etc/config.txt")
        #expect(resolution.addedLines == [AddedLine(number: 8, bytes: Array("key \(fixtures["mergerename.secret"])".utf8))])
    }

    @Test func crlfLinesLoseTheirLineEnding() throws {
        let (units, _) = try scanDiffs(try fixtures.repository("crlf"), .commits(.allRefs))
        let hit = try #require(units.first)
        #expect(hit.addedLines.map(\.number) == [1, 2, 3])
        #expect(hit.addedLines[1].text == "key = \(fixtures["crlf.secret"])")
    }

    @Test func modeChangeAddsNothing() throws {
        let (units, summary) = try scanDiffs(try fixtures.repository("crlf"), .commits(.allRefs))
        #expect(summary.commits == 2)
        #expect(!units.contains { $0.commit?.id == fixtures.commit("crlf.modeCommit") })
    }

    @Test func binaryFilesAreFlaggedWithoutLines() throws {
        let (units, summary) = try scanDiffs(try fixtures.repository("binary"), .commits(.allRefs))
        let image = try #require(units.first { $0.path == "image.bin" })
        #expect(image.isBinary)
        #expect(image.addedLines.isEmpty)
        #expect(image.commit?.id == fixtures.commit("binary.commit"))
        #expect(image.blob != nil)
        #expect(summary.binaryFiles == 1)
    }

    @Test func submoduleBumpIsReportedAsSuch() throws {
        let (units, _) = try scanDiffs(try fixtures.repository("submodule"), .commits(.allRefs))
        let bump = try #require(units.first { $0.path == "vendor/inner" })
        #expect(bump.change == .submoduleUpdated(to: try #require(fixtures.commit("submodule.innerCommit"))))
        #expect(bump.commit?.id == fixtures.commit("submodule.commit"))
        #expect(bump.addedLines.isEmpty)
    }

    @Test func lfsPointerAndNonUTF8PathInDiffMode() throws {
        let (units, _) = try scanDiffs(try fixtures.repository("lfs"), .commits(.allRefs))
        #expect(units.first { $0.path == "model.bin" }?.isLFSPointer == true)
        let latin = try #require(units.first { !$0.lines(containing: fixtures["nonutf8.secret"]).isEmpty })
        #expect(latin.path.bytes == [0x63, 0x61, 0x66, 0xE9, 0x2E, 0x74, 0x78, 0x74])
    }

    @Test func shallowBoundaryCommitIsDiffedAgainstNothingAndMarked() throws {
        let (units, summary) = try scanDiffs(try fixtures.repository("shallow"), .commits(.allRefs))
        let hit = try #require(units.first { !$0.lines(containing: fixtures["shallow.secret"]).isEmpty })
        #expect(hit.commit?.id == fixtures.commit("shallow.boundary"))
        #expect(hit.commit?.isShallowBoundary == true)
        #expect(summary.shallowBoundaryCommits == [fixtures.commit("shallow.boundary")].compactMap { $0 })
    }

    @Test func commitMessagesAreUnitsWhenAsked() throws {
        let repository = try fixtures.repository("message")
        let (units, _) = try scanDiffs(repository, .commits(.allRefs))
        #expect(units.first?.commit?.message.contains(fixtures["message.secret"]) == true)
        #expect(!units.contains { !$0.lines(containing: fixtures["message.secret"]).isEmpty })

        let collector = Collector<DiffUnit>()
        _ = try DiffScanner(repository: repository, source: .commits(.allRefs), includeCommitMessages: true).run { collector.append($0) }
        let message = try #require(collector.items.first { $0.change == .commitMessage })
        #expect(message.path == HistoryUnit.commitMessagePath)
        #expect(message.commit?.id == fixtures.commit("message.commit"))
        #expect(message.addedLines.map(\.text) == ["Fix login", "", "Temporarily use key \(fixtures["message.secret"]) for staging."])
    }

    @Test func stagedSeesTheIndexNotTheWorkTree() throws {
        let (units, _) = try scanDiffs(try fixtures.repository("staged"), .staged)
        #expect(units.count == 1)
        let unit = try #require(units.first)
        #expect(unit.commit == nil)
        #expect(unit.path == "tracked.txt")
        #expect(unit.change == .modified)
        #expect(unit.addedLines == [AddedLine(number: 3, bytes: Array("staged=\(fixtures["staged.secret"])".utf8))])
    }

    @Test func unstagedSeesTheWorkTreeAgainstTheIndex() throws {
        let repository = try fixtures.repository("staged")
        let (units, _) = try scanDiffs(repository, .unstaged(includeUntracked: false))
        #expect(units.map(\.path) == ["tracked.txt"])
        #expect(units.first?.addedLines == [AddedLine(number: 4, bytes: Array("unstaged=\(fixtures["unstaged.secret"])".utf8))])
        let (withUntracked, _) = try scanDiffs(repository, .unstaged(includeUntracked: true))
        let untracked = try #require(withUntracked.first { $0.path == "untracked.txt" })
        #expect(untracked.change == .added)
        #expect(untracked.addedLines.map(\.text) == ["new=\(fixtures["untracked.secret"])"])
    }

    @Test func stagedBeforeTheFirstCommitDiffsAgainstNothing() throws {
        let (units, _) = try scanDiffs(try fixtures.repository("stagedfirst"), .staged)
        #expect(units.map(\.path) == ["first.txt"])
        #expect(units.first?.addedLines == [AddedLine(number: 1, bytes: Array("key=\(fixtures["stagedfirst.secret"])".utf8))])
    }

    @Test func unmergedPathsAreReportedPerSide() throws {
        let (units, summary) = try scanDiffs(try fixtures.repository("conflict"), .staged)
        #expect(summary.conflictedPaths == ["c.txt"])
        let ours = try #require(units.first { $0.change == .conflicted(side: .ours) })
        let theirs = try #require(units.first { $0.change == .conflicted(side: .theirs) })
        #expect(ours.path == "c.txt")
        #expect(ours.addedLines == [AddedLine(number: 2, bytes: Array("ours=\(fixtures["conflict.oursSecret"])".utf8))])
        #expect(theirs.addedLines == [AddedLine(number: 2, bytes: Array("theirs=\(fixtures["conflict.theirsSecret"])".utf8))])
    }

    @Test func emptyRepositoryHasNoCommitsToDiff() throws {
        let (units, summary) = try scanDiffs(try fixtures.repository("empty"), .commits(.allRefs))
        #expect(units.isEmpty)
        #expect(summary.commits == 0)
        let (staged, _) = try scanDiffs(try fixtures.repository("empty"), .staged)
        #expect(staged.isEmpty)
    }
}
