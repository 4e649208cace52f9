import CompressNIO
import Foundation
import NIOCore

/// gzip decompression that never expands past a bound: at most `maxBytes`, and at most `maxRatio` times the
/// compressed size (so a small gzip bomb is refused after a small allocation, not after gigabytes). Truncated
/// streams are refused too (the trailer's ISIZE must match what came out).
public enum BoundedGunzip {
    public static func isGzip(_ data: Data) -> Bool { data.count >= 2 && data[data.startIndex] == 0x1f && data[data.startIndex + 1] == 0x8b }

    /// The decompressed bytes; `CaptureDecodeError` `.tooLarge` past the bound, `.malformed` for a corrupt or
    /// truncated stream. `path` names the input in messages (`body`, a file name).
    public static func decompress(_ data: Data, maxBytes: Int, maxRatio: Int, path: String = "body") throws -> Data {
        let (byRatio, over) = data.count.multipliedReportingOverflow(by: max(1, maxRatio))
        let bound = over ? maxBytes : min(maxBytes, byRatio)
        var input = ByteBuffer(bytes: data)
        let out: Data
        do {
            var buffer = try input.decompress(with: .gzip(), maxSize: bound)
            out = Data(buffer.readBytes(length: buffer.readableBytes) ?? [])
        } catch let e as CompressNIOError where e == .bufferOverflow {
            throw CaptureDecodeError(path: path, problem: "expands past \(bound) bytes when decompressed (at most \(maxBytes) bytes and \(maxRatio)× the compressed size are accepted; --max-decompressed-bytes)",
                                     reason: .tooLarge)
        } catch {
            throw CaptureDecodeError(path: path, problem: "is not a valid gzip stream (\(error))", reason: .malformed)
        }
        // zlib stops quietly at the end of a truncated stream: the trailer's ISIZE (length mod 2^32,
        // little-endian, the last 4 bytes) must match what came out, or records would be lost unnoticed.
        let tail = data.suffix(4).map(UInt32.init)
        let isize = tail.count == 4 ? tail[0] | tail[1] << 8 | tail[2] << 16 | tail[3] << 24 : 0
        guard data.count >= 18, isize == UInt32(truncatingIfNeeded: out.count) else {
            throw CaptureDecodeError(path: path, problem: "is not a valid gzip stream (truncated: the stream ends early)", reason: .malformed)
        }
        return out
    }
}
