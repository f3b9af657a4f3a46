import Foundation

/// Work started on its own thread at the beginning of a command and collected where it is needed:
/// a pre-commit run opens the repository (libgit2's set-up alone parses the system CA bundle, ~3 ms)
/// while the main thread loads the rules and the compiled database.
final class Prefetch<Value: Sendable>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<Value, any Error>?

    init(_ work: @escaping @Sendable () throws -> Value) {
        Thread.detachNewThread { [self] in
            result = Result(catching: work)
            done.signal()
        }
    }

    /// The work's value or error, waiting for it to finish (any number of calls).
    func value() throws -> Value {
        done.wait()
        defer { done.signal() }
        return try result!.get()
    }
}
