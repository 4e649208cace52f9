import DriftCommon
import Foundation

/// Why bytes are not CSV, with the line counted from the start of the scanned range (0 = its first line).
struct CSVFailure: Error {
    enum Kind: Equatable {
        case unterminatedQuote
        case malformedQuote
        case ragged(fields: Int)
    }
    var kind: Kind
    var line: Int
}

/// Receives the fields of the records a `CSVScan` walks over.
protocol CSVFieldSink {
    /// Field `column` of the current record (its bytes, quotes removed and `""` unescaped; empty = missing);
    /// `line` is the record's first line, counted from the start of the scanned range. Only called for
    /// `column < columns`.
    mutating func field(_ column: Int, _ bytes: UnsafeRawBufferPointer, line: Int)
    /// The end of a record that had the expected number of fields.
    mutating func endRecord(line: Int)
}

/// The CSV grammar (RFC 4180) over a byte range that starts at a record boundary: fields separated by commas,
/// optionally in double quotes (`""` is a quote inside them; commas and line breaks allowed there), records ended by
/// LF, CRLF or CR. A quote inside an unquoted field, or text after a closing quote, is an error (so a record
/// boundary can be found by counting quotes, which is what lets blocks be split and parsed in parallel). A blank
/// line is skipped when the header has more than one column.
enum CSVScan {
    static let quote = UInt8(ascii: "\"")
    static let comma = UInt8(ascii: ",")
    static let lf = UInt8(ascii: "\n")
    static let cr = UInt8(ascii: "\r")

    /// Walks the records of `bytes[from..<to]`, at most `maxRecords`, handing each field to `sink`; `columns` is the
    /// number of fields every record must have (0: any, for the header). Returns where it stopped, the line ends
    /// it passed and the records it handed over.
    static func scan<S: CSVFieldSink>(
        _ bytes: UnsafeRawBufferPointer, from: Int, to end: Int, columns: Int, maxRecords: Int = .max,
        scratch: inout [UInt8], sink: inout S
    ) throws(CSVFailure) -> (stop: Int, lineEnds: Int, records: Int) {
        let b = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var p = from
        var line = 0
        var records = 0
        while p < end && records < maxRecords {
            let recordLine = line
            var field = 0
            while true {
                var fieldStart = p
                var fieldEnd = p
                var escaped = false
                if p < end && b[p] == quote {
                    let openLine = line
                    p += 1
                    fieldStart = p
                    while true {
                        guard p < end else { throw CSVFailure(kind: .unterminatedQuote, line: openLine) }
                        let c = b[p]
                        if c == quote {
                            if p + 1 < end && b[p + 1] == quote {
                                escaped = true
                                p += 2
                                continue
                            }
                            fieldEnd = p
                            p += 1
                            break
                        }
                        if c == lf { line += 1 }
                        p += 1
                    }
                } else {
                    while p < end {
                        let c = b[p]
                        if c == comma || c == lf || c == cr { break }
                        if c == quote { throw CSVFailure(kind: .malformedQuote, line: line) }
                        p += 1
                    }
                    fieldEnd = p
                }
                // what ends the field: a comma, a line end, or the end of the range
                var more = false
                if p < end {
                    let c = b[p]
                    if c == comma {
                        more = true
                        p += 1
                    } else if c == lf {
                        p += 1
                        line += 1
                    } else if c == cr {
                        p += 1
                        if p < end && b[p] == lf { p += 1 }
                        line += 1
                    } else {
                        throw CSVFailure(kind: .malformedQuote, line: line)
                    }
                }
                if field == 0 && !more && fieldEnd == fieldStart && columns != 1 {
                    // a blank line (or a lone ""): skipped, unless the file has one column (then it is a missing value)
                    field = -1
                    break
                }
                if columns == 0 || field < columns {
                    if escaped {
                        scratch.removeAll(keepingCapacity: true)
                        var i = fieldStart
                        while i < fieldEnd {
                            scratch.append(b[i])
                            i += b[i] == quote ? 2 : 1
                        }
                        scratch.withUnsafeBytes { sink.field(field, $0, line: recordLine) }
                    } else {
                        sink.field(field, UnsafeRawBufferPointer(start: b + fieldStart, count: fieldEnd - fieldStart), line: recordLine)
                    }
                }
                field += 1
                if !more { break }
            }
            if field < 0 { continue }
            if columns > 0 && field != columns { throw CSVFailure(kind: .ragged(fields: field), line: recordLine) }
            sink.endRecord(line: recordLine)
            records += 1
        }
        return (p, line, records)
    }

    /// The number of quote bytes in `bytes[from..<to]` (found with `memchr`, so a block without quotes costs
    /// almost nothing).
    static func quotes(_ bytes: UnsafeRawBufferPointer, from: Int, to: Int) -> Int {
        guard from < to, let base = bytes.baseAddress else { return 0 }
        var n = 0
        var p = base + from
        let end = base + to
        while p < end, let hit = memchr(p, Int32(quote), end - p) {
            n &+= 1
            p = UnsafeRawPointer(hit) + 1
        }
        return n
    }

    /// The first record boundary at or after `from` (just past a line end outside quotes), given whether `from` is
    /// inside a quoted field; nil when there is none before `to`. A CR at `to - 1` is not taken when `to` is not
    /// the end of the input (an LF may follow it).
    static func nextBoundary(_ bytes: UnsafeRawBufferPointer, from: Int, to: Int, insideQuotes: Bool) -> Int? {
        var inside = insideQuotes
        var i = from
        while i < to {
            let c = bytes[i]
            if c == quote {
                inside.toggle()
            } else if !inside && c == lf {
                return i + 1
            } else if !inside && c == cr {
                if i + 1 < to { return bytes[i + 1] == lf ? i + 2 : i + 1 }
                return nil
            }
            i += 1
        }
        return nil
    }

    /// The last record boundary in `bytes[from..<to]` (`from` a boundary, outside quotes), nil when there is none.
    static func lastBoundary(_ bytes: UnsafeRawBufferPointer, from: Int, to: Int) -> Int? {
        var inside = quotes(bytes, from: from, to: to) % 2 == 1
        var i = to - 1
        while i >= from {
            let c = bytes[i]
            if c == quote {
                inside.toggle()
            } else if !inside && c == lf {
                return i + 1
            } else if !inside && c == cr && i + 1 < to {
                return i + 1  // (a CR followed by an LF: the LF, later in the range, was seen first)
            }
            i -= 1
        }
        return nil
    }
}
