import Foundation

/// A `text/csv` inference payload — SageMaker's CSV capture, an Azure ML or KServe body declared `text/csv` —
/// read with the project's one CSV reader (`CSVReader.records`, RFC 4180: quoted fields, `""` escapes, CRLF,
/// newlines inside quotes, a BOM). Such bodies have no header row: each record is one positional row, its
/// fields in order, so `12.5,"New York, NY",east` is three elements.
public enum CSVPayload {
    /// The rows of `body`; `path` names it in errors. Bounded by `limits.maxRowsPerRequest` (records),
    /// `limits.maxElementsPerRequest` (fields in all) and `limits.maxStringBytes` (one field).
    public static func rows(_ body: Data, path: String, limits: CaptureLimits) throws -> [PayloadRow] {
        try CSVReader.records(
            body, path: path, maxRecords: limits.maxRowsPerRequest, maxFields: limits.maxElementsPerRequest,
            maxFieldBytes: limits.maxStringBytes
        )
        .map { PayloadRow(fields: [("", $0.map(scalar))]) }
    }

    /// An empty or blank field is a missing value; a decimal number (blanks around it ignored) is a number;
    /// anything else is the text as written. Hex (`0x1p3`) and other forms Swift's `Double(_:)` also takes stay text.
    static func scalar(_ field: String?) -> Scalar {
        guard let field else { return .null }
        let t = field.trimmingCharacters(in: .whitespaces)
        if t.isEmpty { return .null }
        if looksDecimal(t), let d = Double(t) { return .number(d) }
        return .string(field)
    }

    static func looksDecimal(_ t: String) -> Bool {
        let lower = t.lowercased()
        let body = lower.hasPrefix("-") || lower.hasPrefix("+") ? String(lower.dropFirst()) : lower
        if body == "nan" || body == "inf" || body == "infinity" { return true }
        return body.utf8.allSatisfy {
            (0x30...0x39).contains($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "+")
        }
    }
}
