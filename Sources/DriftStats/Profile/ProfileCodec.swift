import Foundation

/// The profile file format (all integers and doubles little-endian):
///
/// | bytes | content |
/// |---|---|
/// | 8 | `"DRIFTPRF"` |
/// | 4 | format version (UInt32): 2 (1 is still read) |
/// | 8 | header length H (UInt64) |
/// | H | header (UTF-8 JSON, sorted keys): source, rowCount, sampleCap, seed, featureNames, categorical (name, counts, missing), correlationNames, numeric (per feature: name, sampleCount, missing, presentCount, mean, standardDeviation, minimum, maximum, quantileEdges and — version 2 — quantileCounts) |
/// | 8·Σ sampleCount | each numeric feature's sorted sample (Float64), in header order |
/// | 8·p² | the correlation matrix of `correlationNames` (p of them), row-major |
///
/// `quantileEdges` are the interior edges of `ReferenceProfile.defaultBins` quantile bins of the sample (exactly
/// `Bins.quantile(sortedReference:bins:)`), and `quantileCounts` (edges + 1 entries) the sample's count per bin, so a
/// comparison with those bins does not recount the reference. Version 1 has no `quantileCounts`: the decoder computes
/// them (and the edges) from the sample. Samples are raw doubles, so a profile round-trips bit for bit.
///
/// Decoding is total: every length and offset is checked (with overflow-checked arithmetic) against the input size
/// before it is read, and the stored edges and counts against the sample; anything else is a `DecodeError` naming
/// the part that is wrong. Version 2 allows no bytes after the correlation matrix.
public enum ProfileCodec {
    public static let magic = Array("DRIFTPRF".utf8)
    public static let version: UInt32 = 2
    /// Versions this build reads.
    public static let readableVersions: ClosedRange<UInt32> = 1...2
    /// Magic, version and header length.
    static let prefixLength = 20

    public enum DecodeError: Error, CustomStringConvertible, Equatable {
        case notAProfile
        case unsupportedVersion(UInt32)
        /// The input ends before the named part (the message says what was needed and what is there).
        case truncated(String)
        /// The header is not valid JSON of the expected shape, or a value in it is impossible (named).
        case badHeader(String)

        public var description: String {
            switch self {
            case .notAProfile: return "not a drift-worker profile (missing DRIFTPRF signature)"
            case .unsupportedVersion(let v):
                return
                    "profile format version \(v) is not supported by this build (reads \(ProfileCodec.readableVersions.lowerBound)–\(ProfileCodec.readableVersions.upperBound)); rebuild it with `drift-worker profile`"
            case .truncated(let what): return "the profile file is truncated: \(what)"
            case .badHeader(let s): return "the profile header is damaged (\(s))"
            }
        }
    }

    private struct Header: Codable {
        struct Numeric: Codable {
            var name: String, sampleCount: Int, missing: Int, presentCount: Int
            var mean: Double?, standardDeviation: Double?, minimum: Double?, maximum: Double?, quantileEdges: [Double]
            /// Version 2.
            var quantileCounts: [Int]?
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
                let bins = $0.referenceQuantileBins
                return .init(
                    name: $0.name, sampleCount: $0.sample.count, missing: $0.missing, presentCount: $0.presentCount,
                    mean: finite($0.mean), standardDeviation: finite($0.standardDeviation),
                    minimum: finite($0.minimum), maximum: finite($0.maximum), quantileEdges: bins.edges,
                    quantileCounts: bins.counts)
            },
            categorical: p.categorical, correlationNames: p.correlationNames, featureNames: p.featureNames)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = try encoder.encode(header)
        let payload = 8 * (p.numeric.reduce(0) { $0 + $1.sample.count } + p.correlation.count)
        var out = Data(capacity: prefixLength + json.count + payload)
        out.append(contentsOf: magic)
        append(&out, version)
        append(&out, UInt64(json.count))
        out.append(json)
        for f in p.numeric { appendDoubles(&out, f.sample) }
        appendDoubles(&out, p.correlation)
        return out
    }

    /// Decodes a profile from `data` in place (see `decode(bytes:)`).
    public static func decode(_ data: Data) throws -> ReferenceProfile {
        try data.withUnsafeBytes { try decode(bytes: $0) }
    }

    /// Decodes a profile from `bytes` (for instance a memory-mapped file) without copying them: the header JSON is
    /// parsed from its slice and each sample is copied once, straight into its array. After each sample,
    /// `consumed(offset)` tells that the bytes before `offset` will not be read again (a mapped file's reader can
    /// drop those pages). Throws `DecodeError`.
    public static func decode(bytes: UnsafeRawBufferPointer, consumed: (Int) -> Void = { _ in }) throws -> ReferenceProfile {
        guard bytes.count >= magic.count, bytes.prefix(magic.count).elementsEqual(magic) else { throw DecodeError.notAProfile }
        guard bytes.count >= prefixLength else {
            throw DecodeError.truncated("the \(prefixLength)-byte preamble (signature, version, header length) has only \(bytes.count) bytes")
        }
        let v = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        guard readableVersions.contains(v) else { throw DecodeError.unsupportedVersion(v) }
        let storedLength = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 12, as: UInt64.self))
        guard let headerLength = Int(exactly: storedLength), headerLength <= bytes.count - prefixLength else {
            throw DecodeError.truncated(
                "the header is \(storedLength) bytes long but only \(bytes.count - prefixLength) bytes follow the preamble")
        }
        let header: Header
        do {
            let slice = Data(
                bytesNoCopy: UnsafeMutableRawPointer(mutating: bytes.baseAddress! + prefixLength), count: headerLength,
                deallocator: .none)
            header = try JSONDecoder().decode(Header.self, from: slice)
        } catch {
            throw DecodeError.badHeader("\(error)".prefix(100).description)
        }
        var offset = prefixLength + headerLength
        var numeric: [ReferenceProfile.NumericFeature] = []
        numeric.reserveCapacity(header.numeric.count)
        for h in header.numeric {
            let what = "numeric feature '\(h.name.prefix(80))'"
            guard h.sampleCount >= 0, h.missing >= 0, h.presentCount >= h.sampleCount else {
                throw DecodeError.badHeader(
                    "\(what): sampleCount \(h.sampleCount), missing \(h.missing) and presentCount \(h.presentCount) are impossible")
            }
            let sample = try readDoubles(bytes, &offset, count: h.sampleCount, what: "the sample of \(what)")
            consumed(offset)
            // the statistics take the sample as ascending finite numbers (their merges rely on it)
            if let bad = sample.indices.first(where: { i in !sample[i].isFinite || (i > 0 && !(sample[i - 1] <= sample[i])) }) {
                throw DecodeError.badHeader("\(what): the sample is not ascending finite numbers (at value \(bad + 1))")
            }
            let bins = try referenceBins(h, sample: sample, version: v, what: what)
            numeric.append(
                .init(
                    name: h.name, sample: sample, missing: h.missing, presentCount: h.presentCount,
                    mean: h.mean ?? .nan, standardDeviation: h.standardDeviation ?? .nan,
                    minimum: h.minimum ?? .nan, maximum: h.maximum ?? .nan, quantileEdges: bins.edges, quantileCounts: bins.counts))
        }
        let p = header.correlationNames.count
        let (cells, overflow) = p.multipliedReportingOverflow(by: p)
        guard !overflow else { throw DecodeError.badHeader("\(p) correlation names are too many") }
        let correlation = try readDoubles(bytes, &offset, count: cells, what: "the \(p)×\(p) correlation matrix")
        if v >= 2, offset != bytes.count {
            throw DecodeError.badHeader("\(bytes.count - offset) unexpected bytes after the correlation matrix")
        }
        for c in header.categorical {
            // counts are summed into totals: each non-negative, the sum far from overflowing
            var total = 0
            for n in c.counts.values {
                guard n >= 0, n <= 1 << 53, total <= 1 << 53 else {
                    throw DecodeError.badHeader("categorical feature '\(c.name.prefix(80))': a count is negative or larger than 2^53")
                }
                total += n
            }
            guard total <= 1 << 53 else { throw DecodeError.badHeader("categorical feature '\(c.name.prefix(80))': counts sum past 2^53") }
        }
        return ReferenceProfile(
            source: header.source, rowCount: header.rowCount, sampleCap: header.sampleCap,
            seed: header.seed, numeric: numeric, categorical: header.categorical,
            correlationNames: header.correlationNames, correlation: correlation,
            featureNames: header.featureNames)
    }

    /// The default quantile bins of a feature: version 2's stored edges and counts, checked against the sample
    /// (edges recomputed, O(bins); counts non-negative and summing to the sample size); version 1's computed.
    private static func referenceBins(_ h: Header.Numeric, sample: [Double], version: UInt32, what: String) throws -> (
        edges: [Double], counts: [Int]
    ) {
        let computed = ReferenceProfile.NumericFeature.defaultQuantileEdges(sortedSample: sample)
        guard version >= 2 else {
            return (computed, Bins(edges: computed, layout: .openEnded).counts(sorted: sample))
        }
        guard let counts = h.quantileCounts else { throw DecodeError.badHeader("\(what): quantileCounts is missing") }
        guard h.quantileEdges == computed else {
            throw DecodeError.badHeader("\(what): the stored quantile edges are not the quantiles of its sample")
        }
        guard counts.count == computed.count + 1, counts.allSatisfy({ $0 >= 0 }) else {
            throw DecodeError.badHeader("\(what): quantileCounts needs \(computed.count + 1) non-negative counts, found \(counts.count)")
        }
        var total = 0
        for c in counts {
            let (t, overflow) = total.addingReportingOverflow(c)
            guard !overflow else { throw DecodeError.badHeader("\(what): quantileCounts overflow") }
            total = t
        }
        guard total == sample.count else {
            throw DecodeError.badHeader("\(what): quantileCounts add up to \(total), but the sample has \(sample.count) values")
        }
        return (computed, counts)
    }

    private static func finite(_ x: Double) -> Double? { x.isFinite ? x : nil }

    private static func append<T: FixedWidthInteger>(_ out: inout Data, _ v: T) {
        withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
    }

    private static func appendDoubles(_ out: inout Data, _ xs: [Double]) {
        #if _endian(little)
            xs.withUnsafeBytes { out.append(contentsOf: $0) }
        #else
            let le = xs.map { $0.bitPattern.littleEndian }
            le.withUnsafeBytes { out.append(contentsOf: $0) }
        #endif
    }

    /// `count` doubles at `offset`, bounds-checked, copied once into a new array; advances `offset`.
    private static func readDoubles(_ bytes: UnsafeRawBufferPointer, _ offset: inout Int, count: Int, what: String) throws -> [Double] {
        let remaining = bytes.count - offset
        let (size, overflow) = count.multipliedReportingOverflow(by: 8)
        guard count >= 0, !overflow, size <= remaining else {
            throw DecodeError.truncated("\(what) needs \(count) values at byte \(offset), but only \(remaining) bytes remain")
        }
        // no values: a plain empty array (the standard library's initializer writes the count 0 into the one shared
        // empty-array storage, which ThreadSanitizer reports when two threads decode at once)
        if count == 0 {
            return []
        }
        let out = [Double](unsafeUninitializedCapacity: count) { buffer, initialized in
            guard count > 0, let destination = buffer.baseAddress, let source = bytes.baseAddress else { return }
            #if _endian(little)
                UnsafeMutableRawPointer(destination).copyMemory(from: source + offset, byteCount: size)
            #else
                for i in 0..<count {
                    buffer[i] = Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 8 * i, as: UInt64.self)))
                }
            #endif
            initialized = count
        }
        offset += size
        return out
    }
}
