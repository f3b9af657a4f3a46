import Foundation
import GitHistory
import Testing

@Suite("Opening repositories and typed errors")
struct RepositoryErrorTests {
    let fixtures: FixtureRepos

    init() throws { fixtures = try FixtureRepos.load() }

    @Test func opensFromASubdirectoryOfTheWorkTree() throws {
        let repository = try GitRepository(discoveringFrom: fixtures.path("renamed") + "/conf")
        #expect(repository.gitDirectory == fixtures.path("renamed") + "/.git/")
        #expect(repository.workTree == fixtures.path("renamed") + "/")
        #expect(!repository.isBare)
        #expect(!repository.isShallow)
    }

    @Test func opensABareRepository() throws {
        let repository = try fixtures.repository("bare.git")
        #expect(repository.isBare)
        #expect(repository.workTree == nil)
    }

    @Test func notARepositoryNamesThePath() throws {
        let path = fixtures.path("not-a-repo/sub")
        #expect(throws: GitHistoryError.notARepository(path: path)) { _ = try GitRepository(discoveringFrom: path) }
        #expect(GitHistoryError.notARepository(path: path).description == "not a git repository: \(path)")
        let missing = fixtures.path("does-not-exist")
        #expect(throws: GitHistoryError.notARepository(path: missing)) { _ = try GitRepository(discoveringFrom: missing) }
    }

    @Test func unreadableConfigIsACorruptRepository() throws {
        let path = fixtures.path("badconfig")
        let error = #expect(throws: GitHistoryError.self) { _ = try GitRepository(discoveringFrom: path) }
        guard case .corruptRepository(let reportedPath, let reason)? = error else {
            Issue.record("expected corruptRepository, got \(String(describing: error))")
            return
        }
        #expect(reportedPath == path)
        #expect(reason.contains("config"))
        #expect(error?.description.hasPrefix("corrupt git repository \(path): ") == true)
    }

    @Test func bareRepositoryHasNoStagedChanges() throws {
        let repository = try fixtures.repository("bare.git")
        #expect(throws: GitHistoryError.bareRepository(path: repository.gitDirectory, mode: "staged")) {
            _ = try scanDiffs(repository, .staged)
        }
        #expect(throws: GitHistoryError.bareRepository(path: repository.gitDirectory, mode: "unstaged")) {
            _ = try scanDiffs(repository, .unstaged(includeUntracked: false))
        }
    }

    @Test func heldIndexLockIsReported() throws {
        let repository = try fixtures.repository("locked")
        let lock = fixtures.path("locked") + "/.git/index.lock"
        #expect(throws: GitHistoryError.indexLocked(lockPath: lock)) { _ = try scanDiffs(repository, .staged) }
        #expect(GitHistoryError.indexLocked(lockPath: lock).description.hasPrefix("another git process holds \(lock)"))
    }

    @Test func corruptIndexIsReported() throws {
        let repository = try fixtures.repository("corruptindex")
        do {
            _ = try scanDiffs(repository, .staged)
            Issue.record("expected corruptIndex")
        } catch let error as GitHistoryError {
            guard case .corruptIndex(let path, let reason) = error else {
                Issue.record("expected corruptIndex, got \(error)")
                return
            }
            #expect(path == fixtures.path("corruptindex") + "/.git/index")
            #expect(!reason.isEmpty)
        }
    }
}
