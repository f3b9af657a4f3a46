import Dispatch
import Glibc

/// A thin wrapper over Linux inotify on one directory: entries created, written, renamed in or out, deleted,
/// or their attributes changed (a mounted Secret volume swaps its `..data` symlink: a rename into the directory).
/// It only says *that* something changed; the caller reads the directory again.
final class DirectoryWatcher: @unchecked Sendable {
    /// The watched directory.
    let path: String
    private let descriptor: Int32
    private let queue: DispatchQueue
    private let source: DispatchSourceRead
    // Confined to `queue`:
    private var pending = false
    private var gone = false
    private var cancelled = false
    private var waiter: (id: Int, continuation: CheckedContinuation<Bool, Never>)?
    private var nextWaiter = 0

    /// Watches `path`; nil when inotify is unavailable or the directory cannot be watched (e.g. it does not exist).
    init?(path: String) {
        let descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else { return nil }
        let mask = UInt32(IN_CREATE | IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB
                          | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
        guard inotify_add_watch(descriptor, path, mask) >= 0 else {
            close(descriptor)
            return nil
        }
        self.path = path
        self.descriptor = descriptor
        queue = DispatchQueue(label: "sealant.directory-watcher")
        source = DispatchSource.makeReadSource(fileDescriptor: descriptor, queue: queue)
        source.setEventHandler { [weak self] in self?.drain() }
        source.setCancelHandler { close(descriptor) }
        source.resume()
    }

    deinit { source.cancel() }

    /// Whether the directory itself was deleted or moved away (the watch has ended: make a new watcher).
    var isGone: Bool { queue.sync { gone } }

    /// Waits until something changed since the last call (true), or until `timeout` seconds pass (nil = no limit),
    /// the directory goes away, or the task is cancelled (false).
    func waitForChange(timeout: Double?) async -> Bool {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                queue.async { [self] in
                    if pending || gone || cancelled {
                        let changed = pending
                        pending = false
                        continuation.resume(returning: changed)
                        return
                    }
                    nextWaiter += 1
                    let id = nextWaiter
                    waiter = (id, continuation)
                    if let timeout {
                        queue.asyncAfter(deadline: .now() + timeout) { [self] in resume(id, with: false) }
                    }
                }
            }
        } onCancel: {
            queue.async { [self] in
                cancelled = true
                resume(nil, with: false)
            }
        }
    }

    /// Reads the queued inotify events (on `queue`).
    private func drain() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            var offset = 0
            while offset + MemoryLayout<inotify_event>.size <= count {
                let (mask, length) = buffer.withUnsafeBytes { bytes in
                    let event = bytes.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                    return (event.mask, Int(event.len))
                }
                if mask & UInt32(IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED) != 0 { gone = true }
                offset += MemoryLayout<inotify_event>.size + length
            }
        }
        pending = true
        resume(nil, with: true)
    }

    /// Resumes the waiter (`id` nil: whichever waits) once (on `queue`).
    private func resume(_ id: Int?, with changed: Bool) {
        guard let current = waiter, id == nil || current.id == id else { return }
        waiter = nil
        if changed { pending = false }
        current.continuation.resume(returning: changed)
    }
}
