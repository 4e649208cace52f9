import DriftCommon
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// How to read a tabular file: which columns, as what, and what a numeric column's non-numeric cells become.
public struct TableReadOptions: Sendable {
    /// Column types decided by the caller (flags, the monitor configuration, the reference); the rest are inferred.
    public var types: [String: ColumnType]
    /// Read only these columns (nil: all); the others are skipped without being parsed.
    public var only: Set<String>?
    public var nonNumeric: NonNumericPolicy
    /// The bytes read and parsed at a time (split across the cores); a record may be up to `maxRecordBytes`.
    public var blockBytes: Int
    public static let defaultBlockBytes = 8 << 20
    /// The longest record accepted (64 MiB): past it the file is refused naming the line (an unclosed quote usually).
    public static let maxRecordBytes = 64 << 20
    /// How many data rows decide an inferred column's type.
    public static let typingRows = 1_000

    public init(
        types: [String: ColumnType] = [:], only: Set<String>? = nil, nonNumeric: NonNumericPolicy = .error,
        blockBytes: Int = TableReadOptions.defaultBlockBytes
    ) {
        self.types = types
        self.only = only
        self.nonNumeric = nonNumeric
        self.blockBytes = max(64, blockBytes)
    }
}

/// The type-inference rule, one place: a column is numeric when at least 90 % of its present cells (in the first
/// `TableReadOptions.typingRows` rows that have values) are numbers (NaN/±Inf spellings count as numbers); else
/// text. A column with no value is text.
public enum ColumnTyping {
    public static func type(present: Int, numeric: Int) -> ColumnType {
        present > 0 && numeric.multipliedReportingOverflow(by: 10).partialValue >= present.multipliedReportingOverflow(by: 9).partialValue
            ? .numeric : .text
    }
}

/// Where a reader's bytes come from: a file read in blocks (never whole), or bytes already in memory.
enum ByteSource {
    case file(FileHandle)
    case memory(Data, offset: Int)

    /// The bytes in all (nil when unknown: a pipe).
    var size: Int? {
        switch self {
        case .file(let handle):
            var st = stat()
            guard fstat(handle.fileDescriptor, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
            return Int(st.st_size)
        case .memory(let data, _): return data.count
        }
    }

    /// Fills `buffer` as far as possible; 0 at the end.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        switch self {
        case .file(let handle):
            var total = 0
            while total < buffer.count {
                let n = Glibc.read(handle.fileDescriptor, buffer.baseAddress! + total, buffer.count - total)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw TableError.unreadable(file: "", reason: String(cString: strerror(errno)))
                }
                if n == 0 { break }
                total += n
            }
            return total
        case .memory(let data, let offset):
            let n = min(buffer.count, data.count - offset)
            if n > 0 {
                data.withUnsafeBytes { src in
                    buffer.baseAddress!.copyMemory(from: src.baseAddress! + offset, byteCount: n)
                }
            }
            self = .memory(data, offset: offset + n)
            return n
        }
    }
}

/// A block's rows, one fragment per piece parsed in parallel: per read column its numbers or its codes into the
/// piece's own labels, the non-numeric cells, and each row's line (counted from the piece's first line).
struct CSVFragment: CSVFieldSink, Sendable {
    /// Per header column: −1 skipped, else the index into `numbers` (numeric) or `codes` (text).
    let slots: [Int]
    let numeric: [Bool]
    var numbers: [[Double]]
    var codes: [[Int32]]
    var interners: [ByteInterner]
    var nonNumeric: [[(row: Int, line: Int, text: String)]]
    var rowLines: [Int] = []
    var row = 0
    /// The line ends the piece passed (so the next piece's first line is known).
    var lineEnds = 0

    init(slots: [Int], numeric: [Bool], numericCount: Int, textCount: Int) {
        self.slots = slots
        self.numeric = numeric
        numbers = [[Double]](repeating: [], count: numericCount)
        codes = [[Int32]](repeating: [], count: textCount)
        interners = [ByteInterner](repeating: ByteInterner(), count: textCount)
        nonNumeric = [[(row: Int, line: Int, text: String)]](repeating: [], count: numericCount)
    }

    mutating func field(_ column: Int, _ bytes: UnsafeRawBufferPointer, line: Int) {
        let s = slots[column]
        guard s >= 0 else { return }
        if numeric[column] {
            if bytes.isEmpty {
                numbers[s].append(.nan)
            } else if let v = FastFloat.parseCell(bytes) {
                numbers[s].append(v.isFinite ? v : .nan)
            } else {
                numbers[s].append(.nan)
                // (the text only of the first few: the table keeps NonNumericCells.exampleLimit of them)
                let text = nonNumeric[s].count < NonNumericCells.exampleLimit ? String(decoding: bytes.prefix(200), as: UTF8.self) : ""
                nonNumeric[s].append((row, line, text))
            }
        } else {
            codes[s].append(bytes.isEmpty ? -1 : interners[s].intern(bytes))
        }
    }

    mutating func endRecord(line: Int) {
        rowLines.append(line)
        row += 1
    }
}

/// Counts, per column, the present cells and those that are numbers, over the first rows: the typing sample.
struct CSVTypingSink: CSVFieldSink {
    var present: [Int]
    var numeric: [Int]
    init(columns: Int) {
        present = [Int](repeating: 0, count: columns)
        numeric = [Int](repeating: 0, count: columns)
    }
    mutating func field(_ column: Int, _ bytes: UnsafeRawBufferPointer, line: Int) {
        guard !bytes.isEmpty else { return }
        present[column] += 1
        if FastFloat.parseCell(bytes) != nil { numeric[column] += 1 }
    }
    mutating func endRecord(line: Int) {}
}

/// The header's names.
struct CSVHeaderSink: CSVFieldSink {
    var names: [String] = []
    mutating func field(_ column: Int, _ bytes: UnsafeRawBufferPointer, line: Int) { names.append(String(decoding: bytes, as: UTF8.self)) }
    mutating func endRecord(line: Int) {}
}

/// Reads CSV in blocks of `TableReadOptions.blockBytes`: each block is cut at record boundaries found by counting
/// quotes, the pieces are parsed on all cores at once, and their rows are handed on in file order — to a table kept
/// whole (`read`) or to a consumer that reduces them and lets them go (`stream`, bounded memory).
enum CSVBlockReader {
    struct Header {
        var names: [String]
        var types: [ColumnType?]
        /// Inferred columns with no value in the typing rows: read as text, typed at the end over all their cells.
        var pending: Set<Int> = []
        /// The rows the whole file probably has (from the first block's bytes per row and the file's size; 0 unknown),
        /// so that columns can be sized once instead of grown.
        var estimatedRows = 0
    }

    /// The block's bytes, read (never written) by the pieces' threads while the block is parsed.
    struct SharedBytes: @unchecked Sendable {
        let view: UnsafeRawBufferPointer
    }

    /// Parses the file block by block, calling `deliver` with each block's fragments (in order) and the line its
    /// first row starts on, after `start` with the header and the column types.
    static func run(
        source: inout ByteSource, name: String, options: TableReadOptions,
        start: (Header) throws -> Void,
        deliver: (_ header: Header, _ fragments: [CSVFragment], _ firstLine: Int) throws -> Void
    ) throws {
        var capacity = options.blockBytes
        var buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
        defer { buffer.deallocate() }
        var filled = 0
        var atEnd = false
        func fill() throws {
            while filled < capacity && !atEnd {
                let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<capacity]))
                if n == 0 { atEnd = true } else { filled += n }
            }
        }
        /// Makes room for a record longer than the buffer; one that reaches `maxRecordBytes` is refused.
        func grow(line: Int) throws {
            let limit = TableReadOptions.maxRecordBytes + options.blockBytes
            guard filled < TableReadOptions.maxRecordBytes, capacity < limit else {
                throw TableError.recordTooLong(file: name, line: line, limit: TableReadOptions.maxRecordBytes)
            }
            let larger = min(capacity * 2, limit)
            let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: larger, alignment: 16)
            bigger.baseAddress!.copyMemory(from: buffer.baseAddress!, byteCount: filled)
            buffer.deallocate()
            buffer = bigger
            capacity = larger
        }
        func failure(_ f: CSVFailure, firstLine: Int) -> TableError {
            switch f.kind {
            case .unterminatedQuote: return .unterminatedQuote(file: name, line: firstLine + f.line)
            case .malformedQuote: return .malformedQuote(file: name, line: firstLine + f.line)
            case .ragged(let fields): return .raggedRow(file: name, line: firstLine + f.line, fields: fields, expected: -1)
            }
        }

        let totalBytes = source.size
        try fill()
        var begin = 0
        if filled >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF { begin = 3 }
        if filled - begin == 0 { throw TableError.empty(file: name) }

        // blank lines before the header are skipped (and counted)
        var leadingLines = 0
        while begin < filled && (buffer[begin] == CSVScan.lf || buffer[begin] == CSVScan.cr) {
            if buffer[begin] == CSVScan.lf || begin + 1 >= filled || buffer[begin + 1] != CSVScan.lf { leadingLines += 1 }
            begin += 1
        }
        if filled - begin == 0 { throw TableError.empty(file: name) }
        // the header: the first record
        var headerEnd: Int
        while true {
            let view = UnsafeRawBufferPointer(buffer)
            if let b = CSVScan.nextBoundary(view, from: begin, to: filled, insideQuotes: false) {
                headerEnd = b
                break
            }
            if atEnd {
                headerEnd = filled
                break
            }
            try grow(line: 1)
            try fill()
        }
        var headerSink = CSVHeaderSink()
        var scratch: [UInt8] = []
        let headerScan: (stop: Int, lineEnds: Int, records: Int)
        do {
            headerScan = try CSVScan.scan(
                UnsafeRawBufferPointer(buffer), from: begin, to: headerEnd, columns: 0, maxRecords: 1, scratch: &scratch, sink: &headerSink)
        } catch { throw failure(error, firstLine: 1 + leadingLines) }
        let names = headerSink.names
        if names.isEmpty { throw TableError.empty(file: name) }
        var seen = Set<String>()
        for n in names where !seen.insert(n).inserted { throw TableError.duplicateColumn(file: name, column: n) }
        var header = Header(names: names, types: names.map { n in options.only.map { $0.contains(n) } ?? true ? options.types[n] : nil })
        let wanted = names.map { n in options.only.map { $0.contains(n) } ?? true }
        begin = headerScan.stop
        var line = 1 + leadingLines + headerScan.lineEnds
        var typed = false

        while true {
            let dataEnd: Int
            if atEnd {
                dataEnd = filled
            } else if let b = CSVScan.lastBoundary(UnsafeRawBufferPointer(buffer), from: begin, to: filled) {
                dataEnd = b
            } else {
                // one record longer than the buffer: make room, read on
                if begin > 0 {
                    buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + begin, byteCount: filled - begin)
                    filled -= begin
                    begin = 0
                } else {
                    try grow(line: line)
                }
                try fill()
                continue
            }
            let view = UnsafeRawBufferPointer(buffer)
            if !typed {
                // the column types: given, else from the first rows
                var typing = CSVTypingSink(columns: names.count)
                do {
                    _ = try CSVScan.scan(
                        view, from: begin, to: dataEnd, columns: names.count, maxRecords: TableReadOptions.typingRows, scratch: &scratch,
                        sink: &typing)
                } catch let f {
                    throw ragged(failure(f, firstLine: line), expected: names.count)
                }
                for c in names.indices where wanted[c] && header.types[c] == nil {
                    if typing.present[c] == 0 { header.pending.insert(c) }
                    header.types[c] = ColumnTyping.type(present: typing.present[c], numeric: typing.numeric[c])
                }
                typed = true
                try start(header)
            }
            let fragments = try parse(view, from: begin, to: dataEnd, header: header, wanted: wanted, firstLine: line) { f, pieceLine in
                ragged(failure(f, firstLine: pieceLine), expected: names.count)
            }
            if header.estimatedRows == 0, let total = totalBytes, dataEnd > begin {
                let rows = fragments.fragments.reduce(0) { $0 + $1.row }
                let (scaled, over) = rows.multipliedReportingOverflow(by: total)
                if !over { header.estimatedRows = min(scaled / (dataEnd - begin) + rows / 16 + 64, Int(Int32.max)) }
            }
            try deliver(header, fragments.fragments, line)
            line += fragments.lineEnds
            // keep what follows the last whole record
            let rest = filled - dataEnd
            if rest > 0 { buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + dataEnd, byteCount: rest) }
            filled = rest
            begin = 0
            if atEnd && filled == 0 { break }
            try fill()
            if atEnd && filled == 0 { break }
        }
        if !typed {
            for c in names.indices where wanted[c] && header.types[c] == nil {
                header.types[c] = .text
                header.pending.insert(c)
            }
            try start(header)
        }
    }

    private static func ragged(_ e: TableError, expected: Int) -> TableError {
        if case .raggedRow(let file, let line, let fields, _) = e { return .raggedRow(file: file, line: line, fields: fields, expected: expected) }
        return e
    }

    /// Cuts `bytes[from..<to]` (whole records) into one piece per core at record boundaries and parses them in parallel.
    static func parse(
        _ view: UnsafeRawBufferPointer, from: Int, to: Int, header: Header, wanted: [Bool], firstLine: Int,
        error: (CSVFailure, Int) -> TableError
    ) throws -> (fragments: [CSVFragment], lineEnds: Int) {
        let bytes = SharedBytes(view: view)
        let cores = min(8, max(1, ProcessInfo.processInfo.activeProcessorCount))
        let length = to - from
        let pieces = length < (1 << 20) ? 1 : cores * 2
        var cuts = [from]
        if pieces > 1 {
            let rough = (1..<pieces).map { from + length / pieces * $0 }
            let segments = zip([from] + rough, rough + [to]).map { ($0, $1) }
            let counts = ParallelMap.map(segments) { s in CSVScan.quotes(bytes.view, from: s.0, to: s.1) }
            var quotesBefore = 0
            for (k, r) in rough.enumerated() {
                quotesBefore += counts[k]
                if r <= cuts.last! { continue }
                if let b = CSVScan.nextBoundary(view, from: r, to: to, insideQuotes: quotesBefore % 2 == 1), b < to, b > cuts.last! {
                    cuts.append(b)
                }
            }
        }
        cuts.append(to)
        var slots: [Int] = []
        var numeric: [Bool] = []
        var numericCount = 0
        var textCount = 0
        for c in header.names.indices {
            guard wanted[c], let t = header.types[c] else {
                slots.append(-1)
                numeric.append(false)
                continue
            }
            numeric.append(t == .numeric)
            if t == .numeric {
                slots.append(numericCount)
                numericCount += 1
            } else {
                slots.append(textCount)
                textCount += 1
            }
        }
        let ranges = (0..<(cuts.count - 1)).map { (cuts[$0], cuts[$0 + 1]) }
        let columns = header.names.count
        let empty = CSVFragment(slots: slots, numeric: numeric, numericCount: numericCount, textCount: textCount)
        let results = ParallelMap.map(ranges) { r -> Result<(CSVFragment, Int), CSVFailure> in
            var sink = empty
            var scratch: [UInt8] = []
            do throws(CSVFailure) {
                let scanned = try CSVScan.scan(bytes.view, from: r.0, to: r.1, columns: columns, scratch: &scratch, sink: &sink)
                sink.lineEnds = scanned.lineEnds
                return .success((sink, scanned.lineEnds))
            } catch {
                return .failure(error)
            }
        }
        var fragments: [CSVFragment] = []
        var lineEnds = 0
        for r in results {
            switch r {
            case .success(let (f, ends)):
                fragments.append(f)
                lineEnds += ends
            case .failure(let f): throw error(f, firstLine + lineEnds)
            }
        }
        return (fragments, lineEnds)
    }
}
