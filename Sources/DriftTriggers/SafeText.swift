import Foundation

/// Text that came from a target or a receiver, made safe to store and to show: PostgreSQL `jsonb` refuses
/// U+0000, and a terminal acts on control characters (ESC sequences) and bidi overrides. Everything else is kept.
public enum SafeText {
    /// `text` without C0/C1 control characters (a tab, and newlines when `keepNewlines`, excepted), DEL and the
    /// bidi embedding/override/isolate characters (U+202A–U+202E, U+2066–U+2069), each replaced by a space; cut
    /// to at most `maxBytes` bytes of UTF-8 at a scalar boundary, with "…" when cut.
    public static func clean(_ text: String, maxBytes: Int, keepNewlines: Bool = false) -> String {
        var out = String.UnicodeScalarView()
        var bytes = 0
        for s in text.unicodeScalars {
            let v = s.value
            let unsafe =
                (v < 0x20 && v != 0x09 && !(keepNewlines && (v == 0x0A || v == 0x0D))) || (0x7F...0x9F).contains(v)
                || (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v)
            let scalar: Unicode.Scalar = unsafe ? " " : s
            let n = String(scalar).utf8.count
            if bytes + n > maxBytes { return String(out) + "…" }
            bytes += n
            out.append(scalar)
        }
        return String(out)
    }

    /// An http(s) URL a target or receiver named, if it is one a person can be shown: ASCII without whitespace or
    /// control characters, a host, at most 2048 bytes. Nil otherwise.
    public static func url(_ text: String) -> String? {
        guard text.utf8.count <= 2048, text.hasPrefix("https://") || text.hasPrefix("http://"),
            text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }),
            let host = URLComponents(string: text)?.host, !host.isEmpty
        else { return nil }
        return text
    }
}
