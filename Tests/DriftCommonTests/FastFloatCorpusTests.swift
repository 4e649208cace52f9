import DriftCommon
import Testing

/// FastFloat against glibc's strtod (bit for bit, and acceptance) and against the old `NumberText.parse` — Swift's
/// `Double(Substring)` — on 10,000,000 seeded strings (`FloatCorpus`), in 8 slices that run in parallel.
@Suite("FastFloat: the 10^7-string differential corpus against strtod and Double(Substring)")
struct FastFloatCorpusTests {
    static let slices = 8
    static let stringsPerSlice = 1_250_000

    static func same(_ a: Double?, _ b: Double?) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case (let x?, let y?): return x.bitPattern == y.bitPattern
        default: return false
        }
    }

    @Test(arguments: 0..<slices)
    func sliceMatchesStrtodAndDoubleSubstring(slice: Int) {
        var corpus = FloatCorpus(seed: 0x18F1_0A7 &+ UInt64(slice))
        defer { corpus.deallocate() }
        let kinds = FloatCorpus.Kind.allCases
        var mismatches: [String] = []
        var accepted = 0
        var comparedWithSwift = 0
        for i in 0..<Self.stringsPerSlice {
            let kind = kinds[i % kinds.count]
            corpus.write(kind)
            let ours = FastFloat.parse(corpus.current)
            let reference = corpus.strtodWhole()
            if reference != nil { accepted += 1 }
            if !Self.same(ours, reference) && mismatches.count < 10 {
                let text = String(decoding: corpus.current, as: UTF8.self).debugDescription
                mismatches.append("strtod: \(text) gave \(String(describing: ours)), strtod \(String(describing: reference))")
            }
            // the cell path against the Swift standard library: every special or junk string, a quarter of the rest
            if i % 4 == 0 || kind == .specials || kind == .junk {
                let text = String(decoding: corpus.current, as: UTF8.self)
                guard text.utf8.count == corpus.count else { continue }  // not UTF-8: a String cannot hold it as is
                comparedWithSwift += 1
                let cell = FastFloat.parseCell(corpus.current)
                let swift = FloatCorpus.legacyNumberText(text)
                if !Self.same(cell, swift) && mismatches.count < 10 {
                    mismatches.append(
                        "Double(Substring): \(text.debugDescription) gave \(String(describing: cell)), Swift \(String(describing: swift))")
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
        // the corpus is what it claims: mostly numbers, with a real share of rejections and Swift comparisons
        #expect(accepted > Self.stringsPerSlice * 7 / 10 && accepted < Self.stringsPerSlice * 95 / 100, "accepted \(accepted)")
        #expect(comparedWithSwift > Self.stringsPerSlice / 4, "compared with Swift \(comparedWithSwift)")
    }
}
