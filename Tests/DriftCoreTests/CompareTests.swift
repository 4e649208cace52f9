import DriftCapture
import DriftCore
import DriftStats
import DriftTestSupport
import Foundation
import Testing

@Suite("compare: end to end on files")
struct CompareTests {
    func run(_ ref: String, _ cur: String, _ sel: FeatureSelection = .init(), _ s: DriftSettings = .init()) throws -> CompareReport {
        try Comparison.run(referencePath: ref, currentPath: cur, format: nil, selection: sel, settings: s)
    }

    func message(_ body: () throws -> Void) -> String {
        do {
            try body()
            return ""
        } catch { return "\(error)" }
    }

    @Test func sampleDataDriftIsFoundInTheInjectedFeatures() throws {
        let r = try run(fraud.appendingPathComponent("reference.csv").path, fraud.appendingPathComponent("current_drift.csv").path)
        let drifted = Set(r.result.features.filter(\.drifted).map(\.name))
        #expect(drifted.isSuperset(of: ["amount", "merchant_category", "score"]))
        #expect(!drifted.contains("country") && !drifted.contains("hour_of_day"))
        #expect(r.result.drifted)
        let merchant = try #require(r.result.features.first { $0.name == "merchant_category" })
        #expect(merchant.kind == .categorical && merchant.unseenCategories == ["crypto_exchange"])
        let none = try run(fraud.appendingPathComponent("reference.csv").path, fraud.appendingPathComponent("current_no_drift.csv").path)
        #expect(none.result.driftedCount == 0 && !none.result.drifted)
    }

    @Test func profileGivesIdenticalResultsBelowTheCap() throws {
        let s = try Scratch()
        let refPath = fraud.appendingPathComponent("reference.csv").path
        let table = try TabularFile.read(path: refPath)
        let profile = try ProfileBuilder.build(table: table, selection: .init())
        try ProfileFile.write(profile, to: s.path("ref.profile"))
        let cur = fraud.appendingPathComponent("current_drift.csv").path
        let raw = try run(refPath, cur)
        let fromProfile = try run(s.path("ref.profile"), cur)
        #expect(raw.result.features == fromProfile.result.features)
        #expect(raw.result.correlationDrift == fromProfile.result.correlationDrift)
        var a = raw.json().rendered()
        var b = fromProfile.json().rendered()
        a = a.replacingOccurrences(of: refPath, with: "REF")
        b = b.replacingOccurrences(of: s.path("ref.profile"), with: "REF")
        #expect(a == b)
    }

    @Test func jsonHasTheDocumentedShapeAndRoundTripsNumbers() throws {
        let r = try run(fraud.appendingPathComponent("reference.csv").path, fraud.appendingPathComponent("current_drift.csv").path)
        let text = r.json().rendered()
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let features = try #require(obj["features"] as? [[String: Any]])
        for key in [
            "name", "kind", "reference_count", "current_count", "reference_missing", "current_missing", "ks", "psi",
            "jensen_shannon", "wasserstein_normed", "hellinger", "chi_square", "pvalue_adjusted", "drifted", "reasons"
        ] {
            #expect(features.allSatisfy { $0.keys.contains(key) }, "missing key \(key)")
        }
        let dataset = try #require(obj["dataset"] as? [String: Any])
        for key in ["feature_count", "drifted_count", "drifted_share", "drifted", "correlation_drift"] {
            #expect(dataset.keys.contains(key))
        }
        let amount = try #require(r.result.features.first { $0.name == "amount" })
        // Shortest round-trip formatting: the printed PSI parses back to the same double.
        #expect(text.contains("\"psi\":\(amount.psi)"))
        #expect(Double("\(amount.psi)") == amount.psi)
        let numeric = try #require(features.first { $0["name"] as? String == "amount" })
        #expect(numeric["chi_square"] is NSNull)
        #expect((numeric["ks"] as? [String: Any])?["method"] as? String == "asymp")
    }

    @Test func featuresOnOneSideAreReportedNotFatal() throws {
        let s = try Scratch()
        let ref = s.write("r.csv", "a,b,only_ref\n1,x,1\n2,y,2\n3,x,3\n4,y,4\n")
        let cur = s.write("c.csv", "a,b,only_cur\n1,x,1\n2,x,2\n3,x,3\n5,y,4\n")
        let r = try run(ref, cur)
        #expect(r.result.features.map(\.name) == ["a", "b"])
        #expect(r.plan.onlyInReference == ["only_ref"] && r.plan.onlyInCurrent == ["only_cur"])
        #expect(r.result.features[1].kind == .categorical)
    }

    @Test func badInputErrorsNameFileLineAndColumn() throws {
        let s = try Scratch()
        let good = s.write("good.csv", "a,b\n1,x\n2,y\n3,z\n")
        let ragged = s.write("ragged.csv", "a,b\n1,x\n2\n")
        let letters = s.write("letters.csv", "a,b\n1,x\n2,y\nabc,z\n")
        let noValues = s.write("novalues.csv", "a,b\n,x\nnan,y\n")
        let empty = s.write("empty.csv", "")
        let headerOnly = s.write("header.csv", "a,b\n")

        #expect(message { _ = try run(s.path("missing.csv"), good) } == "\(s.path("missing.csv")): cannot read the file (no such file).")
        #expect(message { _ = try run(good, ragged) } == "\(ragged):3: the row has 1 fields but the header has 2.")
        #expect(
            message { _ = try run(good, letters, FeatureSelection(numeric: ["a"])) }
                == "\(letters): column 'a' is numeric but 1 cell is not a number (line 4 'abc'); fix them, pass --non-numeric missing to count them as missing values, or --categorical a if the column holds labels."
        )
        // numeric in the reference: the same, without --numeric (never a silent switch to categorical)
        #expect(message { _ = try run(good, letters) }.contains("column 'a' is numeric but 1 cell is not a number (line 4 'abc')"))
        #expect(message { _ = try run(good, noValues) }.hasPrefix("\(noValues): column 'a' has no values (all 2 rows"))
        #expect(message { _ = try run(good, empty) }.hasPrefix("\(empty): the file is empty"))
        #expect(message { _ = try run(good, headerOnly) } == "\(headerOnly): the file has a header but no data rows.")
        #expect(message { _ = try run(good, good, FeatureSelection(features: ["nope"])) }.contains("'nope'"))
        #expect(message { _ = try run(good, good, FeatureSelection(categorical: ["a"], numeric: ["a"])) }.contains("choose one"))
    }

    @Test func jsonLinesInputWorksLikeCSV() throws {
        let s = try Scratch()
        var ref = ""
        var cur = ""
        for i in 0..<300 { ref += "{\"x\": \(Double(i % 50)), \"c\": \"k\(i % 3)\"}\n" }
        for i in 0..<300 { cur += "{\"x\": \(Double(i % 50) + 25), \"c\": \"k\(i % 4)\"}\n" }
        let r = try run(s.write("r.jsonl", ref), s.write("c.jsonl", cur))
        let x = try #require(r.result.features.first { $0.name == "x" })
        #expect(x.kind == .numeric && x.drifted)
        let c = try #require(r.result.features.first { $0.name == "c" })
        #expect(c.kind == .categorical && c.unseenCategories == ["k3"])
    }

    @Test func aTypoCountsAsMissingWhenAsked() throws {
        let s = try Scratch()
        var ref = "a\n"
        var cur = "a\n"
        for i in 0..<200 { ref += "\(i % 40)\n" }
        for i in 0..<200 { cur += i == 100 ? "abc\n" : "\(i % 40)\n" }
        let r = try Comparison.run(
            referencePath: s.write("r.csv", ref), currentPath: s.write("c.csv", cur), format: nil, selection: .init(), settings: .init(),
            nonNumeric: .missing)
        let a = try #require(r.result.features.first)
        #expect(a.kind == .numeric && a.currentMissing == 1 && !a.drifted)
    }

    /// `profile` streams the file block by block: below the cap the profile is exactly the one built from the whole
    /// table (so every comparison is too), whatever the block size.
    @Test func aStreamedProfileIsTheWholeTablesBelowTheCap() throws {
        let refPath = fraud.appendingPathComponent("reference.csv").path
        let whole = try ProfileBuilder.build(table: TabularFile.read(path: refPath), selection: .init())
        for block in [4_096, 65_536, TableReadOptions.defaultBlockBytes] {
            let streamed = try ProfileBuilder.build(path: refPath, format: nil, selection: .init(), blockBytes: block)
            #expect(streamed == whole, "block \(block)")
        }
    }

    /// Above the cap the sample is the same reservoir (fed in file order), the standard deviation and correlation are
    /// merged chunk by chunk: equal to the whole-table figures to rounding.
    @Test func aStreamedProfileAboveTheCapMatchesToRounding() throws {
        let refPath = fraud.appendingPathComponent("reference.csv").path
        let whole = try ProfileBuilder.build(table: TabularFile.read(path: refPath), selection: .init(), sampleCap: 500)
        let streamed = try ProfileBuilder.build(path: refPath, format: nil, selection: .init(), sampleCap: 500, blockBytes: 4_096)
        #expect(streamed.rowCount == whole.rowCount && streamed.rowCount > 500)
        #expect(streamed.categorical == whole.categorical)
        for (a, b) in zip(streamed.numeric, whole.numeric) {
            #expect(a.sample == b.sample && a.mean == b.mean && a.minimum == b.minimum && a.missing == b.missing, "\(a.name)")
            #expect(abs(a.standardDeviation - b.standardDeviation) <= 1e-12 * b.standardDeviation, "\(a.name)")
        }
        #expect(streamed.correlationNames == whole.correlationNames && streamed.correlation.count == whole.correlation.count)
        for (x, y) in zip(streamed.correlation, whole.correlation) { #expect(abs(x - y) <= 1e-12 || (x.isNaN && y.isNaN)) }
    }

    @Test func aFeatureNamedTwiceIsComparedOnce() throws {
        let ref = fraud.appendingPathComponent("reference.csv").path
        let cur = fraud.appendingPathComponent("current_drift.csv").path
        let r = try run(ref, cur, FeatureSelection(features: ["amount", "amount", "country"]))
        #expect(r.result.features.map(\.name).sorted() == ["amount", "country"])
    }

    /// A column empty in the first 1,000 rows is typed over the whole file, the same way whether the file is read
    /// whole or streamed; the correlation matrix leaves it out and covers the rest.
    @Test func aColumnTypedAtTheEndIsTheSameStreamedOrWhole() throws {
        let s = try Scratch()
        var text = "a,b,late\n"
        for i in 0..<1_500 {
            let late = i < 1_200 ? "" : (i == 1_300 ? "nan" : String(Double(i % 37) / 3))
            text += "\(Double(i % 101) / 7),\(Double((i * 7) % 53)),\(late)\n"
        }
        let path = s.write("r.csv", text)
        let whole = try ProfileBuilder.build(table: TabularFile.read(path: path), selection: .init())
        let streamed = try ProfileBuilder.build(path: path, format: nil, selection: .init(), blockBytes: 2_048)
        #expect(streamed.numeric.map(\.name) == ["a", "b", "late"] && whole.numeric.map(\.name) == ["a", "b", "late"])
        #expect(streamed.numeric == whole.numeric)
        #expect(streamed.correlationNames == ["a", "b"])
        let r = try run(path, path)
        #expect(r.result.features.count == 3 && r.result.correlationDrift != nil)
    }
}
