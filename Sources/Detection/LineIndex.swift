/// Maps byte offsets to 1-based line and column numbers; built once per scanned unit, lazily.
struct LineIndex {
    /// Offsets of every `\n` in the text.
    private let newlines: [Int]
    /// Lines before the first byte (for chunks of a larger file).
    private let firstLine: Int

    init(_ bytes: UnsafeRawBufferPointer, firstLine: Int = 1) {
        var offsets = [Int]()
        if let base = bytes.baseAddress {
            var p = base
            let end = base + bytes.count
            while p < end, let hit = memchr(p, 0x0A, end - p) {
                let raw = UnsafeRawPointer(hit)
                offsets.append(raw - base)
                p = raw + 1
            }
        }
        newlines = offsets
        self.firstLine = firstLine
    }

    /// Number of newlines strictly before `offset`.
    private func newlinesBefore(_ offset: Int) -> Int {
        var lo = 0, hi = newlines.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if newlines[mid] < offset { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// 1-based line number and 1-based column of the byte at `offset`.
    func position(of offset: Int) -> (line: Int, column: Int) {
        let n = newlinesBefore(offset)
        let lineStart = n == 0 ? 0 : newlines[n - 1] + 1
        return (firstLine + n, offset - lineStart + 1)
    }

    /// Byte range of the whole line(s) spanning `range`, without the trailing newline.
    func lines(spanning range: Range<Int>, count: Int) -> Range<Int> {
        let n = newlinesBefore(range.lowerBound)
        let start = n == 0 ? 0 : newlines[n - 1] + 1
        let last = max(range.lowerBound, range.upperBound - 1)
        let m = newlinesBefore(last)
        let end = m < newlines.count ? newlines[m] : count
        return start..<max(start, end)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
