import Foundation
import Testing

/// End-to-end checks of the `sealant` binary: real processes, real git repositories, real files.
@Suite("sealant command line", .serialized)
struct CLITests {
    /// The built `sealant` next to the test bundle.
    static let binary: String = {
        var dir = Bundle.main.bundleURL
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("sealant").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return "sealant"
    }()

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs a command with output captured through temp files (pipe reads can trap on EINTR).
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], in directory: URL, environment: [String: String] = [:]) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable.hasPrefix("/") ? executable : "/usr/bin/env")
        process.arguments = executable.hasPrefix("/") ? arguments : [executable] + arguments
        process.currentDirectoryURL = directory
        var env = ProcessInfo.processInfo.environment
        env["XDG_CACHE_HOME"] = directory.appendingPathComponent(".cache").path
        env["NO_COLOR"] = "1"
        env.removeValue(forKey: "SEALANT_CONFIG")
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = directory.appendingPathComponent(".out-\(UUID().uuidString)")
        let err = directory.appendingPathComponent(".err-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: err)
        }
        let outHandle = try FileHandle(forWritingTo: out)
        let errHandle = try FileHandle(forWritingTo: err)
        process.standardOutput = outHandle
        process.standardError = errHandle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try? outHandle.close()
        try? errHandle.close()
        return Run(status: process.terminationStatus,
                   stdout: String(decoding: (try? Data(contentsOf: out)) ?? Data(), as: UTF8.self),
                   stderr: String(decoding: (try? Data(contentsOf: err)) ?? Data(), as: UTF8.self))
    }

    static func sealant(_ arguments: [String], in directory: URL, environment: [String: String] = [:]) throws -> Run {
        try run(binary, arguments, in: directory, environment: environment)
    }

    static func git(_ arguments: [String], in directory: URL, date: String = "2026-01-02T03:04:05Z") throws {
        let result = try run("git", ["-c", "user.name=Dev", "-c", "user.email=dev@example.invalid", "-c", "commit.gpgsign=false",
                                     "-c", "init.defaultBranch=main"] + arguments, in: directory,
                             environment: ["GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date])
        #expect(result.status == 0, "git \(arguments.joined(separator: " ")): \(result.stderr)")
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sealant-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A GitHub-style token with a valid CRC32/base62 checksum, made up at run time.
    static func fakeGitHubToken() -> String {
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        var rng = SystemRandomNumberGenerator()
        let payload = String((0..<30).map { _ in alphabet[Int(rng.next() % 62)] })
        var crc: UInt32 = 0xFFFF_FFFF
        for b in payload.utf8 {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
        }
        crc ^= 0xFFFF_FFFF
        var digits = [Character]()
        repeat { digits.append(alphabet[Int(crc % 62)]); crc /= 62 } while crc > 0
        while digits.count < 6 { digits.append("0") }
        return "gh" + "p_" + payload + String(digits.reversed())
    }

    static func findings(_ json: String) throws -> [[String: Any]] {
        (try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]]) ?? []
    }

    @Test("exit codes: 0 clean, 1 findings, 2 errors with one line naming the path")
    func exitCodes() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "nothing to see\n".write(to: dir.appendingPathComponent("clean.txt"), atomically: true, encoding: .utf8)
        #expect(try Self.sealant(["scan", "clean.txt"], in: dir).status == 0)

        let token = Self.fakeGitHubToken()
        try "x = 1\ntoken = \"\(token)\"\n".write(to: dir.appendingPathComponent("leak.py"), atomically: true, encoding: .utf8)
        let leak = try Self.sealant(["scan", "leak.py", "-f", "json"], in: dir)
        #expect(leak.status == 1)
        let found = try Self.findings(leak.stdout)
        #expect(found.count == 1)
        #expect(found.first?["StartLine"] as? Int == 2)
        #expect(found.first?["File"] as? String == "leak.py")
        #expect(try Self.sealant(["scan", "leak.py", "--exit-code", "7"], in: dir).status == 7)
        // Redaction: the secret is not printed.
        let redacted = try Self.sealant(["scan", "leak.py", "-f", "json", "--redact"], in: dir)
        #expect(!redacted.stdout.contains(token))

        let missing = try Self.sealant(["scan", "no-such-file"], in: dir)
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("no-such-file"))
        #expect(missing.stderr.split(separator: "\n").count == 1)

        try "[[rules]]\nid = \"x\"\nregex = '''(unclosed'''\n".write(to: dir.appendingPathComponent("bad.toml"), atomically: true, encoding: .utf8)
        let bad = try Self.sealant(["scan", "clean.txt", "-c", "bad.toml"], in: dir)
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("rule x"))
    }

    @Test("history: a secret is attributed to the commit that introduced it, even within the same second; merges and messages count")
    func historyAttribution() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let token = Self.fakeGitHubToken()
        try Self.git(["init", "-q"], in: dir)
        try "a = 1\nkey = \(token)\n".write(to: dir.appendingPathComponent("conf.py"), atomically: true, encoding: .utf8)
        try Self.git(["add", "conf.py"], in: dir)
        try Self.git(["commit", "-qm", "add conf"], in: dir)
        try "b = 2\na = 1\nkey = \(token)\n".write(to: dir.appendingPathComponent("conf.py"), atomically: true, encoding: .utf8)
        try Self.git(["commit", "-qam", "edit conf"], in: dir)
        try Self.git(["rm", "-q", "conf.py"], in: dir)
        try Self.git(["commit", "-qm", "remove conf"], in: dir)

        let result = try Self.sealant(["scan", "-f", "json"], in: dir)
        #expect(result.status == 1)
        let found = try Self.findings(result.stdout).filter { $0["File"] as? String == "conf.py" }
        #expect(found.count == 1)
        #expect(found.first?["Message"] as? String == "add conf")
        #expect(found.first?["StartLine"] as? Int == 2)
        #expect(found.first?["Date"] as? String == "2026-01-02T03:04:05Z")

        // Staged changes: a clean tree with nothing staged passes; a staged secret fails.
        #expect(try Self.sealant(["scan", "--staged"], in: dir).status == 0)
        try "tok=\(token)\n".write(to: dir.appendingPathComponent("new.txt"), atomically: true, encoding: .utf8)
        try Self.git(["add", "new.txt"], in: dir)
        let staged = try Self.sealant(["scan", "--staged", "-f", "json"], in: dir)
        #expect(staged.status == 1)
        #expect(try Self.findings(staged.stdout).first?["File"] as? String == "new.txt")
        // Under the pre-commit framework, nothing staged is an error, not a silent pass.
        try Self.git(["reset", "-q"], in: dir)
        #expect(try Self.sealant(["scan", "--staged"], in: dir, environment: ["PRE_COMMIT": "1"]).status == 2)
    }

    @Test("diff mode diffs only the commits whose new files could hold a finding, with the report diffing every commit gives")
    func prefilteredDiffMode() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let token = Self.fakeGitHubToken()
        func write(_ path: String, _ text: String) throws {
            let url = dir.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        func commit(_ message: String, minute: Int) throws {
            try Self.git(["add", "-A"], in: dir)
            try Self.git(["commit", "-qm", message], in: dir, date: "2026-01-02T03:\(10 + minute):00Z")
        }
        try Self.git(["init", "-q"], in: dir)
        try write(".sealant.toml", "[extend]\nuseDefault = true\n[[allowlists]]\npaths = ['''^fixtures/''']\n")
        try write("README.md", "hello\n")
        try commit("init", minute: 0)
        // Content whose first path is allowlisted: only its later copy elsewhere is a finding.
        try write("fixtures/t.txt", "key = \(token)\n")
        try commit("fixture", minute: 1)
        for index in 0..<5 {
            try write("notes/\(index).txt", "note \(index)\n")
            try commit("note \(index)", minute: 2 + index)
        }
        try write("src/t.txt", "key = \(token)\n")
        try commit("copy", minute: 8)
        // A pure rename adds no line; an edit after it adds one.
        try Self.git(["mv", "src/t.txt", "src/u.txt"], in: dir)
        try commit("rename", minute: 9)
        try write("src/u.txt", "key = \(token)\nother = \(Self.fakeGitHubToken())\n")
        try commit("edit", minute: 10)
        // A secret only in a merge's resolution.
        try Self.git(["checkout", "-qb", "side"], in: dir)
        try write("merge.txt", "side\n")
        try commit("side", minute: 11)
        try Self.git(["checkout", "-q", "main"], in: dir)
        try write("merge.txt", "main\n")
        try commit("main", minute: 12)
        _ = try Self.run("git", ["-c", "user.name=Dev", "-c", "user.email=dev@example.invalid", "merge", "-q", "side"], in: dir)
        try write("merge.txt", "resolved \(Self.fakeGitHubToken())\n")
        try commit("merge", minute: 13)
        // A token pasted into a commit message that changes no file.
        try Self.git(["commit", "--allow-empty", "-qm", "deploy with \(Self.fakeGitHubToken())"], in: dir, date: "2026-01-02T03:24:00Z")

        let fast = try Self.sealant(["scan", "--diff", "-f", "json", "-v"], in: dir)
        let full = try Self.sealant(["scan", "--diff", "--exhaustive-diff", "-f", "json"], in: dir)
        #expect(fast.status == 1)
        #expect(fast.stdout == full.stdout)
        let found = try Self.findings(fast.stdout)
        #expect(found.map { "\(($0["Message"] as? String ?? "").prefix(11)) \($0["File"] as? String ?? ""):\($0["StartLine"] as? Int ?? 0)" }.sorted()
                == ["copy src/t.txt:1", "deploy with <commit message>:1", "edit src/u.txt:2", "merge merge.txt:1"])
        // 14 commits; diffed: fixture, copy, rename, edit and merge (their new blobs hold the tokens), and the message.
        #expect(fast.stderr.contains("of 14 commits (6 diffed"), "\(fast.stderr)")
        // The same over a range, where the token's content predates the range.
        let range = try Self.sealant(["scan", "--range", "HEAD~6..HEAD", "-f", "json"], in: dir)
        let rangeFull = try Self.sealant(["scan", "--range", "HEAD~6..HEAD", "--exhaustive-diff", "-f", "json"], in: dir)
        #expect(range.stdout == rangeFull.stdout)
        #expect(try Self.findings(range.stdout).count == 4)
        #expect(try Self.sealant(["scan", "--exhaustive-diff"], in: dir).status == 2)
    }

    @Test("hook install chains an existing hook, blocks a leaking commit, and uninstall restores the old hook")
    func hookInstall() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.git(["init", "-q"], in: dir)
        let hooks = dir.appendingPathComponent(".git/hooks")
        try FileManager.default.createDirectory(at: hooks, withIntermediateDirectories: true)
        let old = "#!/bin/sh\necho previous-hook-ran\n"
        try old.write(to: hooks.appendingPathComponent("pre-commit"), atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: hooks.appendingPathComponent("pre-commit").path)

        #expect(try Self.sealant(["hook", "install"], in: dir).status == 0)
        try "x = 1\n".write(to: dir.appendingPathComponent("ok.txt"), atomically: true, encoding: .utf8)
        try Self.git(["add", "ok.txt"], in: dir)
        let clean = try Self.run("git", ["-c", "user.name=D", "-c", "user.email=d@example.invalid", "commit", "-qm", "ok"], in: dir)
        #expect(clean.status == 0)
        #expect((clean.stdout + clean.stderr).contains("previous-hook-ran"))

        try "t = \(Self.fakeGitHubToken())\n".write(to: dir.appendingPathComponent("leak.txt"), atomically: true, encoding: .utf8)
        try Self.git(["add", "leak.txt"], in: dir)
        let blocked = try Self.run("git", ["-c", "user.name=D", "-c", "user.email=d@example.invalid", "commit", "-qm", "leak"], in: dir)
        #expect(blocked.status != 0)

        #expect(try Self.sealant(["hook", "uninstall"], in: dir).status == 0)
        #expect(try String(contentsOf: hooks.appendingPathComponent("pre-commit"), encoding: .utf8) == old)
    }

    @Test("scan --fix seals plain Secrets in place; the files keep their other documents and unseal to the original values")
    func fixSealsSecrets() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try Self.sealant(["keygen", "--out", "keys"], in: dir).status == 0)
        let password = "pw-\(UUID().uuidString)"
        let manifest = """
        # config first
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: cfg
        data:
          LOG_LEVEL: info
        ---
        apiVersion: v1
        kind: Secret
        metadata:
          name: db
          namespace: prod
        type: Opaque
        data:
          password: \(Data(password.utf8).base64EncodedString())
        stringData:
          user: admin-\(UUID().uuidString.prefix(8))
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: web

        """
        let file = dir.appendingPathComponent("app.yaml")
        try manifest.write(to: file, atomically: true, encoding: .utf8)

        let before = try Self.sealant(["scan", "app.yaml", "-f", "json"], in: dir)
        #expect(try Self.findings(before.stdout).filter { $0["RuleID"] as? String == "kubernetes-secret-manifest" }.count == 2)

        let fix = try Self.sealant(["scan", "app.yaml", "--fix", "--cert", "keys/tls.crt"], in: dir)
        #expect(fix.stderr.contains("sealed 1 Secret"))
        let after = try String(contentsOf: file, encoding: .utf8)
        #expect(after.hasPrefix("# config first\napiVersion: v1\nkind: ConfigMap"))
        #expect(after.contains("kind: SealedSecret"))
        #expect(after.hasSuffix("kind: Service\nmetadata:\n  name: web\n"))
        #expect(!after.contains(password))

        let rescan = try Self.sealant(["scan", "app.yaml", "-f", "json"], in: dir)
        #expect(try Self.findings(rescan.stdout).isEmpty)

        // Unseal the SealedSecret document with the private key: every value comes back.
        let sealedDocument = after.components(separatedBy: "\n---\n").first { $0.contains("kind: SealedSecret") } ?? ""
        try sealedDocument.write(to: dir.appendingPathComponent("sealed.yaml"), atomically: true, encoding: .utf8)
        let unsealed = try Self.sealant(["unseal", "--key", "keys/tls.key", "-f", "sealed.yaml", "-o", "json"], in: dir)
        #expect(unsealed.status == 0, "\(unsealed.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(unsealed.stdout.utf8)) as? [String: Any]
        let data = object?["data"] as? [String: String]
        #expect(data?["password"].flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } == password)
        #expect(data?["user"] != nil)
    }
}
