import Foundation
import GitHistory
import Testing

@Suite("Commit selection: refs, ranges, since, max count")
struct SelectionTests {
    let fixtures: FixtureRepos

    init() throws { fixtures = try FixtureRepos.load() }

    @Test func rangeScansOnlyBlobsIntroducedInsideIt() throws {
        let range = "\(fixtures["renamed.commit"])..main"
        let (units, summary) = try scanBlobs(try fixtures.repository("renamed"), .range(range))
        #expect(summary.commits == 2)
        let hits = units.filter { $0.isBlob && $0.contains(fixtures["renamed.secret"]) }
        // The original blob predates the range; only the edited copy is new.
        #expect(hits.map(\.commit.id) == [fixtures.commit("renamed.editCommit")])
    }

    @Test func notReachableFromScansWhatAPushWouldAdd() throws {
        let (units, summary) = try scanBlobs(try fixtures.repository("unmerged"), .notReachable(from: "main"))
        #expect(summary.commits == 1)
        #expect(units.filter(\.isBlob).map(\.path) == ["wip.yaml"])
        #expect(units.first { $0.isBlob }?.commit.id == fixtures.commit("unmerged.commit"))
    }

    @Test func rangeAcrossAMergeLeavesOutTheMergedBranch() throws {
        let repository = try fixtures.repository("merge")
        let (units, summary) = try scanBlobs(repository, .range("\(fixtures["merge.featureCommit"])..main"))
        #expect(summary.commits == 2)
        #expect(!units.contains { $0.path == "feature.txt" })
        #expect(units.first { $0.isBlob && $0.contains(fixtures["merge.secret"]) }?.commit.id == fixtures.commit("merge.commit"))
        let (nothing, nothingSummary) = try scanBlobs(repository, .notReachable(from: "main"))
        #expect(nothing.isEmpty)
        #expect(nothingSummary.commits == 0)
    }

    @Test func maxCountKeepsTheNewestCommits() throws {
        let (units, summary) = try scanBlobs(try fixtures.repository("deleted"), CommitSelection(maxCount: 1))
        #expect(summary.commits == 1)
        #expect(units.filter(\.isBlob).isEmpty)
        #expect(units.map(\.commit.id) == [fixtures.commit("deleted.head")])
    }

    @Test func sinceFiltersByCommitterDate() throws {
        // deleted: commits at 14:14:20, 14:15:20 and 14:16:20 UTC on 2026-09-21.
        let since = Date(timeIntervalSince1970: 1_790_000_120)
        let (units, summary) = try scanBlobs(try fixtures.repository("deleted"), CommitSelection(since: since))
        #expect(summary.commits == 2)
        #expect(units.filter(\.isBlob).map(\.path) == ["config.py"])
    }

    @Test func explicitRevisionsAndDetachedTips() throws {
        let repository = try fixtures.repository("tagonly")
        let (units, _) = try scanBlobs(repository, .branches(["v0.1"]))
        #expect(units.contains { $0.contains(fixtures["tagonly.secret"]) })
        let (mainOnly, _) = try scanBlobs(repository, .branches(["main"]))
        #expect(!mainOnly.contains { $0.contains(fixtures["tagonly.secret"]) })
    }

    @Test func badRangesAndUnknownRefsAreTypedErrors() throws {
        let repository = try fixtures.repository("deleted")
        #expect(throws: GitHistoryError.invalidRange("main...HEAD")) {
            _ = try scanBlobs(repository, .range("main...HEAD"))
        }
        #expect(throws: GitHistoryError.unknownReference("no-such-branch")) {
            _ = try scanBlobs(repository, .branches(["no-such-branch"]))
        }
        #expect(throws: GitHistoryError.unknownReference("nope")) {
            _ = try scanDiffs(repository, .commits(.range("nope..main")))
        }
    }
}
