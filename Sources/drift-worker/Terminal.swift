import Foundation

enum Terminal {
    static var stdoutIsTerminal: Bool { isatty(STDOUT_FILENO) == 1 }

    /// One line on standard error, prefixed so it stands out in logs.
    static func fail(_ message: String) {
        FileHandle.standardError.write(Data("drift-worker: error: \(message)\n".utf8))
    }

    static func info(_ message: String) {
        FileHandle.standardError.write(Data("drift-worker: \(message)\n".utf8))
    }
}
