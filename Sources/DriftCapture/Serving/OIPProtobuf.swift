import Foundation
import SwiftProtobuf

/// Decodes Open Inference Protocol messages in their protobuf form — `inference.ModelInferRequest` and
/// `inference.ModelInferResponse` of the OIP gRPC schema (Protobuf/v2_dataplane.proto) — as Seldon Core v2 writes
/// them to its Kafka topics and gRPC clients send them, into the same `OIPMessage` the JSON decoder produces.
///
/// Tensor data comes from `contents` (the typed repeated field of the datatype: `bool_contents` for BOOL,
/// `int_contents` for INT8/16/32, `int64_contents`, `uint_contents` for UINT8/16/32, `uint64_contents`,
/// `fp32_contents`, `fp64_contents`, `bytes_contents` for BYTES; FP16 and BF16 also from `fp32_contents`, as
/// Seldon's JSON-to-protobuf gateway writes them) or from `raw_input_contents` / `raw_output_contents`: one
/// entry per tensor, in order, little-endian, BYTES elements each prefixed by a 4-byte little-endian length.
/// `parameters` are ignored. A body framed for a Confluent schema registry (magic byte 0, a 4-byte schema id and
/// the message indexes, as Seldon writes when its schema registry is configured) is unframed first.
///
/// Total: limits are checked before anything is allocated for them — the body size, then a walk of the wire
/// bytes that counts tensor elements (`maxElements`, `maxElementsPerRequest`) and decoded objects (`maxJSONNodes`)
/// — then swift-protobuf decodes with a message depth limit, and shapes are multiplied with overflow checks.
public enum OIPProtobufDecoder {
    /// The schema nests 4 deep at most (request → tensor → parameters entry → parameter); 8 leaves room.
    static let messageDepthLimit = 8
    /// Most dimensions a tensor shape may have (Triton allows 64).
    static let maxDimensions = 64

    /// `isResponse`: decode a `ModelInferResponse` (outputs), else a `ModelInferRequest` (inputs) — the wire
    /// bytes alone do not tell them apart.
    public static func decode(_ body: Data, isResponse: Bool, limits: CaptureLimits = .init()) throws -> OIPMessage {
        guard body.count <= limits.maxBodyBytes else {
            throw CaptureDecodeError(
                path: "body", problem: "has \(body.count) bytes; at most \(limits.maxBodyBytes) are accepted (--max-body-bytes)",
                reason: .tooLarge)
        }
        let message = try unframed(body)
        guard !message.isEmpty else {
            throw CaptureDecodeError(
                path: "body", problem: "is empty, not a protobuf ModelInfer\(isResponse ? "Response" : "Request")", reason: .malformed)
        }
        try message.withUnsafeBytes { try WireCensus.check($0, isResponse: isResponse, limits: limits) }
        var options = BinaryDecodingOptions()
        options.messageDepthLimit = messageDepthLimit
        options.discardUnknownFields = true
        let kind = isResponse ? "ModelInferResponse" : "ModelInferRequest"
        do {
            if isResponse {
                let r = try Inference_ModelInferResponse(serializedBytes: message, options: options)
                let tensors = r.outputs.map {
                    WireTensor(name: $0.name, datatype: $0.datatype, shape: $0.shape, contents: $0.hasContents ? $0.contents : nil)
                }
                return OIPMessage(
                    id: nonEmpty(r.id), modelName: nonEmpty(r.modelName), modelVersion: nonEmpty(r.modelVersion), isResponse: true,
                    tensors: try convert(tensors, raw: r.rawOutputContents, isResponse: true, limits: limits))
            }
            let r = try Inference_ModelInferRequest(serializedBytes: message, options: options)
            let tensors = r.inputs.map {
                WireTensor(name: $0.name, datatype: $0.datatype, shape: $0.shape, contents: $0.hasContents ? $0.contents : nil)
            }
            return OIPMessage(
                id: nonEmpty(r.id), modelName: nonEmpty(r.modelName), modelVersion: nonEmpty(r.modelVersion), isResponse: false,
                tensors: try convert(tensors, raw: r.rawInputContents, isResponse: false, limits: limits))
        } catch let e as CaptureDecodeError {
            throw e
        } catch BinaryDecodingError.messageDepthLimit {
            throw CaptureDecodeError(
                path: "body", problem: "nests messages deeper than \(messageDepthLimit) levels (not a protobuf \(kind))", reason: .malformed)
        } catch BinaryDecodingError.invalidUTF8 {
            throw CaptureDecodeError(
                path: "body", problem: "has a string field (id, model_name, name or datatype) that is not UTF-8", reason: .malformed)
        } catch {
            throw CaptureDecodeError(path: "body", problem: "is not a protobuf \(kind) (\(error))", reason: .malformed)
        }
    }

    /// Whether a `POST /v1/capture` body is to be read as protobuf:
    /// - declared: `Content-Type` (or `ce-datacontenttype`) `application/protobuf`, `application/x-protobuf` or
    ///   `application/vnd.google.protobuf` (parameters after `;` ignored), or Seldon's `seldon-infer-type` Kafka
    ///   header `proto/InferModelRequest|Response` (`ce-kafkaheaderseldoninfertype` from a KafkaSource);
    /// - detected: `Content-Type: application/octet-stream`, or `ce-type: dev.knative.kafka.event` (a Knative
    ///   KafkaSource forwarding a record that is not a CloudEvent: Seldon Core v2's topics hold protobuf), and a
    ///   body that is not JSON — its first byte other than white space is not `{` or `[` (in protobuf those bytes
    ///   would open groups, which the OIP schema has none of).
    public static func isProtobuf(headers: [(String, String)], body: Data) -> Bool {
        let h = HeaderLookup(headers)
        let media = ["content-type", "ce-datacontenttype"].map { name in
            (h[name] ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        }
        if media.contains(where: declaredMediaTypes.contains) { return true }
        if let t = h.kafkaHeader("seldon-infer-type"), t.lowercased().hasPrefix("proto/") { return true }
        guard media.contains("application/octet-stream") || h["ce-type"] == knativeKafkaEventType else { return false }
        let first = body.first { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }
        return first != UInt8(ascii: "{") && first != UInt8(ascii: "[")
    }

    static let declaredMediaTypes: Set<String> = ["application/protobuf", "application/x-protobuf", "application/vnd.google.protobuf"]
    /// The CloudEvent type a KafkaSource gives a record that is not itself a CloudEvent (knative-extensions/
    /// eventing-kafka-broker, data-plane/dispatcher/…/consumer/InvalidCloudEventInterceptor.java).
    static let knativeKafkaEventType = "dev.knative.kafka.event"

    static func nonEmpty(_ s: String) -> String? { s.isEmpty ? nil : s }

    /// Removes Confluent schema-registry framing: byte 0 (never the first byte of a protobuf message: field
    /// number 0 is invalid), a big-endian 4-byte schema id, then the message-index list (zigzag varints: a count,
    /// then that many indexes; a lone 0 stands for the first message).
    static func unframed(_ body: Data) throws -> Data {
        guard body.first == 0 else { return body }
        let headerLength = try body.withUnsafeBytes { raw -> Int in
            var r = WireReader(raw, from: 5)
            guard raw.count >= 5, let count = r.varint() else {
                throw CaptureDecodeError(
                    path: "body", problem: "starts with byte 0 (schema-registry framing) but its header is truncated", reason: .malformed)
            }
            let n = (count >> 1) ^ (0 &- (count & 1))  // zigzag
            guard n <= 10 else {
                throw CaptureDecodeError(
                    path: "body", problem: "has a schema-registry header listing \(n) message indexes; at most 10 are read", reason: .malformed)
            }
            for _ in 0..<n {
                guard r.varint() != nil else {
                    throw CaptureDecodeError(path: "body", problem: "has a truncated schema-registry message-index list", reason: .malformed)
                }
            }
            return r.i
        }
        return body.dropFirst(headerLength)
    }

    /// A tensor of either message, as read by swift-protobuf.
    struct WireTensor {
        var name: String
        var datatype: String
        var shape: [Int64]
        var contents: Inference_InferTensorContents?
    }

    static func convert(_ wire: [WireTensor], raw: [Data], isResponse: Bool, limits: CaptureLimits) throws -> [InferenceTensor] {
        let key = isResponse ? "outputs" : "inputs"
        let rawKey = isResponse ? "raw_output_contents" : "raw_input_contents"
        if !raw.isEmpty && raw.count != wire.count {
            throw CaptureDecodeError(path: rawKey, problem: "has \(raw.count) entries; one per tensor of \(key) (\(wire.count)) is needed")
        }
        var total = 0
        var tensors: [InferenceTensor] = []
        tensors.reserveCapacity(wire.count)
        for (i, t) in wire.enumerated() {
            let path = "\(key)[\(i)]"
            guard let datatype = TensorDatatype(rawValue: t.datatype) else {
                throw CaptureDecodeError(
                    path: "\(path).datatype",
                    problem: "is \"\(t.datatype.prefix(64))\", not one of \(TensorDatatype.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let (shape, needed) = try checkedShape(t.shape, path: "\(path).shape", limits: limits)
            let (sum, overflow) = total.addingReportingOverflow(needed)
            guard !overflow, sum <= limits.maxElementsPerRequest else {
                throw CaptureDecodeError(
                    path: key,
                    problem: "hold more than the \(limits.maxElementsPerRequest) tensor elements accepted per request (--max-request-elements)",
                    reason: .tooLarge)
            }
            total = sum
            let values: TensorValues
            if raw.isEmpty {
                values = try typedValues(t.contents ?? Inference_InferTensorContents(), datatype: datatype, path: "\(path).contents")
            } else {
                if let c = t.contents, c != Inference_InferTensorContents() {
                    throw CaptureDecodeError(
                        path: "\(path).contents", problem: "is set while \(rawKey) holds the tensors (the protocol allows one or the other)")
                }
                values = try rawValues(raw[i], datatype: datatype, count: needed, path: "\(rawKey)[\(i)]")
            }
            guard values.count == needed else {
                throw CaptureDecodeError(
                    path: raw.isEmpty ? "\(path).contents" : "\(rawKey)[\(i)]",
                    problem: "has \(values.count) values, shape \(OIPDecoder.shapeText(shape)) needs \(needed)")
            }
            tensors.append(InferenceTensor(name: t.name, datatype: datatype, shape: shape, values: values))
        }
        return tensors
    }

    /// The shape as `Int`s and its element count: every dimension non-negative, the product without overflow and
    /// within `maxElements`.
    static func checkedShape(_ dims: [Int64], path: String, limits: CaptureLimits) throws -> ([Int], Int) {
        guard dims.count <= maxDimensions else {
            throw CaptureDecodeError(path: path, problem: "has \(dims.count) dimensions; at most \(maxDimensions) are accepted")
        }
        var shape: [Int] = []
        shape.reserveCapacity(dims.count)
        // the product of the non-zero dimensions: it must not overflow even when a zero dimension makes the tensor
        // empty, since consumers multiply the dimensions after the first (rows × row width)
        var product = 1
        for (k, d) in dims.enumerated() {
            guard d >= 0, let n = Int(exactly: d) else {
                throw CaptureDecodeError(path: "\(path)[\(k)]", problem: "is \(d); a dimension must be a non-negative integer")
            }
            shape.append(n)
            guard n != 0 else { continue }
            let (m, overflow) = product.multipliedReportingOverflow(by: n)
            guard !overflow else {
                throw CaptureDecodeError(
                    path: path, problem: "\(OIPDecoder.shapeText(shape))… multiplies beyond \(Int.max) (overflow)", reason: .tooLarge)
            }
            product = m
        }
        if shape.contains(0) {
            // as the JSON decoder: empty rows would become empty events (`[99000, 0]`)
            if let rows = shape.first, rows > 0, shape.count > 1 {
                throw CaptureDecodeError(path: path, problem: "\(OIPDecoder.shapeText(shape)) has no elements but claims \(rows) rows")
            }
            return (shape, 0)
        }
        guard product <= limits.maxElements else {
            throw CaptureDecodeError(
                path: path,
                problem: "\(OIPDecoder.shapeText(shape)) has more than the \(limits.maxElements) elements allowed per tensor (--max-tensor-elements)",
                reason: .tooLarge)
        }
        return (shape, product)
    }

    /// Raw contents: sizes checked here (the element count is already within the limits), then decoded by the
    /// binary tensor extension's decoder.
    static func rawValues(_ chunk: Data, datatype: TensorDatatype, count: Int, path: String) throws -> TensorValues {
        if let size = datatype.byteSize {
            let (expected, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow, chunk.count == expected else {
                throw CaptureDecodeError(
                    path: path, problem: "has \(chunk.count) bytes; the shape needs \(count) elements of \(size) bytes for \(datatype.rawValue)")
            }
        } else {
            // BYTES: count the length-prefixed elements before decodeBinary allocates one array per element
            var offset = chunk.startIndex
            var n = 0
            while offset < chunk.endIndex {
                guard n < count else { throw CaptureDecodeError(path: path, problem: "holds more than the \(count) BYTES elements the shape needs") }
                guard chunk.endIndex - offset >= 4 else { break }  // decodeBinary reports the truncated prefix
                let length = Int(chunk[offset]) | Int(chunk[offset + 1]) << 8 | Int(chunk[offset + 2]) << 16 | Int(chunk[offset + 3]) << 24
                offset += 4
                guard length <= chunk.endIndex - offset else { break }  // decodeBinary reports the lying length
                offset += length
                n += 1
            }
        }
        return try OIPDecoder.decodeBinary(chunk, datatype: datatype, count: count, path: path)
    }

    /// Typed contents: the repeated field of the datatype, every other field empty, narrow integers in range.
    static func typedValues(_ c: Inference_InferTensorContents, datatype: TensorDatatype, path: String) throws -> TensorValues {
        let fields: [(String, Int)] = [
            ("bool_contents", c.boolContents.count), ("int_contents", c.intContents.count),
            ("int64_contents", c.int64Contents.count), ("uint_contents", c.uintContents.count),
            ("uint64_contents", c.uint64Contents.count), ("fp32_contents", c.fp32Contents.count),
            ("fp64_contents", c.fp64Contents.count), ("bytes_contents", c.bytesContents.count)
        ]
        let own = typedField(datatype)
        if let other = fields.first(where: { $0.1 > 0 && $0.0 != own }) {
            throw CaptureDecodeError(path: "\(path).\(other.0)", problem: "is set, but a \(datatype.rawValue) tensor's values go in \(path).\(own)")
        }
        func ranged<T: BinaryInteger>(_ values: [T], _ range: ClosedRange<Int64>) throws -> TensorValues {
            var out: [Double] = []
            out.reserveCapacity(values.count)
            for (k, v) in values.enumerated() {
                guard let x = Int64(exactly: v), range.contains(x) else {
                    throw CaptureDecodeError(path: "\(path).\(own)[\(k)]", problem: "is \(v), out of range for \(datatype.rawValue)")
                }
                out.append(Double(x))
            }
            return .numbers(out)
        }
        switch datatype {
        case .BOOL: return .bools(c.boolContents)
        case .INT8: return try ranged(c.intContents, -128...127)
        case .INT16: return try ranged(c.intContents, -32_768...32_767)
        case .INT32: return .numbers(c.intContents.map { Double($0) })
        case .INT64: return .numbers(c.int64Contents.map { Double($0) })
        case .UINT8: return try ranged(c.uintContents, 0...255)
        case .UINT16: return try ranged(c.uintContents, 0...65_535)
        case .UINT32: return .numbers(c.uintContents.map { Double($0) })
        case .UINT64: return .numbers(c.uint64Contents.map { Double($0) })
        case .FP16, .BF16, .FP32: return .numbers(c.fp32Contents.map { Double($0) })
        case .FP64: return .numbers(c.fp64Contents)
        case .BYTES: return .bytes(c.bytesContents.map { [UInt8]($0) })
        }
    }

    /// The `InferTensorContents` field that holds a datatype's values.
    static func typedField(_ d: TensorDatatype) -> String {
        switch d {
        case .BOOL: "bool_contents"
        case .INT8, .INT16, .INT32: "int_contents"
        case .INT64: "int64_contents"
        case .UINT8, .UINT16, .UINT32: "uint_contents"
        case .UINT64: "uint64_contents"
        case .FP16, .BF16, .FP32: "fp32_contents"
        case .FP64: "fp64_contents"
        case .BYTES: "bytes_contents"
        }
    }
}

/// A walk of a ModelInferRequest/Response's wire bytes that counts, without allocating, what decoding would
/// allocate: tensor elements in `contents` (per tensor and per message) and objects (fields of the message and
/// its tensors, shape dimensions, BYTES elements) — so a small body cannot decode into a large allocation.
/// Protobuf groups (wire types 3 and 4, unused by the OIP schema) are refused where the walk meets them.
enum WireCensus {
    static func check(_ bytes: UnsafeRawBufferPointer, isResponse: Bool, limits: CaptureLimits) throws {
        let key = isResponse ? "outputs" : "inputs"
        var r = WireReader(bytes, from: 0)
        var nodes = 0
        var elements = 0
        var tensor = 0
        func count(_ n: Int, path: String) throws {
            nodes += n
            if nodes > limits.maxJSONNodes {
                throw CaptureDecodeError(
                    path: path, problem: "decodes into more than \(limits.maxJSONNodes) objects (--max-json-values)", reason: .tooLarge)
            }
        }
        while !r.atEnd {
            let (field, wire) = try r.tag(path: "body")
            try count(1, path: "body")
            if field == 5 && wire == 2 {
                let path = "\(key)[\(tensor)]"
                var t = try r.sub(path: path)
                var inTensor = 0
                while !t.atEnd {
                    let (f, w) = try t.tag(path: path)
                    try count(1, path: path)
                    switch (f, w) {
                    case (3, 2):  // packed shape
                        var s = try t.sub(path: "\(path).shape")
                        let dims = s.terminatedVarints()
                        if dims > OIPProtobufDecoder.maxDimensions {
                            throw CaptureDecodeError(
                                path: "\(path).shape", problem: "has \(dims) dimensions; at most \(OIPProtobufDecoder.maxDimensions) are accepted")
                        }
                        try count(dims, path: path)
                    case (5, 2):
                        var c = try t.sub(path: "\(path).contents")
                        while !c.atEnd {
                            let (cf, cw) = try c.tag(path: "\(path).contents")
                            let n: Int
                            switch (cf, cw) {
                            case (1...5, 0), (6, 5), (7, 1):
                                n = 1
                                try c.skip(cw, path: "\(path).contents")
                            case (1...5, 2):
                                var p = try c.sub(path: "\(path).contents")
                                n = p.terminatedVarints()
                            case (6, 2): n = try c.sub(path: "\(path).contents").remaining / 4
                            case (7, 2): n = try c.sub(path: "\(path).contents").remaining / 8
                            case (8, 2):
                                n = 1
                                try count(1, path: path)
                                _ = try c.sub(path: "\(path).contents")
                            default:
                                n = 0
                                try c.skip(cw, path: "\(path).contents")
                            }
                            inTensor += n
                            elements += n
                            if inTensor > limits.maxElements {
                                throw CaptureDecodeError(
                                    path: "\(path).contents",
                                    problem: "has more than the \(limits.maxElements) elements allowed per tensor (--max-tensor-elements)",
                                    reason: .tooLarge)
                            }
                            if elements > limits.maxElementsPerRequest {
                                throw CaptureDecodeError(
                                    path: key,
                                    problem:
                                        "hold more than the \(limits.maxElementsPerRequest) tensor elements accepted per request (--max-request-elements)",
                                    reason: .tooLarge)
                            }
                        }
                    default:
                        try t.skip(w, path: path)
                    }
                }
                tensor += 1
            } else {
                try r.skip(wire, path: "body")
            }
        }
    }
}

/// Reads protobuf wire format from a byte range; every read is bounds-checked and a failure is a
/// `CaptureDecodeError` (or nil from `varint`), never a trap.
struct WireReader {
    let bytes: UnsafeRawBufferPointer
    var i: Int
    let end: Int

    init(_ bytes: UnsafeRawBufferPointer, from start: Int) {
        self.init(bytes, i: min(max(start, 0), bytes.count), end: bytes.count)
    }

    private init(_ bytes: UnsafeRawBufferPointer, i: Int, end: Int) {
        self.bytes = bytes
        self.i = i
        self.end = end
    }

    var atEnd: Bool { i >= end }
    var remaining: Int { end - i }

    private func byte(_ k: Int) -> UInt8 { bytes[k] }

    /// A base-128 varint of at most 10 bytes; nil when truncated or longer.
    mutating func varint() -> UInt64? {
        var v: UInt64 = 0
        for shift in stride(from: UInt64(0), to: 70, by: 7) {
            guard i < end else { return nil }
            let b = byte(i)
            i += 1
            v |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return v }
        }
        return nil
    }

    mutating func tag(path: String) throws -> (field: UInt64, wire: UInt8) {
        guard let t = varint(), t >> 3 != 0 else {
            throw CaptureDecodeError(path: path, problem: "has a truncated or invalid protobuf field tag at byte \(i)", reason: .malformed)
        }
        let wire = UInt8(t & 7)
        if wire == 3 || wire == 4 || wire > 5 {
            throw CaptureDecodeError(
                path: path,
                problem: "has a field of protobuf wire type \(wire) (groups and unknown types are not part of the Open Inference Protocol)",
                reason: .malformed)
        }
        return (t >> 3, wire)
    }

    /// A length-delimited field's payload, as a reader of its own; this reader moves past it.
    mutating func sub(path: String) throws -> WireReader {
        guard let n = varint(), n <= UInt64(end - i) else {
            throw CaptureDecodeError(
                path: path, problem: "has a length-delimited field longer than the bytes that remain (truncated)", reason: .malformed)
        }
        let start = i
        i += Int(n)
        return WireReader(bytes, i: start, end: i)
    }

    mutating func skip(_ wire: UInt8, path: String) throws {
        switch wire {
        case 0:
            guard varint() != nil else { throw CaptureDecodeError(path: path, problem: "has a truncated varint", reason: .malformed) }
        case 1, 5:
            let n = wire == 1 ? 8 : 4
            guard end - i >= n else { throw CaptureDecodeError(path: path, problem: "has a truncated fixed-size field", reason: .malformed) }
            i += n
        default:
            _ = try sub(path: path)
        }
    }

    /// How many varints end in the rest of the range (bytes without the continuation bit): the element count of
    /// a packed varint field.
    mutating func terminatedVarints() -> Int {
        var n = 0
        while i < end {
            if byte(i) & 0x80 == 0 { n += 1 }
            i += 1
        }
        return n
    }
}

/// Case-insensitive header lookup over the raw header list, with Seldon's Kafka headers found either as a
/// KafkaSource forwards them (`ce-kafkaheader` + the name lowercased with everything but a–z and 0–9 removed,
/// e.g. `x-request-id` → `ce-kafkaheaderxrequestid`) or under their own name (a bridge that copies them).
struct HeaderLookup {
    var values: [String: String] = [:]

    init(_ headers: [(String, String)]) {
        for (name, value) in headers where values[name.lowercased()] == nil { values[name.lowercased()] = value }
    }

    subscript(_ name: String) -> String? { values[name].flatMap { $0.isEmpty ? nil : $0 } }

    /// A Kafka record header as a KafkaSource delivers it (preferred), else under its own name when `plain`.
    func kafkaHeader(_ name: String, plain: Bool = true) -> String? {
        let squeezed = String(decoding: name.lowercased().utf8.filter { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) }, as: UTF8.self)
        return self["ce-kafkaheader" + squeezed] ?? (plain ? self[name.lowercased()] : nil)
    }
}
