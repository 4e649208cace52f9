import Foundation

/// The profile file format, version 1 (little-endian):
/// `"DRIFTPRF"` (8 bytes) · format version (UInt32) · header length (UInt64) · header (JSON:
/// metadata, feature names, counts, category counts) · payload (Float64 arrays: each numeric
/// feature's sorted sample in header order, then the correlation matrix).
/// Samples are stored as raw doubles so that a profile round-trips bit for bit.
public enum ProfileCodec {
    public static let magic = Array("DRIFTPRF".utf8)
    public static let version: UInt32 = 1

    public enum DecodeError: Error, CustomStringConvertible, Equatable {
        case notAProfile
        case unsupportedVersion(UInt32)
        case truncated
        case badHeader(String)

        public var description: String {
            switch self {
            case .notAProfile: return "not a drift-worker profile (missing DRIFTPRF signature)"
            case .unsupportedVersion(let v):
                return
                    "profile format version \(v) is not supported by this build (supports \(ProfileCodec.version)); rebuild it with `drift-worker profile`"
            case .truncated: return "the profile file is truncated"
            case .badHeader(let s): return "the profile header is damaged (\(s))"
            }
        }
    }

    private struct Header: Codable {
        struct Numeric: Codable {
            var name: String, sampleCount: Int, missing: Int, presentCount: Int
            var mean: Double?, standardDeviation: Double?, minimum: Double?, maximum: Double?, quantileEdges: [Double]
        }
        var source: String, rowCount: Int, sampleCap: Int, seed: UInt64
        var numeric: [Numeric]
        var categorical: [ReferenceProfile.CategoricalFeature]
        var correlationNames: [String]
        var featureNames: [String]
    }

    public static func isProfile(_ data: Data) -> Bool { data.count >= 8 && Array(data.prefix(8)) == magic }

    public static func encode(_ p: ReferenceProfile) throws -> Data {
        let header = Header(
            source: p.source, rowCount: p.rowCount, sampleCap: p.sampleCap, seed: p.seed,
            numeric: p.numeric.map {
                .init(
                    name: $0.name, sampleCount: $0.sample.count, missing: $0.missing, presentCount: $0.presentCount,
                    mean: finite($0.mean), standardDeviation: finite($0.standardDeviation),
                    minimum: finite($0.minimum), maximum: finite($0.maximum), quantileEdges: $0.quantileEdges)
            },
            categorical: p.categorical, correlationNames: p.correlationNames, featureNames: p.featureNames)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = try encoder.encode(header)
        var out = Data(magic)
        append(&out, version)
        append(&out, UInt64(json.count))
        out.append(json)
        for f in p.numeric { appendDoubles(&out, f.sample) }
        appendDoubles(&out, p.correlation)
        return out
    }

    public static func decode(_ data: Data) throws -> ReferenceProfile {
        let bytes = [UInt8](data)
        guard bytes.count >= 20, Array(bytes[0..<8]) == magic else { throw DecodeError.notAProfile }
        let v: UInt32 = read(bytes, at: 8)
        guard v == version else { throw DecodeError.unsupportedVersion(v) }
        let headerLength = Int(read(bytes, at: 12) as UInt64)
        guard bytes.count >= 20 + headerLength else { throw DecodeError.truncated }
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(bytes[20..<(20 + headerLength)]))
        } catch {
            throw DecodeError.badHeader("\(error)".prefix(100).description)
        }
        var offset = 20 + headerLength
        var numeric: [ReferenceProfile.NumericFeature] = []
        for h in header.numeric {
            let sample = try readDoubles(bytes, &offset, count: h.sampleCount)
            numeric.append(
                .init(
                    name: h.name, sample: sample, missing: h.missing, presentCount: h.presentCount,
                    mean: h.mean ?? .nan, standardDeviation: h.standardDeviation ?? .nan,
                    minimum: h.minimum ?? .nan, maximum: h.maximum ?? .nan, quantileEdges: h.quantileEdges))
        }
        let p = header.correlationNames.count
        let correlation = try readDoubles(bytes, &offset, count: p * p)
        return ReferenceProfile(
            source: header.source, rowCount: header.rowCount, sampleCap: header.sampleCap,
            seed: header.seed, numeric: numeric, categorical: header.categorical,
            correlationNames: header.correlationNames, correlation: correlation,
            featureNames: header.featureNames)
    }

    private static func finite(_ x: Double) -> Double? { x.isFinite ? x : nil }

    private static func append<T: FixedWidthInteger>(_ out: inout Data, _ v: T) {
        withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
    }

    private static func appendDoubles(_ out: inout Data, _ xs: [Double]) {
        let le = xs.map { $0.bitPattern.littleEndian }
        le.withUnsafeBytes { out.append(contentsOf: $0) }
    }

    private static func read<T: FixedWidthInteger>(_ bytes: [UInt8], at offset: Int) -> T {
        var v: T = 0
        for i in 0..<MemoryLayout<T>.size { v |= T(bytes[offset + i]) << (8 * i) }
        return v
    }

    private static func readDoubles(_ bytes: [UInt8], _ offset: inout Int, count: Int) throws -> [Double] {
        guard count >= 0, offset + 8 * count <= bytes.count else { throw DecodeError.truncated }
        var out = [Double](repeating: 0, count: count)
        bytes.withUnsafeBytes { raw in
            for i in 0..<count {
                let bits = raw.loadUnaligned(fromByteOffset: offset + 8 * i, as: UInt64.self)
                out[i] = Double(bitPattern: UInt64(littleEndian: bits))
            }
        }
        offset += 8 * count
        return out
    }
}
