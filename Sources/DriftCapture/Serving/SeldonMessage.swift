import DriftCommon
import Foundation

/// Seldon Core v1's default payload, `SeldonMessage` (SeldonIO/seldon-core `proto/prediction.proto`), in its JSON
/// form as the Python wrapper reads and writes it (`python/seldon_core/utils.py`: `extract_request_parts_json`,
/// `construct_response_json`, `array_to_rest_datadef`):
///
///     {"data": {"names": [...], "ndarray" | "tensor" | "tftensor": ...}, "meta": {"puid", "tags", "requestPath", "metrics"}}
///     {"jsonData": ...}   {"strData": "..."}   {"binData": "<base64>"}   ({"customData": Any})
///
/// What is read:
/// - `data.ndarray`: each element is a row. An array row gives its elements in order (nested arrays flattened); with
///   `names`, element j of the row is the feature `names[j]` (names must then list one name per element). An
///   object row is keyed like a V1 instance. A scalar is a row of one element (named `names[0]` when given) — a
///   1-D ndarray is a batch of single values, except when `names` lists more than one name and exactly as many
///   as the array has scalars: then it is one row of those features.
/// - `data.tensor {shape, values}`: shape `[B, n, …]` gives B rows of `n·…` values, `names` naming the n columns
///   (each column then holds the `…` elements); shape `[n]` and `[]` follow the 1-D ndarray rule. The shape is
///   checked (non-negative integers, rows within `maxRowsPerRequest`, overflow-checked product within
///   `maxElements`) before anything is allocated; `values` must hold exactly the product (proto3 JSON also
///   allows "NaN", "Infinity", "-Infinity").
/// - `data.tftensor`: a TensorFlow `TensorProto` in proto3 JSON (`dtype`, `tensorShape.dim[].size`, and either
///   `tensorContent` — little-endian bytes, as `tf.make_tensor_proto` writes numpy arrays — or the typed
///   `floatVal`/`doubleVal`/`intVal`/`int64Val`/`boolVal`/`stringVal`/… list, a single value filling the shape);
///   rows as for `tensor`.
/// - `jsonData`: an object is one row of features (key → value, like a V1 instance), a list is one row per element;
///   anything else is refused as `unsupported`.
/// - `strData`, `binData`, `customData`: refused as `unsupported` naming the field (free text, bytes and protobuf
///   `Any` have no features to measure).
/// - `meta.puid` becomes the payload id; `tags`, `requestPath`, `metrics`, `routing` and `status` are not needed.
///   SeldonMessage carries no model name or version.
/// Rows without any element are refused (they would store empty events).
public enum SeldonMessageDecoder {
    /// The members of `SeldonMessage.data_oneof`.
    static let payloadKeys = ["data", "binData", "strData", "jsonData", "customData"]

    /// The fields of `DefaultData`.
    static let dataKeys: Set<String> = ["names", "ndarray", "tensor", "tftensor"]

    /// A SeldonMessage: an object with none of the V1/OIP keys and one of the payload keys — `data` as an object
    /// that is empty or holds a DefaultData field (so `{"data": {"features": …}}` of other formats is not taken).
    public static func isSeldonMessage(_ root: JSONValue) -> Bool {
        guard let o = root.object else { return false }
        if o["instances"] != nil || o["inputs"] != nil || o["predictions"] != nil || o["outputs"] != nil { return false }
        if let data = o["data"] { return data.object.map { $0.isEmpty || $0.keys.contains(where: dataKeys.contains) } ?? false }
        return payloadKeys.contains { o[$0] != nil }
    }

    /// Decodes a SeldonMessage. `isResponse`: what the envelope says (the body does not tell; nil reads as a request).
    public static func decode(_ root: JSONValue, isResponse: Bool? = nil, limits: CaptureLimits = .init()) throws -> DecodedPayload {
        guard let o = root.object else { throw CaptureDecodeError(path: "body", problem: "must be a JSON object, found \(root.typeName)") }
        let present = payloadKeys.filter { o[$0] != nil }
        guard present.count == 1, let key = present.first else {
            throw CaptureDecodeError(
                path: "body",
                problem: present.isEmpty
                    ? "has none of \"data\", \"jsonData\", \"strData\", \"binData\" (not a SeldonMessage)"
                    : "has \(present.map { "\"\($0)\"" }.joined(separator: " and ")); a SeldonMessage carries exactly one of them")
        }
        let rows: [PayloadRow]
        switch key {
        case "data": rows = try data(o["data"] ?? .null, limits: limits)
        case "jsonData": rows = try jsonData(o["jsonData"] ?? .null, limits: limits)
        case "strData":
            throw CaptureDecodeError(
                path: "strData",
                problem: "is free text; drift-worker reads SeldonMessage data (ndarray, tensor, tftensor) and jsonData rows, not strData",
                reason: .unsupported)
        case "binData":
            throw CaptureDecodeError(
                path: "binData",
                problem: "is opaque bytes; drift-worker reads SeldonMessage data (ndarray, tensor, tftensor) and jsonData rows, not binData",
                reason: .unsupported)
        default:
            throw CaptureDecodeError(
                path: key,
                problem: "is a protobuf Any; drift-worker reads SeldonMessage data (ndarray, tensor, tftensor) and jsonData rows, not customData",
                reason: .unsupported)
        }
        try checkTotal(rows, limits: limits)
        return DecodedPayload(
            protocolName: .seldon, id: root["meta"]?["puid"]?.string.flatMap { $0.isEmpty ? nil : $0 },
            modelName: nil, modelVersion: nil, isResponse: isResponse ?? false, rows: rows)
    }

    // MARK: data (DefaultData)

    static func data(_ node: JSONValue, limits: CaptureLimits) throws -> [PayloadRow] {
        guard let d = node.object else {
            throw CaptureDecodeError(path: "data", problem: "must be an object (DefaultData), found \(node.typeName)")
        }
        if let unknown = d.keys.sorted().first(where: { !dataKeys.contains($0) }) {
            throw CaptureDecodeError(
                path: "data.\(unknown.prefix(64))", problem: "is not a field of SeldonMessage data (names, ndarray, tensor, tftensor)")
        }
        var names: [String] = []
        if let n = d["names"], n != .null {
            guard let list = n.array else {
                throw CaptureDecodeError(path: "data.names", problem: "must be an array of strings, found \(n.typeName)")
            }
            for (i, item) in list.enumerated() {
                guard let s = item.string else {
                    throw CaptureDecodeError(path: "data.names[\(i)]", problem: "must be a string, found \(item.typeName)")
                }
                names.append(s)
            }
        }
        let present = ["ndarray", "tensor", "tftensor"].filter { d[$0] != nil }
        if present.count > 1 {
            throw CaptureDecodeError(path: "data", problem: "has \(present.joined(separator: " and ")); DefaultData carries exactly one of them")
        }
        if let nd = d["ndarray"] { return try ndarray(nd, names: names, limits: limits) }
        if let t = d["tensor"] {
            let (shape, values) = try tensor(t, limits: limits)
            return try rows(values, shape: shape, names: names, path: "data.tensor", limits: limits)
        }
        if let t = d["tftensor"] {
            let (shape, values) = try tftensor(t, limits: limits)
            return try rows(values, shape: shape, names: names, path: "data.tftensor", limits: limits)
        }
        // the wrapper reads an empty DefaultData as an empty array: nothing to capture
        return []
    }

    static func ndarray(_ node: JSONValue, names: [String], limits: CaptureLimits) throws -> [PayloadRow] {
        guard case .array(let items) = node else {
            throw CaptureDecodeError(path: "data.ndarray", problem: "must be an array (a list of rows), found \(node.typeName)")
        }
        let isScalar: (JSONValue) -> Bool = { $0.array == nil && $0.object == nil }
        if names.count > 1, items.count == names.count, items.allSatisfy(isScalar) {
            return [PayloadRow(fields: zip(names, items).map { ($0, [Scalar($1)]) })]
        }
        guard items.count <= limits.maxRowsPerRequest else {
            throw CaptureDecodeError(
                path: "data.ndarray", problem: "holds \(items.count) rows; at most \(limits.maxRowsPerRequest) are accepted per request (--max-rows)",
                reason: .tooLarge)
        }
        var rows: [PayloadRow] = []
        rows.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            let path = "data.ndarray[\(i)]"
            let row: PayloadRow
            switch item {
            case .array(let cells):
                if names.isEmpty {
                    row = PayloadRow(fields: [("", V1Decoder.flatten(item))])
                } else {
                    guard cells.count == names.count else {
                        throw CaptureDecodeError(
                            path: path, problem: "has \(cells.count) values but data.names lists \(names.count) names (one per column)")
                    }
                    row = PayloadRow(fields: zip(names, cells).map { ($0, V1Decoder.flatten($1)) })
                }
            case .object:
                row = try V1Decoder.row(item, path: path)
            default:
                guard names.count <= 1 else {
                    throw CaptureDecodeError(path: path, problem: "is a single value but data.names lists \(names.count) names (one per column)")
                }
                row = PayloadRow(fields: [(names.first ?? "", [Scalar(item)])])
            }
            guard row.fields.contains(where: { !$0.values.isEmpty }) else {
                throw CaptureDecodeError(path: path, problem: "is an empty row (no values to capture)")
            }
            rows.append(row)
        }
        return rows
    }

    /// `Tensor {repeated int32 shape; repeated double values}`: the checked shape and its values.
    static func tensor(_ node: JSONValue, limits: CaptureLimits) throws -> ([Int], [Scalar]) {
        guard let t = node.object else {
            throw CaptureDecodeError(path: "data.tensor", problem: "must be an object {shape, values}, found \(node.typeName)")
        }
        guard let dimsNode = t["shape"]?.array else {
            throw CaptureDecodeError(path: "data.tensor.shape", problem: "must be an array of dimensions, found \(t["shape"]?.typeName ?? "nothing")")
        }
        var dims: [Double] = []
        for (k, n) in dimsNode.enumerated() {
            guard let d = n.number else {
                throw CaptureDecodeError(path: "data.tensor.shape[\(k)]", problem: "must be a non-negative integer, found \(n.typeName)")
            }
            dims.append(d)
        }
        let shape = try OIPDecoder.checkedShape(dims, path: "data.tensor.shape", limits: limits)
        let count = try elementCount(shape, path: "data.tensor.shape", limits: limits)
        let valuesNode = t["values"] ?? .array([])
        guard case .array(let items) = valuesNode else {
            throw CaptureDecodeError(path: "data.tensor.values", problem: "must be an array of numbers, found \(valuesNode.typeName)")
        }
        guard items.count == count else {
            throw CaptureDecodeError(
                path: "data.tensor.values", problem: "has \(items.count) values, shape \(OIPDecoder.shapeText(shape)) needs \(count)")
        }
        var values: [Scalar] = []
        values.reserveCapacity(count)
        for (i, item) in items.enumerated() {
            guard let d = protoDouble(item) else {
                throw CaptureDecodeError(path: "data.tensor.values[\(i)]", problem: "must be a number, found \(item.typeName)")
            }
            values.append(.number(d))
        }
        return (shape, values)
    }

    /// A proto3 JSON double: a number, or "NaN", "Infinity", "-Infinity" (or a number as a string).
    static func protoDouble(_ node: JSONValue) -> Double? {
        switch node {
        case .int, .double: return node.number
        case .string(let s):
            switch s {
            case "NaN": return .nan
            case "Infinity": return .infinity
            case "-Infinity": return -.infinity
            default: return s.utf8.count <= 64 ? Double(s) : nil
            }
        default: return nil
        }
    }

    /// The product of a checked shape (overflow-checked, within `maxElements`).
    static func elementCount(_ shape: [Int], path: String, limits: CaptureLimits) throws -> Int {
        var product = 1
        for d in shape {
            let (m, over) = product.multipliedReportingOverflow(by: d)
            guard !over, m <= limits.maxElements else {
                throw CaptureDecodeError(
                    path: path,
                    problem:
                        "\(OIPDecoder.shapeText(shape)) has more than the \(limits.maxElements) elements allowed per tensor (--max-tensor-elements)",
                    reason: .tooLarge)
            }
            product = m
        }
        return product
    }

    /// Rows of a dense tensor: `[B, n, …]` gives B rows (names naming the n columns); `[n]` and `[]` follow the
    /// 1-D ndarray rule.
    static func rows(_ values: [Scalar], shape: [Int], names: [String], path: String, limits: CaptureLimits) throws -> [PayloadRow] {
        if shape.count <= 1 {
            let n = shape.first ?? 1
            if names.count > 1, names.count == n { return [PayloadRow(fields: zip(names, values).map { ($0, [$1]) })] }
            guard names.count <= 1 else {
                throw CaptureDecodeError(path: "data.names", problem: "lists \(names.count) names but \(path) is a 1-D tensor of \(n) values")
            }
            guard n <= limits.maxRowsPerRequest else {
                throw CaptureDecodeError(
                    path: "\(path).shape", problem: "is \(n) rows; at most \(limits.maxRowsPerRequest) are accepted per request (--max-rows)",
                    reason: .tooLarge)
            }
            return values.map { PayloadRow(fields: [(names.first ?? "", [$0])]) }
        }
        let batch = shape[0]
        guard batch > 0 else { return [] }
        let width = values.count / batch
        guard width > 0 else { throw CaptureDecodeError(path: "\(path).shape", problem: "\(OIPDecoder.shapeText(shape)) has rows without values") }
        if !names.isEmpty, names.count != shape[1] {
            throw CaptureDecodeError(
                path: "data.names", problem: "lists \(names.count) names but \(path) has \(shape[1]) columns (shape \(OIPDecoder.shapeText(shape)))")
        }
        let columnWidth = names.isEmpty ? width : width / shape[1]
        var rows: [PayloadRow] = []
        rows.reserveCapacity(batch)
        for r in 0..<batch {
            let start = r * width
            if names.isEmpty {
                rows.append(PayloadRow(fields: [("", Array(values[start..<(start + width)]))]))
            } else {
                rows.append(
                    PayloadRow(
                        fields: names.enumerated().map { j, name in
                            let s = start + j * columnWidth
                            return (name, Array(values[s..<(s + columnWidth)]))
                        }))
            }
        }
        return rows
    }

    // MARK: tftensor (tensorflow.TensorProto in proto3 JSON)

    /// Element size in bytes of the dtypes read from `tensorContent`, and the typed list that holds them otherwise.
    static let tfTypes: [String: (size: Int, list: String)] = [
        "DT_FLOAT": (4, "floatVal"), "DT_DOUBLE": (8, "doubleVal"), "DT_HALF": (2, "halfVal"),
        "DT_INT8": (1, "intVal"), "DT_INT16": (2, "intVal"), "DT_INT32": (4, "intVal"), "DT_INT64": (8, "int64Val"),
        "DT_UINT8": (1, "intVal"), "DT_UINT16": (2, "intVal"), "DT_UINT32": (4, "uint32Val"), "DT_UINT64": (8, "uint64Val"),
        "DT_BOOL": (1, "boolVal"), "DT_STRING": (0, "stringVal")
    ]

    static func tftensor(_ node: JSONValue, limits: CaptureLimits) throws -> ([Int], [Scalar]) {
        let path = "data.tftensor"
        guard let t = node.object else {
            throw CaptureDecodeError(path: path, problem: "must be a TensorProto object, found \(node.typeName)")
        }
        let dtype = t["dtype"]?.string ?? "DT_INVALID"
        guard let type = tfTypes[dtype] else {
            throw CaptureDecodeError(
                path: "\(path).dtype",
                problem:
                    "is \"\(dtype.prefix(40))\"; drift-worker reads DT_FLOAT, DT_DOUBLE, DT_HALF, DT_(U)INT8/16/32/64, DT_BOOL and DT_STRING tensors",
                reason: .unsupported)
        }
        if t["tensorShape"]?["unknownRank"] == .bool(true) {
            throw CaptureDecodeError(path: "\(path).tensorShape.unknownRank", problem: "is true; a captured tensor needs its shape")
        }
        var dims: [Double] = []
        for (k, dim) in (t["tensorShape"]?["dim"]?.array ?? []).enumerated() {
            // int64 in proto3 JSON is a string; a missing size is 0
            let size = dim["size"] ?? .number(0)
            guard let d = size.number ?? size.string.flatMap({ $0.utf8.count <= 20 ? Double($0) : nil }) else {
                throw CaptureDecodeError(
                    path: "\(path).tensorShape.dim[\(k)].size", problem: "must be a non-negative integer, found \(size.typeName)")
            }
            dims.append(d)
        }
        let shape = try OIPDecoder.checkedShape(dims, path: "\(path).tensorShape.dim", limits: limits)
        let count = try elementCount(shape, path: "\(path).tensorShape.dim", limits: limits)
        if let content = t["tensorContent"] {
            guard type.size > 0 else {
                throw CaptureDecodeError(path: "\(path).tensorContent", problem: "is not read for \(dtype); strings come in stringVal")
            }
            guard let s = content.string, let bytes = base64(s) else {
                throw CaptureDecodeError(path: "\(path).tensorContent", problem: "is not base64", reason: .malformed)
            }
            let (needed, over) = count.multipliedReportingOverflow(by: type.size)
            guard !over, bytes.count == needed else {
                throw CaptureDecodeError(
                    path: "\(path).tensorContent",
                    problem: "has \(bytes.count) bytes, shape \(OIPDecoder.shapeText(shape)) of \(dtype) needs \(count) × \(type.size)")
            }
            return (shape, littleEndian(bytes, dtype: dtype, size: type.size, count: count))
        }
        let listNode = t[type.list] ?? .array([])
        guard case .array(let items) = listNode else {
            throw CaptureDecodeError(path: "\(path).\(type.list)", problem: "must be an array, found \(listNode.typeName)")
        }
        // TensorFlow's MakeNdarray: no values are zeros, one value fills the shape, else exactly one per element
        guard items.count <= 1 || items.count == count else {
            throw CaptureDecodeError(
                path: "\(path).\(type.list)",
                problem: "has \(items.count) values, shape \(OIPDecoder.shapeText(shape)) needs \(count) (or one to fill it)")
        }
        var values: [Scalar] = []
        values.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            let p = "\(path).\(type.list)[\(i)]"
            switch dtype {
            case "DT_BOOL":
                guard case .bool(let b) = item else { throw CaptureDecodeError(path: p, problem: "must be a boolean, found \(item.typeName)") }
                values.append(.bool(b))
            case "DT_STRING":
                guard let s = item.string, let b = base64(s) else {
                    throw CaptureDecodeError(path: p, problem: "must be base64 bytes, found \(item.typeName)")
                }
                values.append(.string(String(decoding: b, as: UTF8.self)))
            case "DT_HALF":
                // half_val holds the IEEE half bits as an int32
                guard let d = protoDouble(item), d >= 0, d <= 65_535, d == d.rounded() else {
                    throw CaptureDecodeError(path: p, problem: "must be the 16 bits of a half-precision number")
                }
                values.append(.number(OIPDecoder.halfToDouble(UInt16(d))))
            default:
                guard let d = protoDouble(item) else { throw CaptureDecodeError(path: p, problem: "must be a number, found \(item.typeName)") }
                values.append(.number(d))
            }
        }
        if items.isEmpty {
            return (shape, Array(repeating: dtype == "DT_BOOL" ? .bool(false) : (dtype == "DT_STRING" ? .string("") : .number(0)), count: count))
        }
        if items.count == 1 && count != 1 { return (shape, Array(repeating: values[0], count: count)) }
        return (shape, values)
    }

    /// Standard base64 as protobuf's JSON writes it; URL-safe and unpadded forms (which its parser accepts) too.
    static func base64(_ s: String) -> Data? {
        if let d = Data(base64Encoded: s) { return d }
        var t = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while t.utf8.count % 4 != 0 { t += "=" }
        return Data(base64Encoded: t)
    }

    static func littleEndian(_ bytes: Data, dtype: String, size: Int, count: Int) -> [Scalar] {
        let raw = [UInt8](bytes)
        var out: [Scalar] = []
        out.reserveCapacity(count)
        for i in 0..<count {
            var bits: UInt64 = 0
            for b in 0..<size { bits |= UInt64(raw[i * size + b]) << (8 * UInt64(b)) }
            let v: Scalar
            switch dtype {
            case "DT_FLOAT": v = .number(Double(Float(bitPattern: UInt32(truncatingIfNeeded: bits))))
            case "DT_DOUBLE": v = .number(Double(bitPattern: bits))
            case "DT_HALF": v = .number(OIPDecoder.halfToDouble(UInt16(truncatingIfNeeded: bits)))
            case "DT_INT8": v = .number(Double(Int8(truncatingIfNeeded: bits)))
            case "DT_INT16": v = .number(Double(Int16(truncatingIfNeeded: bits)))
            case "DT_INT32": v = .number(Double(Int32(truncatingIfNeeded: bits)))
            case "DT_INT64": v = .number(Double(Int64(bitPattern: bits)))
            case "DT_BOOL": v = .bool(bits != 0)
            default: v = .number(Double(bits))
            }
            out.append(v)
        }
        return out
    }

    // MARK: jsonData

    static func jsonData(_ node: JSONValue, limits: CaptureLimits) throws -> [PayloadRow] {
        switch node {
        case .object(let members):
            guard !members.isEmpty else { throw CaptureDecodeError(path: "jsonData", problem: "is an empty object (no features to capture)") }
            return [try V1Decoder.row(node, path: "jsonData")]
        case .array(let items):
            guard items.count <= limits.maxRowsPerRequest else {
                throw CaptureDecodeError(
                    path: "jsonData", problem: "holds \(items.count) rows; at most \(limits.maxRowsPerRequest) are accepted per request (--max-rows)",
                    reason: .tooLarge)
            }
            return try items.enumerated().map { i, item in
                let row = try V1Decoder.row(item, path: "jsonData[\(i)]")
                guard row.fields.contains(where: { !$0.values.isEmpty }) else {
                    throw CaptureDecodeError(path: "jsonData[\(i)]", problem: "is an empty row (no values to capture)")
                }
                return row
            }
        default:
            throw CaptureDecodeError(
                path: "jsonData", problem: "is \(node.typeName); drift-worker reads jsonData as an object of feature → value or a list of such rows",
                reason: .unsupported)
        }
    }

    /// All rows' elements together within `maxElementsPerRequest`.
    static func checkTotal(_ rows: [PayloadRow], limits: CaptureLimits) throws {
        var total = 0
        for row in rows {
            for f in row.fields {
                total += f.values.count
                if total > limits.maxElementsPerRequest {
                    throw CaptureDecodeError(
                        path: "body",
                        problem: "holds more than the \(limits.maxElementsPerRequest) elements accepted per request (--max-request-elements)",
                        reason: .tooLarge)
                }
            }
        }
    }
}
