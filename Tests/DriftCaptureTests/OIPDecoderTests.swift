import DriftCapture
import Foundation
import Testing

struct OIPCase: Decodable, CustomTestStringConvertible, Sendable {
    struct Tensor: Decodable, Sendable {
        var name: String
        var datatype: String
        var shape: [Int]
        var numbers: [Double]?
        var bools: [Bool]?
        var strings: [String]?
    }
    var name: String
    var body: String
    var header_length: Int?
    var id: String?
    var model_name: String?
    var model_version: String?
    var response: Bool?
    var tensors: [Tensor]?
    var error_path: String?
    var error_contains: String?
    var testDescription: String { name }

    static let all: [OIPCase] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/oip_cases.json")
        struct File: Decodable { var cases: [OIPCase] }
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return (try? d.decode(File.self, from: Data(contentsOf: url)).cases) ?? []
    }()
}

@Suite("Open Inference Protocol decoder against numpy-made golden cases")
struct OIPDecoderTests {
    @Test func fixturesLoaded() { #expect(OIPCase.all.count == 18) }

    @Test(arguments: OIPCase.all)
    func matchesGolden(_ c: OIPCase) throws {
        let body = try #require(Data(base64Encoded: c.body))
        if let path = c.error_path {
            do {
                let m = try OIPDecoder.decode(body, headerLength: c.header_length)
                Issue.record("decoded although malformed: \(m)")
            } catch let e as CaptureDecodeError {
                #expect(e.path == path, "\(e)")
                #expect(e.description.contains(c.error_contains ?? "\u{0}"), "\(e)")
            }
            return
        }
        let m = try OIPDecoder.decode(body, headerLength: c.header_length)
        if c.header_length != nil {
            // as KServe's logger forwards Triton traffic: the body alone, without Inference-Header-Content-Length
            #expect(try OIPDecoder.decode(body, headerLength: nil) == m, "the JSON header's end is found in the body")
        }
        #expect(m.id == c.id && m.modelName == c.model_name && m.modelVersion == c.model_version && m.isResponse == c.response)
        let expected = try #require(c.tensors)
        #expect(m.tensors.count == expected.count)
        for (t, e) in zip(m.tensors, expected) {
            #expect(t.name == e.name && t.datatype.rawValue == e.datatype && t.shape == e.shape)
            switch t.values {
            case .numbers(let v):
                let want = try #require(e.numbers)
                #expect(v.count == want.count)
                for (a, b) in zip(v, want) {
                    #expect(a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN), "\(t.name): \(a) vs \(b) (bit for bit)")
                }
            case .bools(let v): #expect(v == e.bools)
            case .bytes(let v): #expect(v.map { String(decoding: $0, as: UTF8.self) } == e.strings)
            }
        }
    }

    @Test func halfPrecisionCoversEveryClass() {
        #expect(OIPDecoder.halfToDouble(0x3C00) == 1)
        #expect(OIPDecoder.halfToDouble(0xC000) == -2)
        #expect(OIPDecoder.halfToDouble(0x7BFF) == 65504)
        #expect(OIPDecoder.halfToDouble(0x0001) == 0x1p-24, "smallest subnormal")
        #expect(OIPDecoder.halfToDouble(0x7C00) == .infinity && OIPDecoder.halfToDouble(0xFC00) == -.infinity)
        #expect(OIPDecoder.halfToDouble(0x7E00).isNaN)
        #expect(OIPDecoder.halfToDouble(0x8000).sign == .minus && OIPDecoder.halfToDouble(0x8000) == 0)
    }

    /// Random mutations of valid bodies (bytes flipped, inserted, cut) never crash the decoder: every outcome is
    /// a message or a CaptureDecodeError.
    @Test func mutatedPayloadsNeverCrash() throws {
        let seeds = OIPCase.all.filter { $0.error_path == nil }.compactMap { c in Data(base64Encoded: c.body).map { ($0, c.header_length) } }
        var rng = SystemRandomNumberGenerator()
        var decoded = 0
        var rejected = 0
        for i in 0..<20_000 {
            var (body, header) = seeds[i % seeds.count]
            var bytes = [UInt8](body)
            for _ in 0..<Int.random(in: 1...4, using: &rng) where !bytes.isEmpty {
                let at = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: bytes[at] = UInt8.random(in: 0...255, using: &rng)
                case 1: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: at)
                case 2: bytes.remove(at: at)
                default: bytes = Array(bytes.prefix(at))
                }
            }
            body = Data(bytes)
            if header != nil && Bool.random(using: &rng) { header = Int.random(in: -5...(bytes.count + 5), using: &rng) }
            do {
                _ = try OIPDecoder.decode(body, headerLength: header)
                decoded += 1
            } catch is CaptureDecodeError { rejected += 1 }
        }
        #expect(decoded + rejected == 20_000 && rejected > 0)
    }
}
