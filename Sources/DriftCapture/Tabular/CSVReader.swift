import Foundation

/// Reads CSV (RFC 4180: comma-separated, fields optionally in double quotes with "" for a quote,
/// CRLF, LF or CR line ends, newlines allowed inside quoted fields) with a header row, in blocks parsed on all
/// cores (`CSVBlockReader`). Empty fields are missing values. A UTF-8 byte-order mark is skipped. Blank lines are
/// skipped unless the file has a single column. A quote inside an unquoted field is an error.
public enum CSVReader {
    public static func read(path: String, options: TableReadOptions = TableReadOptions()) throws -> Table {
        try TabularFile.read(path: path, format: .csv, options: options)
    }

    public static func read(data: Data, source: String, options: TableReadOptions = TableReadOptions()) throws -> Table {
        var bytes = ByteSource.memory(data, offset: 0)
        return try read(source: &bytes, name: source, options: options)
    }

    static func read(source: inout ByteSource, name: String, options: TableReadOptions) throws -> Table {
        defer { if case .file(let handle) = source { try? handle.close() } }
        var assembler: ColumnAssembler?
        var pending: Set<Int> = []
        try CSVBlockReader.run(
            source: &source, name: name, options: options,
            start: { h in
                assembler = ColumnAssembler(names: h.names, types: h.types)
                pending = h.pending
            },
            deliver: { h, fragments, firstLine in assembler!.append(fragments, firstLine: firstLine, estimatedRows: h.estimatedRows) })
        guard let assembler, !assembler.lines.isEmpty else { throw TableError.noRows(file: name) }
        return assembler.table(source: name, policy: options.nonNumeric, pending: pending)
    }

    /// The records of a CSV body that has no header row (a SageMaker `text/csv` request, any `text/csv` payload),
    /// by the same RFC 4180 rules: each record its fields in order, an empty field nil. Blank lines are skipped.
    /// Bounded: more than `maxRecords` records or `maxFields` fields in all (413), or a field longer than
    /// `maxFieldBytes` UTF-8 bytes (400), is refused before more is read; an unterminated or misplaced quote is an
    /// error naming `path` and the line, never a silent split.
    public static func records(_ data: Data, path: String, maxRecords: Int, maxFields: Int, maxFieldBytes: Int) throws -> [[String?]] {
        var parser = Parser(bytes: [UInt8](data), maxFieldBytes: maxFieldBytes, maxFields: maxFields)
        var out: [[String?]] = []
        do {
            while let record = try parser.nextRecord() {
                if record.fields.count == 1 && record.fields[0] == nil { continue }
                guard out.count < maxRecords else {
                    throw CaptureDecodeError(
                        path: path, problem: "has more than the \(maxRecords) CSV records allowed per request (--max-rows)", reason: .tooLarge)
                }
                out.append(record.fields)
            }
        } catch let e as Parser.Failure {
            switch e.kind {
            case .unterminatedQuote:
                throw CaptureDecodeError(
                    path: path, problem: "is not valid CSV: line \(e.line) opens a quoted field that is never closed (RFC 4180)", reason: .malformed)
            case .malformedQuote:
                throw CaptureDecodeError(
                    path: path,
                    problem:
                        "is not valid CSV: line \(e.line) has text after a closing quote; quote the whole field and double inner quotes (RFC 4180)",
                    reason: .malformed)
            case .fieldTooLong:
                throw CaptureDecodeError(
                    path: path, problem: "has a field on line \(e.line) longer than the \(maxFieldBytes) bytes allowed (--max-value-bytes)")
            case .tooManyFields:
                throw CaptureDecodeError(
                    path: path, problem: "has more than the \(maxFields) CSV fields allowed per request (--max-request-elements)", reason: .tooLarge)
            }
        }
        return out
    }

    struct Record {
        var fields: [String?]
        var line: Int
    }

    struct Parser {
        /// Where and why the bytes are not CSV; each caller turns it into its own error (a file's line, a payload's path).
        struct Failure: Error {
            enum Kind { case unterminatedQuote, malformedQuote, fieldTooLong, tooManyFields }
            var kind: Kind
            var line: Int
        }

        let bytes: [UInt8]
        let maxFieldBytes: Int
        /// Fields still allowed in the whole input: bounds the memory a body of bare commas could take.
        var fieldsLeft: Int
        var pos = 0
        var line = 1

        init(bytes: [UInt8], maxFieldBytes: Int = .max, maxFields: Int = .max) {
            self.bytes = bytes
            self.maxFieldBytes = maxFieldBytes
            self.fieldsLeft = maxFields
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { pos = 3 }
        }

        mutating func nextRecord() throws -> Record? {
            guard pos < bytes.count else { return nil }
            let startLine = line
            var fields: [String?] = []
            while true {
                guard fieldsLeft > 0 else { throw Failure(kind: .tooManyFields, line: line) }
                fieldsLeft -= 1
                let (field, end) = try nextField()
                fields.append(field)
                switch end {
                case .comma: continue
                case .newline, .eof: return Record(fields: fields, line: startLine)
                }
            }
        }

        enum FieldEnd { case comma, newline, eof }

        private mutating func consumeLineEnd() -> Bool {
            if bytes[pos] == UInt8(ascii: "\n") {
                pos += 1
                line += 1
                return true
            }
            if bytes[pos] == UInt8(ascii: "\r") {
                pos += 1
                if pos < bytes.count && bytes[pos] == UInt8(ascii: "\n") { pos += 1 }
                line += 1
                return true
            }
            return false
        }

        mutating func nextField() throws -> (String?, FieldEnd) {
            let quote = UInt8(ascii: "\"")
            let comma = UInt8(ascii: ",")
            if pos < bytes.count && bytes[pos] == quote {
                let openLine = line
                pos += 1
                var buf: [UInt8] = []
                while true {
                    guard pos < bytes.count else { throw Failure(kind: .unterminatedQuote, line: openLine) }
                    guard buf.count <= maxFieldBytes else { throw Failure(kind: .fieldTooLong, line: openLine) }
                    let b = bytes[pos]
                    if b == quote {
                        if pos + 1 < bytes.count && bytes[pos + 1] == quote {
                            buf.append(quote)
                            pos += 2
                            continue
                        }
                        pos += 1
                        break
                    }
                    if b == UInt8(ascii: "\n") { line += 1 }
                    buf.append(b)
                    pos += 1
                }
                let text = String(decoding: buf, as: UTF8.self)
                let value: String? = text.isEmpty ? nil : text
                if pos >= bytes.count { return (value, .eof) }
                if bytes[pos] == comma {
                    pos += 1
                    return (value, .comma)
                }
                if consumeLineEnd() { return (value, .newline) }
                throw Failure(kind: .malformedQuote, line: line)
            }
            let start = pos
            while pos < bytes.count {
                let b = bytes[pos]
                if b == comma || b == UInt8(ascii: "\n") || b == UInt8(ascii: "\r") { break }
                pos += 1
            }
            if pos - start > maxFieldBytes { throw Failure(kind: .fieldTooLong, line: line) }
            let value: String? = pos == start ? nil : String(decoding: bytes[start..<pos], as: UTF8.self)
            if pos >= bytes.count { return (value, .eof) }
            if bytes[pos] == comma {
                pos += 1
                return (value, .comma)
            }
            _ = consumeLineEnd()
            return (value, .newline)
        }
    }
}
