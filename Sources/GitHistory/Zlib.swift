import CZlib

/// One zlib inflate stream, reused for one object after another (one per thread).
final class Inflater {
    private let stream: UnsafeMutablePointer<z_stream>
    private var ready = false

    init() {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
    }

    deinit {
        if ready { inflateEnd(stream) }
        stream.deallocate()
    }

    /// Inflates one whole zlib stream from `input` into `output`, which has room for `count` bytes
    /// and one more; true when the stream ends having produced exactly `count` bytes.
    func inflate(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawPointer, count: Int) -> Bool {
        guard input.count <= Int(UInt32.max), count < Int(UInt32.max) else { return false }
        if ready {
            guard inflateReset(stream) == Z_OK else { return false }
        } else {
            guard sealant_inflate_init(stream) == Z_OK else { return false }
            ready = true
        }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        stream.pointee.next_out = output.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(count + 1)
        return CZlib.inflate(stream, Z_FINISH) == Z_STREAM_END && stream.pointee.total_out == count
    }
}
