import Foundation
import Testing
@testable import Rules

// Helpers for the Rules suites: temp directories and files, and error capture.

/// A fresh directory under the system temp dir, removed when the closure returns.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let path = NSTemporaryDirectory() + "sealant-rtests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

/// Writes `text` to `dir/name` and returns the full path.
@discardableResult
func write(_ text: String, to dir: String, _ name: String) throws -> String {
    let path = dir + "/" + name
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    return path
}

/// The ConfigError thrown by `body`, recording a test issue when nothing (or something else) is thrown.
func configError(_ body: () throws -> Any, sourceLocation: SourceLocation = #_sourceLocation) -> ConfigError? {
    #expect(throws: ConfigError.self, sourceLocation: sourceLocation) { _ = try body() }
}

/// A relative path (from the current directory) to the absolute `path`.
func relativeFromCurrentDirectory(_ path: String) -> String {
    let cwd = FileManager.default.currentDirectoryPath.split(separator: "/")
    return String(repeating: "../", count: cwd.count) + path.drop { $0 == "/" }
}

/// A minimal rule table.
func rule(_ id: String, regex: String = "tk_[a-z]{8}", extra: String = "") -> String {
    """

    [[rules]]
    id = "\(id)"
    regex = '''\(regex)'''
    \(extra)

    """
}
