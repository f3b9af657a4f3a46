import Foundation
import Testing

/// The commit-time workflow end to end: baselines, the hook's output, and every kind of bad git input.
@Suite("hooks and baselines", .serialized)
struct HookWorkflowTests {
    typealias CLI = CLITests

    /// A repository with one commit holding `token` in `conf.py` line 2.
    static func repositoryWithCommittedSecret(_ token: String) throws -> URL {
        let dir = try CLI.temporaryDirectory()
        try CLI.git(["init", "-q"], in: dir)
        try "a = 1\nkey = \"\(token)\"\n".write(to: dir.appendingPathComponent("conf.py"), atomically: true, encoding: .utf8)
        try CLI.git(["add", "conf.py"], in: dir)
        try CLI.git(["commit", "-qm", "add conf"], in: dir)
        return dir
    }

    static func commit(_ content: String, to file: String, in dir: URL, message: String) throws {
        try content.write(to: dir.appendingPathComponent(file), atomically: true, encoding: .utf8)
        try CLI.git(["add", file], in: dir)
        try CLI.git(["commit", "-qm", message], in: dir)
    }

    /// Exit 2 with exactly one stderr line that contains every one of `needles`.
    static func expectOneLineError(_ result: CLI.Run, _ needles: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == 2, "exit \(result.status): \(result.stderr)", sourceLocation: sourceLocation)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)", sourceLocation: sourceLocation)
        for needle in needles {
            #expect(result.stderr.contains(needle), "missing '\(needle)' in: \(result.stderr)", sourceLocation: sourceLocation)
        }
        #expect(!result.stderr.contains("Fatal error") && !result.stderr.contains("Stack dump"), sourceLocation: sourceLocation)
    }

    @Test("baseline create records findings without their secrets; later scans report only new ones")
    func baselineCreate() throws {
        let token = CLI.fakeGitHubToken()
        let dir = try Self.repositoryWithCommittedSecret(token)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try CLI.sealant(["scan"], in: dir).status == 1)

        let created = try CLI.sealant(["baseline", "create"], in: dir)
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stdout == "recorded 1 finding in .sealant-baseline.json\n")
        let baselineText = try String(contentsOf: dir.appendingPathComponent(".sealant-baseline.json"), encoding: .utf8)
        #expect(!baselineText.contains(token), "a baseline gets committed: no secret in clear")
        #expect(baselineText.contains("conf.py"))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty)

        let baseline = ["--baseline-path", ".sealant-baseline.json"]
        let again = try CLI.sealant(["scan", "-f", "json"] + baseline, in: dir)
        #expect(again.status == 0, "\(again.stdout)")

        // Committing the baseline itself does not make it a finding.
        try CLI.git(["add", ".sealant-baseline.json"], in: dir)
        try CLI.git(["commit", "-qm", "baseline"], in: dir)
        #expect(try CLI.sealant(["scan"] + baseline, in: dir).status == 0)

        // The line moves and is reformatted: same file, rule and secret, still suppressed.
        try Self.commit("# settings\n\nb = 2\nsettings = {\n    'key':   '\(token)',\n}\n", to: "conf.py", in: dir, message: "reformat")
        #expect(try CLI.sealant(["scan", "-f", "json"] + baseline, in: dir).status == 0)

        // A new secret elsewhere is the only thing reported.
        let newToken = CLI.fakeGitHubToken()
        try Self.commit("TOKEN=\(newToken)\n", to: "deploy.env", in: dir, message: "deploy")
        let fresh = try CLI.sealant(["scan", "-f", "json"] + baseline, in: dir)
        #expect(fresh.status == 1)
        let freshFindings = try CLI.findings(fresh.stdout)
        #expect(freshFindings.map { $0["File"] as? String } == ["deploy.env"])

        // A different secret on the baselined line is reported.
        let rotated = CLI.fakeGitHubToken()
        try "a = 1\nkey = \"\(rotated)\"\n".write(to: dir.appendingPathComponent("conf.py"), atomically: true, encoding: .utf8)
        try CLI.git(["add", "conf.py"], in: dir)
        let staged = try CLI.sealant(["scan", "--staged", "-f", "json"] + baseline, in: dir)
        #expect(staged.status == 1)
        let stagedFindings = try CLI.findings(staged.stdout)
        #expect(stagedFindings.count == 1)
        #expect(stagedFindings.first?["File"] as? String == "conf.py")
        #expect(stagedFindings.first?["StartLine"] as? Int == 2)
        // ...while the old secret staged again on another line is not.
        try "a = 1\n\nkey = \"\(token)\"\n".write(to: dir.appendingPathComponent("conf.py"), atomically: true, encoding: .utf8)
        try CLI.git(["add", "conf.py"], in: dir)
        #expect(try CLI.sealant(["scan", "--staged"] + baseline, in: dir).status == 0)
        #expect(try CLI.sealant(["scan", "--staged"], in: dir).status == 1)
        // The installed hook uses the committed .sealant-baseline.json by itself.
        #expect(try CLI.sealant(["hook", "install"], in: dir).status == 0)
        let identity = ["-c", "user.name=D", "-c", "user.email=d@example.invalid", "-c", "commit.gpgsign=false"]
        let commit = try CLI.run("git", identity + ["commit", "-qm", "move key"], in: dir)
        #expect(commit.status == 0, "\(commit.stdout)\(commit.stderr)")
    }

    @Test("baseline create takes scan's inputs and options, and writes where --output says")
    func baselineCreateOptions() throws {
        let token = CLI.fakeGitHubToken()
        let dir = try Self.repositoryWithCommittedSecret(token)
        defer { try? FileManager.default.removeItem(at: dir) }
        // Work-tree files only (--no-git), into a chosen file, secrets kept on request.
        try "x = \(CLI.fakeGitHubToken())\n".write(to: dir.appendingPathComponent("untracked.txt"), atomically: true, encoding: .utf8)
        let created = try CLI.sealant(["baseline", "create", ".", "--no-git", "--output", "ci-baseline.json", "--keep-secrets"], in: dir)
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stdout.hasPrefix("recorded 2 findings in ci-baseline.json"))
        let text = try String(contentsOf: dir.appendingPathComponent("ci-baseline.json"), encoding: .utf8)
        #expect(text.contains(token))
        // The clear-text baseline is itself not reported by a scan that uses it.
        #expect(try CLI.sealant(["scan", ".", "--no-git", "--baseline-path", "ci-baseline.json"], in: dir).status == 0)

        // Nothing found: an empty baseline, still written.
        try "x = 1\n".write(to: dir.appendingPathComponent("clean.py"), atomically: true, encoding: .utf8)
        let none = try CLI.sealant(["baseline", "create", "--enable-rule", "github-pat", "-o", "empty.json", "clean.py"], in: dir)
        #expect(none.status == 0, "\(none.stderr)")
        #expect(none.stdout == "recorded 0 findings in empty.json\n")
        #expect(try String(contentsOf: dir.appendingPathComponent("empty.json"), encoding: .utf8) == "[]\n")

        // Errors: unwritable output, a baseline given to baseline create.
        let unwritable = try CLI.sealant(["baseline", "create", "-o", "no-such-dir/b.json"], in: dir)
        Self.expectOneLineError(unwritable, ["no-such-dir/b.json"])
        #expect(try CLI.sealant(["baseline", "create", "--baseline-path", "ci-baseline.json"], in: dir).status == 2)
    }

    @Test("a redacted report (sealant's or a gitleaks-format one) still works as a baseline")
    func redactedReportAsBaseline() throws {
        let token = CLI.fakeGitHubToken()
        let dir = try Self.repositoryWithCommittedSecret(token)
        defer { try? FileManager.default.removeItem(at: dir) }
        let report = try CLI.sealant(["scan", "--redact", "-f", "json", "-r", "report.json"], in: dir)
        #expect(report.status == 1)
        let text = try String(contentsOf: dir.appendingPathComponent("report.json"), encoding: .utf8)
        #expect(!text.contains(token))
        #expect(try CLI.sealant(["scan", "--baseline-path", "report.json"], in: dir).status == 0)
        // A partly redacted report too.
        #expect(try CLI.sealant(["scan", "--redact=50", "-f", "json", "-r", "half.json"], in: dir).status == 1)
        #expect(try CLI.sealant(["scan", "--baseline-path", "half.json"], in: dir).status == 0)

        // gitleaks' own redacted JSON: position fingerprints (commit:file:rule:line).
        let found = try CLI.findings(String(contentsOf: dir.appendingPathComponent("report.json"), encoding: .utf8))
        let commit = try #require(found.first?["Commit"] as? String)
        let rule = try #require(found.first?["RuleID"] as? String)
        let gitleaks = """
            [{"RuleID": "\(rule)", "Description": "x", "StartLine": 2, "EndLine": 2, "StartColumn": 8, "EndColumn": 40,
              "Match": "REDACTED", "Secret": "REDACTED", "File": "conf.py", "SymlinkFile": "", "Commit": "\(commit)",
              "Entropy": 4.5, "Author": "Dev", "Email": "dev@example.invalid", "Date": "2026-01-02T03:04:05Z",
              "Message": "add conf", "Tags": [], "Fingerprint": "\(commit):conf.py:\(rule):2"}]
            """
        try gitleaks.write(to: dir.appendingPathComponent("gitleaks.json"), atomically: true, encoding: .utf8)
        #expect(try CLI.sealant(["scan", "--baseline-path", "gitleaks.json"], in: dir).status == 0)
    }

    @Test("the hook's report names file:line, rule, a redacted secret and every way to suppress it")
    func hookOutput() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try CLI.git(["init", "-q"], in: dir)
        let token = CLI.fakeGitHubToken()
        try "x = 1\n\ntoken = \"\(token)\"\n".write(to: dir.appendingPathComponent("app.py"), atomically: true, encoding: .utf8)
        try CLI.git(["add", "app.py"], in: dir)
        let result = try CLI.sealant(["scan", "--staged"], in: dir)
        #expect(result.status == 1)
        let out = result.stdout
        #expect(out.hasPrefix("app.py:3:"), "\(out)")
        #expect(out.contains("github-pat"))
        #expect(!out.contains(token) && !result.stderr.contains(token))
        #expect(out.contains("Secret:      " + token.prefix(4)))
        #expect(out.contains("sealant:allow") && out.contains(".sealantignore") && out.contains("sealant baseline create"))
        #expect(out.contains("Fingerprint: app.py:github-pat:"))

        // Each way to suppress works: the fingerprint in .sealantignore...
        let fingerprint = try #require(out.split(separator: "\n").first { $0.contains("Fingerprint:") }?
            .split(separator: " ").last.map(String.init))
        try "\(fingerprint)\n".write(to: dir.appendingPathComponent(".sealantignore"), atomically: true, encoding: .utf8)
        #expect(try CLI.sealant(["scan", "--staged"], in: dir).status == 0)
        try FileManager.default.removeItem(at: dir.appendingPathComponent(".sealantignore"))
        // ...an inline allow comment...
        try "x = 1\n\ntoken = \"\(token)\"  # sealant:allow\n".write(to: dir.appendingPathComponent("app.py"), atomically: true, encoding: .utf8)
        try CLI.git(["add", "app.py"], in: dir)
        #expect(try CLI.sealant(["scan", "--staged"], in: dir).status == 0)
    }

    @Test("the installed hook reads git's temporary index under `git commit -a` and `git commit PATH`")
    func hookWithTemporaryIndex() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try CLI.git(["init", "-q"], in: dir)
        try Self.commit("x = 1\n", to: "a.py", in: dir, message: "first")
        #expect(try CLI.sealant(["hook", "install"], in: dir).status == 0)
        let identity = ["-c", "user.name=D", "-c", "user.email=d@example.invalid", "-c", "commit.gpgsign=false"]

        // git commit -a: git holds index.lock and points GIT_INDEX_FILE at it.
        try "x = 2\n".write(to: dir.appendingPathComponent("a.py"), atomically: true, encoding: .utf8)
        let clean = try CLI.run("git", identity + ["commit", "-qam", "clean"], in: dir)
        #expect(clean.status == 0, "\(clean.stderr)")
        try "x = 3\nt = \"\(CLI.fakeGitHubToken())\"\n".write(to: dir.appendingPathComponent("a.py"), atomically: true, encoding: .utf8)
        let blocked = try CLI.run("git", identity + ["commit", "-qam", "leak"], in: dir)
        #expect(blocked.status != 0)
        #expect((blocked.stdout + blocked.stderr).contains("a.py:2:"), "\(blocked.stdout)\(blocked.stderr)")

        // git commit PATH: a temporary next-index file.
        let partial = try CLI.run("git", identity + ["commit", "-qm", "partial", "a.py"], in: dir)
        #expect(partial.status != 0)
        #expect((partial.stdout + partial.stderr).contains("a.py:2:"), "\(partial.stdout)\(partial.stderr)")
        try "x = 4\n".write(to: dir.appendingPathComponent("a.py"), atomically: true, encoding: .utf8)
        #expect(try CLI.run("git", identity + ["commit", "-qm", "partial clean", "a.py"], in: dir).status == 0)
    }

    @Test("bad git input: one line naming the repository or object and the cause, exit 2, no crash")
    func badGitInput() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = dir.resolvingSymlinksInPath().path

        // Not a repository.
        let plain = dir.appendingPathComponent("plain")
        try FileManager.default.createDirectory(at: plain, withIntermediateDirectories: true)
        Self.expectOneLineError(try CLI.sealant(["scan", "--staged"], in: plain), ["not a git repository"])
        Self.expectOneLineError(try CLI.sealant(["scan", "--staged", "plain"], in: dir), ["not a git repository", "plain"])

        // Bare repository.
        try CLI.git(["init", "-q", "--bare", "bare.git"], in: dir)
        Self.expectOneLineError(try CLI.sealant(["scan", "--staged", "bare.git"], in: dir), ["bare.git", "bare repository"])

        // A repository with one commit, for the rest.
        let repo = dir.appendingPathComponent("repo")
        try FileManager.default.createDirectory(at: repo, withIntermediateDirectories: true)
        try CLI.git(["init", "-q"], in: repo)
        try Self.commit("x = 1\n", to: "a.py", in: repo, message: "first")
        Self.expectOneLineError(try CLI.sealant(["scan", "--since-ref", "no-such-ref"], in: repo), ["no-such-ref"])
        Self.expectOneLineError(try CLI.sealant(["scan", "--range", "no-such-ref..HEAD"], in: repo), ["no-such-ref"])
        Self.expectOneLineError(try CLI.sealant(["scan", "--range", "HEAD"], in: repo), ["HEAD", "A..B"])
        Self.expectOneLineError(try CLI.sealant(["scan", "--branch", "nope"], in: repo), ["nope"])

        // index.lock held by another process.
        let lock = repo.appendingPathComponent(".git/index.lock")
        try Data().write(to: lock)
        Self.expectOneLineError(try CLI.sealant(["scan", "--staged"], in: repo), [root + "/repo/.git/index.lock", "another git process"])
        try FileManager.default.removeItem(at: lock)

        // Corrupt index.
        let index = repo.appendingPathComponent(".git/index")
        let saved = try Data(contentsOf: index)
        try Data("DIRC garbage that is not an index".utf8).write(to: index)
        Self.expectOneLineError(try CLI.sealant(["scan", "--staged"], in: repo), [root + "/repo/.git/index", "corrupt git index"])
        try saved.write(to: index)

        // Detached HEAD: staged and history scans work as usual.
        try CLI.git(["checkout", "-q", "--detach"], in: repo)
        try "t = \"\(CLI.fakeGitHubToken())\"\n".write(to: repo.appendingPathComponent("b.py"), atomically: true, encoding: .utf8)
        try CLI.git(["add", "b.py"], in: repo)
        let detached = try CLI.sealant(["scan", "--staged", "-f", "json"], in: repo)
        #expect(detached.status == 1, "\(detached.stderr)")
        #expect(try CLI.findings(detached.stdout).first?["File"] as? String == "b.py")
        try CLI.git(["commit", "-qm", "detached leak"], in: repo)
        let history = try CLI.sealant(["scan", "-f", "json"], in: repo)
        #expect(history.status == 1, "\(history.stderr)")
        #expect(try CLI.findings(history.stdout).first?["Message"] as? String == "detached leak")
    }

    @Test("no HEAD yet: the first commit's staged files are scanned")
    func unbornHead() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try CLI.git(["init", "-q"], in: dir)
        // Nothing staged, nothing committed: a note, not an error.
        #expect(try CLI.sealant(["scan", "--staged"], in: dir).status == 0)
        try "ok = 1\n".write(to: dir.appendingPathComponent("ok.py"), atomically: true, encoding: .utf8)
        try CLI.git(["add", "ok.py"], in: dir)
        #expect(try CLI.sealant(["scan", "--staged"], in: dir).status == 0)
        try "t = \"\(CLI.fakeGitHubToken())\"\n".write(to: dir.appendingPathComponent("leak.py"), atomically: true, encoding: .utf8)
        try CLI.git(["add", "leak.py"], in: dir)
        let staged = try CLI.sealant(["scan", "--staged", "-f", "json"], in: dir)
        #expect(staged.status == 1, "\(staged.stderr)")
        #expect(try CLI.findings(staged.stdout).map { $0["File"] as? String } == ["leak.py"])
        // History of an unborn branch: nothing to scan, no error.
        #expect(try CLI.sealant(["scan"], in: dir).status == 0)
    }
}
