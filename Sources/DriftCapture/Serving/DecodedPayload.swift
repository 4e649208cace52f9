import DriftCommon
import Foundation

/// One element of a captured row.
public enum Scalar: Equatable, Sendable {
    case number(Double)
    case string(String)
    case bool(Bool)
    case null

    init(_ node: JSONValue) {
        switch node {
        case .int(let i): self = .number(Double(i))
        case .double(let d): self = .number(d)
        case .string(let s): self = .string(s)
        case .bool(let b): self = .bool(b)
        default: self = .null
        }
    }
}

/// One row (one inference) of a request or response: its fields in order, each a name (a tensor, a column,
/// an object key; "" for positional rows) and one or more elements.
public struct PayloadRow: Equatable, Sendable {
    public var fields: [(name: String, values: [Scalar])]

    public init(fields: [(name: String, values: [Scalar])]) { self.fields = fields }

    public static func == (a: PayloadRow, b: PayloadRow) -> Bool {
        a.fields.count == b.fields.count && zip(a.fields, b.fields).allSatisfy { $0.name == $1.name && $0.values == $1.values }
    }

    /// A row whose only field is unnamed: its elements are known by position only.
    public var isPositional: Bool { fields.count == 1 && fields[0].name.isEmpty }

    /// The value a monitor's feature names: `key` alone — that field's (first) element; `key` and `index` —
    /// element `index` of that field; `index` alone — element `index` of the row's elements in order.
    /// nil when the row has no such element (a missing value).
    public func value(key: String?, index: Int?) -> Scalar? {
        if let key {
            guard let f = fields.first(where: { $0.name == key }) else { return nil }
            let i = index ?? 0
            return i >= 0 && i < f.values.count ? f.values[i] : nil
        }
        guard let index, index >= 0 else { return nil }
        var k = index
        for f in fields {
            if k < f.values.count { return f.values[k] }
            k -= f.values.count
        }
        return nil
    }
}

/// A decoded inference request or response, whatever protocol it used.
public struct DecodedPayload: Equatable, Sendable {
    /// `v1`: KServe V1; `oip`: Open Inference Protocol (V2); `seldon`: Seldon Core v1's SeldonMessage.
    public enum Wire: String, Sendable { case v1, oip, seldon, csv }
    public var protocolName: Wire
    public var id: String?
    public var modelName: String?
    public var modelVersion: String?
    public var isResponse: Bool
    public var rows: [PayloadRow]
}

/// Decodes a request or response body of the KServe V1 protocol or the Open Inference Protocol (V2).
public enum PayloadDecoder {
    /// `headerLength`: `Inference-Header-Content-Length` (OIP binary extension). `isResponse`: what the envelope
    /// says (a CloudEvent's type), when known; the body's own keys decide otherwise.
    public static func decode(
        _ body: Data, headerLength: Int? = nil, isResponse: Bool? = nil,
        limits: OIPDecoder.Limits = .init()
    ) throws -> DecodedPayload {
        if headerLength != nil { return try oip(OIPDecoder.decode(body, headerLength: headerLength, limits: limits), limits: limits) }
        let (root, end) = try JSONValue.parsePrefix(body, limits: limits)
        if isOIP(root) && OIPDecoder.declaresBinary(root) {
            // the OIP binary extension without its length header (KServe's logger forwards only the body): the
            // JSON value's end is where the tensors' bytes start
            return try oip(OIPDecoder.decode(root: root, binary: body.dropFirst(end), limits: limits), limits: limits)
        }
        _ = try OIPDecoder.binaryTail(root, body.dropFirst(end))  // only white space may follow
        return try decode(root: root, isResponse: isResponse, limits: limits)
    }

    /// A JSON body already parsed (a structured CloudEvent's `data`): parsed once, whatever the protocol.
    public static func decode(root: JSONValue, isResponse: Bool? = nil, limits: OIPDecoder.Limits = .init()) throws -> DecodedPayload {
        if isOIP(root) { return try oip(OIPDecoder.decode(root: root, binary: Data(), limits: limits), limits: limits) }
        if SeldonMessageDecoder.isSeldonMessage(root) { return try SeldonMessageDecoder.decode(root, isResponse: isResponse, limits: limits) }
        return try V1Decoder.decode(root, isResponse: isResponse, limits: limits)
    }

    /// OIP when `inputs` or `outputs` is an array of objects that carry a `datatype`.
    static func isOIP(_ root: JSONValue) -> Bool {
        for key in ["inputs", "outputs"] {
            if let list = root[key]?.array, let first = list.first, first["datatype"] != nil { return true }
        }
        return false
    }

    /// Rows of an OIP message: row k takes the k-th slice of every tensor whose first dimension is the batch.
    static func oip(_ m: OIPMessage, limits: CaptureLimits) throws -> DecodedPayload {
        let batch = m.tensors.map(\.rows).max() ?? 0
        guard batch <= limits.maxRowsPerRequest else {
            throw CaptureDecodeError(
                path: m.isResponse ? "outputs" : "inputs",
                problem: "hold \(batch) rows; at most \(limits.maxRowsPerRequest) are accepted per request (--max-rows)", reason: .tooLarge)
        }
        // a tensor of batch 1 is repeated into every row: count what the rows will hold, not what was sent
        var total = 0
        for t in m.tensors {
            let (n, o1) = batch.multipliedReportingOverflow(by: t.rowWidth)
            let (sum, o2) = total.addingReportingOverflow(n)
            guard !o1, !o2, sum <= limits.maxElementsPerRequest else {
                throw CaptureDecodeError(
                    path: m.isResponse ? "outputs" : "inputs",
                    problem:
                        "hold more than the \(limits.maxElementsPerRequest) elements allowed per request once spread over their \(batch) rows (--max-request-elements)",
                    reason: .tooLarge)
            }
            total = sum
        }
        var rows = [PayloadRow](repeating: PayloadRow(fields: []), count: batch)
        for (i, t) in m.tensors.enumerated() {
            let path = "\(m.isResponse ? "outputs" : "inputs")[\(i)]"
            if t.rows != batch && t.rows != 1 {
                throw CaptureDecodeError(path: "\(path).shape", problem: "has batch size \(t.rows) but another tensor has \(batch)")
            }
            let width = t.rowWidth
            for r in 0..<batch {
                let start = (t.rows == 1 ? 0 : r) * width
                let slice: [Scalar]
                switch t.values {
                case .numbers(let v): slice = v[start..<(start + width)].map { .number($0) }
                case .bools(let v): slice = v[start..<(start + width)].map { .bool($0) }
                case .bytes(let v): slice = v[start..<(start + width)].map { .string(String(decoding: $0, as: UTF8.self)) }
                }
                rows[r].fields.append((t.name, slice))
            }
        }
        return DecodedPayload(
            protocolName: .oip, id: m.id, modelName: m.modelName, modelVersion: m.modelVersion,
            isResponse: m.isResponse, rows: rows)
    }
}

/// The KServe V1 (TensorFlow Serving style) protocol: `{"instances": [...]}` or `{"inputs": ...}` requests
/// and `{"predictions": [...]}` responses. A row is an array (positional), an object (keyed; nested arrays
/// become several elements of a field) or a scalar. Columnar `{"inputs": {"col": [v₁, v₂, …]}}` is read as rows.
public enum V1Decoder {
    public static func decode(_ root: JSONValue, isResponse: Bool? = nil, limits: CaptureLimits = .init()) throws -> DecodedPayload {
        guard let obj = root.object else { throw CaptureDecodeError(path: "body", problem: "must be a JSON object, found \(root.typeName)") }
        let key: String
        if obj["predictions"] != nil {
            key = "predictions"
        } else if obj["instances"] != nil {
            key = "instances"
        } else if obj["inputs"] != nil {
            key = "inputs"
        } else if obj["outputs"] != nil {
            key = "outputs"
        } else {
            throw CaptureDecodeError(
                path: "body",
                problem: "has none of \"instances\", \"inputs\", \"predictions\" or \"outputs\" (not a V1 or Open Inference Protocol message)")
        }
        let response = isResponse ?? (key == "predictions" || key == "outputs")
        let rows: [PayloadRow]
        let body = obj[key] ?? .null
        if let n = body.array?.count ?? body.members?.first?.1.array?.count, n > limits.maxRowsPerRequest {
            throw CaptureDecodeError(
                path: key, problem: "holds \(n) rows; at most \(limits.maxRowsPerRequest) are accepted per request (--max-rows)", reason: .tooLarge)
        }
        switch body {
        case .array(let items):
            var layout: KeyLayout? = nil
            rows = try items.enumerated().map { i, item in try row(item, path: "\(key)[\(i)]", layout: &layout) }
        case .object:
            // columnar: every column a list of the same length (one dictionary: a lookup per column, however many)
            let columns = body.object ?? [:]
            let names = columns.keys.sorted()
            var n: Int? = nil
            for name in names {
                guard let list = columns[name]?.array else {
                    throw CaptureDecodeError(
                        path: "\(key).\(name)", problem: "must be an array (one value per row), found \(columns[name]?.typeName ?? "nothing")")
                }
                if let n, n != list.count {
                    throw CaptureDecodeError(path: "\(key).\(name)", problem: "has \(list.count) values but another column has \(n)")
                }
                n = list.count
            }
            let lists = names.map { columns[$0]?.array ?? [] }
            rows = (0..<(n ?? 0)).map { r in PayloadRow(fields: zip(names, lists).map { ($0, flatten($1[r])) }) }
        default:
            throw CaptureDecodeError(path: key, problem: "must be an array of rows, found \(body.typeName)")
        }
        return DecodedPayload(
            protocolName: .v1, id: obj["id"]?.string, modelName: obj["model_name"]?.string,
            modelVersion: obj["model_version"]?.string, isResponse: response, rows: rows)
    }

    static func row(_ node: JSONValue, path: String) throws -> PayloadRow {
        var layout: KeyLayout? = nil
        return try row(node, path: path, layout: &layout)
    }

    /// An object row's fields: its keys in ascending order, a repeated key taking its last value. `layout`: the
    /// previous object's keys and that order, reused while the keys repeat in the same order (the instances of one
    /// request usually share them), so each row is not hashed and sorted again.
    static func row(_ node: JSONValue, path: String, layout: inout KeyLayout?) throws -> PayloadRow {
        switch node {
        case .object(let members):
            if layout == nil || !layout!.matches(members) { layout = KeyLayout(members) }
            return PayloadRow(fields: layout!.order.map { (members[$0.name].0, flatten(members[$0.value].1)) })
        case .array: return PayloadRow(fields: [("", flatten(node))])
        default: return PayloadRow(fields: [("", [Scalar(node)])])
        }
    }

    /// The keys of an object in document order, and its fields in ascending key order: for a repeated key, the
    /// position of its first spelling (the name, as a dictionary keeps it) and of its last value.
    struct KeyLayout {
        let keys: [String]
        let order: [(name: Int, value: Int)]

        init(_ members: [(String, JSONValue)]) {
            keys = members.map(\.0)
            // ascending by key, a repeated key by position; then the last of each run of equal keys
            let sorted = members.indices.sorted { a, b in members[a].0 != members[b].0 ? members[a].0 < members[b].0 : a < b }
            var order: [(name: Int, value: Int)] = []
            order.reserveCapacity(sorted.count)
            var first = 0
            for (k, i) in sorted.enumerated() {
                if k > 0 && members[sorted[k - 1]].0 != members[i].0 { first = k }
                if k + 1 == sorted.count || members[sorted[k + 1]].0 != members[i].0 { order.append((sorted[first], i)) }
            }
            self.order = order
        }

        func matches(_ members: [(String, JSONValue)]) -> Bool {
            guard members.count == keys.count else { return false }
            for i in members.indices where members[i].0 != keys[i] { return false }
            return true
        }
    }

    static func flatten(_ node: JSONValue) -> [Scalar] {
        if case .array(let items) = node { return items.flatMap(flatten) }
        return [Scalar(node)]
    }
}
