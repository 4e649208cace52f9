import CompressNIO
import Foundation
import NIOCore

/// gzip decompression that never expands past a bound: at most `maxBytes`, and at most `maxRatio` times the
/// compressed size (so a small gzip bomb is refused after a small allocation, not after gigabytes). Truncated
/// streams are refused too (the trailer's ISIZE must match what came out).
public enum BoundedGunzip {
    public static func isGzip(_ data: Data) -> Bool { data.count >= 2 && data[data.startIndex] == 0x1f && data[data.startIndex + 1] == 0x8b }

    /// The decompressed bytes of every member (RFC 1952: a gzip file may be several members one after another,
    /// as `cat a.gz b.gz` makes); `CaptureDecodeError` `.tooLarge` past the bound, `.malformed` for a corrupt or
    /// truncated member (each member's ISIZE trailer must match what came out of it) or bytes after the last
    /// member that are not another one. `path` names the input in messages (`body`, a file name).
    public static func decompress(_ data: Data, maxBytes: Int, maxRatio: Int, path: String = "body") throws -> Data {
        let (byRatio, over) = data.count.multipliedReportingOverflow(by: max(1, maxRatio))
        let bound = over ? maxBytes : min(maxBytes, byRatio)
        var input = ByteBuffer(bytes: data)
        var out = Data()
        var members = 0
        while input.readableBytes > 0 {
            let start = input.readerIndex
            guard input.readableBytes >= 18, input.getInteger(at: start, as: UInt16.self) == 0x1f8b else {
                throw CaptureDecodeError(
                    path: path,
                    problem: members == 0
                        ? "is not a valid gzip stream (no gzip header)"
                        : "is not a valid gzip stream (\(input.readableBytes) bytes after member \(members) are not a gzip member)",
                    reason: .malformed)
            }
            let member: Data
            do {
                var buffer = try input.decompress(with: .gzip(), maxSize: bound - out.count + 1)
                member = Data(buffer.readBytes(length: buffer.readableBytes) ?? [])
            } catch let e as CompressNIOError where e == .bufferOverflow {
                throw tooLarge(bound, maxBytes, maxRatio, path)
            } catch {
                throw CaptureDecodeError(path: path, problem: "is not a valid gzip stream (\(error))", reason: .malformed)
            }
            // zlib stops quietly at the end of a truncated stream: the member's trailer (ISIZE: its length mod 2^32,
            // little-endian, its last 4 bytes) must match what came out, or records would be lost unnoticed
            let end = input.readerIndex
            let trailer = data.dropFirst(end - 4).prefix(4).map(UInt32.init)  // (the buffer reads only ahead of its reader index)
            guard end - start >= 18, trailer.count == 4,
                trailer[0] | trailer[1] << 8 | trailer[2] << 16 | trailer[3] << 24 == UInt32(truncatingIfNeeded: member.count)
            else {
                throw CaptureDecodeError(path: path, problem: "is not a valid gzip stream (truncated: the stream ends early)", reason: .malformed)
            }
            out.append(member)
            if out.count > bound { throw tooLarge(bound, maxBytes, maxRatio, path) }
            members += 1
        }
        guard members > 0 else { throw CaptureDecodeError(path: path, problem: "is not a valid gzip stream (empty)", reason: .malformed) }
        return out
    }

    static func tooLarge(_ bound: Int, _ maxBytes: Int, _ maxRatio: Int, _ path: String) -> CaptureDecodeError {
        CaptureDecodeError(
            path: path,
            problem:
                "expands past \(bound) bytes when decompressed (at most \(maxBytes) bytes and \(maxRatio)× the compressed size are accepted; --max-decompressed-bytes)",
            reason: .tooLarge)
    }
}
