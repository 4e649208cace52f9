import CLibPQ
import Foundation

/// A Swift value sent as a statement parameter in PostgreSQL's text format.
public protocol PGEncodable: Sendable {
    var pgText: String { get }
}

extension String: PGEncodable { public var pgText: String { self } }
extension Int: PGEncodable { public var pgText: String { String(self) } }
extension Int32: PGEncodable { public var pgText: String { String(self) } }
extension Int64: PGEncodable { public var pgText: String { String(self) } }
extension Bool: PGEncodable { public var pgText: String { self ? "true" : "false" } }
extension Double: PGEncodable {
    public var pgText: String {
        if isNaN { return "NaN" }
        if isInfinite { return self > 0 ? "Infinity" : "-Infinity" }
        return "\(self)"
    }
}
extension Date: PGEncodable {
    /// ISO 8601 in UTC with microseconds, which timestamptz parses exactly.
    public var pgText: String { PGTime.format(self) }
}
extension Data: PGEncodable {
    /// bytea in hex format.
    public var pgText: String {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0, count: 2 + 2 * count)
        out[0] = UInt8(ascii: "\\")
        out[1] = UInt8(ascii: "x")
        for (i, b) in enumerated() {
            out[2 + 2 * i] = hex[Int(b >> 4)]
            out[3 + 2 * i] = hex[Int(b & 15)]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
extension Array: PGEncodable where Element: PGEncodable {
    /// An array literal with every element quoted: {"1","2"}.
    public var pgText: String {
        "{"
            + map { "\"" + $0.pgText.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
            .joined(separator: ",") + "}"
    }
}

/// Timestamps on the wire: text ISO in UTC, and the binary COPY epoch (2000-01-01, microseconds).
public enum PGTime {
    static let postgresEpoch: Double = 946_684_800

    public static func format(_ d: Date) -> String {
        let micros = Int64((d.timeIntervalSince1970 * 1_000_000).rounded(.toNearestOrEven))
        let secs = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
        let frac = micros - secs * 1_000_000
        var t = time_t(secs)
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(
            format: "%04d-%02d-%02d %02d:%02d:%02d.%06d+00", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(frac))
    }

    /// Parses timestamptz output in ISO DateStyle: `2026-11-29 12:00:00[.ffffff]+00[:30]`.
    public static func parse(_ s: String) -> Date? {
        let u = Array(s.utf8)
        guard u.count >= 19 else { return nil }
        func num(_ a: Int, _ b: Int) -> Int? {
            guard b <= u.count else { return nil }
            var v = 0
            for i in a..<b {
                guard u[i] >= 48 && u[i] <= 57 else { return nil }
                v = v * 10 + Int(u[i] - 48)
            }
            return v
        }
        guard let y = num(0, 4), let mo = num(5, 7), let d = num(8, 10), let h = num(11, 13), let mi = num(14, 16), let se = num(17, 19)
        else { return nil }
        var i = 19
        var micros = 0
        if i < u.count && u[i] == UInt8(ascii: ".") {
            i += 1
            var digits = 0
            while i < u.count && u[i] >= 48 && u[i] <= 57 {
                if digits < 6 {
                    micros = micros * 10 + Int(u[i] - 48)
                    digits += 1
                }
                i += 1
            }
            for _ in digits..<6 { micros *= 10 }
        }
        var offset = 0
        if i < u.count && (u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-")) {
            let sign = u[i] == UInt8(ascii: "+") ? 1 : -1
            let oh = num(i + 1, i + 3) ?? 0
            let om = (i + 3 < u.count && u[i + 3] == UInt8(ascii: ":")) ? (num(i + 4, i + 6) ?? 0) : 0
            offset = sign * (oh * 3600 + om * 60)
        }
        var parts = tm()
        parts.tm_year = Int32(y - 1900)
        parts.tm_mon = Int32(mo - 1)
        parts.tm_mday = Int32(d)
        parts.tm_hour = Int32(h)
        parts.tm_min = Int32(mi)
        parts.tm_sec = Int32(se)
        let secs = timegm(&parts) - offset
        return Date(timeIntervalSince1970: Double(secs) + Double(micros) / 1_000_000)
    }

    /// Microseconds since 2000-01-01 UTC (binary COPY timestamptz).
    public static func binary(_ d: Date) -> Int64 {
        Int64(((d.timeIntervalSince1970 - postgresEpoch) * 1_000_000).rounded(.toNearestOrEven))
    }
}

/// The rows of a result, decoded from text format by column name.
public struct PGRows: Sendable, RandomAccessCollection {
    public let columns: [String]
    let cells: [[String?]]
    public let statement: String

    init(_ res: OpaquePointer, statement: String) {
        let n = Int(PQntuples(res))
        let m = Int(PQnfields(res))
        columns = (0..<m).map { String(cString: PQfname(res, Int32($0))) }
        var cells: [[String?]] = []
        cells.reserveCapacity(n)
        for r in 0..<n {
            cells.append(
                (0..<m).map { c in
                    PQgetisnull(res, Int32(r), Int32(c)) == 1 ? nil : String(cString: PQgetvalue(res, Int32(r), Int32(c)))
                })
        }
        self.cells = cells
        self.statement = statement
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { cells.count }
    public subscript(i: Int) -> PGRow { PGRow(rows: self, index: i) }
}

/// One row; typed getters throw a decoding error naming the statement and the column.
public struct PGRow: Sendable {
    let rows: PGRows
    let index: Int

    public func raw(_ column: String) throws -> String? {
        guard let c = rows.columns.firstIndex(of: column) else {
            throw PostgresError(.decoding, "no column '\(column)' in the result", statement: rows.statement)
        }
        return rows.cells[index][c]
    }

    private func decode<T>(_ column: String, _ parse: (String) -> T?) throws -> T? {
        guard let text = try raw(column) else { return nil }
        guard let v = parse(text) else {
            throw PostgresError(.decoding, "column '\(column)' holds '\(text.prefix(40))', not a \(T.self)", statement: rows.statement)
        }
        return v
    }

    private func required<T>(_ column: String, _ value: T?) throws -> T {
        guard let value else { throw PostgresError(.decoding, "column '\(column)' is NULL", statement: rows.statement) }
        return value
    }

    public func string(_ c: String) throws -> String { try required(c, raw(c)) }
    public func optionalString(_ c: String) throws -> String? { try raw(c) }
    public func int(_ c: String) throws -> Int { try required(c, decode(c) { Int($0) }) }
    public func optionalInt(_ c: String) throws -> Int? { try decode(c) { Int($0) } }
    public func double(_ c: String) throws -> Double { try required(c, decode(c, Self.parseDouble)) }
    public func optionalDouble(_ c: String) throws -> Double? { try decode(c, Self.parseDouble) }
    public func bool(_ c: String) throws -> Bool { try required(c, decode(c) { $0 == "t" ? true : $0 == "f" ? false : nil }) }
    public func date(_ c: String) throws -> Date { try required(c, decode(c, PGTime.parse)) }
    public func optionalDate(_ c: String) throws -> Date? { try decode(c, PGTime.parse) }
    public func doubles(_ c: String) throws -> [Double] {
        try required(c, decode(c) { text in PGArray.parse(text)?.map { $0.flatMap(Self.parseDouble) ?? .nan } })
    }
    public func strings(_ c: String) throws -> [String?] { try required(c, decode(c) { PGArray.parse($0) }) }
    /// bytea in hex output format.
    public func bytes(_ c: String) throws -> Data {
        try required(
            c,
            decode(c) { text -> Data? in
                guard text.hasPrefix("\\x") else { return nil }
                let u = Array(text.utf8.dropFirst(2))
                guard u.count % 2 == 0 else { return nil }
                func nib(_ b: UInt8) -> UInt8? {
                    switch b {
                    case 48...57: return b - 48
                    case 97...102: return b - 87
                    case 65...70: return b - 55
                    default: return nil
                    }
                }
                var out = Data(capacity: u.count / 2)
                var i = 0
                while i < u.count {
                    guard let h = nib(u[i]), let l = nib(u[i + 1]) else { return nil }
                    out.append(h << 4 | l)
                    i += 2
                }
                return out
            })
    }

    static func parseDouble(_ s: String) -> Double? {
        switch s {
        case "NaN": return .nan
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        default: return Double(s)
        }
    }
}

/// Parses one-dimensional array output: {a,"b c",NULL}.
enum PGArray {
    static func parse(_ text: String) -> [String?]? {
        let u = Array(text.utf8)
        guard u.first == UInt8(ascii: "{"), u.last == UInt8(ascii: "}") else { return nil }
        var out: [String?] = []
        var i = 1
        let end = u.count - 1
        if i == end { return [] }
        while i <= end {
            var buf: [UInt8] = []
            var quoted = false
            if u[i] == UInt8(ascii: "\"") {
                quoted = true
                i += 1
                while i < end && u[i] != UInt8(ascii: "\"") {
                    if u[i] == UInt8(ascii: "\\") { i += 1 }
                    buf.append(u[i])
                    i += 1
                }
                i += 1
            } else {
                while i < end && u[i] != UInt8(ascii: ",") {
                    buf.append(u[i])
                    i += 1
                }
            }
            let s = String(decoding: buf, as: UTF8.self)
            out.append(!quoted && s == "NULL" ? nil : s)
            i += 1
        }
        return out
    }
}
