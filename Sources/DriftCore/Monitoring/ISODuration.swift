/// A fixed-length ISO 8601 duration (`PT1H`, `P1D`, `P2W`, `PT90M`, `P1DT12H`, `PT0.5S`), in seconds.
/// Years and months are refused: their length varies, so windows and cooldowns could not be aligned.
public struct ISODuration: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var seconds: Double
    public let text: String

    public init(seconds: Double) {
        self.seconds = seconds
        self.text = Self.format(seconds)
    }

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case malformed(String)
        case variableLength(String)

        public var description: String {
            switch self {
            case .malformed(let s): return "'\(s)' is not an ISO 8601 duration such as PT1H, PT15M, P1D or P1W"
            case .variableLength(let s): return "'\(s)' uses years or months, whose length varies; use days or weeks (e.g. P30D)"
            }
        }
    }

    public init(parsing s: String) throws {
        let u = s.uppercased()
        guard u.hasPrefix("P"), u.count > 1 else { throw ParseError.malformed(s) }
        var total = 0.0
        var number = ""
        var inTime = false
        var sawComponent = false
        for ch in u.dropFirst() {
            if ch.isNumber || ch == "." || ch == "," {
                number.append(ch == "," ? "." : ch)
                continue
            }
            if ch == "T" {
                guard !inTime, number.isEmpty else { throw ParseError.malformed(s) }
                inTime = true
                continue
            }
            guard let value = Double(number) else { throw ParseError.malformed(s) }
            number = ""
            sawComponent = true
            switch (ch, inTime) {
            case ("Y", false): throw ParseError.variableLength(s)
            case ("M", false): throw ParseError.variableLength(s)
            case ("W", false): total += value * 604_800
            case ("D", false): total += value * 86_400
            case ("H", true): total += value * 3_600
            case ("M", true): total += value * 60
            case ("S", true): total += value
            default: throw ParseError.malformed(s)
            }
        }
        guard number.isEmpty, sawComponent else { throw ParseError.malformed(s) }
        seconds = total
        text = s
    }

    public var description: String { text }

    static func format(_ seconds: Double) -> String {
        var rest = Int(seconds)
        var out = "P"
        if rest >= 86_400 {
            out += "\(rest / 86_400)D"
            rest %= 86_400
        }
        if rest > 0 || out == "P" {
            out += "T"
            if rest >= 3_600 {
                out += "\(rest / 3_600)H"
                rest %= 3_600
            }
            if rest >= 60 {
                out += "\(rest / 60)M"
                rest %= 60
            }
            if rest > 0 || out == "PT" { out += "\(rest)S" }
        }
        return out
    }
}
