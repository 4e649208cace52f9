extension FastFloat {
    /// A number written in a text cell (CSV, a JSON string), read from bytes exactly as `NumberText.parse`
    /// (DriftCapture) has read one from a `String`: spaces and tabs around it ignored (and a trailing CR), then what
    /// Swift's `Double(Substring)` accepts, with the same bits. That is `parse(_:)` (strtod over the whole text) plus two
    /// quirks of the Swift standard library kept so no cell changes meaning: a NUL byte ends the text (Swift hands
    /// strtod a C string, so `1\0x` is 1), and `snan` with an optional sign, any case, is a positive signalling NaN.
    /// Nil for anything else, including an empty or all-blank cell.
    public static func parseCell(_ bytes: UnsafeRawBufferPointer) -> Double? {
        var start = 0
        var end = bytes.count
        while start < end && (bytes[start] == 0x20 || bytes[start] == 0x09) { start += 1 }
        while end > start && (bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 || bytes[end - 1] == 0x0D) { end -= 1 }
        guard start < end else { return nil }
        var token = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
        if let v = parse(token) { return v }
        // the rare forms, only after the common grammar said no (a successful parse never contains a NUL)
        if let nul = token.firstIndex(of: 0) {
            token = UnsafeRawBufferPointer(rebasing: token[..<nul])
            if let v = parse(token) { return v }
        }
        return isSignalingNaN(token) ? .signalingNaN : nil
    }

    /// `[+-]?snan` in any case: the Swift runtime's `swift_stringIsSignalingNaN`.
    static func isSignalingNaN(_ token: UnsafeRawBufferPointer) -> Bool {
        var p = 0
        if let f = token.first, f == UInt8(ascii: "+") || f == UInt8(ascii: "-") { p = 1 }
        guard token.count - p == 4 else { return false }
        return zip(token[p...], "snan".utf8).allSatisfy { $0 | 0x20 == $1 }
    }
}
