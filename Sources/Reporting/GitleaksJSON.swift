import Detection
import Dispatch

/// The gitleaks 8.x JSON report: an array of objects with gitleaks' keys in gitleaks' order,
/// indented by one space, `[]` when empty, newline-terminated.
enum GitleaksJSON {
    static func render(_ findings: [Finding]) -> String {
        guard !findings.isEmpty else { return "[]\n" }
        // What `JSONValue.array(findings.map(object)).rendered(indent: " ")` prints, rendered in
        // chunks on every core: a directory scan's report of 20k findings took most of a second on
        // one thread after the scanning was done.
        let chunk = 256
        let chunks = (findings.count + chunk - 1) / chunk
        let parts = Slots(count: chunks)
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            var out = [UInt8]()
            out.reserveCapacity(chunk * 1024)
            for i in (c * chunk)..<min(findings.count, (c + 1) * chunk) {
                JSONValue.newline(&out, indent: [UInt8(ascii: " ")], level: 1)
                object(findings[i]).write(into: &out, indent: [UInt8(ascii: " ")], level: 1)
                if i < findings.count - 1 { out.append(UInt8(ascii: ",")) }
            }
            parts.set(c, out)
        }
        var out = [UInt8]()
        out.reserveCapacity(parts.values.reduce(3) { $0 + $1.count })
        out.append(UInt8(ascii: "["))
        for part in parts.values { out += part }
        out += "\n]\n".utf8
        return String(decoding: out, as: UTF8.self)
    }

    /// One finding as gitleaks marshals its `report.Finding` (`Link` is `omitempty`; `Line` and
    /// `Fragment` are not written).
    static func object(_ f: Finding) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("RuleID", .string(f.ruleID)),
            ("Description", .string(f.description)),
            ("StartLine", .int(f.startLine)),
            ("EndLine", .int(f.endLine)),
            ("StartColumn", .int(f.startColumn)),
            ("EndColumn", .int(f.endColumn)),
            ("Match", .string(f.match)),
            ("Secret", .string(f.secret)),
            ("File", .string(f.provenance.file)),
            ("SymlinkFile", .string(f.provenance.symlinkFile)),
            ("Commit", .string(f.provenance.commit)),
        ]
        if !f.provenance.link.isEmpty { members.append(("Link", .string(f.provenance.link))) }
        members += [
            ("Entropy", .number(GoFloat.float32(f.entropy))),
            ("Author", .string(f.provenance.author)),
            ("Email", .string(f.provenance.email)),
            ("Date", .string(f.provenance.date)),
            ("Message", .string(f.provenance.message)),
            ("Tags", .array(f.tags.map(JSONValue.string))),
            ("Fingerprint", .string(f.fingerprint)),
        ]
        return .object(members)
    }
}

/// One result per index, each written by exactly one concurrent task (`concurrentPerform`), into
/// memory allocated up front (no shared array header is touched while they run).
private final class Slots: @unchecked Sendable {
    private let storage: UnsafeMutableBufferPointer<[UInt8]>

    init(count: Int) {
        storage = .allocate(capacity: count)
        storage.initialize(repeating: [])
    }

    deinit {
        storage.deinitialize()
        storage.deallocate()
    }

    func set(_ index: Int, _ value: [UInt8]) { storage[index] = value }

    /// Read after every task has finished.
    var values: UnsafeMutableBufferPointer<[UInt8]> { storage }
}
