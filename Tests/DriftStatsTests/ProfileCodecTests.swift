import DriftStats
import Foundation
import Testing

/// Profile bytes rewritten the way a damaged, old or lying file would be.
enum ProfileBytes {
    /// The header JSON of an encoded profile.
    static func header(_ data: Data) -> String {
        let length = Int(data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 12, as: UInt64.self)) })
        return String(decoding: data[20..<(20 + length)], as: UTF8.self)
    }

    /// The same profile with its header JSON replaced (the length field follows) and, optionally, another version.
    static func rewritten(_ data: Data, version: UInt32? = nil, header edit: (String) -> String) -> Data {
        let old = header(data)
        let new = Data(edit(old).utf8)
        var out = Data(data.prefix(8))
        let v = version ?? data.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt32.self)) }
        withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt64(new.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(new)
        out.append(data[(20 + old.utf8.count)...])
        return out
    }

    /// Version 1 of a version 2 profile: no `quantileCounts` in the header (the rest is byte for byte the same).
    static func version1(_ data: Data) -> Data {
        rewritten(data, version: 1) { $0.replacingOccurrences(of: #""quantileCounts":\[[0-9,]*\],"#, with: "", options: .regularExpression) }
    }

    /// The header with the first occurrence of `from` replaced by `to` (which must occur).
    static func replacing(_ data: Data, _ from: String, _ to: String) -> Data {
        rewritten(data) {
            precondition($0.contains(from), "\(from) is not in the header")
            return $0.replacingCharacters(in: $0.range(of: from)!, with: to)
        }
    }
}

@Suite("profile format: version 2 in place, version 1 still read, damaged files refused")
struct ProfileCodecTests {
    /// Two numeric features (one capped), a categorical one, and their correlation matrix.
    static let profile: ReferenceProfile = {
        let a = DataSpecFree.normalish(300, seed: 3) + [.nan, .infinity]
        let b = DataSpecFree.normalish(302, seed: 4, shift: 1)
        return ReferenceProfile(
            source: "ref.csv", rowCount: 302, sampleCap: 250, seed: 7,
            numeric: [
                ReferenceProfile.numericFeature(name: "a", values: a, sampleCap: 250, seed: 7),
                ReferenceProfile.numericFeature(name: "b", values: b, sampleCap: 250, seed: 7)
            ],
            categorical: [.init(name: "c", counts: ["x": 200, "y": 102], missing: 0)],
            correlationNames: ["a", "b"], correlation: [1, 0.25, 0.25, 1])
    }()

    func decodeError(_ data: Data) -> ProfileCodec.DecodeError? {
        do {
            _ = try ProfileCodec.decode(data)
            return nil
        } catch let e as ProfileCodec.DecodeError {
            return e
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test func version2RoundTripsWithTheReferenceBinCounts() throws {
        let p = Self.profile
        for f in p.numeric {
            #expect(f.quantileEdges == Bins.quantile(sortedReference: f.sample, bins: ReferenceProfile.defaultBins).edges)
            #expect(f.quantileCounts == Bins.quantile(sortedReference: f.sample, bins: ReferenceProfile.defaultBins).counts(sorted: f.sample))
        }
        let data = try ProfileCodec.encode(p)
        #expect(data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: UInt32.self) } == UInt32(2).littleEndian)
        #expect(ProfileBytes.header(data).contains(#""quantileCounts":["#))
        let back = try ProfileCodec.decode(data)
        #expect(back == p)
        for (x, y) in zip(back.numeric, p.numeric) { #expect(x.sample.map(\.bitPattern) == y.sample.map(\.bitPattern)) }
        #expect(back.numeric[0].asSample.knownQuantileBins?.counts == p.numeric[0].quantileCounts)
    }

    @Test func version1IsReadWithTheCountsComputed() throws {
        let v2 = try ProfileCodec.encode(Self.profile)
        let v1 = ProfileBytes.version1(v2)
        #expect(!ProfileBytes.header(v1).contains("quantileCounts") && v1.count < v2.count)
        #expect(try ProfileCodec.decode(v1) == Self.profile)
        // v1 allowed trailing bytes; its readers ignored them
        #expect(try ProfileCodec.decode(v1 + Data([1, 2, 3])) == Self.profile)
    }

    @Test func everyTruncationIsADecodeErrorNamingThePart() throws {
        let data = try ProfileCodec.encode(Self.profile)
        let headerEnd = 20 + ProfileBytes.header(data).utf8.count
        let a = Self.profile.numeric[0].sample.count
        let b = Self.profile.numeric[1].sample.count
        for cut in 0..<data.count {
            let e = decodeError(data.prefix(cut))
            switch cut {
            case ..<8: #expect(e == .notAProfile, "cut at \(cut)")
            case ..<20: #expect(e?.description.contains("preamble") == true, "cut at \(cut): \(String(describing: e))")
            case ..<headerEnd: #expect(e?.description.contains("only \(cut - 20) bytes follow the preamble") == true, "cut at \(cut)")
            case ..<(headerEnd + 8 * a): #expect(e?.description.contains("the sample of numeric feature 'a'") == true, "cut at \(cut)")
            case ..<(headerEnd + 8 * (a + b)): #expect(e?.description.contains("the sample of numeric feature 'b'") == true, "cut at \(cut)")
            default: #expect(e?.description.contains("the 2×2 correlation matrix") == true, "cut at \(cut)")
            }
        }
        #expect(decodeError(data + Data([0])) == .badHeader("1 unexpected bytes after the correlation matrix"))
    }

    @Test func hugeNegativeAndOverflowingLengthsAreRefused() throws {
        let data = try ProfileCodec.encode(Self.profile)
        let n = Self.profile.numeric[0].sample.count
        let presentA = Self.profile.numeric[0].presentCount
        var hugeHeader = data
        hugeHeader.replaceSubrange(12..<20, with: [UInt8](repeating: 0xFF, count: 8))
        #expect(decodeError(hugeHeader)?.description.contains("18446744073709551615 bytes long") == true)
        var bigHeader = data
        bigHeader.replaceSubrange(12..<20, with: withUnsafeBytes(of: UInt64(Int.max).littleEndian) { Array($0) })
        #expect(decodeError(bigHeader).map { if case .truncated = $0 { true } else { false } } == true)

        let anyPresent = ProfileBytes.replacing(data, #""presentCount":\#(presentA)"#, #""presentCount":\#(Int.max)"#)
        for count in [Int.max, Int.max / 8 + 1, 1 << 40] {
            let e = decodeError(ProfileBytes.replacing(anyPresent, #""sampleCount":\#(n)"#, #""sampleCount":\#(count)"#))
            #expect(e?.description.contains("the sample of numeric feature 'a' needs \(count) values") == true, "\(count): \(String(describing: e))")
        }
        // One value too many: a's sample takes b's first value; the rest no longer adds up.
        #expect(decodeError(ProfileBytes.replacing(anyPresent, #""sampleCount":\#(n)"#, #""sampleCount":\#(n + 1)"#)) != nil)
        for (from, to) in [
            (#""sampleCount":\#(n)"#, #""sampleCount":-1"#), (#""missing":2"#, #""missing":-2"#),
            (#""presentCount":\#(presentA)"#, #""presentCount":\#(n - 1)"#)
        ] {
            let e = decodeError(ProfileBytes.replacing(data, from, to))
            #expect(e?.description.contains("numeric feature 'a'") == true && e?.description.contains("impossible") == true, "\(to)")
        }
        let tooBig = ProfileBytes.replacing(data, #""sampleCount":\#(n)"#, #""sampleCount":99999999999999999999999"#)
        #expect(decodeError(tooBig).map { if case .badHeader = $0 { true } else { false } } == true)
        let moreNames = ProfileBytes.replacing(data, #""correlationNames":["a","b"]"#, #""correlationNames":["a","b","c"]"#)
        #expect(decodeError(moreNames)?.description.contains("the 3×3 correlation matrix needs 9 values") == true)
        #expect(decodeError(ProfileBytes.rewritten(data) { _ in "{" }).map { if case .badHeader = $0 { true } else { false } } == true)
        #expect(decodeError(ProfileBytes.rewritten(data, version: 3) { $0 }) == .unsupportedVersion(3))
        #expect(decodeError(ProfileBytes.rewritten(data, version: 0) { $0 }) == .unsupportedVersion(0))
    }

    @Test func samplesMustBeAscendingFiniteAndCountsBounded() throws {
        let data = try ProfileCodec.encode(Self.profile)
        // the statistics merge sorted samples: a NaN (or a value out of order) in a stored sample is refused
        let first = Self.profile.numeric[0].sample[0]
        let needle = withUnsafeBytes(of: first.bitPattern.littleEndian) { Data($0) }
        let at = try #require(data.range(of: needle))
        var patched = data
        patched.replaceSubrange(at, with: withUnsafeBytes(of: Double.nan.bitPattern.littleEndian) { Data($0) })
        #expect(decodeError(patched) == .badHeader("numeric feature 'a': the sample is not ascending finite numbers (at value 1)"))
        #expect(decodeError(ProfileBytes.replacing(data, #""x":200"#, #""x":-5"#))?.description.contains("negative") == true)
        #expect(decodeError(ProfileBytes.replacing(data, #""x":200"#, #""x":9223372036854775807"#))?.description.contains("2^53") == true)
    }

    @Test func storedBinsThatDoNotBelongToTheSampleAreRefused() throws {
        let data = try ProfileCodec.encode(Self.profile)
        let f = Self.profile.numeric[0]
        let counts = f.quantileCounts.map(String.init).joined(separator: ",")
        var shifted = f.quantileCounts
        shifted[0] += 1
        shifted[1] -= 1
        let same = decodeError(ProfileBytes.replacing(data, counts, shifted.map(String.init).joined(separator: ",")))
        #expect(same == nil, "counts are trusted once their shape and total are right")
        var more = f.quantileCounts
        more[0] += 1
        #expect(
            decodeError(ProfileBytes.replacing(data, counts, more.map(String.init).joined(separator: ",")))
                == .badHeader("numeric feature 'a': quantileCounts add up to \(f.sample.count + 1), but the sample has \(f.sample.count) values"))
        #expect(
            decodeError(ProfileBytes.replacing(data, #""quantileCounts":[\#(counts)]"#, #""quantileCounts":[\#(counts),0]"#))?
                .description.contains("needs 10 non-negative counts, found 11") == true)
        var negative = f.quantileCounts
        negative[0] = -1
        negative[1] += f.quantileCounts[0] + 1
        #expect(
            decodeError(ProfileBytes.replacing(data, counts, negative.map(String.init).joined(separator: ",")))?.description.contains(
                "non-negative") == true)
        #expect(
            decodeError(ProfileBytes.replacing(data, #""quantileCounts":[\#(counts)],"#, ""))
                == .badHeader("numeric feature 'a': quantileCounts is missing"))
        let edges = try #require(ProfileBytes.header(data).range(of: #""quantileEdges":\[[^\]]*\]"#, options: .regularExpression))
        let noEdges = ProfileBytes.rewritten(data) { $0.replacingCharacters(in: edges, with: #""quantileEdges":[0]"#) }
        #expect(decodeError(noEdges) == .badHeader("numeric feature 'a': the stored quantile edges are not the quantiles of its sample"))
    }

    @Test func aMappedFileIsDecodedInPlace() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("prf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("ref.prf")
        try ProfileCodec.encode(Self.profile).write(to: file)
        // Decoding in place works on Foundation-mapped bytes too (`.alwaysMapped` really maps the file here).
        let mapped = try Data(contentsOf: file, options: .alwaysMapped)
        let handle = try #require(FileHandle(forReadingAtPath: "/proc/self/maps"))
        defer { try? handle.close() }
        let maps = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)  // to the end: /proc files report size 0
        #expect(maps.contains(file.path))
        #expect(try ProfileCodec.decode(mapped) == Self.profile)
    }

    /// Comparisons against a version 2 profile, a version 1 profile and the raw values give the same results, bit for
    /// bit, on the golden cases (with the profile's default bins, and with the case's own bin count).
    @Test(arguments: statsFixture.numeric)
    func profileVersionsCompareLikeTheRawData(_ c: NumericCase) throws {
        let feature = ReferenceProfile.numericFeature(name: c.name, values: c.x.values, sampleCap: ReferenceProfile.defaultSampleCap, seed: 1)
        let profile = ReferenceProfile(
            source: "golden", rowCount: c.x.values.count, sampleCap: ReferenceProfile.defaultSampleCap, seed: 1, numeric: [feature],
            categorical: [], correlationNames: [], correlation: [])
        let v2 = try ProfileCodec.encode(profile)
        let fromV2 = try ProfileCodec.decode(v2).numeric[0].asSample
        let fromV1 = try ProfileCodec.decode(ProfileBytes.version1(v2)).numeric[0].asSample
        #expect(fromV2.knownQuantileBins != nil && fromV1.knownQuantileBins == fromV2.knownQuantileBins)
        let raw = NumericSample(values: c.x.values)
        let current = NumericSample(values: c.y.values)
        for bins in Set([ReferenceProfile.defaultBins, c.bins]) {
            for binning in PSIBinning.allCases {
                var s = DriftSettings()
                s.bins = bins
                s.binning = binning
                s.epsilon = c.epsilon
                let expected = FeatureComparison.numeric(name: c.name, reference: raw, current: current, settings: s)
                for ref in [fromV2, fromV1] {
                    let got = FeatureComparison.numeric(name: c.name, reference: ref, current: current, settings: s)
                    #expect(String(reflecting: got) == String(reflecting: expected), "\(bins) \(binning)")
                    #expect(got.psi.bitPattern == expected.psi.bitPattern && got.referenceProportions == expected.referenceProportions)
                }
            }
        }
    }
}
