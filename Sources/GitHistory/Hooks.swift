import Foundation

/// Installs and removes a git hook script without losing a hook that was already there: an existing
/// hook is moved aside to `<name>.sealant-chained` and the new script runs it afterwards; uninstalling
/// moves it back.
public struct HookInstaller: Sendable {
    /// The marker line that identifies scripts this installer wrote.
    public static let marker = "# installed by: sealant hook install"

    public let repository: GitRepository

    public init(repository: GitRepository) { self.repository = repository }

    /// Where hooks live: `core.hooksPath` when set (relative to the work tree), else `.git/hooks`.
    public var hooksDirectory: String {
        if let configured = Self.coreHooksPath(configFile: repository.gitDirectory + "/config"), !configured.isEmpty {
            if configured.hasPrefix("/") { return configured }
            let base = repository.workTree ?? repository.gitDirectory
            return (base as NSString).appendingPathComponent(configured)
        }
        return (repository.gitDirectory as NSString).appendingPathComponent("hooks")
    }

    /// What `install` did.
    public enum Outcome: Equatable, Sendable {
        case installed(path: String)
        case installedChaining(path: String, chained: String)
        case updated(path: String)
    }

    /// Writes `script` as hook `name`. A foreign hook is chained; our own is replaced only with `force`.
    public func install(name: String, script: String, force: Bool) throws -> Outcome {
        let dir = hooksDirectory
        let path = dir + "/" + name
        let chained = path + ".sealant-chained"
        let fm = FileManager.default
        do {
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw HookError(path: dir, reason: "cannot create hooks directory")
        }
        var outcome = Outcome.installed(path: path)
        if fm.fileExists(atPath: path) {
            let existing = (fm.contents(atPath: path)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            if existing.contains(Self.marker) {
                guard force else { throw HookError(path: path, reason: "a sealant hook is already installed (use --force to rewrite it)") }
                outcome = .updated(path: path)
            } else {
                guard !fm.fileExists(atPath: chained) else {
                    throw HookError(path: chained, reason: "already exists; remove it or uninstall first")
                }
                guard rename(path, chained) == 0 else {
                    throw HookError(path: path, reason: "cannot move the existing hook aside: \(String(cString: strerror(errno)))")
                }
                outcome = .installedChaining(path: path, chained: chained)
            }
        }
        let temp = path + ".tmp-\(ProcessInfo.processInfo.processIdentifier)"
        guard fm.createFile(atPath: temp, contents: Data(script.utf8), attributes: [.posixPermissions: 0o755]),
              rename(temp, path) == 0 else {
            try? fm.removeItem(atPath: temp)
            if case .installedChaining = outcome { _ = rename(chained, path) }
            throw HookError(path: path, reason: "cannot write hook: \(String(cString: strerror(errno)))")
        }
        return outcome
    }

    /// Removes our hook `name` and puts back the hook it chained, if any. Returns the restored path.
    @discardableResult
    public func uninstall(name: String) throws -> String? {
        let path = hooksDirectory + "/" + name
        let chained = path + ".sealant-chained"
        let fm = FileManager.default
        guard let data = fm.contents(atPath: path) else {
            throw HookError(path: path, reason: "no hook installed")
        }
        guard String(decoding: data, as: UTF8.self).contains(Self.marker) else {
            throw HookError(path: path, reason: "not installed by sealant; leaving it alone")
        }
        if fm.fileExists(atPath: chained) {
            guard rename(chained, path) == 0 else {
                throw HookError(path: chained, reason: "cannot restore: \(String(cString: strerror(errno)))")
            }
            return path
        }
        do {
            try fm.removeItem(atPath: path)
        } catch {
            throw HookError(path: path, reason: "cannot remove hook")
        }
        return nil
    }

    /// `core.hooksPath` from a git config file (the common `[core]` section form).
    static func coreHooksPath(configFile: String) -> String? {
        guard let data = FileManager.default.contents(atPath: configFile) else { return nil }
        var inCore = false
        for raw in String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[") { inCore = line.lowercased().hasPrefix("[core]"); continue }
            guard inCore, let eq = line.firstIndex(of: "=") else { continue }
            if line[..<eq].trimmingCharacters(in: .whitespaces).lowercased() == "hookspath" {
                var value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
                if value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2 { value = String(value.dropFirst().dropLast()) }
                if value.hasPrefix("~/"), let home = ProcessInfo.processInfo.environment["HOME"] { value = home + value.dropFirst() }
                return value
            }
        }
        return nil
    }
}

/// A hook that cannot be installed or removed, naming the file.
public struct HookError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var reason: String
    public var description: String { "\(path): \(reason)" }
}
