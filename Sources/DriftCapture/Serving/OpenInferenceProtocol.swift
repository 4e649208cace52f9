import DriftCommon
import Foundation

/// The tensor datatypes of the Open Inference Protocol (KServe V2, Triton).
public enum TensorDatatype: String, Sendable, CaseIterable {
    case BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, BF16, FP32, FP64, BYTES

    /// Bytes per element in the binary tensor extension (nil: BYTES, length-prefixed).
    public var byteSize: Int? {
        switch self {
        case .BOOL, .UINT8, .INT8: 1
        case .UINT16, .INT16, .FP16, .BF16: 2
        case .UINT32, .INT32, .FP32: 4
        case .UINT64, .INT64, .FP64: 8
        case .BYTES: nil
        }
    }
}

/// A tensor's elements, row-major.
public enum TensorValues: Equatable, Sendable {
    /// Every numeric datatype, as doubles (INT64/UINT64 beyond 2^53 round to the nearest double).
    case numbers([Double])
    case bools([Bool])
    /// BYTES elements (UTF-8 strings, usually).
    case bytes([[UInt8]])

    public var count: Int {
        switch self {
        case .numbers(let v): v.count
        case .bools(let v): v.count
        case .bytes(let v): v.count
        }
    }
}

/// One named tensor of a request or response.
public struct InferenceTensor: Equatable, Sendable {
    public var name: String
    public var datatype: TensorDatatype
    public var shape: [Int]
    public var values: TensorValues

    /// The batch dimension: the first of `shape` (1 for a scalar shape `[]`).
    public var rows: Int { shape.first ?? 1 }
    /// Elements per row: the product of the other dimensions.
    public var rowWidth: Int { shape.dropFirst().reduce(1, *) }
}

/// A decoded Open Inference Protocol request (`inputs`) or response (`outputs`).
public struct OIPMessage: Equatable, Sendable {
    public var id: String?
    public var modelName: String?
    public var modelVersion: String?
    public var isResponse: Bool
    public var tensors: [InferenceTensor]
}

/// Decodes Open Inference Protocol (V2) bodies — JSON, with `data` nested or flat, and the binary tensor
/// extension: a JSON header of `Inference-Header-Content-Length` bytes followed by the tensors whose
/// `parameters.binary_data_size` is set, in order, little-endian, BYTES elements each prefixed by a 4-byte
/// little-endian length (Triton's and KServe's layout).
public enum OIPDecoder {
    public typealias Limits = CaptureLimits

    /// `headerLength`: the `Inference-Header-Content-Length` header, when the body uses the binary extension.
    /// Without it, a body whose JSON header is followed by binary tensor data (as KServe's logger forwards Triton
    /// traffic: the body, never that header) is split where the JSON value ends.
    public static func decode(_ body: Data, headerLength: Int? = nil, limits: Limits = Limits()) throws -> OIPMessage {
        if let headerLength {
            guard headerLength >= 0, headerLength <= body.count else {
                throw CaptureDecodeError(
                    path: "Inference-Header-Content-Length", problem: "is \(headerLength) but the body has only \(body.count) bytes",
                    reason: .malformed)
            }
            return try decode(root: JSONValue.parse(body.prefix(headerLength), limits: limits), binary: body.dropFirst(headerLength), limits: limits)
        }
        let (root, end) = try JSONValue.parsePrefix(body, limits: limits)
        return try decode(root: root, binary: binaryTail(root, body.dropFirst(end)), limits: limits)
    }

    /// What follows a JSON header: binary tensor data when a tensor declares `binary_data_size` (every byte of it,
    /// white space included), else only white space is allowed.
    static func binaryTail(_ root: JSONValue, _ rest: Data) throws -> Data {
        if declaresBinary(root) { return rest }
        guard rest.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) else {
            throw CaptureDecodeError(
                path: "body", problem: "is not valid JSON (\(rest.count) bytes after the JSON value, and no tensor declares binary_data_size)",
                reason: .malformed)
        }
        return Data()
    }

    /// Whether a tensor of the message declares binary data (`parameters.binary_data_size`).
    static func declaresBinary(_ root: JSONValue) -> Bool {
        for key in ["inputs", "outputs"] {
            for t in root[key]?.array ?? [] where t["parameters"]?["binary_data_size"] != nil { return true }
        }
        return false
    }

    /// The same for a JSON header already parsed; `binary` holds the bytes after it (empty without the extension).
    /// Every size that comes from the message is checked before it is used: each dimension against the limits,
    /// the shape's product with overflow-reporting multiplication, `binary_data_size` against the bytes that remain.
    static func decode(root: JSONValue, binary: Data, limits: Limits) throws -> OIPMessage {
        guard case .object = root else { throw CaptureDecodeError(path: "body", problem: "must be a JSON object, found \(root.typeName)") }
        // A request lists its `inputs` (and may list the `outputs` it wants, as tritonclient does); a response has only `outputs`.
        let isResponse = root["inputs"] == nil && root["outputs"] != nil
        let key = isResponse ? "outputs" : "inputs"
        guard let list = root[key]?.array else {
            if root["inputs"] == nil && root["outputs"] == nil {
                throw CaptureDecodeError(path: "body", problem: "has neither \"inputs\" nor \"outputs\" (not an Open Inference Protocol message)")
            }
            throw CaptureDecodeError(path: key, problem: "must be an array, found \(root[key]?.typeName ?? "nothing")")
        }
        var offset = binary.startIndex
        var tensors: [InferenceTensor] = []
        var total = 0
        for (i, node) in list.enumerated() {
            let path = "\(key)[\(i)]"
            guard case .object = node else { throw CaptureDecodeError(path: path, problem: "must be an object, found \(node.typeName)") }
            guard let name = node["name"]?.string else { throw CaptureDecodeError(path: "\(path).name", problem: "is missing or not a string") }
            guard let dt = node["datatype"]?.string else { throw CaptureDecodeError(path: "\(path).datatype", problem: "is missing or not a string") }
            guard let datatype = TensorDatatype(rawValue: dt) else {
                throw CaptureDecodeError(
                    path: "\(path).datatype",
                    problem: "is \"\(dt.prefix(40))\", not one of \(TensorDatatype.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard let shapeNodes = node["shape"]?.array else {
                throw CaptureDecodeError(path: "\(path).shape", problem: "is missing or not an array")
            }
            var dims: [Double] = []
            for (k, s) in shapeNodes.enumerated() {
                guard let d = s.number, d >= 0, d == d.rounded() else {
                    throw CaptureDecodeError(path: "\(path).shape[\(k)]", problem: "must be a non-negative integer")
                }
                dims.append(d)
            }
            let shape = try checkedShape(dims, path: "\(path).shape", limits: limits)
            let needed = shape.reduce(1, *)  // ≤ maxElements: checked above
            let (sum, over) = total.addingReportingOverflow(needed)
            guard !over, sum <= limits.maxElementsPerRequest else {
                throw CaptureDecodeError(
                    path: "\(path).shape",
                    problem:
                        "brings the request over the \(limits.maxElementsPerRequest) tensor elements allowed per request (--max-request-elements)",
                    reason: .tooLarge)
            }
            total = sum
            let values: TensorValues
            if let sizeNode = node["parameters"]?["binary_data_size"] {
                let remaining = binary.endIndex - offset
                guard let size = sizeNode.number, size >= 0, size == size.rounded(), size <= Double(remaining) else {
                    throw CaptureDecodeError(
                        path: "\(path).parameters.binary_data_size",
                        problem:
                            "is \(sizeNode.number.map(ReportNumber.text) ?? sizeNode.typeName) but only \(remaining) bytes of binary data remain",
                        reason: .malformed)
                }
                let n = Int(size)
                let chunk = binary[offset..<(offset + n)]
                offset += n
                values = try decodeBinary(chunk, datatype: datatype, count: needed, path: path)
            } else {
                guard let data = node["data"] else {
                    throw CaptureDecodeError(path: "\(path).data", problem: "is missing (and no binary_data_size is given)")
                }
                values = try decodeJSON(data, datatype: datatype, path: "\(path).data", limit: limits.maxElements)
            }
            guard values.count == needed else {
                throw CaptureDecodeError(path: "\(path).data", problem: "has \(values.count) values, shape \(shapeText(shape)) needs \(needed)")
            }
            tensors.append(InferenceTensor(name: name, datatype: datatype, shape: shape, values: values))
        }
        if offset != binary.endIndex {
            throw CaptureDecodeError(
                path: "body", problem: "has \(binary.endIndex - offset) bytes of binary data that no tensor's binary_data_size accounts for",
                reason: .malformed)
        }
        return OIPMessage(
            id: root["id"]?.string, modelName: root["model_name"]?.string, modelVersion: root["model_version"]?.string,
            isResponse: isResponse, tensors: tensors)
    }

    /// A tensor shape from its dimensions (non-negative integers as doubles, or as Int64 from protobuf), checked:
    /// the batch (first) dimension within `maxRowsPerRequest`, every dimension and the product within `maxElements`
    /// (overflow-reporting), and no zero-element tensor that claims rows (it would store empty events).
    public static func checkedShape(_ dims: [Double], path: String, limits: Limits) throws -> [Int] {
        var shape: [Int] = []
        shape.reserveCapacity(min(dims.count, 16))
        guard dims.count <= 16 else {
            throw CaptureDecodeError(path: path, problem: "has \(dims.count) dimensions; at most 16 are accepted", reason: .tooLarge)
        }
        for (k, d) in dims.enumerated() {
            guard d >= 0, d == d.rounded() else { throw CaptureDecodeError(path: "\(path)[\(k)]", problem: "must be a non-negative integer") }
            let bound = k == 0 && dims.count > 1 ? limits.maxRowsPerRequest : limits.maxElements
            guard d <= Double(bound) else {
                throw CaptureDecodeError(
                    path: "\(path)[\(k)]",
                    problem: k == 0 && dims.count > 1
                        ? "is \(ReportNumber.text(d)) rows; at most \(limits.maxRowsPerRequest) are accepted per request (--max-rows)"
                        : "is \(ReportNumber.text(d)); at most \(limits.maxElements) elements are accepted per tensor (--max-tensor-elements)",
                    reason: .tooLarge)
            }
            shape.append(Int(d))
        }
        // the product of the non-zero dimensions too: a zero must not hide dimensions whose row width overflows
        var product = 1
        for d in shape {
            let (m, o) = product.multipliedReportingOverflow(by: max(d, 1))
            guard !o, m <= limits.maxElements else {
                throw CaptureDecodeError(
                    path: path,
                    problem: "\(shapeText(shape)) has more than the \(limits.maxElements) elements allowed per tensor (--max-tensor-elements)",
                    reason: .tooLarge)
            }
            product = m
        }
        if shape.contains(0) { product = 0 }
        if product == 0, let rows = shape.first, rows > 0, shape.count > 1 {
            throw CaptureDecodeError(path: path, problem: "\(shapeText(shape)) has no elements but claims \(rows) rows")
        }
        return shape
    }

    static func shapeText(_ s: [Int]) -> String { "[" + s.map(String.init).joined(separator: ",") + "]" }

    /// Flattens nested arrays row-major and checks every element against the datatype.
    static func decodeJSON(_ node: JSONValue, datatype: TensorDatatype, path: String, limit: Int) throws -> TensorValues {
        var flat: [JSONValue] = []
        func walk(_ n: JSONValue) throws {
            if case .array(let items) = n {
                for x in items { try walk(x) }
            } else {
                flat.append(n)
                if flat.count > limit {
                    throw CaptureDecodeError(
                        path: path, problem: "has more than the \(limit) elements allowed per tensor (--max-tensor-elements)", reason: .tooLarge)
                }
            }
        }
        try walk(node)
        switch datatype {
        case .BOOL:
            return .bools(
                try flat.enumerated().map { i, v in
                    if case .bool(let b) = v { return b }
                    throw CaptureDecodeError(path: "\(path)[\(i)]", problem: "is \(v.typeName), a BOOL tensor needs true or false")
                })
        case .BYTES:
            return .bytes(
                try flat.enumerated().map { i, v in
                    if case .string(let s) = v { return Array(s.utf8) }
                    throw CaptureDecodeError(path: "\(path)[\(i)]", problem: "is \(v.typeName), a BYTES tensor needs strings")
                })
        default:
            let integer = datatype.rawValue.contains("INT")
            return .numbers(
                try flat.enumerated().map { i, v in
                    guard let d = v.number else {
                        throw CaptureDecodeError(path: "\(path)[\(i)]", problem: "is \(v.typeName), a \(datatype.rawValue) tensor needs numbers")
                    }
                    if integer && d != d.rounded() {
                        throw CaptureDecodeError(
                            path: "\(path)[\(i)]", problem: "is \(ReportNumber.text(d)), a \(datatype.rawValue) tensor needs integers")
                    }
                    if datatype.rawValue.hasPrefix("UINT") && d < 0 {
                        throw CaptureDecodeError(
                            path: "\(path)[\(i)]", problem: "is \(ReportNumber.text(d)), a \(datatype.rawValue) tensor needs non-negative integers")
                    }
                    return d
                })
        }
    }

    /// The binary tensor extension's little-endian layout.
    static func decodeBinary(_ chunk: Data, datatype: TensorDatatype, count: Int, path: String) throws -> TensorValues {
        let bytes = [UInt8](chunk)
        if datatype == .BYTES {
            var out: [[UInt8]] = []
            var i = 0
            while i < bytes.count {
                guard i + 4 <= bytes.count else {
                    throw CaptureDecodeError(path: path, problem: "BYTES element \(out.count) has a truncated 4-byte length prefix")
                }
                let n = Int(UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
                i += 4
                guard n <= bytes.count - i else {
                    throw CaptureDecodeError(path: path, problem: "BYTES element \(out.count) claims \(n) bytes but only \(bytes.count - i) remain")
                }
                out.append(Array(bytes[i..<(i + n)]))
                i += n
            }
            return .bytes(out)
        }
        let size = datatype.byteSize!
        guard bytes.count == count * size else {
            throw CaptureDecodeError(
                path: "\(path).parameters.binary_data_size",
                problem: "is \(bytes.count) bytes, shape needs \(count) × \(size) = \(count * size) for \(datatype.rawValue)")
        }
        func u64(_ at: Int, _ n: Int) -> UInt64 {
            var v: UInt64 = 0
            for k in 0..<n { v |= UInt64(bytes[at + k]) << (8 * UInt64(k)) }
            return v
        }
        if datatype == .BOOL { return .bools((0..<count).map { bytes[$0] != 0 }) }
        return .numbers(
            (0..<count).map { j -> Double in
                let raw = u64(j * size, size)
                switch datatype {
                case .UINT8, .UINT16, .UINT32, .UINT64: return Double(raw)
                case .INT8: return Double(Int8(truncatingIfNeeded: raw))
                case .INT16: return Double(Int16(truncatingIfNeeded: raw))
                case .INT32: return Double(Int32(truncatingIfNeeded: raw))
                case .INT64: return Double(Int64(bitPattern: raw))
                case .FP16: return halfToDouble(UInt16(truncatingIfNeeded: raw))
                case .BF16: return Double(Float(bitPattern: UInt32(truncatingIfNeeded: raw) << 16))
                case .FP32: return Double(Float(bitPattern: UInt32(truncatingIfNeeded: raw)))
                case .FP64: return Double(bitPattern: raw)
                case .BOOL, .BYTES: return .nan
                }
            })
    }

    /// IEEE 754 binary16 → double, exactly (subnormals, ±∞ and NaN included).
    public static func halfToDouble(_ h: UInt16) -> Double {
        let sign: Double = (h & 0x8000) != 0 ? -1 : 1
        let exponent = Int((h >> 10) & 0x1F)
        let fraction = Double(h & 0x3FF)
        switch exponent {
        case 0: return sign * fraction * 0x1p-24
        case 31: return fraction == 0 ? sign * .infinity : .nan
        default: return sign * (1 + fraction / 1024) * Double(sign: .plus, exponent: exponent - 15, significand: 1)
        }
    }
}

/// Number text for error messages (integers without a decimal point).
enum ReportNumber {
    static func text(_ d: Double) -> String {
        d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : "\(d)"
    }
}
